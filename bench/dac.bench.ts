/**
 * DAC benchmark: CoA-Request throughput from our originator (core/dac `DacClient`) to the NAS
 * simulator, compared with Debian's radclient sending the same CoA-Requests to the same simulator
 * in the same run; then the same with a lossy path (the simulator ignores a share of the
 * requests) to show RFC 5080 retransmission bringing every request through. Optionally (--flow)
 * the whole VX flow (auth + Start + N Interims + Stop per session) from the simulator against
 * radiusd running examples/vx/raddb, with p50/p99 per packet type.
 *
 *   npm run build
 *   node dist/bench/dac.bench.js                       # --count 20000 --window 256
 *   node dist/bench/dac.bench.js --count 5000 --loss 0.05 --flow --sessions 2000
 *
 * Options: --count N (CoA-Requests per run, 20000) --window N (in flight at once, 256; radclient's -p)
 * --loss F (share ignored by the simulator in the lossy run, 0.02) --flow (also the VX flow)
 * --sessions N (flow sessions, 2000) --interims N (3) --json FILE
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadDefaultDictionary } from '../core/dict/default';
import { Pair } from '../core/pair/pair';
import { PacketCode } from '../core/protocol/radius';
import { DacClient } from '../core/dac/client';
import { NasSimulator } from '../core/cli/nassim/simulator';
import { freePorts } from '../test/interop/freeradius';

const ROOT = path.resolve(__dirname, '..', '..');

interface Args { count: number; window: number; loss: number; flow: boolean; sessions: number; interims: number; json?: string }

function parseArgs(argv: string[]): Args {
  const a: Args = { count: 20000, window: 256, loss: 0.02, flow: false, sessions: 2000, interims: 3 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i];
    if (k === '--count') a.count = Number(v());
    else if (k === '--window') a.window = Number(v());
    else if (k === '--loss') a.loss = Number(v());
    else if (k === '--flow') a.flow = true;
    else if (k === '--sessions') a.sessions = Number(v());
    else if (k === '--interims') a.interims = Number(v());
    else if (k === '--json') a.json = v();
    else throw new Error(`unknown option ${k}`);
  }
  return a;
}

const dict = loadDefaultDictionary();
const SECRET = 'bench-secret';

/** A simulator that knows `n` sessions (s-0 … s-n-1), so CoAs are ACKed. */
async function simulator(n: number): Promise<NasSimulator> {
  const sim = new NasSimulator({ dict, server: '127.0.0.1', authPort: 9, acctPort: 9, secret: SECRET });
  await sim.open();
  const byId = (sim as unknown as { byId: Map<string, unknown> }).byId;
  for (let i = 0; i < n; i++) byId.set(`s-${i}`, { user: 'u', nasPort: i, clientIp: '', id: `s-${i}`, granted: {}, inputOctets: 0, outputOctets: 0, state: 'active', started: Date.now() });
  return sim;
}

function coaPairs(i: number): Pair[] {
  const r = (n: string) => dict.resolve(n)!;
  return [new Pair(r('Acct-Session-Id'), `s-${i}`), new Pair(r('Idle-Timeout'), 300),
    new Pair(r('Actual-Data-Rate-Downstream'), 1000000 + i), new Pair(r('Actual-Data-Rate-Upstream'), 500000)];
}

