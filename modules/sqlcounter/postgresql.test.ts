/**
 * `sqlcounter`, `sql.session` and `map sql` on PostgreSQL: the test starts its own server
 * (initdb into a temporary directory, a free loopback port), loads the shipped schema, and uses
 * the shipped PostgreSQL counter and Simultaneous-Use queries; `radiusd sessions` reads the
 * sessions there too.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sessionsCommand } from '../sql/sessions-cli';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findSection, parseConfigString, loadDefaultDictionary, MemoryLogger, createRootContainer, loadModules, type ModuleSet } from '../../core';
import { parsePairList, printPairList, Request, compileUnlang, runSection } from '../../core';
import { startPostgres, type PgServer } from '../../test/support/postgres';
import { postgresModuleConf, SQL_CONFIG_DIR } from '../sql/testing';
import sqlModule from '../sql';
import sqlcounterModule from './index';
import { parseReset, periodOf } from './period';

const dict = loadDefaultDictionary();
let pg: PgServer;
let open: ModuleSet[] = [];

beforeAll(async () => {
  pg = await startPostgres();
  await pg.createDatabase('radius', [path.join(SQL_CONFIG_DIR, 'main', 'postgresql', 'schema.sql')]);
}, 120_000);
afterAll(async () => { await pg?.stop(); }, 60_000);
afterEach(async () => { for (const m of open) await m.detachAll(); open = []; });

const NOW = (() => { const d = new Date(); d.setHours(12, 0, 0, 0); return Math.floor(d.getTime() / 1000); })();
const DAY = periodOf(parseReset('daily')!, NOW);

async function load(): Promise<ModuleSet> {
  const body = postgresModuleConf([{ host: pg.host, port: pg.port }], 'radius', pg.user) + `
sqlcounter dailycounter {
	sql_module_instance = sql
	dialect = postgresql
	counter_name = Daily-Session-Time
	check_name = Max-Daily-Session
	reply_name = Session-Timeout
	key = User-Name
	reset = daily
	$INCLUDE ${SQL_CONFIG_DIR}/counter/postgresql/dailycounter.conf
}
`;
  const tree = parseConfigString(`modules {\n${body}\n}\n`, '/tmp/radiusd.conf');
  const root = createRootContainer({ dict, log: new MemoryLogger(false) });
  const mods = await loadModules({ section: findSection(tree, 'modules'), root, registry: [sqlModule, sqlcounterModule] });
  open.push(mods);
  return mods;
}

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

const session = (id: string, user: string, start: number, time: number, stop: boolean) => pg.psql(
  `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctstoptime, acctsessiontime)
   VALUES ('${id}', '${id}', '${user}', '10.0.0.1', to_timestamp(${start}), ${stop ? `to_timestamp(${start + time})` : 'NULL'}, ${time})`, 'radius');

describe('sessions and counters on PostgreSQL (own server)', () => {
  it('daily counter: Session-Timeout = remaining, reject when used up; the key is escaped', async () => {
    const m = await load();
    await session('p1', 'pgc', DAY.start - 600, 1000, true);   // 400 s today
    await session('p2', "o''neil", DAY.start + 60, 5000, true);
    const r = req('User-Name = "pgc"', 'Max-Daily-Session = 1000');
    expect(await run(m, 'dailycounter', r)).toBe('updated');
    expect(printPairList(r.reply)).toBe('Session-Timeout = 600');
    const q = req(`User-Name = "o'neil"`, 'Max-Daily-Session = 3600');
    expect(await run(m, 'dailycounter', q)).toBe('reject');
    expect(printPairList(q.reply)).toBe('Reply-Message = "Your maximum daily usage has been reached"');
  });

  it('sql.session: Simultaneous-Use against the open sessions', async () => {
    const m = await load();
    await pg.psql("INSERT INTO radcheck (username, attribute, op, value) VALUES ('pgs', 'Simultaneous-Use', ':=', '1')", 'radius');
    expect(await run(m, 'sql\nsql.session', req('User-Name = "pgs"'))).toBe('ok');
    await session('s1', 'pgs', NOW - 100, 50, false);
    expect(await run(m, 'sql\nsql.session', req('User-Name = "pgs"'))).toBe('reject');
    await pg.psql("UPDATE radacct SET acctstoptime = now() WHERE acctsessionid = 's1'", 'radius');
    expect(await run(m, 'sql\nsql.session', req('User-Name = "pgs"'))).toBe('ok');
  });

  it('map sql: the first row, values in the query escaped (PostgreSQL quoting)', async () => {
    const m = await load();
    await pg.psql("INSERT INTO radreply (username, attribute, op, value) VALUES ('d''arc', 'Filter-Id', ':=', 'jeanne')", 'radius');
    const policy = `map sql "SELECT value AS f FROM radreply WHERE username = '%{User-Name}' AND attribute = 'Filter-Id'" {\n reply.Filter-Id := 'f'\n}`;
    const r = req(`User-Name = "d'arc"`);
    expect(await run(m, policy, r)).toBe('updated');
    expect(printPairList(r.reply)).toBe('Filter-Id = "jeanne"');
    expect(await run(m, policy, req(`User-Name = "x' OR 'a'='a"`))).toBe('notfound');
  });

  it('radiusd sessions on PostgreSQL: open sessions by user, --usage with the last login', async () => {
    await session('w1', 'pgw', NOW - 3600, 120, true);
    await session('w2', 'pgw', NOW - 60, 30, false);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-pgsessions-'));
    try {
      fs.writeFileSync(path.join(dir, 'radiusd.conf'), `modules {\n${postgresModuleConf([{ host: pg.host, port: pg.port }], 'radius', pg.user)}\n}\n`);
      const out: string[] = [];
      const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(`E: ${l}`) };
      expect(await sessionsCommand(['-d', dir, '-u', 'pgw', '--json'], io, dir)).toBe(0);
      const rows = JSON.parse(out.join('\n')) as { user: string; sessionId: string; start: string }[];
      expect(rows).toEqual([expect.objectContaining({ user: 'pgw', sessionId: 'w2', start: new Date((NOW - 60) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') })]);
      out.length = 0;
      expect(await sessionsCommand(['-d', dir, '--usage', '-u', 'pgw'], io, dir)).toBe(0);
      expect(out.join('\n')).toMatch(/^pgw\s+2\s+1\s+0:02:30\s+\S+Z$/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
