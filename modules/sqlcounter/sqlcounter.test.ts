/**
 * `sqlcounter` on the `sql` module (SQLite files, the shipped counter queries): daily, monthly
 * and never-reset session time, data volume, Session-Timeout = remaining (never raised),
 * reject when exhausted, and the period arithmetic.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { findSection, parseConfigString, loadDefaultDictionary, MemoryLogger, createRootContainer, loadModules, type ModuleSet } from '../../core';
import { parsePairList, printPairList, Request, compileUnlang, runSection, ConfError } from '../../core';
import { SQL_CONFIG_DIR, sqliteModuleConf } from '../sql/testing';
import sqlModule from '../sql';
import sqlcounterModule from './index';
import { parseReset, periodOf } from './period';

const dict = loadDefaultDictionary();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-sqlcounter-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let open: ModuleSet[] = [];
afterEach(async () => { for (const m of open) await m.detachAll(); open = []; });
let n = 0;

const counter = (name: string, counterName: string, check: string, reset: string, file: string, reply = 'Session-Timeout', extra = '') => `sqlcounter ${name} {
	sql_module_instance = sql
	dialect = sqlite
	counter_name = ${counterName}
	check_name = ${check}
	${reply ? `reply_name = ${reply}` : ''}
	key = User-Name
	reset = ${reset}
${extra}
	$INCLUDE ${SQL_CONFIG_DIR}/counter/sqlite/${file}.conf
}
`;

const COUNTERS = counter('dailycounter', 'Daily-Session-Time', 'Max-Daily-Session', 'daily', 'dailycounter')
  + counter('monthlycounter', 'Monthly-Session-Time', 'Max-Monthly-Session', 'monthly', 'monthlycounter')
  + counter('noresetcounter', 'Max-All-Session-Time', 'Max-All-Session', 'never', 'noresetcounter')
  + counter('monthlyoctets', 'Monthly-Octets', 'Max-Monthly-Octets', 'monthly', 'monthlyoctets', '', '\treply_message = "Your monthly data allowance is used up"');

async function load(body: string, checkOnly = false): Promise<ModuleSet> {
  const tree = parseConfigString(`modules {\n${body}\n}\n`, path.join(tmp, 'radiusd.conf'));
  const root = createRootContainer({ dict, log: new MemoryLogger(false) });
  const mods = await loadModules({ section: findSection(tree, 'modules'), root, checkOnly, registry: [sqlModule, sqlcounterModule] });
  open.push(mods);
  return mods;
}
const fresh = () => load(sqliteModuleConf(path.join(tmp, `db-${++n}.sqlite`)) + COUNTERS);

/** Noon today, local time (the tests place sessions around the period starts). */
const NOW = (() => { const d = new Date(); d.setHours(12, 0, 0, 0); return Math.floor(d.getTime() / 1000); })();
const DAY = periodOf(parseReset('daily')!, NOW);
const MONTH = periodOf(parseReset('monthly')!, NOW);

function req(text: string, control = ''): Request {
  const r = new Request({ code: 1, dict });
  r.request.push(...parsePairList(text, dict));
  if (control) r.control.push(...parsePairList(control, dict));
  Object.defineProperty(r, 'received', { value: NOW });
  return r;
}

async function run(mods: ModuleSet, policy: string, r: Request): Promise<string> {
  const sec = compileUnlang(policy, { dict, xlats: mods.xlats, modules: mods.modules, virtualModules: mods.virtualModules, section: { name1: 'recv', name2: 'Access-Request' } });
  return runSection(sec, r);
}

async function session(mods: ModuleSet, user: string, start: number, time: number, octets = 0, open = false): Promise<void> {
  const id = `s${++n}`;
  const stop = open ? 'NULL' : String(start + time);
  await run(mods, `%sql.modify("INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, acctstoptime, acctsessiontime, acctinputoctets, acctoutputoctets) VALUES ('${id}', '${id}', '${user}', '10.0.0.1', ${start}, ${start + time}, ${stop}, ${time}, ${octets}, ${octets})")`, req('User-Name = "x"'));
}

