/**
 * A single-producer single-consumer ring of fixed-size slots in a SharedArrayBuffer (the `rte_ring` of the
 * design, with the records stored inline in the slots, so the ring is also the record pool).
 *
 * Memory layout (byte offsets):
 *
 * | offset | written by | what |
 * |---|---|---|
 * | 0   | producer | `head`: slots ever published (Int32, wraps modulo 2^32) |
 * | 4   | creator  | capacity (power of two) |
 * | 8   | creator  | slot size (a multiple of 64) |
 * | 64  | consumer | `tail`: slots ever released (Int32, wraps) |
 * | 128 | (none)   | padding up to the data |
 * | 192 | both     | `capacity` slots of `slotSize` bytes |
 *
 * `head` and `tail` sit on separate 64-byte lines so the two sides do not write the same cache line. Both are
 * read and written only with `Atomics.load`/`Atomics.store` (sequentially consistent in the JS memory model):
 * the producer fills slots with plain writes and then stores `head`, so a consumer that loads the new `head`
 * also sees the slot contents; the consumer reads slots and then stores `tail`, so the producer never
 * overwrites a slot still being read. No locks, no read-modify-write, no waiting on the fast path.
 *
 * Each side keeps a private copy of its own index and a cached copy of the other side's index (as DPDK does),
 * refreshed only when the cache says the ring looks full (producer) or empty (consumer).
 *
 * Waking a sleeping consumer: the producer may be given a doorbell word (`setDoorbell`). A consumer that
 * runs out of work sets its doorbell to 1, checks its rings once more and then sleeps on the word
 * (`Atomics.wait` in a worker, `Atomics.waitAsync` on the main thread) with a timeout. After publishing, the
 * producer loads the doorbell and, only when it is 1, clears it and calls `Atomics.notify`. Both sides use
 * sequentially consistent atomics, so either the producer sees the 1 or the consumer sees the new `head`
 * (no lost wake-up). The doorbell is outside the ring because one consumer sleeps on several rings.
 */

/** Byte offset of the first slot. */
export const RING_HEADER = 192;
const HEAD = 0; // Int32 index of head
const CAPACITY = 1;
const SLOT_SIZE = 2;
const TAIL = 16; // byte 64

/** Bytes of shared memory a ring of `capacity` slots of `slotSize` bytes needs. */
export function ringBytes(capacity: number, slotSize: number): number {
  return RING_HEADER + capacity * slotSize;
}

/** One endpoint's handle on a shared ring. Make one per thread with `SpscRing.attach`. */
export class SpscRing {
  readonly capacity: number;
  readonly slotSize: number;
  readonly mask: number;
  /** Views over the whole shared buffer (slot offsets are relative to it). */
  readonly u8: Uint8Array;
  readonly dv: DataView;
  private readonly idx: Int32Array;
  // producer-private
  private pHead: number;
  private pTailCache: number;
  // consumer-private
  private cTail: number;
  private cHeadCache: number;
  private bell?: Int32Array;
  private bellIndex = 0;
  private kick?: () => void;

  private constructor(readonly sab: SharedArrayBuffer) {
    this.idx = new Int32Array(sab, 0, RING_HEADER / 4);
    this.capacity = this.idx[CAPACITY];
    this.slotSize = this.idx[SLOT_SIZE];
    this.mask = this.capacity - 1;
    this.u8 = new Uint8Array(sab);
    this.dv = new DataView(sab);
    this.pHead = Atomics.load(this.idx, HEAD);
    this.pTailCache = Atomics.load(this.idx, TAIL);
    this.cTail = this.pTailCache;
    this.cHeadCache = this.pHead;
  }

