/**
 * Proxy benchmark: proxied Access-Request throughput and latency through OUR proxy
 * (radiusd + the `radius` module in proxy mode) to a FreeRADIUS 3.2 home server,
 * against FreeRADIUS 3.2 proxying to the same home server, in the same run.
 *
 *   npm run build
 *   node dist/bench/proxy.bench.js                      # defaults below
 *   node dist/bench/proxy.bench.js --windows 16,64 --duration 10 --repeats 3 --workers 1
 *
 * Load comes from radload (`../shared/bench/loadgen`, built into /tmp/radload when
 * missing): closed loop, `window` requests in flight, every reply validated (Response
 * Authenticator, Message-Authenticator, the five reply attributes of the home server's
 * users). Both proxies stay up; only one is driven at a time, alternating the order per
 * repetition. The table gives medians over the repetitions; CPU in % of one core.
 *
 * Options: --duration S (10) --warmup S (2) --repeats N (3) --windows LIST (16,64,256)
 * --workers N (our cluster workers, 1) --connections N (our pool.max per worker, 4)
 * --fr-threads N (FreeRADIUS proxy threads, 4) --home-threads N (4) --acct (also acct-start at
 * window 64) --only ours|freeradius --json FILE --pause S (1) --keep (leave temp dirs)
 * --other-max PCT (25: a run is repeated when processes other than radload, the proxy and the
 * home server used more than this % of one core; before each run the machine must be below it)
 * --retries N (4) --quiet-wait S (120: how long to wait for an idle machine before running anyway)
 *
 * Environment: PROXY_BENCH_NODE_ARGS (node flags for our proxy and its workers, e.g. `--cpu-prof
 * --cpu-prof-dir=/tmp/p` or `--trace-gc-nvp`), PROXY_BENCH_LOG (a file that gets our proxy's output).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePorts } from '../test/interop/freeradius';
import { scratch, SHARED, startFreeRadiusProxy, startHome, startOurProxy, type Peer } from './proxy/peers';

interface Args {
  duration: number; warmup: number; repeats: number; windows: number[]; workers: number; connections: number;
  frThreads: number; homeThreads: number; acct: boolean; only?: string; json?: string; pause: number; keep: boolean;
  otherMax: number; retries: number; quietWait: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    duration: 10, warmup: 2, repeats: 3, windows: [16, 64, 256], workers: 1, connections: 4,
    frThreads: 4, homeThreads: 4, acct: false, pause: 1, keep: false, otherMax: 25, retries: 4, quietWait: 120,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => argv[++i];
    switch (k) {
      case '--duration': a.duration = Number(v()); break;
      case '--warmup': a.warmup = Number(v()); break;
      case '--repeats': a.repeats = Number(v()); break;
      case '--windows': a.windows = v().split(',').map(Number); break;
      case '--workers': a.workers = Number(v()); break;
      case '--connections': a.connections = Number(v()); break;
      case '--fr-threads': a.frThreads = Number(v()); break;
      case '--home-threads': a.homeThreads = Number(v()); break;
      case '--acct': a.acct = true; break;
      case '--only': a.only = v(); break;
      case '--json': a.json = v(); break;
      case '--pause': a.pause = Number(v()); break;
      case '--keep': a.keep = true; break;
      case '--other-max': a.otherMax = Number(v()); break;
      case '--retries': a.retries = Number(v()); break;
      case '--quiet-wait': a.quietWait = Number(v()); break;
      default: throw new Error(`unknown option ${k}`);
    }
  }
  return a;
}

const RADLOAD = process.env.RADLOAD ?? '/tmp/radload/radload';

function ensureRadload(): void {
  if (fs.existsSync(RADLOAD)) return;
  const r = spawnSync('sh', [path.join(SHARED, 'bench', 'loadgen', 'build.sh'), path.dirname(RADLOAD)], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('radload build failed');
}

/** utime+stime of a process (all threads) in clock ticks, 0 when gone. */
function cpuTicks(pid: number): number {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch { return 0; }
}
const TICKS = 100;

/** One radload RESULT line as numbers (and the label). */
type Result = Record<string, number> & { home_cpu: number; disturbance: number };

