/**
 * One end of a ring in its own worker thread, for the cross-thread property test (`ring.test.ts`) and the ring
 * benchmark (`bench/pppoe-ring.bench.ts`). Not used at run time.
 *
 * The producer writes records 0 … count-1: word 0 is the record number, the rest of the slot is filled from a
 * generator seeded with (seed, record number), so the consumer can check order and every byte. Both sides pick
 * a random burst size (1 … maxBurst) for every operation, and with `jitter` also pause at random, so the ring
 * runs full and empty many times; they report how often they met those edges.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { mulberry32 } from '../../test/support/prng';
import { SpscRing } from './ring';

/** Seeded generator of unsigned 32-bit integers (over the shared mulberry32 of test/support/prng.ts). */
export function rand32(seed: number): () => number {
  const next = mulberry32(seed);
  return () => Math.floor(next() * 4294967296) >>> 0;
}

/** Fills `u8[off+4, off+size)` from a xorshift stream seeded by (seed, n); returns nothing, allocates nothing. */
export function fillRecord(u8: Uint8Array, off: number, size: number, seed: number, n: number): void {
  let x = (Math.imul(seed ^ n, 0x9e3779b1) ^ 0x85ebca6b) | 1;
  for (let i = 4; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    u8[off + i] = x & 255;
  }
}

/** True when the slot holds exactly what `fillRecord` wrote. */
export function checkRecord(u8: Uint8Array, off: number, size: number, seed: number, n: number): boolean {
  let x = (Math.imul(seed ^ n, 0x9e3779b1) ^ 0x85ebca6b) | 1;
  for (let i = 4; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if (u8[off + i] !== (x & 255)) return false;
  }
  return true;
}

export interface PeerData {
  readonly role: 'producer' | 'consumer';
  readonly ring: SharedArrayBuffer;
  /** Consumer doorbell (Int32Array word 0), rung by the producer. */
  readonly bell: SharedArrayBuffer;
  readonly count: number;
  readonly seed: number;
  readonly maxBurst: number;
  /** Pause at random (about one operation in 64) to create full/empty edges. */
  readonly jitter: boolean;
  /** Check every byte (property test) or only the record number (benchmark). */
  readonly verify: boolean;
}

export interface PeerReport {
  readonly role: 'producer' | 'consumer';
  readonly records: number;
  /** Operations that got fewer slots than asked (ring full / ring empty). */
  readonly short: number;
  /** Operations that got nothing. */
  readonly zero: number;
  readonly errors: readonly string[];
  readonly ms: number;
}

function pause(rand: () => number): void {
  // A short busy pause of 0 … ~20 µs, so the other side overtakes.
  const until = performance.now() + (rand() % 20) / 1000;
  while (performance.now() < until) { /* spin */ }
}

/** Runs one side to completion. */
export function runPeer(d: PeerData): PeerReport {
  const ring = SpscRing.attach(d.ring);
  const bell = new Int32Array(d.bell);
  const rand = rand32(d.seed ^ (d.role === 'producer' ? 0x1234 : 0x4321));
  const size = ring.slotSize;
  const u8 = ring.u8;
  const dv = ring.dv;
  const errors: string[] = [];
  let short = 0;
  let zero = 0;
  let n = 0;
  const t0 = performance.now();
  if (d.role === 'producer') {
    ring.setDoorbell(bell, 0);
    while (n < d.count) {
      const want = Math.min(1 + (rand() % d.maxBurst), d.count - n);
      const got = ring.reserve(want);
      if (got < want) short++;
      if (got === 0) {
        zero++;
        if ((zero & 15) === 0) Atomics.wait(bell, 1, 0, 0.05); // word 1 is never set: a 50 µs sleep
        continue;
      }
      for (let i = 0; i < got; i++) {
        const off = ring.writeOffset(i);
        dv.setUint32(off, n + i, true);
        if (d.verify) fillRecord(u8, off, size, d.seed, n + i);
      }
      ring.commit(got);
      n += got;
      if (d.jitter && (rand() & 63) === 0) pause(rand);
    }
  } else {
    while (n < d.count) {
      const want = 1 + (rand() % d.maxBurst);
      const got = ring.peek(want);
      if (got < want) short++;
      if (got === 0) {
        zero++;
        if ((zero & 15) !== 0) continue; // spin a little before sleeping
        Atomics.store(bell, 0, 1);
        if (!ring.hasData()) Atomics.wait(bell, 0, 1, 1);
        Atomics.store(bell, 0, 0);
        continue;
      }
      for (let i = 0; i < got; i++) {
        const off = ring.readOffset(i);
        const seq = dv.getUint32(off, true);
        if (seq !== n + i && errors.length < 5) errors.push(`record ${n + i}: got number ${seq}`);
        if (d.verify && !checkRecord(u8, off, size, d.seed, seq) && errors.length < 5) errors.push(`record ${n + i}: content differs`);
      }
      ring.release(got);
      n += got;
      if (d.jitter && (rand() & 63) === 0) pause(rand);
    }
  }
  return { role: d.role, records: n, short, zero, errors, ms: performance.now() - t0 };
}

if (parentPort && workerData && (workerData as { ringPeer?: unknown }).ringPeer === true) {
  parentPort.postMessage(runPeer(workerData as PeerData));
}
