/**
 * `sql { read_clients = yes }`: the daemon takes its RADIUS clients from the `nas` table (no
 * client in the configuration), Debian's radclient is answered with the secret of the row, a bad
 * row is skipped with a warning, and a reload reads the table again.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQL_CONFIG_DIR, sqliteModuleConf } from '../../modules/sql/testing';
import { freePorts } from '../interop/freeradius';
import { radclient, startDaemon, tempDir, type Daemon } from './harness';

const conf = (auth: number, db: string) => `confdir = .
run_dir = \${confdir}/run
thread {
	workers = 1
}
modules {
${sqliteModuleConf(db, '\tread_clients = yes\n\tclient_table = "nas"')}	pap {
	}
}
server default {
	namespace = radius
	listen auth {
		type = Access-Request
		udp {
			ipaddr = 127.0.0.1
			port = ${auth}
		}
	}
	recv Access-Request {
		sql
		pap
	}
	authenticate pap {
		pap
	}
}
`;

describe('radiusd with sql read_clients (clients from the nas table)', () => {
  let dir: string;
  let d: Daemon;
  let auth: number;
  let db: Database.Database;

  beforeAll(async () => {
    [auth] = await freePorts(1);
    dir = tempDir('sql-clients');
    const file = path.join(dir, 'radius.sqlite');
    db = new Database(file);
    db.pragma('journal_mode = wal');
    db.exec(fs.readFileSync(path.join(SQL_CONFIG_DIR, 'main', 'sqlite', 'schema.sql'), 'utf8'));
    db.exec(`INSERT INTO radcheck (username, attribute, op, value) VALUES ('bob', 'Cleartext-Password', ':=', 'hello');
      INSERT INTO nas (nasname, shortname, type, secret, require_ma) VALUES ('127.0.0.1', 'lo-nas', 'other', 'nas-secret-1', 'no');
      INSERT INTO nas (nasname, shortname, type, secret) VALUES ('nas.example.invalid', 'byname', 'other', 'x');`);
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), conf(auth, file));
    d = await startDaemon(['-d', dir, '-f', '-l', 'stdout']);
  }, 60_000);

  afterAll(async () => {
    db?.close();
    if (d) expect(await d.stop()).toBe(0);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const send = (secret: string) => radclient(`127.0.0.1:${auth}`, 'auth', secret, 'User-Name = "bob", User-Password = "hello"\n', ['-r', '1', '-t', '2']);

  it('the nas row is the client: its secret is answered, another secret is not; the bad row is skipped', async () => {
    expect((await send('nas-secret-1')).stdout).toMatch(/Received Access-Accept/);
    expect((await send('testing123')).stdout).not.toMatch(/Received Access-/);
    expect(d.output()).toMatch(/sql: 2 client\(s\) read/);
    expect(d.output()).toMatch(/client byname from sql sql nas row 2: .*skipped/);
  });

  it('a reload reads the table again', async () => {
    db.exec("UPDATE nas SET secret = 'nas-secret-2' WHERE shortname = 'lo-nas'");
    const mark = d.output().length;
    d.signal('SIGHUP');
    await d.waitFor(/generation 2 is serving/, 15000, mark);
    expect((await send('nas-secret-2')).stdout).toMatch(/Received Access-Accept/);
    expect((await send('nas-secret-1')).stdout).not.toMatch(/Received Access-/);
  });
});
