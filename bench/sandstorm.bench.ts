/**
 * Sandstorm against radload (`../shared/bench/loadgen`) on the same server at
 * the same window: the two must agree on throughput and latency within a few
 * percent, or one of them is measuring itself rather than the server.
 *
 *   npm run build && npm run build:native        # the addon is optional; the bench says which path ran
 *   node dist/bench/sandstorm.bench.js --target freeradius:18120:$FR_PID --target tsradius:18212:$PIDS
 *
 * Options: --target LABEL:PORT[:PID,PID…] (repeatable; the server must have the peer benchmark's users
 * user0001…/pass0001… and five reply attributes, e.g. ../shared/bench/peer-freeradius.sh or
 * bench/daemon/gen-config.sh), --window 64, --duration 5, --warmup 1, --repeats 3, --users 1000,
 * --type auth|acct-start (radload's -t; sandstorm: pap / acct with no interims), --tolerance 5 (%),
 * --radload /tmp/radload/radload, --json FILE.
 *
 * Per repetition the two generators alternate (radload first on odd repetitions), each for warm-up +
 * duration, one at a time. The table gives medians; the verdict compares the medians of the per-run
 * req/s ratios (sandstorm / radload) with the tolerance. Exit status 1 when they disagree. Not a vitest
 * test: it prints numbers and never runs in `npm test`.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

interface Target { label: string; port: number; pids: string }
interface Sample { gen: 'radload' | 'sandstorm'; rps: number; p50: number; p99: number; p999: number; cpu: number; errors: number; backend?: string }

const ROOT = path.resolve(__dirname, '..', '..');
const REPLY = 'Framed-IP-Address,Session-Timeout,Idle-Timeout,Actual-Data-Rate-Upstream,Actual-Data-Rate-Downstream';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b) => (out += b));
    p.stderr.on('data', (b) => (err += b));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function radload(bin: string, t: Target, o: Opts): Promise<Sample> {
  const args = ['-H', '127.0.0.1', '-p', String(t.port), '-t', o.type, '-w', String(o.window), '-d', String(o.duration), '-W', String(o.warmup), '-u', String(o.users), '-q'];
  if (t.pids) args.push('-P', t.pids);
  const r = await run(bin, args);
  const line = r.out.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`radload gave no RESULT line: ${r.err}`);
  const kv = Object.fromEntries(line.slice(7).split(' ').map((f) => f.split('=')));
  return {
    gen: 'radload', rps: Number(kv.rps), p50: Number(kv.p50_us), p99: Number(kv.p99_us), p999: Number(kv.p999_us),
    cpu: Number(kv.cpu_loadgen), errors: Number(kv.errors),
  };
}

async function sandstorm(t: Target, o: Opts): Promise<Sample> {
  const mix = o.type === 'auth' ? ['-t', 'pap', '--expect-attrs', REPLY] : ['-t', 'acct', '--interims', '0'];
  const args = [path.join(ROOT, 'bin', 'sandstorm.js'), `127.0.0.1:${t.port},${t.port}`, ...mix, '-w', String(o.window), '-d', String(o.duration),
    '-W', String(o.warmup), '-u', String(o.users), '-q', '--json=-'];
  if (t.pids) args.push('--pid', t.pids);
  const r = await run(process.execPath, args);
  let rep: { rps: number; latency_us: { p50: number; p99: number; p999: number }; cpu: { self_pct: number }; errors: number; io: { backend: string } };
  try { rep = JSON.parse(r.out); } catch { throw new Error(`sandstorm gave no report: ${r.err}`); }
  return {
    gen: 'sandstorm', rps: rep.rps, p50: rep.latency_us.p50, p99: rep.latency_us.p99, p999: rep.latency_us.p999,
    cpu: rep.cpu.self_pct, errors: rep.errors, backend: rep.io.backend,
  };
}

interface Opts { window: number; duration: number; warmup: number; repeats: number; users: number; type: string; tolerance: number }

async function main(): Promise<number> {
  const targets: Target[] = [];
  process.argv.forEach((a, i) => {
    if (a !== '--target') return;
    const [label, port, pids] = (process.argv[i + 1] ?? '').split(':');
    if (!label || !Number(port)) throw new Error('--target LABEL:PORT[:PIDS]');
    targets.push({ label, port: Number(port), pids: pids ?? '' });
  });
  if (targets.length === 0) { process.stderr.write('usage: sandstorm.bench.js --target LABEL:PORT[:PIDS] … (see the header of bench/sandstorm.bench.ts)\n'); return 2; }
  const o: Opts = {
    window: Number(arg('window', '64')), duration: Number(arg('duration', '5')), warmup: Number(arg('warmup', '1')),
    repeats: Number(arg('repeats', '3')), users: Number(arg('users', '1000')), type: arg('type', 'auth'), tolerance: Number(arg('tolerance', '5')),
  };
  const bin = arg('radload', '/tmp/radload/radload');
  if (!fs.existsSync(bin)) { process.stderr.write(`${bin} missing: run ../shared/bench/loadgen/build.sh\n`); return 2; }
  const results: Record<string, Sample[]> = {};
  for (let rep = 0; rep < o.repeats; rep++) {
    for (const t of targets) {
      const order = rep % 2 === 0 ? [radload, sandstorm] as const : [sandstorm, radload] as const;
      for (const g of order) {
        const s = g === radload ? await radload(bin, t, o) : await sandstorm(t, o);
        (results[`${t.label}|${s.gen}`] ??= []).push(s);
        process.stderr.write(`${t.label} ${s.gen} #${rep + 1}: ${Math.round(s.rps)} req/s p50 ${s.p50} µs p99 ${s.p99} µs cpu ${s.cpu}% errors ${s.errors}${s.backend ? ` (${s.backend})` : ''}\n`);
      }
    }
  }
  let ok = true;
  const lines = [
    `window ${o.window}, ${o.type}, ${o.duration} s + ${o.warmup} s warm-up, ${o.repeats} repetitions (medians)`, '',
    '| server | generator | req/s | p50 µs | p99 µs | p99.9 µs | generator CPU % | µs CPU per request | errors |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const verdicts: string[] = [];
  for (const t of targets) {
    for (const gen of ['radload', 'sandstorm']) {
      const s = results[`${t.label}|${gen}`];
      const rps = median(s.map((x) => x.rps));
      const cpu = median(s.map((x) => x.cpu));
      lines.push(`| ${t.label} | ${gen}${gen === 'sandstorm' ? ` (${s[0].backend})` : ''} | ${Math.round(rps)} | ${median(s.map((x) => x.p50)).toFixed(1)} | ${median(s.map((x) => x.p99)).toFixed(1)} | ${median(s.map((x) => x.p999)).toFixed(1)} | ${cpu.toFixed(1)} | ${rps ? ((cpu * 1e4) / rps).toFixed(1) : '-'} | ${s.reduce((a, x) => a + x.errors, 0)} |`);
    }
    const ratios = results[`${t.label}|sandstorm`].map((s, i) => s.rps / results[`${t.label}|radload`][i].rps);
    const p50r = median(results[`${t.label}|sandstorm`].map((s) => s.p50)) / median(results[`${t.label}|radload`].map((s) => s.p50));
    const r = median(ratios);
    const agree = Math.abs(r - 1) * 100 <= o.tolerance;
    ok &&= agree;
    verdicts.push(`${t.label}: req/s sandstorm/radload ${r.toFixed(3)} (runs ${ratios.map((x) => x.toFixed(3)).join(', ')}), p50 ratio ${p50r.toFixed(3)}: ${agree ? 'agree' : 'DISAGREE'} within ${o.tolerance} %`);
  }
  const text = [...lines, '', ...verdicts].join('\n');
  process.stdout.write(`${text}\n`);
  const json = arg('json', '');
  if (json) fs.writeFileSync(json, JSON.stringify({ options: o, targets, results }, null, 2));
  return ok ? 0 : 1;
}

main().then((c) => { process.exitCode = c; }, (e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exitCode = 1; });
