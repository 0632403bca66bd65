/**
 * Sessions on the embedded default configuration (raddb/ + sites/, SQLite at ${db_dir}), driven
 * by Debian's radtest and radclient: the Access-Accept carries a UUID Acct-Session-Id, Start /
 * Stop open and close the radacct row keyed by it, `radiusd sessions` lists who is online,
 * Simultaneous-Use rejects a second login, the daily counter sets Session-Timeout to what is
 * left and rejects once it is used up, radpostauth holds no password, and the IP pool created
 * with the database hands out, keeps and frees addresses.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RADIUSD, copyDefaultConfig, radclient, run, startDaemon, tempDir, type Daemon } from './harness';
import { freePorts } from '../interop/freeradius';

const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('default configuration: sessions, Simultaneous-Use and usage limits in SQLite', () => {
  let dir: string;
  let confdir: string;
  let d: Daemon;
  let AUTH = '';
  let ACCT = '';
  let db: Database.Database;
  let sessionId = '';

  beforeAll(async () => {
    dir = tempDir('sessions');
    const [auth, acct, status, coa, example] = await freePorts(5);
    [AUTH, ACCT] = [auth, acct].map((p) => `127.0.0.1:${p}`);
    confdir = copyDefaultConfig(dir, { auth, acct, status, coa, example });
    d = await startDaemon(['-d', confdir, '-f', '-t']);
  }, 60_000);

  afterAll(async () => {
    db?.close();
    if (d) expect(await d.stop()).toBe(0);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const radtest = (user: string, pass: string) => run('/usr/bin/radtest', [user, pass, AUTH, '0', 'testing123']);
  const acct = (text: string) => radclient(ACCT, 'acct', 'testing123', text);
  const sessions = (...args: string[]) => run(process.execPath, [RADIUSD, 'sessions', '-d', confdir, ...args]);
  const sql = (stmt: string) => db.prepare(stmt).run();

  it('the database is created on first start under ${db_dir}; radiusd sessions lists nobody yet', async () => {
    const file = path.join(confdir, 'var', 'db', 'radius.sqlite');
    // The connection opens in the background (instantiate never waits on a back-end).
    for (let i = 0; i < 100 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
    expect(fs.existsSync(file)).toBe(true);
    db = new Database(file, { timeout: 5000 });
    const r = await sessions();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^0 open session\(s\)$/m);
  });

  it('radtest: Access-Accept with a UUID (v7) Acct-Session-Id', async () => {
    const r = await radtest('bob', 'hello');
    expect(r.stdout).toMatch(/Received Access-Accept/);
    const m = /Acct-Session-Id = "([^"]+)"/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    sessionId = m![1];
    expect(sessionId).toMatch(UUID7);
    // A second Accept gets another id.
    expect(/Acct-Session-Id = "([^"]+)"/.exec((await radtest('bob', 'hello')).stdout)![1]).not.toBe(sessionId);
  });

  it('Start opens the radacct row keyed by the UUID; radiusd sessions lists it, by user and by NAS', async () => {
    const r = await acct(`User-Name = "bob", Acct-Status-Type = Start, Acct-Session-Id = "${sessionId}", NAS-IP-Address = 127.0.0.1, NAS-Port = 5, Framed-IP-Address = 192.0.2.10, Calling-Station-Id = "02-00-00-00-00-01"\n`);
    expect(r.stdout).toMatch(/Received Accounting-Response/);
    const row = db.prepare('SELECT * FROM radacct WHERE acctsessionid = ?').get(sessionId) as Record<string, unknown>;
    expect(row).toMatchObject({ username: 'bob', acctuniqueid: sessionId, nasipaddress: '127.0.0.1', framedipaddress: '192.0.2.10', acctstoptime: null });
    const all = await sessions();
    expect(all.stdout).toMatch(/^User\s+NAS\s+Port\s+Session-Id\s+Start\s+Online\s+Address\s+Calling-Station-Id$/m);
    expect(all.stdout).toMatch(new RegExp(`^bob\\s+127\\.0\\.0\\.1\\s+5\\s+${sessionId}\\s+\\S+Z\\s+\\d+:\\d\\d:\\d\\d\\s+192\\.0\\.2\\.10\\s+02-00-00-00-00-01$`, 'm'));
    expect(all.stdout).toMatch(/^1 open session\(s\)$/m);
    expect((await sessions('-u', 'alice')).stdout).toMatch(/^0 open session\(s\)$/m);
    expect((await sessions('-N', '10.9.9.9')).stdout).toMatch(/^0 open session\(s\)$/m);
    const json = JSON.parse((await sessions('-u', 'bob', '-N', '127.0.0.1', '--json')).stdout) as { user: string; sessionId: string; address: string }[];
    expect(json).toEqual([expect.objectContaining({ user: 'bob', sessionId, address: '192.0.2.10' })]);
  });

  it('Simultaneous-Use := 1 (radcheck): a second login is rejected while the session is open', async () => {
    sql("INSERT INTO radcheck (username, attribute, op, value) VALUES ('bob', 'Simultaneous-Use', ':=', '1')");
    const r = await radtest('bob', 'hello');
    expect(r.stdout).toMatch(/Received Access-Reject/);
    expect(r.stdout).toMatch(/Reply-Message = "You are already logged in - access denied"/);
    expect(r.stdout).not.toMatch(/Acct-Session-Id/);
  });

  it('Stop closes the row; the user may log in again; radiusd sessions --usage shows the time used', async () => {
    const r = await acct(`User-Name = "bob", Acct-Status-Type = Stop, Acct-Session-Id = "${sessionId}", NAS-IP-Address = 127.0.0.1, NAS-Port = 5, Acct-Session-Time = 300, Acct-Terminate-Cause = User-Request\n`);
    expect(r.stdout).toMatch(/Received Accounting-Response/);
    expect(db.prepare('SELECT acctsessiontime, acctterminatecause FROM radacct WHERE acctuniqueid = ?').get(sessionId)).toEqual({ acctsessiontime: 300, acctterminatecause: 'User-Request' });
    expect((await sessions()).stdout).toMatch(/^0 open session\(s\)$/m);
    expect((await radtest('bob', 'hello')).stdout).toMatch(/Received Access-Accept/);
    const usage = await sessions('--usage');
    expect(usage.stdout).toMatch(/^User\s+Sessions\s+Open\s+Time-Used\s+Last-Login$/m);
    expect(usage.stdout).toMatch(/^bob\s+1\s+0\s+0:05:00\s+\d{4}-\d\d-\d\dT\S+Z$/m);
    sql("DELETE FROM radcheck WHERE attribute = 'Simultaneous-Use'");
  });

  it('Max-Daily-Session: Session-Timeout becomes what is left today (below the users file\'s 3600); used up is a reject', async () => {
    sql("INSERT INTO radcheck (username, attribute, op, value) VALUES ('bob', 'Max-Daily-Session', ':=', '1000')");
    const ok = await radtest('bob', 'hello');
    expect(ok.stdout).toMatch(/Received Access-Accept/);
    expect(ok.stdout).toMatch(/Session-Timeout = 700\b/);
    sql("UPDATE radcheck SET value = '200' WHERE attribute = 'Max-Daily-Session'");
    const no = await radtest('bob', 'hello');
    expect(no.stdout).toMatch(/Received Access-Reject/);
    expect(no.stdout).toMatch(/Reply-Message = "Your maximum daily usage has been reached"/);
    sql("DELETE FROM radcheck WHERE attribute = 'Max-Daily-Session'");
  });

  it('radpostauth logged every result, with no password', () => {
    const rows = db.prepare('SELECT username, pass, reply FROM radpostauth ORDER BY id').all() as { username: string; pass: string; reply: string }[];
    expect(rows.map((r) => r.reply)).toEqual(['Access-Accept', 'Access-Accept', 'Access-Reject', 'Access-Accept', 'Access-Accept', 'Access-Reject']);
    expect(rows.every((r) => r.username === 'bob' && r.pass === '')).toBe(true);
  });

  it('IP pool "main" (created with the database): alice gets an address, the same device gets it again, Stop frees it; bob keeps the users file\'s', async () => {
    const login = (user: string, pass: string, mac: string) =>
      radclient(AUTH, 'auth', 'testing123', `User-Name = "${user}", User-Password = "${pass}", Calling-Station-Id = "${mac}", NAS-IP-Address = 127.0.0.1, Message-Authenticator = 0x00\n`);
    const first = await login('alice', 'wonderland', '02-00-00-00-00-07');
    expect(first.stdout).toMatch(/Received Access-Accept/);
    const m = /Framed-IP-Address = (10\.100\.0\.\d+)/.exec(first.stdout);
    expect(m, first.stdout).not.toBeNull();
    const address = m![1];
    const lease = () => db.prepare("SELECT owner, expiry_time > datetime('now') AS live FROM fr_ippool WHERE pool_name = 'main' AND address = ?").get(address) as { owner: string; live: number };
    expect(lease()).toEqual({ owner: '02-00-00-00-00-07', live: 1 });
    expect((db.prepare("SELECT count(*) AS n FROM fr_ippool WHERE pool_name = 'main'").get() as { n: number }).n).toBe(254);
    // The same device again: the same address.
    expect((await login('alice', 'wonderland', '02-00-00-00-00-07')).stdout).toContain(`Framed-IP-Address = ${address}`);
    // Another device: another address.
    const other = /Framed-IP-Address = (\S+)/.exec((await login('alice', 'wonderland', '02-00-00-00-00-08')).stdout)![1];
    expect(other).not.toBe(address);
    // bob's users-file entry has an address: the pool is not asked.
    expect((await login('bob', 'hello', '02-00-00-00-00-09')).stdout).toMatch(/Framed-IP-Address = 192\.0\.2\.10/);
    const stop = await acct(`User-Name = "alice", Acct-Status-Type = Stop, Acct-Session-Id = "pool-1", NAS-IP-Address = 127.0.0.1, Framed-IP-Address = ${address}, Calling-Station-Id = "02-00-00-00-00-07", Acct-Session-Time = 60\n`);
    expect(stop.stdout).toMatch(/Received Accounting-Response/);
    expect(lease().live).toBe(0);
  });

  it('radiusd sessions: usage errors exit 2, -h prints the usage, an unknown sql instance is named', async () => {
    const r = await sessions('--bogus');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown argument "--bogus"/);
    const h = await sessions('-h');
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^Usage: radiusd sessions /);
    const i = await sessions('-i', 'nosuch');
    expect(i.code).toBe(2);
    expect(i.stderr).toMatch(/no "sql nosuch" or "rediswho nosuch" module in .*radiusd\.conf/);
  });
});