describe('sqlcounter periods', () => {
  it('daily, weekly, monthly, <n>h, never (local time)', () => {
    const t = new Date(2024, 4, 15, 13, 30, 0).getTime() / 1000; // Wed 15 May 2024 13:30
    const at = (y: number, mo: number, d: number, h = 0) => new Date(y, mo, d, h).getTime() / 1000;
    expect(periodOf(parseReset('daily')!, t)).toEqual({ start: at(2024, 4, 15), end: at(2024, 4, 16) });
    expect(periodOf(parseReset('weekly')!, t)).toEqual({ start: at(2024, 4, 12), end: at(2024, 4, 19) });
    expect(periodOf(parseReset('monthly')!, t)).toEqual({ start: at(2024, 4, 1), end: at(2024, 5, 1) });
    expect(periodOf(parseReset('2h')!, t)).toEqual({ start: at(2024, 4, 15, 12), end: at(2024, 4, 15, 15) });
    expect(periodOf(parseReset('never')!, t)).toEqual({ start: 0, end: 0 });
    expect(parseReset('fortnightly')).toBeUndefined();
    expect(parseReset('0d')).toBeUndefined();
  });
});

describe('sqlcounter on SQLite', () => {
  it('daily: the time used today (a session across midnight counts its part after it); Session-Timeout = remaining', async () => {
    const m = await fresh();
    await session(m, 'bob', DAY.start - 3600, 3600 + 600);     // 600 s after midnight
    await session(m, 'bob', DAY.start + 3600, 1000);           // 1000 s
    await session(m, 'bob', DAY.start - 7200, 1800);           // yesterday only
    await session(m, 'alice', DAY.start + 10, 5000);
    const r = req('User-Name = "bob"', 'Max-Daily-Session = 3600');
    expect(await run(m, 'dailycounter', r)).toBe('updated');
    expect(printPairList(r.reply)).toBe('Session-Timeout = 2000');
    expect(printPairList(r.control)).toBe(`Max-Daily-Session = 3600, dailycounter-Reset-Start = ${DAY.start}, dailycounter-Reset-End = ${DAY.end}, Daily-Session-Time = 1600`);
  });

  it('no limit, or no key: noop without a query; exhausted: reject with the Reply-Message', async () => {
    const m = await fresh();
    expect(await run(m, 'dailycounter', req('User-Name = "bob"'))).toBe('noop');
    expect(await run(m, 'dailycounter', req('NAS-Port = 1', 'Max-Daily-Session = 10'))).toBe('noop');
    await session(m, 'bob', DAY.start + 100, 4000);
    const r = req('User-Name = "bob"', 'Max-Daily-Session = 3600');
    expect(await run(m, 'dailycounter', r)).toBe('reject');
    expect(printPairList(r.reply)).toBe('Reply-Message = "Your maximum daily usage has been reached"');
  });

  it('Session-Timeout is never raised above a value already in the reply; the lowest of several counters wins', async () => {
    const m = await fresh();
    await session(m, 'bob', DAY.start + 100, 1000);
    await session(m, 'bob', MONTH.start - 100, 300);   // before this month: only in the no-reset total
    const r = req('User-Name = "bob"', 'Max-Daily-Session = 5000, Max-Monthly-Session = 4500, Max-All-Session = 100000');
    r.reply.push(...parsePairList('Session-Timeout = 10000', dict));
    expect(await run(m, 'dailycounter\nmonthlycounter\nnoresetcounter', r)).toBe('updated');
    // daily: 5000 - 1000 = 4000; monthly: 4500 - 1000 - 200 (the part of the old session after the month began) = 3300.
    expect(printPairList(r.reply)).toBe('Session-Timeout = 3300');
    expect(String(r.control.find((p) => p.da.name === 'Max-All-Session-Time')?.value)).toBe('1300');
    const low = req('User-Name = "bob"', 'Max-Daily-Session = 5000');
    low.reply.push(...parsePairList('Session-Timeout = 60', dict));
    expect(await run(m, 'dailycounter', low)).toBe('ok');
    expect(printPairList(low.reply)).toBe('Session-Timeout = 60');
  });

  it('data volume per month: no reply attribute, a reject with the configured message once used up', async () => {
    const m = await fresh();
    await session(m, 'dave', MONTH.start + 100, 10, 400_000);
    await session(m, 'dave', DAY.start + 100, 10, 500_000, true);
    expect(await run(m, 'monthlyoctets', req('User-Name = "dave"', 'Max-Monthly-Octets = 2000000'))).toBe('ok');
    const r = req('User-Name = "dave"', 'Max-Monthly-Octets = 1800000');
    expect(await run(m, 'monthlyoctets', r)).toBe('reject');
    expect(printPairList(r.reply)).toBe('Reply-Message = "Your monthly data allowance is used up"');
  });

  it('auto_extend: the time until the reset plus the next period\'s limit when the allowance reaches past the reset', async () => {
    const m = await load(sqliteModuleConf(path.join(tmp, `db-${++n}.sqlite`)) + counter('daily2', 'Daily-Session-Time', 'Max-Daily-Session', 'daily', 'dailycounter', 'Session-Timeout', '\tauto_extend = yes'));
    const r = req('User-Name = "eve"', `Max-Daily-Session = ${DAY.end - NOW + 100}`);
    expect(await run(m, 'daily2', r)).toBe('updated');
    expect(printPairList(r.reply)).toBe(`Session-Timeout = ${DAY.end - NOW + DAY.end - NOW + 100}`);
  });

  it('a FreeRADIUS 3.2 section works as it is: %%b, %%e and %k in the query', async () => {
    const v3 = `sqlcounter v3daily {
	sql_module_instance = sql
	counter_name = Daily-Session-Time
	check_name = Max-Daily-Session
	reply_name = Session-Timeout
	key = User-Name
	reset = daily
	query = "SELECT SUM(acctsessiontime - MAX((%%b - acctstarttime), 0)) FROM radacct WHERE username = '%k' AND (acctstarttime + acctsessiontime) > %%b AND acctstarttime < %e"
}
`;
    const m = await load(sqliteModuleConf(path.join(tmp, `db-${++n}.sqlite`)) + v3);
    await session(m, "o=27k", DAY.start - 100, 400);      // 300 s today
    await session(m, "o=27k", DAY.end + 10, 999);         // tomorrow: not counted
    const r = req(`User-Name = "o'k"`, 'Max-Daily-Session = 1000');
    expect(await run(m, 'v3daily', r)).toBe('updated');
    expect(printPairList(r.reply)).toBe('Session-Timeout = 700');
  });

  it('the key is escaped in the query', async () => {
    const m = await fresh();
    await session(m, 'a=27b', DAY.start + 100, 4000);
    expect(await run(m, 'dailycounter', req(`User-Name = "a'b"`, 'Max-Daily-Session = 3600'))).toBe('reject');
    expect(await run(m, 'dailycounter', req(`User-Name = "x' OR '1'='1"`, 'Max-Daily-Session = 3600'))).toBe('updated');
  });

  it('config errors are located and caught by radiusd -C: bad reset, unknown attribute, missing sql instance', async () => {
    const base = sqliteModuleConf(path.join(tmp, 'never.sqlite'));
    await expect(load(base + counter('c1', 'Daily-Session-Time', 'Max-Daily-Session', 'fortnightly', 'dailycounter'), true)).rejects.toThrow(/radiusd\.conf\[\d+\]: .*invalid reset "fortnightly"/);
    await expect(load(base + counter('c2', 'Daily-Session-Time', 'Max-Dayly-Session', 'daily', 'dailycounter'), true)).rejects.toThrow(/unknown attribute "Max-Dayly-Session"/);
    await expect(load(counter('c3', 'Daily-Session-Time', 'Max-Daily-Session', 'daily', 'dailycounter'), true)).rejects.toThrow(ConfError);
    expect(fs.existsSync(path.join(tmp, 'never.sqlite'))).toBe(false);
  });
});
