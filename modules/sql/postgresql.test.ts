/**
 * The `sql` module on PostgreSQL: the test starts its own server (initdb into a temporary
 * directory, a free loopback port; never the machine's own PostgreSQL), loads the shipped
 * schema, and drives the module through the loader and compiled policy.
 */
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findSection } from '../../core';
import { parseConfigString } from '../../core';
import { loadDefaultDictionary } from '../../core';
import { MemoryLogger } from '../../core';
import { createRootContainer } from '../../core';
import { loadModules, type ModuleSet } from '../../core';
import { parsePairList, printPairList } from '../../core';
import { Request } from '../../core';
import { getValue } from '../../core';
import { compileUnlang, runSection } from '../../core';
import { freePorts } from '../../test/interop/freeradius';
import { startPostgres, type PgServer } from '../../test/support/postgres';
import { postgresModuleConf, SQL_CONFIG_DIR } from './testing';
import sqlModule from './index';
import type { Sql } from './sql';
import type { SqlError } from './driver';

const dict = loadDefaultDictionary();
let pg: PgServer;
let open: ModuleSet[] = [];

beforeAll(async () => {
  pg = await startPostgres();
  await pg.createDatabase('radius', [path.join(SQL_CONFIG_DIR, 'main', 'postgresql', 'schema.sql')]);
}, 120_000);
afterAll(async () => { await pg?.stop(); }, 60_000);
afterEach(async () => { for (const m of open) await m.detachAll(); open = []; });

async function load(body: string): Promise<ModuleSet> {
  const tree = parseConfigString(`modules {\n${body}\n}\n`, '/tmp/radiusd.conf');
  const root = createRootContainer({ dict, log: new MemoryLogger(false) });
  const mods = await loadModules({ section: findSection(tree, 'modules'), root, registry: [sqlModule] });
  open.push(mods);
  return mods;
}

function sqlOf(m: ModuleSet): Sql {
  return m.get('sql')!.instance as Sql;
}

function req(text: string, code = 1): Request {
  const r = new Request({ code, dict });
  r.request.push(...parsePairList(text, dict));
  return r;
}

async function run(mods: ModuleSet, policy: string, r: Request, section = { name1: 'recv', name2: 'Access-Request' }): Promise<string> {
  const sec = compileUnlang(policy, { dict, xlats: mods.xlats, modules: mods.modules, virtualModules: mods.virtualModules, section });
  return runSection(sec, r);
}