async function ours(a: Args, loss: number): Promise<{ rps: number; acked: number; retransmitted: number; seconds: number }> {
  const sim = await simulator(a.count);
  let k = 0;
  const every = loss > 0 ? Math.round(1 / loss) : 0;
  if (every) {
    // Ignore every Nth first transmission (retransmissions are answered from the cache or afresh).
    const orig = (sim as unknown as { onDac: (m: Buffer, r: unknown) => void }).onDac.bind(sim);
    (sim as unknown as { onDac: (m: Buffer, r: unknown) => void }).onDac = (m, r) => { if (++k % every === 0) return; orig(m, r); };
  }
  const client = new DacClient(dict, { retry: { initial_rtx_time: 1, max_rtx_time: 4, max_rtx_count: 5, max_rtx_duration: 20 } });
  const target = { address: '127.0.0.1', port: sim.coaAddress.port, secret: Buffer.from(SECRET) };
  const t0 = performance.now();
  let next = 0;
  let acked = 0;
  await Promise.all(Array.from({ length: a.window }, async () => {
    while (next < a.count) {
      const r = await client.send(target, PacketCode.CoARequest, coaPairs(next++));
      if (r.result === 'ack') acked++;
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  const retransmitted = client.counters.retransmitted;
  await client.close();
  await sim.close();
  return { rps: a.count / seconds, acked, retransmitted, seconds };
}

async function radclient(a: Args): Promise<{ rps: number; seconds: number; ok: boolean }> {
  const sim = await simulator(a.count);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-dacbench-'));
  const file = path.join(dir, 'coa.txt');
  const lines: string[] = [];
  for (let i = 0; i < a.count; i++) {
    lines.push(`Acct-Session-Id = "s-${i}"\nIdle-Timeout = 300\nActual-Data-Rate-Downstream = ${1000000 + i}\nActual-Data-Rate-Upstream = 500000\nMessage-Authenticator = 0x00\n`);
  }
  fs.writeFileSync(file, lines.join('\n'));
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const p = spawn('radclient', ['-q', '-p', String(a.window), '-r', '3', '-t', '2', '-f', file, `127.0.0.1:${sim.coaAddress.port}`, 'coa', SECRET], { stdio: 'ignore' });
    p.on('close', resolve);
  });
  const seconds = (performance.now() - t0) / 1000;
  await sim.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { rps: a.count / seconds, seconds, ok: code === 0 && sim.received.coa >= a.count };
}

async function flow(a: Args): Promise<unknown> {
  const [auth, acct, admin, coa] = await freePorts(4);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-vxbench-'));
  const raddb = path.join(dir, 'raddb');
  fs.cpSync(path.join(ROOT, 'examples', 'vx', 'raddb'), raddb, { recursive: true });
  fs.writeFileSync(path.join(dir, 'vx.site'), fs.readFileSync(path.join(ROOT, 'sites', 'vx'), 'utf8')
    .replace('port = 1812', `port = ${auth}`).replace('port = 1813', `port = ${acct}`).replace(/Acct-Input-Octets >= 3145728/, 'Acct-Input-Octets >= 4294967295'));
  fs.writeFileSync(path.join(raddb, 'sites-enabled', 'vx'), `$INCLUDE ${path.join(dir, 'vx.site')}\n`);
  const edit = (rel: string, f: (t: string) => string) => fs.writeFileSync(path.join(raddb, rel), f(fs.readFileSync(path.join(raddb, rel), 'utf8')));
  edit('radiusd.conf', (t) => t.replace('port = 9813', `port = ${admin}`));
  edit('clients.conf', (t) => t.replace('port = 3799', `port = ${coa}`));
  const daemon = spawn(process.execPath, [path.join(ROOT, 'bin', 'radiusd.js'), '-f', '-d', raddb], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    daemon.stderr!.on('data', (d) => { err += d; if (/Ready to process requests|listening on udp/.test(err)) resolve(); });
    daemon.on('exit', (c) => reject(new Error(`radiusd exited ${c}: ${err}`)));
    setTimeout(resolve, 8000);
  });
  try {
    const sim = new NasSimulator({ dict, server: '127.0.0.1', authPort: auth, acctPort: acct, secret: 'testing123', coaPort: coa });
    await sim.open();
    const r = await sim.run({ sessions: a.sessions, users: [{ name: 'gold', password: 'gold-pass' }, { name: 'silver', password: 'silver-pass' }], interims: a.interims, concurrency: 64 });
    await sim.close();
    return r;
  } finally {
    daemon.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const out: Record<string, unknown> = { args: a };
  const o = await ours(a, 0);
  const r = await radclient(a);
  const lossy = await ours(a, a.loss);
  out.ours = o;
  out.radclient = r;
  out.lossy = lossy;
  console.log(`CoA-Requests: ${a.count}, ${a.window} in flight`);
  console.log(`  ours       ${o.rps.toFixed(0).padStart(8)} req/s  (${o.acked} ACK)`);
  console.log(`  radclient  ${r.rps.toFixed(0).padStart(8)} req/s  (${r.ok ? 'all answered' : 'not all answered'})  ratio ours/radclient ${(o.rps / r.rps).toFixed(2)}`);
  console.log(`  ours, ${(a.loss * 100).toFixed(1)}% lost: ${lossy.rps.toFixed(0)} req/s, ${lossy.acked}/${a.count} ACK after ${lossy.retransmitted} retransmissions`);
  if (a.flow) {
    const f = await flow(a);
    out.flow = f;
    console.log('VX flow:', JSON.stringify(f, null, 2));
  }
  if (a.json) fs.writeFileSync(a.json, JSON.stringify(out, null, 2));
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
