/**
 * `app pppoe_dpdk` in a real daemon (bin/radiusd.js, the tsc build): the lcores' synthetic source submits
 * authentication requests through the rings into a site, and the results come back to the lcores.
 *
 * - files + pap: two app instances (right and wrong password) → exact accept and reject counts, read from the
 *   stats file (SIGUSR1) and the `health` app's JSON (ring monitor, pending dump).
 * - A reload (SIGHUP) changes the policy (the users file) while the source runs: results switch from accept to
 *   reject, the lcores are not restarted; a changed ring_size is logged as needing a restart.
 * - The site proxies with the `radius` module to FreeRADIUS 3.2 through `redundant { fr_a fr_b }`; fr_a is
 *   stopped and the requests keep being accepted by fr_b.
 * - `radiusd -C` rejects a bad combination with a located error.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfig, ROOT, sleep, startDaemon, writeTempFiles, type Daemon } from '../../test/daemon/harness';
import { freePorts, startFreeRadius, USERS, type FreeRadiusPeer } from '../../test/interop/freeradius';

interface AppHealth {
  status: string;
  detail: {
    total: Record<string, number>;
    controlPlane: Record<string, number>;
    lcores: { id: number; state: string; generation: number }[];
    rings: { id: number; request: { capacity: number; head: number; tail: number; used: number; stuck: boolean } }[];
    pending: { id: number; queued: unknown[]; atSite: unknown[]; answered: unknown[] }[];
    restartPending?: string[];
    site: string;
  };
}

/** Writes the stats file (SIGUSR1) and returns the apps' health from it. */
async function statsApps(d: Daemon, dir: string): Promise<Record<string, AppHealth>> {
  const file = path.join(dir, 'run', 'radiusd.stats.json');
  fs.rmSync(file, { force: true });
  d.signal('SIGUSR1');
  // The file itself, not the log line (a line from an earlier SIGUSR1 may still be on its way).
  for (const deadline = Date.now() + 10000; !fs.existsSync(file);) {
    if (Date.now() > deadline) throw new Error(`${file} not written after SIGUSR1`);
    await sleep(20);
  }
  const apps = JSON.parse(fs.readFileSync(file, 'utf8')).apps as Record<string, { kind: string; status: string; detail: AppHealth['detail'] }>;
  return Object.fromEntries(Object.entries(apps).map(([k, v]) => [k, { status: v.status, detail: v.detail }]));
}

/** Polls the stats file until `ok(apps)` holds (bounded). */
async function until(d: Daemon, dir: string, ok: (apps: Record<string, AppHealth>) => boolean, ms = 60000): Promise<Record<string, AppHealth>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const apps = await statsApps(d, dir);
    if (ok(apps)) return apps;
    if (Date.now() > deadline) throw new Error(`condition not reached; last: ${JSON.stringify(Object.fromEntries(Object.entries(apps).map(([k, v]) => [k, v.detail?.total])))}`);
    await sleep(300);
  }
}

function getJson(port: number): Promise<{ apps: { name: string; health: AppHealth }[] }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

const BASE = `confdir = .
run_dir = \${confdir}/run
log {
	destination = stdout
}
thread {
	workers = 1
}
`;

const filesPap = (healthPort: number, ringSize = 256) => `${BASE}
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
}
app pppoe_dpdk good {
	site = pppoe
	ring_size = ${ringSize}
	nas_identifier = "bng-test"
	synthetic {
		rate = 400
		count = 300
		user_prefix = good
		password = "right"
	}
}
app pppoe_dpdk bad {
	site = pppoe
	ring_size = 256
	synthetic {
		rate = 400
		count = 200
		user_prefix = bad
		password = "wrong"
	}
}
app pppoe_dpdk live {
	site = pppoe
	ring_size = 256
	synthetic {
		rate = 100
		user_prefix = live
		password = "right"
	}
}
app health {
	port = ${healthPort}
}
`;