function runLoad(server: Peer, home: Peer, type: string, port: number, window: number, a: Args, label: string): Result {
  const homeBefore = home.pids().reduce((s, p) => s + cpuTicks(p), 0);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(RADLOAD, [
    '-q', '-p', String(port), '-s', 'testing123', '-u', '1000', '-t', type, '-w', String(window),
    '-d', String(a.duration), '-W', String(a.warmup), '-l', label, '-P', server.pids().join(','),
  ], { encoding: 'utf8', timeout: (a.duration + a.warmup + 60) * 1000 });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const homeAfter = home.pids().reduce((s, p) => s + cpuTicks(p), 0);
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`radload printed no RESULT (status ${r.status}): ${r.stderr}`);
  const out: Record<string, number> = {};
  for (const kv of line.slice(7).split(' ')) {
    const [k, v] = kv.split('=');
    const n = Number(v);
    if (!Number.isNaN(n)) out[k] = n;
  }
  // Home CPU over the whole radload run (warm-up included), % of one core.
  (out as Result).home_cpu = ((homeAfter - homeBefore) / TICKS / secs) * 100;
  process.stderr.write(`${line} home_cpu=${(out as Result).home_cpu.toFixed(1)}\n`);
  return out as Result;
}

/** Machine-wide busy CPU over `ms`, in % of one core (200 = both cores of a 2-core machine). */
async function machineBusy(ms = 1000): Promise<number> {
  const read = (): number[] => fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const a = read();
  await sleep(ms);
  const b = read();
  const d = b.map((x, i) => x - a[i]);
  const tot = d.reduce((x, y) => x + y, 0);
  const idle = d[3] + d[4];
  return tot > 0 ? ((tot - idle) / tot) * 100 * os.cpus().length : 0;
}

