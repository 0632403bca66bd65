/**
 * Full PPPoE session setups on a veth against the daemon (issue 17 §6):
 *
 *   npm run build && sudo node dist/bench/pppoe-wire.bench.js [--count 20000] [--rate 2000] [--outstanding 2000]
 *        [--hold] [--rounds 1] [--release-rate 50000] [--lcores 1] [--warmup 5] [--v8-flags '...'] [--json]
 *
 * Root (namespace, veth, AF_PACKET). The bench makes a namespace and a veth pair, starts an in-process `Server`
 * with a `files` + `pap` site (local policy: one DEFAULT entry) and `app pppoe_dpdk` on its end, and runs the
 * synthetic clients (`pppoe-clients.ts`) in a separate Node process inside the namespace, with our AF_PACKET addon
 * on the other end. Reported per round: setups per second (first PADI → last setup), p50/p99/p99.9/max of the
 * setup time over the whole run and, separately, over the setups started after `--warmup` seconds (0 = not
 * reported; both are printed, so a quoted figure says which), the p99 of each second of the run, failures, the concentrator process's RSS (all its threads) before and with the sessions held, the
 * generator's RSS, CPU seconds per thread (control plane, lcores, the rest, the generator) and the load average.
 * With `--hold` the sessions stay up; with `--rounds M` as well, each round ends with every client sending PADT
 * (`--release-rate` per second) and the RSS after the release is reported (the soak). `--v8-flags` are set with
 * `v8.setFlagsFromString` in the concentrator process only (before its lcores start; the generator keeps the
 * defaults), to measure start-up flags such as `--no-lazy-feedback-allocation`. A progress bar goes to stderr.
 */
import 'reflect-metadata';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';

import { generator, type GenParams, type GenResult } from './pppoe-clients';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

/** This process's resident set (all its threads: the control plane and the lcores), MB. */
function rssMB(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** CPU seconds per thread of this process ('main' = the control plane; the others by name/tid). */
function threadCpu(): Record<string, number> {
  const out: Record<string, number> = {};
  const tick = 100; // USER_HZ
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const st = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      const secs = (Number(f[11]) + Number(f[12])) / tick;
      out[tid === String(process.pid) ? 'main' : `${name}/${tid}`] = secs;
    } catch { /* thread gone */ }
  }
  return out;
}

/** The generator process (in the client namespace): runs, reports, then waits for `release` or `exit`. */
if (process.argv[2] === '--gen') {
  const params = JSON.parse(process.argv[3]!) as GenParams;
  const { openPacket } = require('../modules/pppoe_dpdk/native/index') as typeof import('../modules/pppoe_dpdk/native/index');
  const port = openPacket(params.ifname, { rcvbuf: 8 << 20, sndbuf: 8 << 20 });
  const gen = generator(params, port, (m) => process.send!({ progress: m }));
  process.send!({ result: gen.result });
  process.on('message', (m: { release?: number }) => {
    if (m.release) {
      const n = gen.release(m.release);
      process.send!({ released: n }, () => process.exit(0));
    } else process.exit(0);
  });
}

// ---------------------------------------------------------------- the bench (main thread)

