/**
 * FreeRADIUS 3.2 (Debian `freeradius` + `freeradius-postgresql`, its stock rlm_sql queries) and our
 * daemon share ONE PostgreSQL database: a private cluster (initdb on a free port) loaded with our
 * shipped schema. Users and groups written once authenticate at both (Debian radtest/radclient);
 * a session either server accounts is the same radacct row for the other (the FreeRADIUS
 * `acct_unique` key), is listed by `radiusd sessions`, and counts for both servers'
 * Simultaneous-Use; both log to radpostauth. A second database made with FreeRADIUS's own
 * schema file (read from /etc/freeradius at run time) is used by our `sql` module unchanged.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRootContainer, findSection, loadDefaultDictionary, loadModules, MemoryLogger, parseConfigString, parsePairList, printPairList, Request, compileUnlang, runSection, type ModuleSet } from '../../core';
import sqlModule from '../../modules/sql/index';
import { postgresModuleConf, SQL_CONFIG_DIR } from '../../modules/sql/testing';
import { startPostgres, type PgServer } from '../support/postgres';
import { accountingSections, radclient, RADIUSD, run, siteConf, startDaemon, tempDir, type Daemon } from '../daemon/harness';
import { freePorts, startFreeRadius, type FreeRadiusPeer } from './freeradius';

const SECRET = 'testing123';
/** FreeRADIUS 3.2's own PostgreSQL schema (installed by freeradius-config; a fact source, not part of the repo). */
const FR_SCHEMA = '/etc/freeradius/3.0/mods-config/sql/main/postgresql/schema.sql';

/** Our daemon: sql on the shared database for authorize, Simultaneous-Use, accounting and post-auth. */
const ourConf = (auth: number, acct: number, pg: PgServer) => siteConf({
  auth, acct, secret: SECRET,
  modules: `${postgresModuleConf([{ host: pg.host, port: pg.port }], 'radius', pg.user)}\n\tpap {\n\t}`,
  policy: `\trecv Access-Request {\n\t\tsql\n\t\tpap\n\t}
\tauthenticate pap {\n\t\tpap\n\t}
\tsend Access-Accept {\n\t\tsql.session\n\t\tsql\n\t}
\tsend Access-Reject {\n\t\tsql\n\t}
${accountingSections('sql')}`,
});