/** Waits (up to `maxMs`) until the machine is idle: busy < `limit` % of one core. */
async function waitQuiet(limit: number, maxMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const busy = await machineBusy();
    if (busy <= limit) return busy;
    if (Date.now() - t0 > maxMs) {
      process.stderr.write(`warning: machine still ${busy.toFixed(0)}% busy after ${maxMs / 1000}s, running anyway\n`);
      return busy;
    }
    await sleep(2000);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  ensureRadload();
  const [homePort, frPort, ourPort] = await pickPortPairs(3);
  const base = scratch('proxybench');
  const peers: Peer[] = [];
  const cleanup = async (): Promise<void> => {
    for (const p of peers.reverse()) await p.stop().catch(() => undefined);
    if (!a.keep) fs.rmSync(base, { recursive: true, force: true });
  };
  process.on('SIGINT', () => { void cleanup().then(() => process.exit(130)); });
  try {
    const home = await startHome({ dir: path.join(base, 'home'), authPort: homePort, threads: a.homeThreads });
    peers.push(home);
    const servers: Peer[] = [];
    if (a.only !== 'ours') {
      const fr = await startFreeRadiusProxy({ dir: path.join(base, 'frproxy'), authPort: frPort, homeAuthPort: homePort, threads: a.frThreads });
      peers.push(fr);
      servers.push(fr);
    }
    if (a.only !== 'freeradius') {
      const ours = await startOurProxy({ dir: path.join(base, 'ours'), authPort: ourPort, homeAuthPort: homePort, workers: a.workers, connections: a.connections });
      peers.push(ours);
      servers.push(ours);
    }
    const cases: { type: string; window: number }[] = a.windows.map((w) => ({ type: 'auth', window: w }));
    if (a.acct) cases.push({ type: 'acct-start', window: 64 });
    const results = new Map<string, Result[]>();
    const discarded: string[] = [];
    for (let rep = 1; rep <= a.repeats; rep++) {
      for (const c of cases) {
        const order = rep % 2 === 1 ? servers : [...servers].reverse();
        for (const s of order) {
          const port = c.type === 'auth' ? s.authPort : s.acctPort;
          let res!: Result;
          for (let attempt = 0; attempt <= a.retries; attempt++) {
            await waitQuiet(a.otherMax, a.quietWait * 1000);
            res = runLoad(s, home, c.type, port, c.window, a, `${s.name}#${rep}`);
            // cpu_other counts everything but radload and the proxy: the home server is part of the
            // experiment, anything beyond it is disturbance.
            const disturbance = res.cpu_other - res.home_cpu;
            if (disturbance <= a.otherMax || attempt === a.retries) { res.disturbance = disturbance; break; }
            discarded.push(`${s.name} ${c.type} w${c.window}: other load ${disturbance.toFixed(0)}% of a core`);
            process.stderr.write(`discarded (other load ${disturbance.toFixed(0)}% of a core), retrying\n`);
            await sleep(2000);
          }
          const key = `${s.name}|${c.type}|${c.window}`;
          results.set(key, [...(results.get(key) ?? []), res]);
          await sleep(a.pause * 1000);
        }
      }
    }
    const rows: Record<string, unknown>[] = [];
    const lines: string[] = [
      '| server | type | window | runs | req/s | p50 ms | p99 ms | p99.9 ms | proxy CPU% | home CPU% | loadgen CPU% | disturbance CPU% | timeouts | errors | missing attrs |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ];
    for (const c of cases) {
      for (const s of servers) {
        const rs = results.get(`${s.name}|${c.type}|${c.window}`) ?? [];
        const m = (k: string): number => median(rs.map((r) => r[k]));
        const sum = (k: string): number => rs.reduce((x, r) => x + (r[k] ?? 0), 0);
        const row = {
          server: s.name, type: c.type, window: c.window, runs: rs.length, rps: m('rps'), p50_ms: m('p50_us') / 1000,
          p99_ms: m('p99_us') / 1000, p999_ms: m('p999_us') / 1000, cpu_proxy: m('cpu_server'), cpu_home: m('home_cpu'),
          cpu_loadgen: m('cpu_loadgen'), cpu_other: m('disturbance'), timeouts: sum('timeouts'), errors: sum('errors'),
          missing_attrs: sum('missing_attrs'), raw: rs,
        };
        rows.push(row);
        lines.push(`| ${row.server} | ${row.type} | ${row.window} | ${row.runs} | ${Math.round(row.rps).toLocaleString('en-US')} | ${row.p50_ms.toFixed(3)} | ${row.p99_ms.toFixed(3)} | ${row.p999_ms.toFixed(3)} | ${row.cpu_proxy.toFixed(0)} | ${row.cpu_home.toFixed(0)} | ${row.cpu_loadgen.toFixed(0)} | ${row.cpu_other.toFixed(0)} | ${row.timeouts} | ${row.errors} | ${row.missing_attrs} |`);
      }
    }
    if (servers.length === 2) {
      lines.push('', '| type | window | req/s ours / FreeRADIUS (median of per-run ratios) | p99 ours / FreeRADIUS | goal ≥ 1.2× and p99 ≤ |', '|---|---:|---:|---:|---|');
      for (const c of cases) {
        const fr = results.get(`freeradius-proxy|${c.type}|${c.window}`) ?? [];
        const ours = results.get(`tsradius-proxy|${c.type}|${c.window}`) ?? [];
        const ratios = fr.map((f, i) => (ours[i]?.rps ?? NaN) / f.rps);
        const p99 = fr.map((f, i) => (ours[i]?.p99_us ?? NaN) / f.p99_us);
        const r = median(ratios);
        const q = median(p99);
        lines.push(`| ${c.type} | ${c.window} | ${r.toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) | ${q.toFixed(2)} | ${r >= 1.2 && q <= 1 ? 'met' : 'not met'} |`);
      }
    }
    const header = `Machine: ${os.cpus().length} vCPU ${os.cpus()[0]?.model ?? ''}, ${os.type()} ${os.release()}, Node ${process.version}, ` +
      `load average before: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n` +
      `Options: duration ${a.duration}s, warm-up ${a.warmup}s, ${a.repeats} repetitions, our workers ${a.workers}, our pool.max ${a.connections}, ` +
      `FreeRADIUS proxy threads ${a.frThreads}, home threads ${a.homeThreads}\n`;
    if (discarded.length) lines.push('', `Discarded runs (disturbed): ${discarded.length}: ${discarded.join('; ')}`);
    process.stdout.write(`${header}\n${lines.join('\n')}\n`);
    if (a.json) fs.writeFileSync(a.json, JSON.stringify({ args: a, rows }, null, 2));
  } finally {
    await cleanup();
  }
}

/** `n` base ports p such that p and p+1 are free (UDP and TCP for p). */
async function pickPortPairs(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let tries = 0; out.length < n && tries < 200; tries++) {
    const [p] = await freePorts(1);
    if (p < 65000 && !out.some((o) => Math.abs(o - p) < 2) && (await freePortsContain(p + 1))) out.push(p);
  }
  if (out.length < n) throw new Error('no free port pairs');
  return out;
}

async function freePortsContain(port: number): Promise<boolean> {
  const dgram = await import('node:dgram');
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
