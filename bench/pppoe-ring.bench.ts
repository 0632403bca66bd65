/**
 * pppoe_dpdk ring benchmark (`modules/pppoe_dpdk`):
 *
 *   npm run build && node dist/bench/pppoe-ring.bench.js [--count 200000] [--lcores 1,2] [--runs 3] [--rate R] [--open-loop] [--json]
 *
 * 1. **ring**: raw SPSC ring throughput between two worker threads (512-byte records, bursts of ≤ 32, record
 *    number checked, contents not).
 * 2. **round trip**: the whole machinery with a trivial handler: lcore workers' synthetic sources submit
 *    Auth Requests as fast as the rings take them (closed loop: only while the request ring has room; with
 *    `--open-loop` at `--rate` whatever happens, refusals counted) → control plane on the main thread → handler answers ACCEPT
 *    at once → response ring → lcore installs and closes the session. Reported: answered requests per second
 *    (wall clock, start of the source to the last answer), refusals, and the submit → result latency
 *    percentiles from the lcores' histograms.
 *
 * 3. **lcore allocation**: one lcore driven in this thread (synthetic PAP/CHAP source, every request answered
 *    ACCEPT by a raw-field loop standing in for the control plane), after a JIT warm-up, under V8's sampling heap
 *    profiler with collected objects included: bytes allocated per request by functions of `lcore.ts`,
 *    `records.ts`, `ring.ts`, `shared.ts` and `histogram.ts` (the data-plane hot path). Expected: 0.
 *
 * Numbers depend on the machine and its load; the script prints the load average with them.
 */
import * as inspector from 'node:inspector';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ControlPlane } from '../modules/pppoe_dpdk/control-plane';
import { Lcore } from '../modules/pppoe_dpdk/lcore';
import { resolveOptions } from '../modules/pppoe_dpdk/options';
import { Kind, RECORD_SIZE, REQ, Result, writeBareResponse, type AuthResult } from '../modules/pppoe_dpdk/records';
import { SpscRing } from '../modules/pppoe_dpdk/ring';
import { C, CP_BLOCK_BYTES, CP_F_BEAT, LcoreBlock } from '../modules/pppoe_dpdk/shared';
import type { PeerReport } from '../modules/pppoe_dpdk/ring-peer';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const COUNT = Number(arg('count', '200000'));
const LCORES = arg('lcores', '1,2').split(',').map(Number);
const RUNS = Number(arg('runs', '3'));
/** Synthetic submissions per second per lcore (default: as fast as the rings take them). */
const RATE = Number(arg('rate', '10000000'));
/** With --open-loop the sources submit at the rate whatever the ring holds (refusals counted); default: only while the ring has room. */
const OPEN_LOOP = process.argv.includes('--open-loop');
const JSON_OUT = process.argv.includes('--json');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function ringRun(count: number): Promise<number> {
  const ring = SpscRing.create(1024, RECORD_SIZE);
  const bell = new SharedArrayBuffer(8);
  const file = path.join(__dirname, '..', 'modules', 'pppoe_dpdk', 'ring-peer.js');
  const base = { ringPeer: true, ring: ring.sab, bell, count, seed: 1, maxBurst: 32, jitter: false, verify: false };
  const run = (role: string): Promise<PeerReport> => new Promise((resolve, reject) => {
    const w = new Worker(file, { workerData: { ...base, role } });
    w.once('message', resolve);
    w.once('error', reject);
  });
  const t0 = performance.now();
  await Promise.all([run('consumer'), run('producer')]);
  return count / ((performance.now() - t0) / 1000);
}

const ACCEPT: AuthResult = Object.freeze({ result: 'accept' });

