/**
 * Apps in a running daemon: the `health` HTTP endpoint answers with the current generation,
 * follows a reload (SIGHUP), shows up in the stats file (SIGUSR1) and closes on SIGTERM.
 * `radiusd -C` rejects a misspelt app with a located error.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePorts } from '../interop/freeradius';
import { checkConfig, radclient, startDaemon, writeTempFiles } from './harness';

const conf = (radiusPort: number, healthPort: number, message: string, app = '') => `confdir = .
run_dir = \${confdir}/run
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
			port = ${radiusPort}
		}
	}
	recv Access-Request {
		files
		pap
	}
	authenticate pap {
		pap
	}
	send Access-Accept {
		reply.Reply-Message := "${message}"
	}
}
${app || `app health {
	port = ${healthPort}
	token = "t0ken"
}`}
`;

function get(port: number, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
    const req = http.request({ host: '127.0.0.1', port, path: '/health', headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('app health in the daemon', () => {
  it('answers, follows a reload, reports in the stats file, and stops with the daemon', async () => {
    const [radiusPort, healthPort] = await freePorts(2);
    const dir = writeTempFiles('apps', { 'radiusd.conf': conf(radiusPort, healthPort, 'one'), users: 'bob\tCleartext-Password := "hello"\n' });
    const d = await startDaemon(['-d', dir, '-f']);
    try {
      expect((await get(healthPort)).status).toBe(401);
      const one = JSON.parse((await get(healthPort, 't0ken')).body);
      expect(one).toMatchObject({ status: 'ok', generation: 1 });
      expect(one.listeners).toEqual([{ name: 'default.listen0', transport: 'udp', address: '127.0.0.1', port: radiusPort, listening: true }]);
      expect(one.modules.map((m: { name: string; state: string }) => `${m.name}:${m.state}`)).toEqual(['files:instantiated', 'pap:instantiated']);

      const r = await radclient(`127.0.0.1:${radiusPort}`, 'auth', 'testing123', 'User-Name = "bob", User-Password = "hello"\n', ['-r', '1', '-t', '3']);
      expect(r.stdout).toMatch(/Received Access-Accept/);

      fs.writeFileSync(path.join(dir, 'radiusd.conf'), conf(radiusPort, healthPort, 'two'));
      const mark = d.output().length;
      d.signal('SIGHUP');
      await d.waitFor(/generation 2 is serving/, 10000, mark);
      const two = JSON.parse((await get(healthPort, 't0ken')).body);
      expect(two).toMatchObject({ status: 'ok', generation: 2, reloads: { ok: 1, failed: 0 } });
      expect(two.apps).toEqual([expect.objectContaining({ kind: 'health', name: 'health', generation: 2, health: expect.objectContaining({ status: 'ok' }) })]);

      d.signal('SIGUSR1');
      await d.waitFor(/stats written to/, 10000, mark);
      const stats = JSON.parse(fs.readFileSync(path.join(dir, 'run', 'radiusd.stats.json'), 'utf8'));
      expect(stats.apps).toEqual({ health: expect.objectContaining({ kind: 'health', status: 'ok' }) });
      expect(d.output()).not.toContain('t0ken');
    } finally {
      expect(await d.stop()).toBe(0);
    }
    await expect(get(healthPort, 't0ken')).rejects.toThrow(/ECONNREFUSED/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('radiusd -C: a misspelt app kind is a located error, a good app passes', () => {
    const good = writeTempFiles('apps-check', { 'radiusd.conf': conf(1812, 9812, 'x'), users: '' });
    const bad = writeTempFiles('apps-check', { 'radiusd.conf': conf(1812, 9812, 'x', 'app helth {\n}\n'), users: '' });
    try {
      expect(checkConfig(good).code).toBe(0);
      const r = checkConfig(bad);
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toMatch(/radiusd\.conf\[\d+\]: app helth: unknown app kind "helth"; did you mean "health"\?/);
    } finally {
      fs.rmSync(good, { recursive: true, force: true });
      fs.rmSync(bad, { recursive: true, force: true });
    }
  });
});
