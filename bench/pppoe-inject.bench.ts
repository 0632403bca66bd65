/**
 * pppoe_dpdk through `Server.inject` (`app pppoe_dpdk`, modules/pppoe_dpdk/app.ts):
 *
 *   npm run build && node dist/bench/pppoe-inject.bench.js [--count 200000] [--lcores 1] [--runs 3] [--rate R] [--open-loop] [--chap 0] [--json]
 *
 * An in-process `Server` (no sockets) with a `files` + `pap` site (one user entry matching every synthetic
 * user via `DEFAULT`) and `app pppoe_dpdk` whose lcores' synthetic sources submit `--count` requests per lcore:
 * lcore → request ring → control plane → record → pairs → `host.inject` → recv Access-Request { files pap } →
 * reply → result record → response ring → lcore. Closed loop by default (the source submits only while the
 * request ring has room: the maximum rate); `--open-loop --rate R` submits at R per lcore whatever happens and
 * counts refusals. Reported per run: answered per second (wall clock from the app's start to the last answer),
 * the main thread's CPU time per answered request (control plane + site, after the server's start-up),
 * refusals, the submit → result latency percentiles from the lcores' histograms, and the share of the run the lcore
 * slept in its idle back-off; then the median run.
 *
 * Numbers depend on the machine and its load; the load average is printed with them.
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryLogger } from '../core/log/memory';
import { AppRegistry, type AppDefinition } from '../core/server/app';
import { BUILTIN_APPS } from '../core/server/apps';
import { Server } from '../core/server/server';
import { pppoeDpdkApp } from '../modules/pppoe_dpdk/app';
import { BUILTIN_MODULES } from '../modules/index';
import { writePppoeSite } from './fixtures';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const COUNT = Number(arg('count', '200000'));
const LCORES = Number(arg('lcores', '1'));
const RUNS = Number(arg('runs', '3'));
const RATE = Number(arg('rate', '10000000'));
const CHAP = Number(arg('chap', '0'));
const OPEN_LOOP = process.argv.includes('--open-loop');
const JSON_OUT = process.argv.includes('--json');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** CPU seconds of the calling thread so far (Linux: /proc/thread-self/stat utime + stime, clock ticks of 10 ms). */
function threadCpuSeconds(): number {
  try {
    const f = fs.readFileSync('/proc/thread-self/stat', 'latin1');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return NaN;
  }
}

interface RunResult {
  answered: number;
  /** Main-thread (control plane + site) CPU per answered request, µs: the figure a noisy machine does not move much. */
  cpUsPerRequest: number;
  perSecond: number;
  refused: number;
  timeout: number;
  error: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** Share of the run the lcores spent asleep in their idle back-off (not polling). */
  lcoreIdle: number;
}

async function run(): Promise<RunResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-pppoe-bench-'));
  writePppoeSite(dir, `app pppoe_dpdk bench {
	site = pppoe
	lcores = ${LCORES}
	timeout = 30s
	synthetic {
		rate = ${RATE}
		count = ${COUNT}
		chap_percent = ${CHAP}
		password = "secret"
		open_loop = ${OPEN_LOOP ? 'yes' : 'no'}
	}
}
`);
  const server = new Server({
    file: path.join(dir, 'radiusd.conf'), log: new MemoryLogger(), triggers: false,
    apps: new AppRegistry([...BUILTIN_APPS, pppoeDpdkApp as unknown as AppDefinition]), modules: BUILTIN_MODULES,
  });
  type Detail = { total: Record<string, number>; latencyUs: Record<string, number> };
  const detail = (): Detail => server.health().apps[0]!.health.detail as unknown as Detail;
  const t0 = performance.now();
  await server.start();
  const total = COUNT * LCORES;
  let d = detail();
  // CPU from here on (start-up left out), over the requests answered from here on.
  const cpu0 = threadCpuSeconds();
  const answered0 = d.total.received;
  let lastAnswered = 0;
  let lastChange = performance.now();
  // Done when every submitted request was answered or refused (or nothing moved for 10 s).
  while (d.total.received + d.total.timeout + refusals(d.total) < total) {
    // Polled every 50 ms: the health report (rings, pending dump) is not free and runs on the measured thread.
    await new Promise((r) => setTimeout(r, 50));
    d = detail();
    if (d.total.received !== lastAnswered) {
      lastAnswered = d.total.received;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > 10_000) break;
  }
  const seconds = (lastChange - t0) / 1000;
  const cpu = threadCpuSeconds() - cpu0;
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  const l = d.latencyUs;
  return {
    answered: d.total.received, cpUsPerRequest: Math.round((cpu * 1e6) / Math.max(1, d.total.received - answered0) * 100) / 100, perSecond: d.total.received / seconds, refused: refusals(d.total),
    timeout: d.total.timeout, error: d.total.error, p50: l.p50, p99: l.p99, p999: l.p999, max: l.max,
    lcoreIdle: Math.round((d.total.idle_ms / (seconds * 1000 * LCORES)) * 1000) / 1000,
  };
}

function refusals(t: Record<string, number>): number {
  return t.ring_full_drops + t.session_cap_drops + t.mac_cap_drops + t.pending_full_drops + t.stalled_drops + t.no_session_drops;
}

async function main(): Promise<void> {
  const results: RunResult[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await run();
    results.push(r);
    if (!JSON_OUT) {
      console.log(`run ${i + 1}: ${r.answered} answered, ${Math.round(r.perSecond)}/s, control-plane CPU ${r.cpUsPerRequest} µs/request, refused ${r.refused}, timeout ${r.timeout}, error ${r.error}; `
        + `latency µs p50 ${r.p50} p99 ${r.p99} p99.9 ${r.p999} max ${r.max}; lcore asleep ${Math.round(r.lcoreIdle * 100)} %`);
    }
  }
  const summary = {
    lcores: LCORES, count: COUNT, chapPercent: CHAP, openLoop: OPEN_LOOP, loadavg: os.loadavg().map((x) => x.toFixed(2)),
    perSecond: Math.round(median(results.map((r) => r.perSecond))), cpUsPerRequest: median(results.map((r) => r.cpUsPerRequest)), p50Us: median(results.map((r) => r.p50)),
    p99Us: median(results.map((r) => r.p99)), p999Us: median(results.map((r) => r.p999)), runs: results,
  };
  if (JSON_OUT) console.log(JSON.stringify(summary, null, 2));
  else console.log(`median of ${RUNS}: ${summary.perSecond}/s, control-plane CPU ${summary.cpUsPerRequest} µs/request, p50 ${summary.p50Us} µs, p99 ${summary.p99Us} µs, p99.9 ${summary.p999Us} µs (lcores ${LCORES}, load ${summary.loadavg.join(' ')})`);
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