  /** Allocates a ring. `capacity` must be a power of two (2 … 2^24); `slotSize` a positive multiple of 64. */
  static create(capacity: number, slotSize: number): SpscRing {
    if (!Number.isInteger(capacity) || capacity < 2 || capacity > 1 << 24 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`ring capacity must be a power of two between 2 and ${1 << 24}, got ${capacity}`);
    }
    if (!Number.isInteger(slotSize) || slotSize <= 0 || slotSize % 64 !== 0) {
      throw new RangeError(`ring slot size must be a positive multiple of 64, got ${slotSize}`);
    }
    const sab = new SharedArrayBuffer(ringBytes(capacity, slotSize));
    const idx = new Int32Array(sab, 0, 3);
    idx[CAPACITY] = capacity;
    idx[SLOT_SIZE] = slotSize;
    return new SpscRing(sab);
  }

  /** A new handle on an existing ring (the other thread's side). */
  static attach(sab: SharedArrayBuffer): SpscRing {
    return new SpscRing(sab);
  }

  /**
   * Producer: wake the consumer sleeping on `bell[index]` after publishing; `kick`, when given, is called as well
   * (a consumer that sleeps in poll(2) on a socket rather than on the word: the wire lcore's eventfd).
   */
  setDoorbell(bell: Int32Array, index: number, kick?: () => void): this {
    this.bell = bell;
    this.bellIndex = index;
    this.kick = kick;
    return this;
  }

  // ---- producer side ----

  /**
   * Producer: how many slots (up to `max`) can be filled now. The slots are `writeOffset(0 … n-1)`; publish
   * them with `commit(n)`. Never blocks; 0 means the ring is full.
   */
  reserve(max: number): number {
    let free = this.capacity - ((this.pHead - this.pTailCache) | 0);
    if (free < max) {
      this.pTailCache = Atomics.load(this.idx, TAIL);
      free = this.capacity - ((this.pHead - this.pTailCache) | 0);
    }
    return free < max ? free : max;
  }

  /** Producer: byte offset (in `u8`/`dv`) of the `i`-th reserved slot. */
  writeOffset(i: number): number {
    return RING_HEADER + ((this.pHead + i) & this.mask) * this.slotSize;
  }

  /** Producer: publishes `n` filled slots (and rings the consumer's doorbell when it sleeps). */
  commit(n: number): void {
    if (n <= 0) return;
    this.pHead = (this.pHead + n) | 0;
    Atomics.store(this.idx, HEAD, this.pHead);
    const bell = this.bell;
    if (bell !== undefined && Atomics.load(bell, this.bellIndex) === 1) {
      Atomics.store(bell, this.bellIndex, 0);
      Atomics.notify(bell, this.bellIndex);
      this.kick?.();
    }
  }

  /** Producer: free slots as last seen (refreshes the cached tail). */
  freeSlots(): number {
    this.pTailCache = Atomics.load(this.idx, TAIL);
    return this.capacity - ((this.pHead - this.pTailCache) | 0);
  }

  // ---- consumer side ----

  /** Consumer: how many filled slots (up to `max`) can be read now: `readOffset(0 … n-1)`, then `release(n)`. */
  peek(max: number): number {
    let avail = (this.cHeadCache - this.cTail) | 0;
    if (avail < max) {
      this.cHeadCache = Atomics.load(this.idx, HEAD);
      avail = (this.cHeadCache - this.cTail) | 0;
    }
    return avail < max ? avail : max;
  }

  /** Consumer: byte offset of the `i`-th readable slot. */
  readOffset(i: number): number {
    return RING_HEADER + ((this.cTail + i) & this.mask) * this.slotSize;
  }

  /** Consumer: gives `n` read slots back to the producer. */
  release(n: number): void {
    if (n <= 0) return;
    this.cTail = (this.cTail + n) | 0;
    Atomics.store(this.idx, TAIL, this.cTail);
  }

  /** Consumer: true when something is readable (one atomic load). */
  hasData(): boolean {
    return ((Atomics.load(this.idx, HEAD) - this.cTail) | 0) !== 0;
  }

  /** Slots in use as seen from shared memory (either side; for gauges and the ring monitor). */
  used(): number {
    return (Atomics.load(this.idx, HEAD) - Atomics.load(this.idx, TAIL)) | 0;
  }

  /** `head` and `tail` as stored in shared memory (either side; the ring monitor). */
  indices(): { head: number; tail: number } {
    return { head: Atomics.load(this.idx, HEAD) >>> 0, tail: Atomics.load(this.idx, TAIL) >>> 0 };
  }

  // ---- burst helpers (a callback per record; pass a long-lived function to stay allocation-free) ----

  /** Producer: fills up to `max` slots with `fill(dv, u8, offset, i)` and publishes them; returns how many. */
  enqueueBurst(max: number, fill: (dv: DataView, u8: Uint8Array, off: number, i: number) => void): number {
    const n = this.reserve(max);
    for (let i = 0; i < n; i++) fill(this.dv, this.u8, this.writeOffset(i), i);
    this.commit(n);
    return n;
  }

  /** Consumer: reads up to `max` slots with `read(dv, u8, offset, i)` and releases them; returns how many. */
  dequeueBurst(max: number, read: (dv: DataView, u8: Uint8Array, off: number, i: number) => void): number {
    const n = this.peek(max);
    for (let i = 0; i < n; i++) read(this.dv, this.u8, this.readOffset(i), i);
    this.release(n);
    return n;
  }
}
