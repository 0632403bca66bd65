/**
 * radiusd command line: --version, -n name, -i/-p listen override, daemonising with a pid file
 * (SIGHUP reload, SIGTERM stop removes it).
 */
import * as fs from 'node:fs';
import * as dgram from 'node:dgram';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RADIUSD, radclient, run, sleep, startDaemon, writeTempFiles } from './harness';
import { freePorts } from '../interop/freeradius';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

const CONF = (authPort: number) => `confdir = .
thread {
	workers = 1
}
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
}
modules {
	files {
		filename = \${confdir}/users
	}
	pap {
	}
}
server default {
	namespace = radius
	listen {
		type = Access-Request
		udp {
			ipaddr = 127.0.0.1
			port = ${authPort}
		}
	}
	listen acct {
		type = Accounting-Request
		udp {
			ipaddr = 127.0.0.1
			port = ${authPort + 1}
		}
	}
	recv Access-Request {
		files
		pap
	}
	authenticate pap {
		pap
	}
	recv Accounting-Request {
		ok
	}
}
`;

/** `n` ports P whose P and P+1 are both free on 127.0.0.1 (UDP). */
async function freePortPairs(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let tries = 0; out.length < n && tries < 100; tries++) {
    const [p] = await freePorts(1);
    if (!out.some((o) => Math.abs(o - p) < 2) && (await udpFree(p + 1))) out.push(p);
  }
  if (out.length < n) throw new Error('no free pairs of loopback ports');
  return out;
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function setup(name: string, port: number): string {
  const dir = writeTempFiles('cli', { [`${name}.conf`]: CONF(port), users: 'bob\tCleartext-Password := "hello"\n' });
  dirs.push(dir);
  return dir;
}

describe('radiusd CLI', () => {
  it('--version', async () => {
    const r = await run(process.execPath, [RADIUSD, '--version']);
    expect(r.stdout).toMatch(/^radiusd \(tsradius\) version \d+\.\d+\.\d+/);
    expect(r.code).toBe(0);
  });

  it('bad flags are usage errors (exit 2)', async () => {
    const r = await run(process.execPath, [RADIUSD, '--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Usage: radiusd/);
  });

  it('-n name reads name.conf; -i/-p move auth to PORT and accounting to PORT+1', async () => {
    // Free pairs of ports: the configured one and the -p override (each PORT and PORT+1).
    const [conf, over] = await freePortPairs(2);
    const dir = setup('other', conf);
    const d = await startDaemon(['-d', dir, '-n', 'other', '-f', '-i', '127.0.0.1', '-p', String(over)]);
    try {
      const a = await radclient(`127.0.0.1:${over}`, 'auth', 'testing123', 'User-Name = "bob", User-Password = "hello"\n');
      expect(a.stdout).toMatch(/Received Access-Accept/);
      const b = await radclient(`127.0.0.1:${over + 1}`, 'acct', 'testing123', 'User-Name = "bob", Acct-Status-Type = Start\n');
      expect(b.stdout).toMatch(/Received Accounting-Response/);
      const old = await radclient(`127.0.0.1:${conf}`, 'auth', 'testing123', 'User-Name = "bob", User-Password = "hello"\n', ['-r', '1', '-t', '0.5']);
      expect(old.stdout).not.toMatch(/Received/);
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });

  it('without -f: daemonises, writes the pid file, reloads on SIGHUP, removes the pid file on SIGTERM', async () => {
    const [port] = await freePortPairs(1);
    const dir = setup('radiusd', port);
    const r = await run(process.execPath, [RADIUSD, '-d', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/radiusd: running as pid (\d+)/);
    const pidfile = path.join(dir, 'radiusd.pid');
    const pid = Number(fs.readFileSync(pidfile, 'utf8'));
    expect(r.stdout).toContain(String(pid));
    try {
      const a = await radclient(`127.0.0.1:${port}`, 'auth', 'testing123', 'User-Name = "bob", User-Password = "hello"\n');
      expect(a.stdout).toMatch(/Received Access-Accept/);
      process.kill(pid, 'SIGHUP');
      for (let i = 0; i < 50 && !/generation 2 is serving/.test(fs.readFileSync(path.join(dir, 'radiusd.log'), 'utf8')); i++) await sleep(100);
      expect(fs.readFileSync(path.join(dir, 'radiusd.log'), 'utf8')).toMatch(/generation 2 is serving/);
    } finally {
      process.kill(pid, 'SIGTERM');
    }
    for (let i = 0; i < 50 && fs.existsSync(pidfile); i++) await sleep(100);
    expect(fs.existsSync(pidfile)).toBe(false);
  });

  it('a configuration error at startup exits 1 with the located error', async () => {
    const [port] = await freePortPairs(1);
    const dir = setup('radiusd', port);
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), CONF(port).replace('pap {\n\t}', 'pap {\n\t\tnormalise = maybe\n\t}'));
    const r = await run(process.execPath, [RADIUSD, '-d', dir, '-f']);
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toMatch(/radiusd\.conf\[\d+\]: pap \{ normalise \}: expected yes or no, got "maybe"/);
    const bg = await run(process.execPath, [RADIUSD, '-d', dir]);
    expect(bg.code).toBe(1);
    expect(bg.stderr).toMatch(/radiusd\.conf\[\d+\]: pap \{ normalise \}/);
  });
});