describe('sql on PostgreSQL (own server)', () => {
  it('authorize with groups, accounting Start/Interim/Stop/Accounting-On, post-auth', async () => {
    const m = await load(postgresModuleConf([{ host: pg.host, port: pg.port }], 'radius', pg.user));
    await pg.psql(`
      INSERT INTO radcheck (username, attribute, op, value) VALUES ('pgbob', 'Password.Cleartext', ':=', 'it''s secret');
      INSERT INTO radreply (username, attribute, op, value) VALUES ('pgbob', 'Idle-Timeout', ':=', '600');
      INSERT INTO radusergroup (username, groupname, priority) VALUES ('pgbob', 'staff', 1);
      INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES ('staff', 'Reply-Message', ':=', 'welcome staff');`, 'radius');
    const r = req("User-Name = \"pgbob\"");
    expect(await run(m, 'sql', r)).toBe('updated');
    expect(printPairList(r.reply)).toBe('Idle-Timeout = 600, Reply-Message = "welcome staff"');
    expect(String(getValue(r.control, dict.resolve('Password.Cleartext')!))).toBe("it's secret");
    // A quote in the user name is escaped, not executed.
    expect(await run(m, 'sql', req(`User-Name = "x' OR 'a'='a"`))).toBe('notfound');

    const sec = (name2: string) => ({ name1: 'accounting', name2 });
    const base = 'User-Name = "pgbob", Acct-Session-Id = "P1", NAS-IP-Address = 10.9.0.1';
    expect(await run(m, 'sql', req(`${base}, Acct-Status-Type = Start, Framed-IP-Address = 192.0.2.9, Event-Timestamp = 1700000000`, 4), sec('Start'))).toBe('ok');
    expect(await run(m, 'sql', req(`${base}, Acct-Status-Type = Interim-Update, Acct-Session-Time = 60, Acct-Output-Octets = 7, Acct-Output-Gigawords = 2, Event-Timestamp = 1700000060`, 4), sec('Interim-Update'))).toBe('ok');
    expect((await pg.psql("SELECT acctsessiontime, acctoutputoctets, host(framedipaddress), acctinterval FROM radacct WHERE acctsessionid = 'P1'", 'radius')).trim())
      .toBe(`60|${2 * 2 ** 32 + 7}|192.0.2.9|60`);
    expect(await run(m, 'sql', req(`${base}, Acct-Status-Type = Stop, Acct-Session-Time = 90, Acct-Terminate-Cause = Idle-Timeout, Event-Timestamp = 1700000090`, 4), sec('Stop'))).toBe('ok');
    expect((await pg.psql("SELECT extract(epoch FROM acctstoptime)::bigint, acctsessiontime, acctterminatecause FROM radacct WHERE acctsessionid = 'P1'", 'radius')).trim())
      .toBe('1700000090|90|Idle-Timeout');
    // A repeated Stop updates the closed row (the third query), never a second row.
    expect(await run(m, 'sql', req(`${base}, Acct-Status-Type = Stop, Acct-Session-Time = 95, Event-Timestamp = 1700000095`, 4), sec('Stop'))).toBe('ok');
    expect((await pg.psql("SELECT count(*), max(acctsessiontime) FROM radacct WHERE acctsessionid = 'P1'", 'radius')).trim()).toBe('1|95');

    for (const id of ['Q1', 'Q2']) {
      expect(await run(m, 'sql', req(`User-Name = "u", Acct-Session-Id = "${id}", NAS-IP-Address = 10.9.0.2, Acct-Status-Type = Start, Event-Timestamp = 1700000000`, 4), sec('Start'))).toBe('ok');
    }
    expect(await run(m, 'sql', req('NAS-IP-Address = 10.9.0.2, Acct-Status-Type = Accounting-On, Event-Timestamp = 1700000100', 4), sec('Accounting-On'))).toBe('ok');
    expect((await pg.psql("SELECT count(*) FROM radacct WHERE nasipaddress = '10.9.0.2' AND acctstoptime IS NULL", 'radius')).trim()).toBe('0');
    expect((await pg.psql("SELECT acctterminatecause FROM radacct WHERE acctsessionid = 'Q1'", 'radius')).trim()).toBe('NAS-Reboot');

    expect(await run(m, 'sql', req('User-Name = "pgbob", User-Password = "x"'), { name1: 'send', name2: 'Access-Reject' })).toBe('ok');
    expect((await pg.psql("SELECT username, pass, reply FROM radpostauth", 'radius')).trim()).toBe('pgbob||Access-Reject');
  }, 60_000);

  it('queries queued on one connection go out in batches (fewer commits); a failing statement fails alone', async () => {
    const m = await load(postgresModuleConf([{ host: pg.host, port: pg.port }], 'radius', pg.user, '\tquery_timeout = 30\n\tpool {\n\t\tstart = 1\n\t\tmin = 1\n\t\tmax = 1\n\t}'));
    // (query_timeout covers the wait behind the others: 60 commits one by one on a loaded machine can pass the default 5 s.)
    const commits = async () => Number((await pg.psql("SELECT xact_commit FROM pg_stat_database WHERE datname = 'radius'", 'radius')).trim());
    const sec = { name1: 'accounting', name2: 'Start' };
    const start = (id: string, t: number) => run(m, 'sql', req(`User-Name = "b", Acct-Session-Id = "${id}", NAS-IP-Address = 10.9.1.1, Acct-Status-Type = Start, Event-Timestamp = ${t}`, 4), sec);
    // Warm the connection, then 60 Starts at once, one of them a repeat of an earlier session (a
    // unique violation inside its batch: the batch is rolled back and run again one by one, the
    // repeat taking the Start's fallback UPDATE).
    expect(await start('B0', 1700000000)).toBe('ok');
    const before = await commits();
    const rcs = await Promise.all([...Array.from({ length: 59 }, (_, i) => start(`B${i + 1}`, 1700000000)), start('B0', 1700000500)]);
    expect(rcs.filter((rc) => rc !== "ok")).toEqual([]);
    const after = await commits();
    expect((await pg.psql("SELECT count(*), count(DISTINCT acctsessionid) FROM radacct WHERE nasipaddress = '10.9.1.1'", 'radius')).trim()).toBe('60|60');
    expect((await pg.psql("SELECT extract(epoch FROM acctstarttime)::bigint FROM radacct WHERE acctsessionid = 'B0'", 'radius')).trim()).toBe('1700000500');
    // 60 writes and the fallback in far fewer transactions (the psql of `commits` counts one or two).
    expect(after - before).toBeLessThan(40);
  }, 60_000);

  // Every statement of a batch settles once with its own answer, whatever the others do. The slow
  // statement behind a failing one used to be cancelled on the server: the failing statement's
  // error took it off the connection while the connection still counted it as running, so the
  // driver sent a CancelRequest that reached the server during the next statement.
  for (const batch of [1, 32]) {
    it(`batch = ${batch}: a failing statement fails alone; the ones beside and behind it get their own answers`, async () => {
      const table = `batchcheck${batch}`;
      await pg.psql(`CREATE TABLE ${table} (id integer PRIMARY KEY); CREATE SEQUENCE ${table}_seq`, 'radius');
      const m = await load(postgresModuleConf([{ host: pg.host, port: pg.port }], 'radius', pg.user,
        `\tquery_timeout = 30\n\tpool {\n\t\tstart = 1\n\t\tmin = 1\n\t\tmax = 1\n\t}\n\tpostgresql {\n\t\tbatch = ${batch}\n\t}`, '', false));
      const sql = sqlOf(m);
      await sql.query('SELECT 1'); // the one connection is up
      const settle = (q: string) => sql.query(q).then((r) => ({ rows: r.rows, affected: r.affected }), (e: SqlError) => ({ kind: e.kind, code: e.code }));
      // Started in one event-loop turn, so they queue on the one connection together.
      const got = await Promise.all([
        settle(`SELECT nextval('${table}_seq')`),
        settle(`INSERT INTO ${table} VALUES (1)`),
        settle(`INSERT INTO ${table} VALUES (1)`), // unique violation
        settle(`SELECT pg_sleep(0.5), 'after the violation'`),
        settle(`INSERT INTO ${table} VALUES (2)`),
        settle('SELEC broken'), // syntax error
        settle(`SELECT pg_sleep(0.5), 'after the syntax error'`),
        settle(`UPDATE ${table} SET id = 3 WHERE id = 2`),
        settle(`INSERT INTO ${table} VALUES (3)`), // unique violation after the UPDATE
        settle(`SELECT count(*) FROM ${table}`),
      ]);
      // Reads and writes go in separate messages, so the SELECT nextval ahead of the writes runs once
      // (a statement sent again would run again: the sequence is not transactional). With batching,
      // the syntax error fails the writes' first message before anything runs, each unique violation
      // fails one more, and the others go out again together.
      expect(got).toEqual([
        { rows: [['1']], affected: 0 },
        { rows: [], affected: 1 },
        { kind: 'alternate', code: '23505' },
        { rows: [['', 'after the violation']], affected: 0 },
        { rows: [], affected: 1 },
        { kind: 'error', code: '42601' },
        { rows: [['', 'after the syntax error']], affected: 0 },
        { rows: [], affected: 1 },
        { kind: 'alternate', code: '23505' },
        { rows: [['2']], affected: 0 },
      ]);
      // Each successful write committed exactly once.
      expect((await pg.psql(`SELECT string_agg(id::text, ',' ORDER BY id) FROM ${table}`, 'radius')).trim()).toBe('1,3');
    }, 60_000);
  }

  it('fails over to the next server, and fails fast when no server is alive', async () => {
    const [dead1, dead2] = await freePorts(2);
    const m = await load(postgresModuleConf([{ host: '127.0.0.1', port: dead1 }, { host: pg.host, port: pg.port }], 'radius', pg.user,
      '\tquery_timeout = 5\n\tpool {\n\t\tstart = 1\n\t\tmin = 1\n\t\tmax = 2\n\t\tretry_delay = 30\n\t}'));
    const r = req('User-Name = "x"');
    await run(m, 'reply.Reply-Message := "%sql("SELECT 41 + 1")"', r);
    expect(String(r.reply[0]?.value)).toBe('42');

    const none = await load(postgresModuleConf([{ host: '127.0.0.1', port: dead2 }], 'radius', pg.user, '\tpool {\n\t\tstart = 1\n\t\tretry_delay = 30\n\t}'));
    // Let the first connection attempt fail; afterwards calls fail at once instead of waiting.
    await new Promise((res) => setTimeout(res, 500));
    const f = req('User-Name = "x"');
    expect(await run(none, 'sql', f)).toBe('fail');
    expect(printPairList(f.request)).toMatch(/Module-Failure-Message = "sql: server is zombie or dead"/);
  }, 60_000);

  it('a query over query_timeout is cancelled on the server and the call fails with timeout', async () => {
    const m = await load(postgresModuleConf([{ host: pg.host, port: pg.port }], 'radius', pg.user, '\tquery_timeout = 1\n\tauthorize_check_query = "SELECT pg_sleep(30)"', '', false));
    const r = req('User-Name = "slow"');
    expect(await run(m, 'sql', r)).toBe('timeout');
    // The server no longer runs the statement.
    const active = async () => (await pg.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' AND state = 'active'", 'radius')).trim();
    for (let i = 0; i < 50 && (await active()) !== '0'; i++) await new Promise((res) => setTimeout(res, 100));
    expect(await active()).toBe('0');
  }, 60_000);

  it('a cancelled request cancels its query', async () => {
    const m = await load(postgresModuleConf([{ host: pg.host, port: pg.port }], 'radius', pg.user, '\tquery_timeout = 60\n\tauthorize_check_query = "SELECT pg_sleep(30)"', '', false));
    const r = req('User-Name = "cancelled"');
    const rc = run(m, 'timeout 500ms {\n sql\n}', r);
    expect(await rc).toBe('timeout');
    const active = async () => (await pg.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' AND state = 'active'", 'radius')).trim();
    for (let i = 0; i < 50 && (await active()) !== '0'; i++) await new Promise((res) => setTimeout(res, 100));
    expect(await active()).toBe('0');
  }, 60_000);
  it('an urgent query (authorisation, allocation) waits for a connection ahead of the others', async () => {
    const m = await load(postgresModuleConf([{ host: pg.host, port: pg.port }], 'radius', pg.user, '\tpool {\n\t\tstart = 1\n\t\tmin = 1\n\t\tmax = 1\n\t}\n\tpostgresql {\n\t\tbatch = 1\n\t}', '', false));
    const sql = m.get('sql')!.instance as Sql;
    await sql.query('SELECT 1');
    const order: string[] = [];
    const q = (text: string, tag: string, urgent = false) => sql.query(text, undefined, urgent).then(() => { order.push(tag); });
    const all = [q('SELECT pg_sleep(0.3)', 'running')];
    for (let i = 0; i < 4; i++) all.push(q(`SELECT ${i}`, `queued ${i}`));
    all.push(q("SELECT 'a'", 'urgent a', true), q("SELECT 'b'", 'urgent b', true));
    await Promise.all(all);
    expect(order).toEqual(['running', 'urgent a', 'urgent b', 'queued 0', 'queued 1', 'queued 2', 'queued 3']);
  }, 60_000);
});
