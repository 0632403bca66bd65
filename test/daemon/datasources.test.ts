/**
 * sites/datasources (seed 002's DataSources layout): LDAP (two directories, sticky), then SQL
 * (SQLite), then a users file, tried in order by `redundant`; a user missing from one source is
 * looked up in the next; with both directories killed, the LDAP source fails and the lookup goes
 * on; when no source knows the user, reject. Debian radtest is the NAS.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQL_CONFIG_DIR, sqliteModuleConf } from '../../modules/sql/testing';
import { fixtureLdif, moduleBody, PASSWORDS } from '../../modules/ldap/fixture';
import { freePorts } from '../interop/freeradius';
import { startSlapd, type Slapd } from '../support/slapd';
import { run, startDaemon, tempDir, type Daemon } from './harness';

const SITE = path.join(__dirname, '..', '..', 'sites', 'datasources');

describe('sites/datasources: ldap, then sql, then files', () => {
  let a: Slapd;
  let b: Slapd;
  let d: Daemon;
  let dir: string;
  let port: number;

  beforeAll(async () => {
    [a, b] = await Promise.all([startSlapd({ ldif: fixtureLdif() }), startSlapd({ ldif: fixtureLdif() })]);
    [port] = await freePorts(1);
    dir = tempDir('datasources');
    const db = path.join(dir, 'users.sqlite');
    const seed = new Database(db);
    seed.exec(fs.readFileSync(path.join(SQL_CONFIG_DIR, 'main', 'sqlite', 'schema.sql'), 'utf8'));
    seed.exec(`INSERT INTO radcheck (username, attribute, op, value) VALUES ('sqluser', 'Cleartext-Password', ':=', 'from-sql');
      INSERT INTO radreply (username, attribute, op, value) VALUES ('sqluser', 'Reply-Message', ':=', 'sql source');`);
    seed.close();
    fs.writeFileSync(path.join(dir, 'users'), 'fileuser Cleartext-Password := "from-files"\n\tReply-Message := "files source"\n');
    fs.writeFileSync(path.join(dir, 'datasources'), fs.readFileSync(SITE, 'utf8').replace('port = 1815', `port = ${port}`));
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), `confdir = .
log {
	destination = stdout
}
security {
	reject_delay = 0
}
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
	require_message_authenticator = no
}
modules {
	ldap {
${moduleBody([a.url, b.url], 'server_selection = sticky\noptions {\n  res_timeout = 1\n  net_timeout = 1\n  reconnection_delay = 0.5\n}')}
	}
${sqliteModuleConf(db, '\tread_groups = no')}	files {
		filename = \${confdir}/users
	}
	pap {
	}
}
$INCLUDE datasources
`);
    d = await startDaemon(['-d', dir, '-f']);
  }, 60_000);

  afterAll(async () => {
    if (d) expect(await d.stop()).toBe(0);
    await Promise.all([a?.stop(), b?.stop()]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const radtest = (user: string, pw: string) => run('/usr/bin/radtest', [user, pw, `127.0.0.1:${port}`, '0', 'testing123']);

  it('each user is found in its own source, in order', async () => {
    const john = await radtest('john', PASSWORDS.john);
    expect(john.stdout).toMatch(/Received Access-Accept/);
    expect(john.stdout).toMatch(/Reply-Message = "gold plan"/);
    const s = await radtest('sqluser', 'from-sql');
    expect(s.stdout).toMatch(/Received Access-Accept/);
    expect(s.stdout).toMatch(/Reply-Message = "sql source"/);
    const f = await radtest('fileuser', 'from-files');
    expect(f.stdout).toMatch(/Received Access-Accept/);
    expect(f.stdout).toMatch(/Reply-Message = "files source"/);
    expect((await radtest('fileuser', 'wrong')).stdout).toMatch(/Received Access-Reject/);
  });

  it('a user no source knows is rejected', async () => {
    expect((await radtest('nobody', 'x')).stdout).toMatch(/Received Access-Reject/);
  });

  it('with every directory down, the LDAP source fails and the next sources still answer', async () => {
    a.signal('SIGKILL');
    b.signal('SIGKILL');
    const s = await radtest('sqluser', 'from-sql');
    expect(s.stdout).toMatch(/Received Access-Accept/);
    expect((await radtest('fileuser', 'from-files')).stdout).toMatch(/Received Access-Accept/);
    // john lives only in the directory: with it gone, no source knows him.
    expect((await radtest('john', PASSWORDS.john)).stdout).toMatch(/Received Access-Reject/);
  });
});
