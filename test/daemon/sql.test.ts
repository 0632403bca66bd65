/**
 * The daemon with `sql` on SQLite: Debian's radclient sends Access-Requests (Accept with the
 * radreply attributes) and Accounting-Requests; each acknowledged Start / Interim-Update / Stop /
 * Accounting-On is already in the database file when radclient sees the response.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQL_CONFIG_DIR } from '../../modules/sql/testing';
import { freePorts } from '../interop/freeradius';
import { radclient, startDaemon, tempDir, type Daemon } from './harness';

const conf = (auth: number, acct: number, db: string) => `confdir = .
run_dir = \${confdir}/run
thread {
	workers = 1
}
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
}
modules {
	sql {
		driver = "sqlite"
		dialect = "sqlite"
		sqlite {
			filename = "${db}"
			bootstrap = "${SQL_CONFIG_DIR}/main/sqlite/schema.sql"
		}
		acct_table1 = "radacct"
		acct_table2 = "radacct"
		postauth_table = "radpostauth"
		authcheck_table = "radcheck"
		authreply_table = "radreply"
		groupcheck_table = "radgroupcheck"
		groupreply_table = "radgroupreply"
		usergroup_table = "radusergroup"
		group_attribute = "SQL-Group"
		$INCLUDE ${SQL_CONFIG_DIR}/main/sqlite/queries.conf
	}
	pap {
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
	listen acct {
		type = Accounting-Request
		udp {
			ipaddr = 127.0.0.1
			port = ${acct}
		}
	}
	recv Access-Request {
		sql
		pap
	}
	authenticate pap {
		pap
	}
	send Access-Accept {
		sql
	}
	send Access-Reject {
		sql
	}
	accounting Start {
		sql
	}
	accounting Interim-Update {
		sql
	}
	accounting Stop {
		sql
	}
	accounting Accounting-On {
		sql
	}
	accounting Accounting-Off {
		sql
	}
}
`;

describe('radiusd with sql on SQLite, driven by Debian radclient', () => {
  let dir: string;
  let d: Daemon;
  let auth: number;
  let acct: number;
  let db: Database.Database;

  beforeAll(async () => {
    [auth, acct] = await freePorts(2);
    dir = tempDir('sql-daemon');
    const file = path.join(dir, 'radius.sqlite');
    // The operator's data: created beforehand with the shipped schema, like an existing FreeRADIUS database.
    const seed = new Database(file);
    seed.pragma('journal_mode = wal');
    seed.exec(fs.readFileSync(path.join(SQL_CONFIG_DIR, 'main', 'sqlite', 'schema.sql'), 'utf8'));
    seed.exec(`INSERT INTO radcheck (username, attribute, op, value) VALUES ('bob', 'Cleartext-Password', ':=', 'hello');
      INSERT INTO radreply (username, attribute, op, value) VALUES ('bob', 'Framed-IP-Address', ':=', '192.0.2.44');
      INSERT INTO radusergroup (username, groupname, priority) VALUES ('bob', 'staff', 1);
      INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES ('staff', 'Session-Timeout', ':=', '3600');`);
    seed.close();
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), conf(auth, acct, file));
    d = await startDaemon(['-d', dir, '-f']);
    db = new Database(file, { readonly: true });
  }, 60_000);

  afterAll(async () => {
    db?.close();
    if (d) expect(await d.stop()).toBe(0);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const send = (type: 'auth' | 'acct', text: string) =>
    radclient(`127.0.0.1:${type === 'auth' ? auth : acct}`, type, 'testing123', text, ['-r', '1', '-t', '5']);
  const row = (id: string) => db.prepare('SELECT * FROM radacct WHERE acctsessionid = ?').get(id) as Record<string, unknown> | undefined;

  it('Access-Request: Accept with the user\'s and the group\'s reply attributes; Reject for a wrong password; both logged', async () => {
    const ok = await send('auth', 'User-Name = "bob", User-Password = "hello"\n');
    expect(ok.stdout).toMatch(/Received Access-Accept/);
    expect(ok.stdout).toMatch(/Framed-IP-Address = 192\.0\.2\.44/);
    expect(ok.stdout).toMatch(/Session-Timeout = 3600/);
    const bad = await send('auth', 'User-Name = "bob", User-Password = "nope"\n');
    expect(bad.stdout).toMatch(/Received Access-Reject/);
    expect(db.prepare('SELECT username, reply FROM radpostauth ORDER BY id').all()).toEqual([
      { username: 'bob', reply: 'Access-Accept' }, { username: 'bob', reply: 'Access-Reject' },
    ]);
  });

  it('Start / Interim-Update / Stop open, update and close the radacct row before the response', async () => {
    const base = 'User-Name = "bob", Acct-Session-Id = "d-1", NAS-IP-Address = 10.20.0.1, NAS-Port = 7';
    expect((await send('acct', `${base}, Acct-Status-Type = Start, Framed-IP-Address = 192.0.2.44, Event-Timestamp = 1700000000\n`)).stdout).toMatch(/Received Accounting-Response/);
    expect(row('d-1')).toMatchObject({ username: 'bob', nasipaddress: '10.20.0.1', framedipaddress: '192.0.2.44', acctstarttime: 1700000000, acctstoptime: null });
    expect((await send('acct', `${base}, Acct-Status-Type = Interim-Update, Acct-Session-Time = 300, Acct-Input-Octets = 1000, Event-Timestamp = 1700000300\n`)).stdout).toMatch(/Received Accounting-Response/);
    expect(row('d-1')).toMatchObject({ acctsessiontime: 300, acctinputoctets: 1000, acctupdatetime: 1700000300, acctstoptime: null });
    expect((await send('acct', `${base}, Acct-Status-Type = Stop, Acct-Session-Time = 400, Acct-Terminate-Cause = User-Request, Event-Timestamp = 1700000400\n`)).stdout).toMatch(/Received Accounting-Response/);
    expect(row('d-1')).toMatchObject({ acctsessiontime: 400, acctstoptime: 1700000400, acctterminatecause: 'User-Request' });
    // The FreeRADIUS acct_unique key: md5 of User-Name,Acct-Session-Id,NAS address,NAS-Identifier,NAS-Port-Id,NAS-Port.
    const crypto = await import('node:crypto');
    expect(row('d-1')!.acctuniqueid).toBe(crypto.createHash('md5').update('bob,d-1,10.20.0.1,,,7').digest('hex'));
  });

  it('Accounting-On closes every open session of that NAS', async () => {
    for (const id of ['on-1', 'on-2']) {
      await send('acct', `User-Name = "u", Acct-Session-Id = "${id}", NAS-IP-Address = 10.30.0.1, Acct-Status-Type = Start, Event-Timestamp = 1700000000\n`);
    }
    await send('acct', 'User-Name = "v", Acct-Session-Id = "other", NAS-IP-Address = 10.30.0.2, Acct-Status-Type = Start, Event-Timestamp = 1700000000\n');
    expect((await send('acct', 'NAS-IP-Address = 10.30.0.1, Acct-Status-Type = Accounting-On, Event-Timestamp = 1700000900\n')).stdout).toMatch(/Received Accounting-Response/);
    expect(row('on-1')).toMatchObject({ acctstoptime: 1700000900, acctterminatecause: 'NAS-Reboot', acctsessiontime: 900 });
    expect(row('on-2')).toMatchObject({ acctstoptime: 1700000900 });
    expect(row('other')).toMatchObject({ acctstoptime: null });
  });
});
