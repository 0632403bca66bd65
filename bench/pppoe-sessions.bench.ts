/**
 * Many established PPPoE sessions in one lcore, and their memory (issue 17 §6: 1M sessions in under 512 MB):
 *
 *   npm run build && node --expose-gc dist/bench/pppoe-sessions.bench.js [--count 1000000] [--rounds 1] [--json]
 *
 * In-process and fast, without root: the real `Lcore` and `PppoeEngine` (discovery with the HMAC cookie, LCP, PAP
 * through the request ring, IPCP, accounting Start/Stop records through the ring, the timer wheel) run in this
 * thread against the synthetic clients of `pppoe-clients.ts` over an in-memory port (two queues of frame slots,
 * no allocation per frame). The control plane is played in-thread: each request record is answered ACCEPT
 * (no Framed-IP-Address, so the address is `pool_base + session id`) and each accounting record acknowledged,
 * directly on the rings; the RADIUS site is not in this bench (`pppoe-wire.bench.ts` measures the whole daemon).
 *
 * Each round establishes `count` sessions and holds them (RSS measured), then every client sends PADT and the
 * concentrator frees them (RSS measured again): the soak is the RSS of the rounds side by side. Reported: the
 * process RSS (this process has one thread of JavaScript: the lcore, the clients and the played control
 * plane), the bytes of the concentrator's typed arrays (lcore + engine; preallocated for `count` sessions),
 * the clients' own arrays, setups per second and the setup-time percentiles (single thread: the clients and the
 * concentrator share it, so the rate is not the concentrator's).
 */
import * as os from 'node:os';
import { Lcore } from '../modules/pppoe_dpdk/lcore';
import { DEFAULT_WIRE, resolveOptions } from '../modules/pppoe_dpdk/options';
import { PppoeEngine, type FramePort } from '../modules/pppoe_dpdk/pppoe';
import { Kind, RECORD_SIZE, REQ, Result, writeBareResponse } from '../modules/pppoe_dpdk/records';
import { SpscRing } from '../modules/pppoe_dpdk/ring';
import { C, CP_BLOCK_BYTES, CP_F_BEAT, LcoreBlock, now } from '../modules/pppoe_dpdk/shared';
import { generator, type ClientPort } from './pppoe-clients';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

/** One direction of the in-memory wire: a ring of frame slots. */
class Queue {
  static readonly SLOT = 1536;
  readonly buf: Uint8Array;
  readonly len: Uint32Array;
  head = 0;
  tail = 0;
  dropped = 0;
  constructor(readonly slots: number) {
    this.buf = new Uint8Array(slots * Queue.SLOT);
    this.len = new Uint32Array(slots);
  }
  push(src: Uint8Array, off: number, len: number): boolean {
    if (this.head - this.tail === this.slots) {
      this.dropped++;
      return false;
    }
    const i = this.head % this.slots;
    this.buf.set(src.subarray(off, off + len), i * Queue.SLOT);
    this.len[i] = len;
    this.head++;
    return true;
  }
  pop(dst: Uint8Array, at: number): number {
    if (this.tail === this.head) return -1;
    const i = this.tail % this.slots;
    const len = this.len[i];
    dst.set(this.buf.subarray(i * Queue.SLOT, i * Queue.SLOT + len), at);
    this.tail++;
    return len;
  }
}

function portOf(mac: Uint8Array, inbox: Queue, outbox: Queue): FramePort & ClientPort {
  return {
    mac,
    recv(buffer, slotSize, lengths, max) {
      let n = 0;
      for (; n < max; n++) {
        const l = inbox.pop(buffer, n * slotSize);
        if (l < 0) break;
        lengths[n] = l;
      }
      return n;
    },
    send(buffer, offsets, lengths, count) {
      let n = 0;
      for (let i = 0; i < count; i++) if (outbox.push(buffer, offsets[i], lengths[i])) n++;
      return n;
    },
    wait: () => false,
  };
}

/** Bytes of the typed arrays an object holds directly (its preallocated tables). */
function tableBytes(o: object): number {
  let sum = 0;
  for (const v of Object.values(o)) if (ArrayBuffer.isView(v) && !(v.buffer instanceof SharedArrayBuffer)) sum += v.byteLength;
  return sum;
}

const rssMB = (): number => Math.round(process.memoryUsage().rss / 1048576);
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

