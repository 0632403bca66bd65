/**
 * The `health` app inside an in-process Server: JSON report, bearer token, reload in place
 * (same socket, new token), reload with a new port (replaced), a failing start, and stop.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../../log/memory';
import { Server } from '../../server';
import { findSection } from '../../../config/ast';
import { parseConfigString } from '../../../config/parser';
import { parseApps } from '../../app';
import { defaultApps } from '../index';
import { HealthConfig, type HealthApp } from './health';
import { BUILTIN_MODULES } from '../../../../test/support/builtins';

let server: Server | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const conf = (app: string) => `confdir = .
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
}
modules {
	pap {
	}
}
server default {
	namespace = radius
	listen {
		type = Access-Request
		udp {
			ipaddr = 127.0.0.1
			port = 0
		}
	}
	recv Access-Request {
		pap
	}
}
${app}
`;

function write(text: string): string {
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-health-'));
  const file = path.join(dir, 'radiusd.conf');
  fs.writeFileSync(file, text);
  return file;
}

function get(port: number, urlPath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A loopback TCP port that was free a moment ago. */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** The health app's bound port (the config says port 0). */
function appPort(s: Server, name = 'health'): number {
  return appInstance(s, name).address()!.port;
}

function appInstance(s: Server, name = 'health'): HealthApp {
  const apps = (s as unknown as { apps: { spec: { name: string }; instance: HealthApp }[] }).apps;
  return apps.find((a) => a.spec.name === name)!.instance;
}

describe('app health', () => {
  it('answers GET /health with the server report; reload keeps the socket and takes a new token; stop closes it', async () => {
    const log = new MemoryLogger();
    const file = write(conf('app health {\n\tport = 0\n}\n'));
    server = new Server({ modules: BUILTIN_MODULES, file, log, triggers: false });
    await server.start();
    const port = appPort(server);

    const r = await get(port, '/health');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    const report = JSON.parse(r.body);
    expect(report).toMatchObject({ status: 'ok', generation: 1, reloads: { ok: 0, failed: 0 } });
    expect(typeof report.uptime).toBe('number');
    expect(report.modules).toEqual([{ name: 'pap', module: 'pap', state: 'instantiated' }]);
    expect(report.listeners).toEqual([{ name: 'default.listen0', transport: 'udp', address: '127.0.0.1', port: server.addresses()[0].port, listening: true }]);
    expect(report.apps).toEqual([{ kind: 'health', name: 'health', generation: 1, health: { status: 'ok', detail: { address: '127.0.0.1', port, served: 1, denied: 0 } } }]);
    expect((await get(port, '/other')).status).toBe(404);
    expect((await get(port, '/health', {}, 'POST')).status).toBe(405);
    // Also in the stats file (SIGUSR1).
    expect(server.stats().apps).toEqual({ health: { kind: 'health', status: 'ok', detail: { address: '127.0.0.1', port, served: 1, denied: 0 } } });

    // Reload with a token: same address and port, so the same instance and socket serve generation 2.
    const before = appInstance(server);
    write(conf(`app health {\n\tport = ${port}\n\ttoken = "s3cret"\n}\n`));
    expect(await server.reload()).toBe(true);
    expect(appInstance(server)).toBe(before);
    expect(appPort(server)).toBe(port);
    const denied = await get(port, '/health');
    expect(denied.status).toBe(401);
    expect(denied.headers['www-authenticate']).toBe('Bearer');
    expect((await get(port, '/health', { Authorization: 'Bearer wrong' })).status).toBe(401);
    const allowed = await get(port, '/health', { Authorization: 'Bearer s3cret' });
    expect(allowed.status).toBe(200);
    expect(JSON.parse(allowed.body)).toMatchObject({ status: 'ok', generation: 2, reloads: { ok: 1, failed: 0 } });
    expect(JSON.parse(allowed.body).apps[0]).toMatchObject({ generation: 2 });
    expect(log.lines.map((l) => l.msg).join('\n')).not.toContain('s3cret');

    await server.stop();
    await expect(get(port, '/health')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a reload that moves the port replaces the app; one that drops it stops it', async () => {
    const file = write(conf('app health {\n\tport = 0\n}\napp health second {\n\tport = 0\n}\n'));
    server = new Server({ modules: BUILTIN_MODULES, file, log: new MemoryLogger(), triggers: false });
    await server.start();
    const first = appPort(server);
    const firstInstance = appInstance(server);
    const second = appPort(server, 'second');
    expect((await get(second, '/health')).status).toBe(200);

    const target = await freePort();
    write(conf(`app health {\n\tport = ${target}\n\tpath = /status\n}\n`));
    expect(await server.reload()).toBe(true);
    expect(appPort(server)).toBe(target);
    expect(appInstance(server)).not.toBe(firstInstance);
    const r = await get(target, '/status');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).apps).toEqual([expect.objectContaining({ name: 'health', generation: 2 })]);
    await expect(get(first, '/health')).rejects.toThrow(/ECONNREFUSED/);
    await expect(get(second, '/health')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('an app that cannot start fails start-up with a located error and leaves nothing running; a reload adding it is rejected', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const busy = (blocker.address() as net.AddressInfo).port;
    try {
      const file = write(conf(`app health {\n\tport = ${busy}\n}\n`));
      const s = new Server({ modules: BUILTIN_MODULES, file, log: new MemoryLogger(), triggers: false });
      await expect(s.start()).rejects.toThrow(/radiusd\.conf\[\d+\]: app health: cannot start: .*EADDRINUSE/);
      expect(s.addresses()).toEqual([]);

      write(conf(''));
      const log = new MemoryLogger();
      server = new Server({ modules: BUILTIN_MODULES, file, log, triggers: false });
      await server.start();
      write(conf(`app health {\n\tport = ${busy}\n}\n`));
      expect(await server.reload()).toBe(false);
      expect(server.generation!.number).toBe(1);
      expect(server.health().apps).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('the README example parses against the schema; every schema item is documented', () => {
    const text = fs.readFileSync(path.join(__dirname, 'README.md'), 'utf8');
    const block = /```\n(app health \{[\s\S]*?)```/.exec(text)![1];
    const [spec] = parseApps([findSection(parseConfigString(block, 'README.md'), 'app')!], defaultApps());
    expect(spec.config).toEqual({ ipaddr: '127.0.0.1', port: 9812, path: '/health', token: 's3cret' });
    for (const key of Object.keys(HealthConfig.fields)) expect(text).toContain(`${key} =`);
  });

  it('configuration errors are located: unknown kind, unknown item', async () => {
    const { loadGeneration } = await import('../../generation');
    const log = new MemoryLogger();
    await expect(loadGeneration({ modules: BUILTIN_MODULES, file: write(conf('app helth {\n}\n')), log, check: true }))
      .rejects.toThrow(/radiusd\.conf\[\d+\]: app helth: unknown app kind "helth"; did you mean "health"\?/);
    await expect(loadGeneration({ modules: BUILTIN_MODULES, file: write(conf('app health {\n\tprot = 1\n}\n')), log, check: true }))
      .rejects.toThrow(/radiusd\.conf\[\d+\]: app health \{ prot \}: unknown item; did you mean "port"\?/);
  });
});