describe('app pppoe_dpdk in the daemon: files + pap', () => {
  let d: Daemon;
  let dir: string;
  let healthPort: number;

  beforeAll(async () => {
    [healthPort] = await freePorts(1);
    dir = writeTempFiles('pppoe-app', { 'radiusd.conf': filesPap(healthPort), users: 'DEFAULT\tCleartext-Password := "right"\n' });
    d = await startDaemon(['-d', dir, '-f'], { readyMs: 60000 });
  });
  afterAll(async () => {
    if (d) expect(await d.stop()).toBe(0);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the synthetic source runs through the rings into the site: exact accept and reject counts', async () => {
    const apps = await until(d, dir, (a) => a.good?.detail.total.received === 300 && a.bad?.detail.total.received === 200);
    expect(apps.good.detail.total).toMatchObject({ submitted: 300, accept: 300, reject: 0, timeout: 0, error: 0, ring_full_drops: 0, pending: 0 });
    expect(apps.bad.detail.total).toMatchObject({ submitted: 200, accept: 0, reject: 200, timeout: 0, error: 0, ring_full_drops: 0, pending: 0 });
    expect(apps.good.detail.controlPlane).toMatchObject({ requests: 300, answered: 300, handler_errors: 0 });
    expect(apps.good.status).toBe('ok');
    // Ring monitor and pending dump through the health app's JSON.
    const h = await getJson(healthPort);
    const good = h.apps.find((a) => a.name === 'good')!.health;
    expect(good.detail.rings[0].request).toMatchObject({ capacity: 256, used: 0, stuck: false });
    expect(good.detail.rings[0].request.head).toBeGreaterThanOrEqual(301); // 300 requests + the probe
    expect(good.detail.pending[0]).toMatchObject({ id: 0, queued: [], atSite: [], answered: [] });
    expect(d.output()).not.toContain('wrong'); // the synthetic password is a secret

    // The command-line tools read the same reports.
    const tool = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'pppoe-dpdk.js'), ...args], { encoding: 'utf8', timeout: 30000 });
    const rings = tool('rings', '--url', `http://127.0.0.1:${healthPort}/health`, '--app', 'good');
    expect(rings.status, rings.stderr).toBe(0);
    expect(rings.stdout).toMatch(/app pppoe_dpdk good: ok/);
    expect(rings.stdout).toMatch(/^\s+0\s+ready\s+\d+\s+request\s+0\/256\s+0\.0%\s+\d+\s+\d+\s+0$/m);
    const pending = tool('pending', '--stats', path.join(dir, 'run', 'radiusd.stats.json'), '--pid', String(d.proc.pid));
    expect(pending.status, pending.stderr).toBe(0);
    expect(pending.stdout).toMatch(/app pppoe_dpdk bad: site pppoe, pending 0\n  lcore 0: 0 queued, 0 at the site, 0 answered/);
    const counters = tool('counters', '--url', `http://127.0.0.1:${healthPort}/health`, '--app', 'bad', '--json');
    expect(JSON.parse(counters.stdout)[0].detail.total.reject).toBe(200);
    expect(tool('rings').status).toBe(2);
  });

  it('a reload changes the policy without restarting the lcores; a changed ring_size needs a restart', async () => {
    const before = await until(d, dir, (a) => a.live?.detail.total.accept >= 20);
    expect(before.live.detail.total.reject).toBe(0);
    fs.writeFileSync(path.join(dir, 'users'), 'DEFAULT\tCleartext-Password := "changed"\n');
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), filesPap(healthPort, 512));
    const mark = d.output().length;
    d.signal('SIGHUP');
    await d.waitFor(/generation 2 is serving/, 30000, mark);
    await d.waitFor(/app pppoe_dpdk good.*ring_size 256 → 512.*needs a restart/, 10000, mark);
    const after = await until(d, dir, (a) => a.live?.detail.total.reject >= 20);
    const live = after.live.detail;
    // Same workers: generation 1 (a restart would make it 2), no restarts, still ready.
    expect(live.lcores).toEqual([expect.objectContaining({ id: 0, state: 'ready', generation: 1 })]);
    expect(live.controlPlane.restarts).toBe(0);
    expect(live.total.accept).toBeGreaterThanOrEqual(before.live.detail.total.accept);
    expect(live.total.timeout + live.total.error).toBe(0);
    expect(after.good.detail.restartPending).toEqual(['ring_size']);
    expect(after.good.detail.rings[0].request.capacity).toBe(256);
  });
});