async function main(): Promise<void> {
  const COUNT = Number(arg('count', '20000'));
  const RATE = Number(arg('rate', '2000'));
  const OUTSTANDING = Number(arg('outstanding', '2000'));
  const LCORES = Number(arg('lcores', '1'));
  const HOLD = process.argv.includes('--hold');
  const JSON_OUT = process.argv.includes('--json');
  const { MemoryLogger } = require('../core/log/memory') as typeof import('../core/log/memory');
  const { AppRegistry } = require('../core/server/app') as typeof import('../core/server/app');
  const { BUILTIN_APPS } = require('../core/server/apps') as typeof import('../core/server/apps');
  const { Server } = require('../core/server/server') as typeof import('../core/server/server');
  const { pppoeDpdkApp } = require('../modules/pppoe_dpdk/app') as typeof import('../modules/pppoe_dpdk/app');
  const { BUILTIN_MODULES } = require('../modules/index') as typeof import('../modules/index');
  const ROUNDS = Number(arg('rounds', '1'));
  const WARMUP = Number(arg('warmup', '5'));
  const V8_FLAGS = arg('v8-flags', '');
  if (V8_FLAGS) v8.setFlagsFromString(V8_FLAGS);
  const RELEASE_RATE = Number(arg('release-rate', '50000'));
  const tag = `${process.pid % 100000}`;
  const acIf = `tbga${tag}`;
  const cliIf = `tbgc${tag}`;
  const ns = `tbgn${tag}`;
  const sh = (...a: string[]) => execFileSync('ip', a, { stdio: 'ignore' });
  sh('netns', 'add', ns);
  sh('link', 'add', acIf, 'type', 'veth', 'peer', 'name', cliIf);
  sh('link', 'set', cliIf, 'netns', ns);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-pppoe-wire-bench-'));
  let server: InstanceType<typeof Server> | undefined;
  try {
    fs.writeFileSync(`/proc/sys/net/ipv6/conf/${acIf}/disable_ipv6`, '1');
    sh('link', 'set', acIf, 'up');
    sh('-n', ns, 'link', 'set', cliIf, 'up');
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1'], { stdio: 'ignore' });
    const maxSessions = Math.ceil(Math.max(1024, HOLD ? COUNT * 1.05 + 64 : OUTSTANDING * 2) / LCORES);
    fs.writeFileSync(path.join(dir, 'users'), 'DEFAULT\tCleartext-Password := "secret"\n');
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
	recv Accounting-Request {
		ok
	}
}
app pppoe_dpdk bench {
	site = pppoe
	lcores = ${LCORES}
	max_sessions = ${maxSessions}
	ring_size = 4096
	timeout = 10s
	wire {
		interface = ${acIf}
		cookie_secret = "bench-cookie-secret-0123456789"
		local_address = 10.0.0.1
		pool_base = 100.64.0.0
		auth = pap
		echo_interval = 0
		discovery_burst = 100
	}
}
`);
    server = new Server({
      file: path.join(dir, 'radiusd.conf'), log: new MemoryLogger(), triggers: false,
      apps: new AppRegistry([...BUILTIN_APPS, pppoeDpdkApp as never]), modules: BUILTIN_MODULES,
    });
    await server.start();
    const rssBefore = rssMB();
    const cpuBefore = threadCpu();
    const rounds: Array<Record<string, unknown>> = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const params: GenParams = { ifname: cliIf, count: COUNT, rate: RATE, outstanding: OUTSTANDING, hold: HOLD, warmupS: WARMUP, deadlineMs: 60_000 + (COUNT / Math.min(RATE, 500)) * 1000 }; // no faster than 500/s assumed
      const gen = spawn('ip', ['netns', 'exec', ns, process.execPath, ...process.execArgv, __filename, '--gen', JSON.stringify(params)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const exited = new Promise<void>((r) => gen.on('exit', () => r()));
      const result = await new Promise<GenResult>((resolve, reject) => {
        gen.on('message', (m: { progress?: { started: number; done: number; failed: number }; result?: GenResult }) => {
          if (m.progress && !JSON_OUT) {
            const { done, failed } = m.progress;
            const f = (done + failed) / COUNT;
            process.stderr.write(`\r${ROUNDS > 1 ? `round ${round}/${ROUNDS} ` : ''}[${'#'.repeat(Math.round(f * 30)).padEnd(30)}] ${(f * 100).toFixed(0).padStart(3)}% up ${done} failed ${failed}  `);
          }
          if (m.result) resolve(m.result);
        });
        gen.on('error', reject);
        gen.on('exit', (code) => reject(new Error(`generator exited with ${code}`)));
      });
      if (!JSON_OUT) process.stderr.write('\n');
      await new Promise((r) => setTimeout(r, 500));
      const cpuAfter = threadCpu();
      const health = server.health().apps.find((a) => a.name === 'bench')?.health.detail as { total: Record<string, number> } | undefined;
      const held = { rssMB: rssMB(), sessionsActive: health?.total.sessions_active };
      let released: { rssMB: number; sessionsActive: number | undefined } | undefined;
      if (HOLD && ROUNDS > 1) {
        gen.send({ release: RELEASE_RATE });
        await exited;
        for (let k = 0; k < 100; k++) { // until the concentrator has closed them all
          await new Promise((r) => setTimeout(r, 200));
          const a = (server.health().apps.find((x) => x.name === 'bench')?.health.detail as { total: Record<string, number> } | undefined)?.total.sessions_active;
          if (a === 0) break;
        }
        await new Promise((r) => setTimeout(r, 500));
        released = { rssMB: rssMB(), sessionsActive: (server.health().apps.find((x) => x.name === 'bench')?.health.detail as { total: Record<string, number> }).total.sessions_active };
      } else {
        gen.send({ exit: true });
        await exited;
      }
      const secs = (result.lastMs - result.firstMs) / 1000;
      // the lcores are the busiest threads after main (worker threads are all named "node"); the rest: V8 and libuv
      const delta = Object.entries(cpuAfter).map(([k, v]) => [k, v - (cpuBefore[k] ?? 0)] as const);
      const others = delta.filter(([k]) => k !== 'main').sort((a, b) => b[1] - a[1]);
      const r1 = (x: number): number => Math.round(x * 100) / 100;
      const cpu: Record<string, number> = { main: r1(delta.find(([k]) => k === 'main')?.[1] ?? 0) };
      others.slice(0, LCORES).forEach(([, v], i) => { cpu[`lcore${i}`] = r1(v); });
      cpu.other = r1(others.slice(LCORES).reduce((a, [, v]) => a + v, 0));
      const summary = {
        round, count: COUNT, rate: RATE, outstanding: OUTSTANDING, lcores: LCORES, hold: HOLD, up: result.done, failed: result.failed, retransmits: result.retransmits,
        setupsPerSecond: Math.round(result.done / secs), setupMs: result.setupMs, steadyMs: result.steadyMs, warmupS: WARMUP, perSecond: result.perSecond, held, released,
        cpuSeconds: { ...cpu, generator: Math.round(result.cpuMs / 100) / 10 }, generatorRssMB: result.rssMB, seconds: Math.round(secs * 10) / 10,
        concentrator: Object.fromEntries(['wire_padi', 'wire_pads', 'wire_ipcp_up', 'wire_discovery_limited', 'wire_auth_failed', 'ring_full_drops', 'pending_full_drops',
          'mac_cap_drops', 'stalled_drops', 'timeout', 'wire_tx_drops', 'wire_rx_errors', 'wire_ac_system_errors'].map((k) => [k, health?.total[k]])),
        loadavg: os.loadavg().map((x) => x.toFixed(2)),
      };
      Object.assign(cpuBefore, cpuAfter);
      rounds.push(summary);
      if (!JSON_OUT) {
        console.log(`${ROUNDS > 1 ? `round ${round}: ` : ''}${summary.up} up, ${summary.failed} failed, ${summary.retransmits} retransmissions, ${summary.setupsPerSecond} setups/s; setup ms p50 ${summary.setupMs.p50} p99 ${summary.setupMs.p99} `
          + `p99.9 ${summary.setupMs.p999} max ${summary.setupMs.max}; sessions held ${held.sessionsActive}; concentrator RSS ${rssBefore} → ${held.rssMB} MB`
          + `${released ? ` → ${released.rssMB} MB after releasing (${released.sessionsActive} left)` : ''}; generator RSS ${result.rssMB} MB `
          + `(rate ${RATE}/s, outstanding ${OUTSTANDING}, lcores ${LCORES}, load ${summary.loadavg.join(' ')})`);
        const st = summary.steadyMs;
        if (st) console.log(`  after ${WARMUP} s warm-up (setups started later: ${st.n}): p50 ${st.p50} p99 ${st.p99} p99.9 ${st.p999} max ${st.max}`);
        console.log(`  p99 per second of the run (setups started in it): ${summary.perSecond.map((x) => `${x.p99}(${x.n})`).join(' ')}`);
        const us = (s: number): number => Math.round((s * 1e6) / Math.max(1, summary.up));
        console.log(`  CPU µs per setup: ${Object.entries(summary.cpuSeconds).map(([k, v]) => `${k} ${us(v)}`).join(', ')}`);
        console.log(`  CPU s: ${Object.entries(summary.cpuSeconds).map(([k, v]) => `${k} ${v}`).join(', ')}`);
        console.log(`  concentrator: ${Object.entries(summary.concentrator).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      }
    }
    if (JSON_OUT) console.log(JSON.stringify({ rssBeforeMB: rssBefore, rounds }, null, 2));
  } finally {
    if (server) await server.stop();
    try { sh('link', 'del', acIf); } catch { /* gone */ }
    try { sh('netns', 'del', ns); } catch { /* not made */ }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] !== '--gen') {
  main().then(() => process.exit(0), (e) => {
    console.error(e);
    process.exit(1);
  });
}
