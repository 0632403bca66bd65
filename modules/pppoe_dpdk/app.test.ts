/**
 * `app pppoe_dpdk` inside an in-process `Server` (lcores from the TypeScript sources, `testing.ts`): requests go
 * worker → ring → control plane → `host.inject` → files + pap → ring → worker; the per-lcore counters appear in
 * the metrics registry (Prometheus text) while the app runs and are gone after it stopped. The config schema's
 * errors are located.
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigString } from '../../core';
import { MemoryLogger } from '../../core';
import { renderPrometheus } from '../../core';
import { AppRegistry, parseApps, type AppDefinition } from '../../core';
import { BUILTIN_APPS } from '../../core';
import { Server } from '../../core';
import { makePppoeDpdkApp } from './app';
import { tsLcoreSpawner } from './testing';
import { BUILTIN_MODULES } from '../index';

let server: Server | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const registry = () => new AppRegistry([...BUILTIN_APPS, makePppoeDpdkApp({ spawn: tsLcoreSpawner }) as unknown as AppDefinition]);

function write(app: string): string {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-pppoe-app-'));
  fs.writeFileSync(path.join(dir, 'users'), 'ok\tCleartext-Password := "pw"\nDEFAULT\tCleartext-Password := "other"\n');
  fs.writeFileSync(path.join(dir, 'radiusd.conf'), `confdir = ${dir}
modules {
	files {
		filename = \${confdir}/users
	}
	pap {
	}
}
server pppoe {
	namespace = radius
	recv Access-Request {
		files
		pap
	}
	authenticate pap {
		pap
	}
	send Access-Accept {
		reply.Framed-IP-Address := 100.64.0.9
		reply.Reply-Message := "welcome"
	}
}
${app}
`);
  return path.join(dir, 'radiusd.conf');
}

type Detail = { total: Record<string, number>; controlPlane: Record<string, number> };
const detail = (s: Server, name: string): Detail => s.health().apps.find((a) => a.name === name)!.health.detail as unknown as Detail;

async function until(ok: () => boolean, ms = 60000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('app pppoe_dpdk in-process', () => {
  it('answers through the site and reports per-lcore counters in the metrics registry until stopped', async () => {
    const file = write(`app pppoe_dpdk p {
	site = pppoe
	lcores = 2
	ring_size = 64
	synthetic {
		rate = 500
		count = 50
		user_prefix = other
		password = "other"
	}
}`);
    server = new Server({ file, log: new MemoryLogger(), triggers: false, apps: registry(), modules: BUILTIN_MODULES });
    await server.start();
    await until(() => detail(server!, 'p').total.received === 100);
    expect(detail(server, 'p').total).toMatchObject({ submitted: 100, accept: 100, reject: 0, error: 0, timeout: 0 });
    const text = renderPrometheus(server.services.metrics.snapshot());
    expect(text).toContain('tsradius_pppoe_accept_total{app="p",lcore="0"} 50');
    expect(text).toContain('tsradius_pppoe_accept_total{app="p",lcore="1"} 50');
    expect(text).toContain('tsradius_pppoe_cp_answered_total{app="p"} 100');
    expect(text).toMatch(/tsradius_pppoe_ring_used\{app="p",lcore="0",ring="request"\} 0/);
    expect(text).toMatch(/tsradius_pppoe_latency_seconds\{app="p",quantile="0.99"\} [0-9.e-]+/);
    await server.stop();
    const after = renderPrometheus(server.services.metrics.snapshot());
    expect(after).not.toContain('tsradius_pppoe_');
    server = undefined;
  });

  it('an unknown site: every request is answered as an error and counted, nothing crashes', async () => {
    const file = write(`app pppoe_dpdk p {
	site = nosuch
	synthetic {
		rate = 200
		count = 5
	}
}`);
    server = new Server({ file, log: new MemoryLogger(), triggers: false, apps: registry(), modules: BUILTIN_MODULES });
    await server.start();
    await until(() => detail(server!, 'p').total.received === 5);
    expect(detail(server, 'p').total).toMatchObject({ error: 5, accept: 0 });
    expect(detail(server, 'p').controlPlane.handler_errors).toBe(5);
  });

  it('schema errors are located', () => {
    const apps = registry();
    const parse = (body: string) => {
      const tree = parseConfigString(`app pppoe_dpdk {\n${body}\n}\n`, 'x.conf');
      return () => parseApps(tree.children.filter((c) => c.kind === 'section') as never, apps);
    };
    expect(parse('site = a\nring_size = 100')).toThrow(/x\.conf\[3\]: .*100 is not a power of two/);
    expect(parse('ring_size = 128')).toThrow(/x\.conf\[\d\]: .*site/);
    expect(parse('site = a\ntimeout = 2m')).toThrow(/x\.conf\[3\]: .*above the maximum/);
    expect(parse('site = a\nlcores = 20\nmax_sessions = 1000000')).toThrow(/x\.conf\[1\]: app pppoe_dpdk: lcores × max_sessions/);
    expect(parse('site = a\nsynthetic {\n\trate = 10\n}')().length).toBe(1);
  });
});