describe('app pppoe_dpdk in the daemon: proxied to FreeRADIUS 3.2 with fail-over', () => {
  let frA: FreeRadiusPeer;
  let frB: FreeRadiusPeer;
  let d: Daemon;
  let dir: string;

  const home = (name: string, port: number) => `	radius ${name} {
		mode = proxy
		transport = udp
		type = Access-Request
		response_window = 1s
		zombie_period = 2s
		revive_interval = 30s
		udp {
			ipaddr = 127.0.0.1
			port = ${port}
			secret = testing123
		}
		pool {
			start = 1
			min = 1
			max = 2
			reconnect_delay = 200ms
		}
	}
`;

  beforeAll(async () => {
    [frA, frB] = await Promise.all([startFreeRadius(), startFreeRadius()]);
    dir = writeTempFiles('pppoe-proxy', {
      'radiusd.conf': `${BASE}
modules {
${home('fr_a', frA.authPort)}
${home('fr_b', frB.authPort)}
}
server pppoe {
	namespace = radius
	recv Access-Request {
		# FreeRADIUS knows bob; every synthetic user logs in as him.
		request.User-Name := "bob"
		redundant {
			fr_a
			fr_b
		}
	}
}
app pppoe_dpdk fr {
	site = pppoe
	timeout = 10s
	nas_ip_address = 192.0.2.1
	synthetic {
		rate = 40
		user_prefix = sub
		password = "${USERS.bob.password}"
	}
}
`,
    });
    d = await startDaemon(['-d', dir, '-f'], { readyMs: 60000 });
  });
  afterAll(async () => {
    if (d) expect(await d.stop()).toBe(0);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await frA?.stop();
    await frB?.stop();
  });

  it('accepts through fr_a, then through fr_b once fr_a is stopped', async () => {
    const first = await until(d, dir, (a) => a.fr?.detail.total.accept >= 20);
    expect(first.fr.detail.total.reject).toBe(0);
    expect(frA.output()).toMatch(/NAS-IP-Address = 192\.0\.2\.1/);
    const bBefore = (frB.output().match(/Received Access-Request/g) ?? []).length;
    await frA.stop();
    const acceptAtStop = (await statsApps(d, dir)).fr.detail.total.accept;
    const after = await until(d, dir, (a) => a.fr?.detail.total.accept >= acceptAtStop + 40);
    expect(after.fr.detail.total).toMatchObject({ reject: 0, timeout: 0, error: 0 });
    expect((frB.output().match(/Received Access-Request/g) ?? []).length).toBeGreaterThanOrEqual(bBefore + 40);
  });
});

describe('radiusd -C with app pppoe_dpdk', () => {
  it('a bad combination is a located error; a good section passes', () => {
    const conf = (body: string) => `${BASE}
server pppoe {
	namespace = radius
	recv Access-Request {
		ok
	}
}
app pppoe_dpdk {
	site = pppoe
${body}
}
`;
    const cases: [string, RegExp | null][] = [
      ['\tlcores = 2\n', null],
      ['\tring_size = 1000\n', /radiusd\.conf\[\d+\]: .*ring_size.*1000 is not a power of two/],
      ['\tlcores = 32\n\tmax_sessions = 1048576\n', /radiusd\.conf\[\d+\]: app pppoe_dpdk: lcores × max_sessions must be ≤ 16777216/],
      ['\tring_size = 16\n\tburst = 32\n', /radiusd\.conf\[\d+\]: app pppoe_dpdk: burst \(32\) must not exceed ring_size \(16\)/],
    ];
    for (const [body, err] of cases) {
      const dir = writeTempFiles('pppoe-check', { 'radiusd.conf': conf(body) });
      try {
        const r = checkConfig(dir);
        if (err === null) expect(r.code, r.stdout + r.stderr).toBe(0);
        else {
          expect(r.code).toBe(1);
          expect(r.stdout + r.stderr).toMatch(err);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
