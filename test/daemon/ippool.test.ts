/**
 * The daemon with IP pools, driven by Debian's radclient: `sqlippool` on SQLite and
 * `redis_ippool` on the test's own redis-server, each pool filled with its shipped tool. An
 * Access-Accept carries a Framed-IP-Address from the pool; an Accounting Stop frees it (the tools
 * show it free and the next device gets it); an exhausted pool gives the configured failure
 * (Access-Reject with its Reply-Message).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPPOOL_CONFIG_DIR } from '../../modules/sqlippool/testing';
import { freePorts } from '../interop/freeradius';
import { startRedis, type RedisServer } from '../support/redis';
import { radclient, ROOT, startDaemon, tempDir, type Daemon } from './harness';

const conf = (auth: number, acct: number, db: string, redisPort: number) => `confdir = .
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
			bootstrap = "${IPPOOL_CONFIG_DIR}/sqlite/schema.sql"
		}
	}
	sqlippool {
		sql_module_instance = "sql"
		dialect = "sqlite"
		ippool_table = "fr_ippool"
		offer_duration = 3600
		lease_duration = 3600
		pool_name = "%{control.IP-Pool.Name}"
		owner = "%{Calling-Station-Id}"
		gateway = "%{NAS-IP-Address}"
		requested_address = "%{Framed-IP-Address}"
		on_exhausted = reject
		$INCLUDE ${IPPOOL_CONFIG_DIR}/sqlite/queries.conf
	}
	redis_ippool {
		server = "127.0.0.1:${redisPort}"
		lease_time = 3600
		on_exhausted = reject
	}
	pap {
	}
}
policy {
	pool {
		control.IP-Pool.Name := "main"
		if (NAS-Identifier == "redis") {
			redis_ippool
		} else {
			sqlippool
		}
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
		control.Password.Cleartext := "hello"
		pap
	}
	authenticate pap {
		pap
	}
	send Access-Accept {
		pool
	}
	accounting Start {
		pool
	}
	accounting Interim-Update {
		pool
	}
	accounting Stop {
		pool
	}
	accounting Accounting-On {
		pool
	}
}
`;

describe('radiusd with sqlippool (SQLite) and redis_ippool (Redis), driven by Debian radclient', () => {
  let dir: string;
  let d: Daemon;
  let redis: RedisServer;
  let auth: number;
  let acct: number;
  let db: string;

  const tool = (bin: string, args: string[]) => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', bin), ...args], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return r.stdout;
  };
  const sqlTool = (...a: string[]) => tool('sqlippool-tool.js', ['--sqlite', db, ...a]);
  const redisTool = (...a: string[]) => tool('redis-ippool-tool.js', ['-s', `127.0.0.1:${redis.port}`, ...a]);

  beforeAll(async () => {
    [auth, acct] = await freePorts(2);
    redis = await startRedis();
    dir = tempDir('ippool-daemon');
    db = path.join(dir, 'radius.sqlite');
    // The operator fills the pools with the tools before starting the daemon.
    expect(sqlTool('--init', 'add', 'main', '192.0.2.1-192.0.2.2')).toBe('added 2 of 2 address(es) to pool main\n');
    expect(redisTool('add', 'main', '198.51.100.1-198.51.100.2')).toBe('added 2 of 2 address(es) to pool main\n');
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), conf(auth, acct, db, redis.port));
    d = await startDaemon(['-d', dir, '-f']);
  }, 120_000);

  afterAll(async () => {
    if (d) expect(await d.stop()).toBe(0);
    await redis?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const send = (type: 'auth' | 'acct', text: string) =>
    radclient(`127.0.0.1:${type === 'auth' ? auth : acct}`, type, 'testing123', text, ['-r', '1', '-t', '5']);
  const access = (owner: string, nasId: string) =>
    send('auth', `User-Name = "bob", User-Password = "hello", Calling-Station-Id = "${owner}", NAS-IP-Address = 10.0.0.1, NAS-Identifier = "${nasId}"\n`);
  const framed = (out: string) => /Framed-IP-Address = (\S+)/.exec(out)?.[1];

  for (const [backend, nasId, net, show] of [
    ['sqlippool on SQLite', 'sql', '192.0.2', () => sqlTool('show', 'main')],
    ['redis_ippool on Redis', 'redis', '198.51.100', () => redisTool('show', 'main')],
  ] as const) {
    it(`${backend}: Accept with a pool address, exhaustion rejects, Stop frees the address for the next device`, async () => {
      const a = await access(`${nasId}-aa`, nasId);
      expect(a.stdout).toMatch(/Received Access-Accept/);
      const ipA = framed(a.stdout)!;
      expect(ipA).toMatch(new RegExp(`^${net.replace(/\./g, '\\.')}\\.[12]$`));
      const b = await access(`${nasId}-bb`, nasId);
      const ipB = framed(b.stdout)!;
      expect(b.stdout).toMatch(/Received Access-Accept/);
      expect(ipB).not.toBe(ipA);
      expect(ipB.startsWith(`${net}.`)).toBe(true);
      // The same device again: the same address.
      expect(framed((await access(`${nasId}-aa`, nasId)).stdout)).toBe(ipA);
      // The pool is full: the configured failure.
      const c = await access(`${nasId}-cc`, nasId);
      expect(c.stdout).toMatch(/Received Access-Reject/);
      expect(c.stdout).toMatch(/Reply-Message = "No free address in pool main"/);
      expect(framed(c.stdout)).toBeUndefined();
      expect(show()).toMatch(/pool main: 2 address\(es\), 2 leased, 0 free/);
      // Start and Interim-Update renew; Stop frees.
      const acctBase = `User-Name = "bob", Acct-Session-Id = "${nasId}-s1", Calling-Station-Id = "${nasId}-aa", NAS-IP-Address = 10.0.0.1, NAS-Identifier = "${nasId}", Framed-IP-Address = ${ipA}`;
      for (const st of ['Start', 'Interim-Update', 'Stop']) {
        expect((await send('acct', `${acctBase}, Acct-Status-Type = ${st}\n`)).stdout).toMatch(/Received Accounting-Response/);
      }
      expect(show()).toMatch(/pool main: 2 address\(es\), 1 leased, 1 free/);
      const again = await access(`${nasId}-cc`, nasId);
      expect(again.stdout).toMatch(/Received Access-Accept/);
      expect(framed(again.stdout)).toBe(ipA);
      // Accounting-On from the NAS frees all of its leases.
      expect((await send('acct', `NAS-IP-Address = 10.0.0.1, NAS-Identifier = "${nasId}", Acct-Status-Type = Accounting-On\n`)).stdout).toMatch(/Received Accounting-Response/);
      expect(show()).toMatch(/pool main: 2 address\(es\), 0 leased, 2 free/);
    }, 60_000);
  }
});