async function roundTrip(lcores: number, count: number): Promise<{ rate: number; refused: number; p50: number; p99: number; p999: number }> {
  const perLcore = Math.ceil(count / lcores);
  const cp = new ControlPlane(() => Promise.resolve(ACCEPT), {
    lcores, ringSize: 1024, burst: 32, macPendingCap: 1 << 16, maxSessions: Math.floor(65534 / lcores),
    synthetic: { rate: RATE, count: perLcore, macs: 1 << 20, openLoop: OPEN_LOOP },
  });
  await cp.start();
  // The sources start when each lcore is READY; time from there to the last answer or refusal.
  const start = performance.now();
  for (;;) {
    const s = cp.snapshot().total;
    const refused = s.ring_full_drops + s.pending_full_drops + s.no_session_drops + s.mac_cap_drops + s.session_cap_drops + s.stalled_drops;
    if (s.received + s.timeout + refused >= perLcore * lcores) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const secs = (performance.now() - start) / 1000;
  const snap = cp.snapshot();
  await cp.stop();
  const t = snap.total;
  const refused = t.ring_full_drops + t.pending_full_drops + t.no_session_drops + t.mac_cap_drops + t.session_cap_drops + t.stalled_drops;
  return { rate: t.received / secs, refused, p50: snap.latency.p50, p99: snap.latency.p99, p999: snap.latency.p999 };
}

/** Bytes allocated per request by the data-plane files, measured with the sampling heap profiler. */
async function lcoreAllocation(): Promise<{ requests: number; bytesPerRequest: number; sites: string[] }> {
  const o = resolveOptions({ ringSize: 1024, burst: 32, synthetic: { rate: 1e9, chapRatio: 0.5, macs: 1000 } });
  const block = LcoreBlock.create();
  const cpSab = new SharedArrayBuffer(CP_BLOCK_BYTES);
  const cp = { i32: new Int32Array(cpSab), f64: new Float64Array(cpSab) };
  const req = SpscRing.create(1024, RECORD_SIZE);
  const resp = SpscRing.create(1024, RECORD_SIZE);
  const lc = new Lcore(0, o, block, cp, SpscRing.attach(req.sab), SpscRing.attach(resp.sab));
  let clock = 1e6;
  cp.f64[CP_F_BEAT] = clock;
  lc.start(clock);
  const answer = (t: number): void => {
    const m = resp.reserve(req.peek(1024));
    for (let i = 0; i < m; i++) {
      const off = req.readOffset(i);
      writeBareResponse(resp.dv, resp.u8, resp.writeOffset(i), req.dv.getFloat64(off + REQ.REQUEST_ID, true),
        req.dv.getUint32(off + REQ.SESSION_ID, true), req.u8[off + REQ.KIND], Result.ACCEPT, t);
    }
    req.release(m);
    resp.commit(m);
  };
  const run = (iterations: number): void => {
    let t = clock;
    for (let i = 0; i < iterations; i++) {
      t += 0.01;
      cp.f64[CP_F_BEAT] = t;
      lc.poll(t);
      answer(t);
    }
    clock = t;
  };
  run(200_000); // JIT warm-up (interpreted code boxes doubles)
  const before = block.readStats().counters[C.received];
  const session = new inspector.Session();
  session.connect();
  const post = (method: string, params?: object): Promise<any> => new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res)));
  });
  await post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
  run(100_000);
  const { profile } = await post('HeapProfiler.stopSampling');
  session.disconnect();
  lc.publish(clock);
  const requests = block.readStats().counters[C.received] - before;
  const hot = /pppoe_dpdk\/(lcore|records|ring|shared|histogram)\.js$/;
  let bytes = 0;
  const sites = new Map<string, number>();
  const walk = (n: any): void => {
    if (hot.test(n.callFrame.url) && n.selfSize > 0) {
      bytes += n.selfSize;
      const k = `${n.callFrame.functionName} ${path.basename(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
      sites.set(k, (sites.get(k) ?? 0) + n.selfSize);
    }
    n.children.forEach(walk);
  };
  walk(profile.head);
  return { requests, bytesPerRequest: bytes / Math.max(1, requests), sites: [...sites].map(([k, v]) => `${k}: ${v} B`) };
}

async function main(): Promise<void> {
  const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  const out: Record<string, unknown> = { node: process.version, cpus: os.cpus().length, load, count: COUNT };
  const ring: number[] = [];
  for (let i = 0; i < RUNS; i++) ring.push(await ringRun(COUNT * 5));
  out.ring_records_per_s = Math.round(median(ring));
  for (const n of LCORES) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await roundTrip(n, COUNT));
    out[`round_trip_${n}_lcores`] = {
      answered_per_s: Math.round(median(runs.map((r) => r.rate))),
      refused_median: median(runs.map((r) => r.refused)),
      latency_us: { p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)), p999: median(runs.map((r) => r.p999)) },
    };
  }
  out.lcore_allocation = await lcoreAllocation();
  out.load_after = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  if (JSON_OUT) {
    console.log(JSON.stringify(out));
    return;
  }
  console.log(`pppoe_dpdk rings: node ${process.version}, ${os.cpus().length} CPUs, load ${load} → ${out.load_after}; median of ${RUNS} runs`);
  console.log(`  ring (512-byte records, thread → thread):  ${out.ring_records_per_s} records/s`);
  for (const n of LCORES) {
    const r = out[`round_trip_${n}_lcores`] as { answered_per_s: number; refused_median: number; latency_us: Record<string, number> };
    console.log(`  round trip, ${n} lcore(s), trivial handler:  ${r.answered_per_s} answered/s, ${r.refused_median} refused (ring full: load shed), latency p50 ${r.latency_us.p50} µs, p99 ${r.latency_us.p99} µs, p99.9 ${r.latency_us.p999} µs`);
  }
  const a = out.lcore_allocation as { requests: number; bytesPerRequest: number; sites: string[] };
  console.log(`  lcore hot path, after warm-up:  ${a.bytesPerRequest.toFixed(2)} bytes allocated per request over ${a.requests} requests${a.sites.length ? ` (${a.sites.join(', ')})` : ''}`);
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