function main(): void {
  const COUNT = Number(arg('count', '1000000'));
  const ROUNDS = Number(arg('rounds', '1'));
  const OUTSTANDING = Number(arg('outstanding', '256'));
  const JSON_OUT = process.argv.includes('--json');
  gc();
  const rssStart = rssMB();
  const wire = { ...DEFAULT_WIRE, interface: 'mem0', cookieSecret: 'bench-cookie-secret-0123456789', localAddress: 0x0a000001, poolBase: 0x64400000,
    auth: 'pap' as const, echoIntervalMs: 0, discoveryBurst: 100 };
  const o = resolveOptions({ ringSize: 4096, burst: 32, maxSessions: COUNT + 64, timeoutMs: 10_000, wire });
  const block = LcoreBlock.create();
  const cpSab = new SharedArrayBuffer(CP_BLOCK_BYTES);
  const cp = { i32: new Int32Array(cpSab), f64: new Float64Array(cpSab) };
  const req = SpscRing.create(o.ringSize, RECORD_SIZE);
  const resp = SpscRing.create(o.ringSize, RECORD_SIZE);
  const lc = new Lcore(0, o, block, cp, SpscRing.attach(req.sab), SpscRing.attach(resp.sab));
  const toAc = new Queue(4096);
  const toClients = new Queue(4096);
  const acPort = portOf(Uint8Array.of(2, 0xac, 0, 0, 0, 1), toAc, toClients);
  const cliPort = portOf(Uint8Array.of(2, 0xcc, 0, 0, 0, 0), toClients, toAc);
  const eng = new PppoeEngine(lc, acPort, o.wire!, 0, 1);
  lc.setApp(eng);
  gc();
  const rssTables = rssMB();
  const concentratorBytes = tableBytes(lc) + tableBytes(eng);
  let answered = 0;
  /** The played control plane: every request answered at once, on the rings. */
  const controlPlane = (t: number): void => {
    cp.f64[CP_F_BEAT] = t;
    for (;;) {
      const n = Math.min(req.peek(64), resp.reserve(64));
      if (n === 0) return;
      for (let i = 0; i < n; i++) {
        const off = req.readOffset(i);
        const kind = req.u8[off + REQ.KIND];
        writeBareResponse(resp.dv, resp.u8, resp.writeOffset(i), req.dv.getFloat64(off + REQ.REQUEST_ID, true), req.dv.getUint32(off + REQ.SESSION_ID, true),
          kind, Result.ACCEPT, t);
      }
      req.release(n);
      resp.commit(n);
      answered += n;
    }
  };
  const pump = (): void => {
    const t = now();
    eng.poll(t);
    eng.flush();
    controlPlane(t);
    lc.poll(t);
    eng.flush();
  };
  lc.start(now());
  pump();
  const rounds: Array<Record<string, unknown>> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const cpu0 = process.cpuUsage();
    const gen = generator({ ifname: 'mem0', count: COUNT, rate: 1e9, outstanding: OUTSTANDING, hold: true, deadlineMs: 3_600_000 }, cliPort, (m) => {
      if (JSON_OUT) return;
      const f = (m.done + m.failed) / COUNT;
      process.stderr.write(`\r${ROUNDS > 1 ? `round ${round}/${ROUNDS} ` : ''}[${'#'.repeat(Math.round(f * 30)).padEnd(30)}] ${(f * 100).toFixed(0).padStart(3)}% up ${m.done} failed ${m.failed}  `);
    }, pump);
    if (!JSON_OUT) process.stderr.write('\n');
    for (let i = 0; i < 10; i++) pump();
    const cpu1 = process.cpuUsage(cpu0);
    lc.publish(now());
    const heldCounters = block.readStats().counters;
    const active = heldCounters[C.sessions_active];
    gc();
    const rssHeld = rssMB();
    const heap = process.memoryUsage();
    // teardown: every client sends PADT; the concentrator sends the Stops and frees the slots
    const releasedCount = gen.release(1e12);
    while (toAc.head !== toAc.tail || req.peek(1) > 0) pump();
    for (let i = 0; i < 10; i++) pump();
    lc.publish(now());
    const left = block.readStats().counters[C.sessions_active];
    gc();
    const rssReleased = rssMB();
    const secs = (gen.result.lastMs - gen.result.firstMs) / 1000;
    const r = {
      round, count: COUNT, up: gen.result.done, failed: gen.result.failed, sessionsActive: active, released: releasedCount, sessionsLeftAfterRelease: left,
      setupsPerSecond: Math.round(gen.result.done / secs), setupMs: gen.result.setupMs, cpuSeconds: Math.round((cpu1.user + cpu1.system) / 1e5) / 10,
      rssMB: { start: rssStart, tablesAllocated: rssTables, held: rssHeld, released: rssReleased },
      heapUsedMB: Math.round(heap.heapUsed / 1048576), externalMB: Math.round((heap.external + heap.arrayBuffers) / 1048576),
      concentratorTablesMB: Math.round(concentratorBytes / 1048576), bytesPerSession: Math.round(concentratorBytes / (COUNT + 64)),
      clientArraysMB: Math.round((COUNT * 39) / 1048576), recordsAnswered: answered, wireDrops: toAc.dropped + toClients.dropped,
      loadavg: os.loadavg().map((x) => x.toFixed(2)),
    };
    rounds.push(r);
    if (!JSON_OUT) {
      console.log(`round ${round}: ${r.up} up (${r.sessionsActive} held), ${r.failed} failed, ${r.setupsPerSecond} setups/s in one thread; setup ms p50 ${r.setupMs.p50} `
        + `p99 ${r.setupMs.p99} p99.9 ${r.setupMs.p999}; RSS start ${rssStart} MB, tables allocated ${rssTables} MB, ${r.sessionsActive} held ${rssHeld} MB, `
        + `released ${rssReleased} MB (${left} left); frames dropped by the in-memory wire ${r.wireDrops}; concentrator tables ${r.concentratorTablesMB} MB (${r.bytesPerSession} B/session), client arrays ~${r.clientArraysMB} MB, `
        + `heap used ${r.heapUsedMB} MB; load ${r.loadavg.join(' ')}`);
    }
  }
  if (JSON_OUT) console.log(JSON.stringify(rounds, null, 2));
}

main();