describe('FreeRADIUS 3.2 (rlm_sql_postgresql) and tsradius on one PostgreSQL database', () => {
  let pg: PgServer;
  let fr: FreeRadiusPeer;
  let d: Daemon;
  let dir: string;
  let auth: number;
  let acct: number;

  beforeAll(async () => {
    pg = await startPostgres();
    await pg.createDatabase('radius', [path.join(SQL_CONFIG_DIR, 'main', 'postgresql', 'schema.sql')]);
    // Written once, in the FreeRADIUS 3.2 attribute names operators have in their tables.
    await pg.psql(`
      INSERT INTO radcheck (username, attribute, op, value) VALUES
        ('dave', 'Cleartext-Password', ':=', 'sesame'),
        ('dave', 'Simultaneous-Use', ':=', '1');
      INSERT INTO radreply (username, attribute, op, value) VALUES ('dave', 'Framed-IP-Address', ':=', '192.0.2.77');
      INSERT INTO radusergroup (username, groupname, priority) VALUES ('dave', 'gold', 1);
      INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES
        ('gold', 'Session-Timeout', ':=', '7200'),
        ('gold', 'Reply-Message', ':=', 'gold plan');`, 'radius');
    fr = await startFreeRadius({ sql: { host: pg.host, port: pg.port, login: pg.user, database: 'radius' } });
    [auth, acct] = await freePorts(2);
    dir = tempDir('fr-sql');
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), ourConf(auth, acct, pg));
    d = await startDaemon(['-d', dir, '-f']);
  }, 180_000);

  afterAll(async () => {
    if (d) expect(await d.stop()).toBe(0);
    await fr?.stop();
    await pg?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const us = { auth: () => `127.0.0.1:${auth}`, acct: () => `127.0.0.1:${acct}` };
  const them = { auth: () => `127.0.0.1:${fr.authPort}`, acct: () => `127.0.0.1:${fr.acctPort}` };
  const login = (server: string) =>
    radclient(server, 'auth', SECRET, 'User-Name = "dave", User-Password = "sesame", Message-Authenticator = 0x00\n', ['-r', '1', '-t', '5']);
  const account = async (server: string, text: string) => {
    const r = await radclient(server, 'acct', SECRET, `User-Name = "dave", NAS-IP-Address = 10.20.0.1, NAS-Port = 7, ${text}\n`, ['-r', '1', '-t', '5']);
    expect(r.stdout, r.stdout + r.stderr).toMatch(/Received Accounting-Response/);
  };
  const sessions = (...args: string[]) => {
    const r = spawnSync(process.execPath, [RADIUSD, 'sessions', '-d', dir, ...args], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };
  const now = () => Math.floor(Date.now() / 1000);
  const rowsOf = async (id: string) => (await pg.psql(`SELECT acctsessiontime, acctstoptime IS NULL FROM radacct WHERE acctsessionid = '${id}'`, 'radius')).trim();

  it('users and groups written once: Debian radtest and radclient get the same Access-Accept from both servers', async () => {
    for (const port of [auth, fr.authPort]) {
      const r = await run('/usr/bin/radtest', ['-x', 'dave', 'sesame', `127.0.0.1:${port}`, '0', SECRET]);
      expect(r.stdout, r.stdout + r.stderr).toMatch(/Received Access-Accept/);
      expect(r.stdout).toMatch(/Framed-IP-Address = 192\.0\.2\.77/);
      expect(r.stdout).toMatch(/Session-Timeout = 7200/);
      expect(r.stdout).toMatch(/Reply-Message = "gold plan"/);
    }
    for (const server of [us.auth(), them.auth()]) {
      const bad = await radclient(server, 'auth', SECRET, 'User-Name = "dave", User-Password = "wrong", Message-Authenticator = 0x00\n', ['-r', '1', '-t', '5']);
      expect(bad.stdout).toMatch(/Received Access-Reject/);
    }
  }, 60_000);

  it('a session FreeRADIUS accounts is listed by `radiusd sessions`, counts for our Simultaneous-Use, and is the row our Interim-Update updates', async () => {
    const t = now();
    await account(them.acct(), `Acct-Session-Id = "fr-1", Acct-Status-Type = Start, Framed-IP-Address = 192.0.2.77, Event-Timestamp = ${t}`);
    const listed = sessions('-u', 'dave');
    expect(listed).toMatch(/^dave\s+10\.20\.0\.1\s+7\s+fr-1\s/m);
    expect(listed).toMatch(/1 open session\(s\)/);
    expect(JSON.parse(sessions('-N', '10.20.0.1', '--json'))).toMatchObject([{ user: 'dave', sessionId: 'fr-1', address: '192.0.2.77' }]);

    // dave may be online once: we refuse a second login while FreeRADIUS's session is open.
    const second = await login(us.auth());
    expect(second.stdout).toMatch(/Received Access-Reject/);
    expect(second.stdout).toMatch(/already logged in/);

    // Our Interim-Update for FreeRADIUS's session updates the same row (same acctuniqueid), not a new one.
    await account(us.acct(), `Acct-Session-Id = "fr-1", Acct-Status-Type = Interim-Update, Acct-Session-Time = 60, Event-Timestamp = ${t + 60}`);
    expect(await rowsOf('fr-1')).toBe('60|t');

    await account(them.acct(), `Acct-Session-Id = "fr-1", Acct-Status-Type = Stop, Acct-Session-Time = 90, Acct-Terminate-Cause = User-Request, Event-Timestamp = ${t + 90}`);
    expect(await rowsOf('fr-1')).toBe('90|f');
    expect(sessions('-u', 'dave')).toMatch(/0 open session\(s\)/);
    expect((await login(us.auth())).stdout).toMatch(/Received Access-Accept/);
  }, 60_000);

  it('a session we account is the row FreeRADIUS updates and counts for FreeRADIUS\'s Simultaneous-Use (its simul_count_query)', async () => {
    const t = now();
    await account(us.acct(), `Acct-Session-Id = "ts-1", Acct-Status-Type = Start, Framed-IP-Address = 192.0.2.77, Event-Timestamp = ${t}`);
    const refused = await login(them.auth());
    expect(refused.stdout, fr.output().slice(-3000)).toMatch(/Received Access-Reject/);
    expect(refused.stdout).toMatch(/already logged in/);

    await account(them.acct(), `Acct-Session-Id = "ts-1", Acct-Status-Type = Interim-Update, Acct-Session-Time = 30, Event-Timestamp = ${t + 30}`);
    expect(await rowsOf('ts-1')).toBe('30|t');
    await account(us.acct(), `Acct-Session-Id = "ts-1", Acct-Status-Type = Stop, Acct-Session-Time = 45, Event-Timestamp = ${t + 45}`);
    expect(await rowsOf('ts-1')).toBe('45|f');
    expect((await login(them.auth())).stdout).toMatch(/Received Access-Accept/);
  }, 60_000);

  it('both servers log to radpostauth (FreeRADIUS stores the password it was sent, we never do)', async () => {
    const rows = (await pg.psql("SELECT reply, pass <> '' FROM radpostauth WHERE username = 'dave' ORDER BY id", 'radius')).trim().split('\n');
    // Per server: radtest Accept, wrong-password Reject, then one Reject and one Accept in the session tests.
    const fromFr = rows.filter((r) => r.endsWith('|t')).map((r) => r.split('|')[0]);
    const fromUs = rows.filter((r) => r.endsWith('|f')).map((r) => r.split('|')[0]);
    expect(fromFr.sort()).toEqual(['Access-Accept', 'Access-Accept', 'Access-Reject', 'Access-Reject']);
    expect(fromUs.sort()).toEqual(['Access-Accept', 'Access-Accept', 'Access-Reject', 'Access-Reject']);
  });
});

describe('our sql module on a database made with FreeRADIUS 3.2\'s own schema file', () => {
  const dict = loadDefaultDictionary();
  let pg: PgServer;
  let mods: ModuleSet | undefined;
  beforeAll(async () => {
    pg = await startPostgres();
    await pg.createDatabase('frdb', [FR_SCHEMA]);
  }, 120_000);
  afterEach(async () => { await mods?.detachAll(); mods = undefined; });
  afterAll(async () => { await pg?.stop(); }, 60_000);

  const req = (text: string, code = 1) => {
    const r = new Request({ code, dict });
    r.request.push(...parsePairList(text, dict));
    return r;
  };

  it('authorize, Simultaneous-Use, Start/Interim-Update/Stop, Accounting-On and post-auth work unchanged', async () => {
    const tree = parseConfigString(`modules {\n${postgresModuleConf([{ host: pg.host, port: pg.port }], 'frdb', pg.user)}\n}\n`, '/tmp/radiusd.conf');
    mods = await loadModules({ section: findSection(tree, 'modules'), root: createRootContainer({ dict, log: new MemoryLogger(false) }), registry: [sqlModule] });
    const m = mods;
    const go = (policy: string, r: Request, name1 = 'recv', name2 = 'Access-Request') =>
      runSection(compileUnlang(policy, { dict, xlats: m.xlats, modules: m.modules, virtualModules: m.virtualModules, section: { name1, name2 } }), r);
    await pg.psql(`
      INSERT INTO radcheck (username, attribute, op, value) VALUES ('erin', 'Cleartext-Password', ':=', 'pw'), ('erin', 'Simultaneous-Use', ':=', '1');
      INSERT INTO radusergroup (username, groupname, priority) VALUES ('erin', 'silver', 1);
      INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES ('silver', 'Idle-Timeout', ':=', '300');`, 'frdb');
    const a = req('User-Name = "erin"');
    expect(await go('sql', a)).toBe('updated');
    expect(await go('sql.session', a)).toBe('ok');
    expect(printPairList(a.reply)).toBe('Idle-Timeout = 300');

    const base = 'User-Name = "erin", Acct-Session-Id = "E1", NAS-IP-Address = 10.30.0.1';
    expect(await go('sql', req(`${base}, Acct-Status-Type = Start, Framed-IP-Address = 192.0.2.5, Event-Timestamp = 1700000000`, 4), 'accounting', 'Start')).toBe('ok');
    expect(await go('sql', req(`${base}, Acct-Status-Type = Interim-Update, Acct-Session-Time = 60, Event-Timestamp = 1700000060`, 4), 'accounting', 'Interim-Update')).toBe('ok');
    const busy = req('User-Name = "erin"');
    expect(await go('sql', busy)).toBe('updated');
    expect(await go('sql.session', busy)).toBe('reject');
    expect(await go('sql', req(`${base}, Acct-Status-Type = Stop, Acct-Session-Time = 90, Event-Timestamp = 1700000090`, 4), 'accounting', 'Stop')).toBe('ok');
    expect((await pg.psql("SELECT acctsessiontime, extract(epoch FROM acctstoptime)::bigint, host(framedipaddress) FROM radacct WHERE acctsessionid = 'E1'", 'frdb')).trim())
      .toBe('90|1700000090|192.0.2.5');
    expect(await go('sql', req('User-Name = "erin", Acct-Session-Id = "E2", NAS-IP-Address = 10.30.0.1, Acct-Status-Type = Start, Event-Timestamp = 1700000100', 4), 'accounting', 'Start')).toBe('ok');
    expect(await go('sql', req('NAS-IP-Address = 10.30.0.1, Acct-Status-Type = Accounting-On, Event-Timestamp = 1700000200', 4), 'accounting', 'Accounting-On')).toBe('ok');
    expect((await pg.psql('SELECT count(*) FROM radacct WHERE acctstoptime IS NULL', 'frdb')).trim()).toBe('0');
    expect(await go('sql', req('User-Name = "erin"'), 'send', 'Access-Accept')).toBe('ok');
    expect((await pg.psql('SELECT username, reply FROM radpostauth', 'frdb')).trim()).toBe('erin|Access-Accept');
  }, 60_000);
});
