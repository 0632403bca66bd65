/**
 * The pppoe_dpdk control plane's per-request work without threads, rings or the event loop, for A/B comparisons
 * of CPU per request on a busy machine (`pppoe-inject.bench.ts` measures the whole path):
 *
 *   npm run build && node dist/bench/pppoe-site.bench.js [--count 200000] [--reps 3]
 *
 * An in-process `Server` with the inject bench's `files` + `pap` site. 1024 PAP request records are written
 * once, as an lcore writes them. Per request: `decodeRequest` → `requestPairs` → `Server.injectWith` (the
 * site finishes synchronously) → `replyResult` → `writeResponse`. Reported per repetition, after 50,000 of
 * warm-up: the main thread's CPU time per request (`/proc/thread-self/stat`) and wall time per request;
 * then the median CPU figure.
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryLogger } from '../core/log/memory';
import { Server } from '../core/server/server';
import { BUILTIN_MODULES } from '../modules/index';
import { writePppoeSite } from './fixtures';
import { AuthType, decodeRequest, Kind, RECORD_SIZE, REQ, writeAscii, writeCallingStationId, writeRequestHeader, writeResponse } from '../modules/pppoe_dpdk/records';
import { replyResult, requestPairs, resolvePppoeAttrs } from '../modules/pppoe_dpdk/radius-map';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const COUNT = Number(arg('count', '200000'));
const REPS = Number(arg('reps', '3'));
const WARMUP = 50_000;
const SLOTS = 1024;

/** CPU seconds of the calling thread so far (Linux, clock ticks of 10 ms). */
function threadCpuSeconds(): number {
  const f = fs.readFileSync('/proc/thread-self/stat', 'latin1');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-pppoe-site-'));
  writePppoeSite(dir);
  const server = new Server({ file: path.join(dir, 'radiusd.conf'), log: new MemoryLogger(), triggers: false, modules: BUILTIN_MODULES });
  await server.start();
  const a = resolvePppoeAttrs(server.generation!.dict);
  const req = new Uint8Array(new SharedArrayBuffer(SLOTS * RECORD_SIZE));
  const reqDv = new DataView(req.buffer);
  const resp = new Uint8Array(new SharedArrayBuffer(SLOTS * RECORD_SIZE));
  const respDv = new DataView(resp.buffer);
  const mac = Uint8Array.of(2, 0, 0, 0, 0, 0);
  for (let i = 0; i < SLOTS; i++) {
    const off = i * RECORD_SIZE;
    mac[4] = i >> 8;
    mac[5] = i & 255;
    writeRequestHeader(reqDv, req, off, i, i + 1, 0, Kind.AUTH, AuthType.PAP, 0, mac, 0, 0, 0, Date.now());
    writeAscii(req, off, REQ.USER, REQ.USER_MAX, REQ.USER_LEN, `user${1_000_000 + i}`);
    writeAscii(req, off, REQ.PASS, REQ.PASS_MAX, REQ.PASS_LEN, 'secret');
    writeCallingStationId(req, off, mac, 0);
    writeAscii(req, off, REQ.NAS_PORT_ID, REQ.NAS_PORT_ID_MAX, REQ.NAS_PORT_ID_LEN, 'pppoe0:0.0');
  }
  let accepted = 0;
  const nas = {};
  const one = (i: number): void => {
    const off = (i & (SLOTS - 1)) * RECORD_SIZE;
    const v = decodeRequest(reqDv, req, off);
    server.injectWith('pppoe', { code: 1, pairs: requestPairs(v, a, nas), via: 'pppoe' }, (err, reply) => {
      if (err) throw err;
      const r = replyResult({ code: reply!.code ?? 0, pairs: reply!.pairs }, a);
      if (r.result === 'accept') accepted++;
      writeResponse(respDv, resp, off, v.requestId, v.sessionId, v.kind, r, 1);
    });
  };
  for (let i = 0; i < WARMUP; i++) one(i);
  const cpu: number[] = [];
  for (let r = 0; r < REPS; r++) {
    accepted = 0;
    const c0 = threadCpuSeconds();
    const t0 = performance.now();
    for (let i = 0; i < COUNT; i++) {
      one(i);
      // Let timers and immediates run now and then, as the control plane's bursts do.
      if ((i & 4095) === 4095) await new Promise((res) => setImmediate(res));
    }
    const us = ((threadCpuSeconds() - c0) * 1e6) / COUNT;
    cpu.push(us);
    if (accepted !== COUNT) throw new Error(`only ${accepted} of ${COUNT} accepted`);
    console.log(`rep ${r + 1}: CPU ${us.toFixed(2)} µs/request, wall ${(((performance.now() - t0) * 1000) / COUNT).toFixed(2)} µs/request`);
  }
  cpu.sort((x, y) => x - y);
  console.log(`median of ${REPS}: CPU ${cpu[cpu.length >> 1]!.toFixed(2)} µs/request (load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')})`);
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
