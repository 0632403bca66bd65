/**
 * Duplicate detection and the reply cache of one listener.
 *
 * Key: source address + source port + packet ID (the listener is implicit:
 * one table per listener, or per TCP connection). The entry remembers the
 * Request Authenticator:
 * - same key, same authenticator, request finished less than `cleanup_delay`
 *   ago → the cached reply bytes are resent (no reprocessing);
 * - same key, same authenticator, still in progress → `dup` is signalled to
 *   the running request, nothing is sent;
 * - same key, different authenticator → a new request: it replaces the entry
 *   and a still-running old request is cancelled.
 *
 * One Map lookup per packet. Expiry uses a coarse timer wheel (one interval
 * timer per table, `unref`'d), never a timer per request.
 */
import type { InFlight } from './types';

/** One tracked request. */
export class DedupEntry {
  /** The Request Authenticator as four int32 words (no Buffer kept per entry). */
  private readonly a0: number;
  private readonly a1: number;
  private readonly a2: number;
  private readonly a3: number;
  /** Set while processing. */
  inflight: InFlight | undefined = undefined;
  /** True once the sink called back. */
  done = false;
  /** The reply sent (null: none). */
  reply: Buffer | null = null;
  /** Wheel tick after which the entry may be removed. */
  expires = 0;

  constructor(readonly key: string, auth: Buffer) {
    this.a0 = auth.readInt32LE(0);
    this.a1 = auth.readInt32LE(4);
    this.a2 = auth.readInt32LE(8);
    this.a3 = auth.readInt32LE(12);
  }

  /** True when `auth` (16 bytes) is this entry's Request Authenticator. */
  sameAuth(auth: Buffer): boolean {
    return auth.readInt32LE(0) === this.a0 && auth.readInt32LE(4) === this.a1
      && auth.readInt32LE(8) === this.a2 && auth.readInt32LE(12) === this.a3;
  }
}

/** Outcome of {@link DedupTable.lookup}. */
export type DedupResult =
  | { kind: 'new'; previous: DedupEntry | undefined }
  | { kind: 'running'; entry: DedupEntry }
  | { kind: 'done'; entry: DedupEntry };

const TICK_MS = 250;

/** The duplicate table of one listener (or one TCP connection). */
export class DedupTable {
  private readonly map = new Map<string, DedupEntry>();
  private wheel: DedupEntry[][] = [];
  private tick = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly delayTicks: number;

  /** `cleanupDelay` in seconds; 0 keeps no finished entries. */
  constructor(cleanupDelay: number) {
    this.delayTicks = cleanupDelay > 0 ? Math.max(1, Math.ceil((cleanupDelay * 1000) / TICK_MS)) : 0;
    if (this.delayTicks > 0) {
      for (let i = 0; i <= this.delayTicks + 1; i++) this.wheel.push([]);
    }
  }

  /** Number of tracked entries (running + cached). */
  get size(): number {
    return this.map.size;
  }

  /**
   * Looks a packet up without changing the table. For a new request (or a
   * new authenticator) `previous` is the entry it will replace, if any.
   */
  lookup(key: string, auth: Buffer): DedupResult {
    const old = this.map.get(key);
    if (old !== undefined && old.sameAuth(auth)) {
      return old.done ? { kind: 'done', entry: old } : { kind: 'running', entry: old };
    }
    return { kind: 'new', previous: old };
  }

  /**
   * Starts tracking a verified new request, replacing any entry with the same
   * key (the caller cancels the previous one when it is still running).
   */
  add(key: string, auth: Buffer): DedupEntry {
    const entry = new DedupEntry(key, auth);
    this.map.set(key, entry);
    return entry;
  }

  /** True when `entry` is still the current one for its key. */
  isCurrent(entry: DedupEntry): boolean {
    return this.map.get(entry.key) === entry;
  }

  /**
   * Marks a request finished with its reply; keeps it for `cleanup_delay`
   * (or forgets it at once when the delay is 0 or it was superseded).
   */
  finish(entry: DedupEntry, reply: Buffer | null): void {
    entry.done = true;
    entry.reply = reply;
    entry.inflight = undefined;
    if (this.map.get(entry.key) !== entry) return;
    if (this.delayTicks === 0) {
      this.map.delete(entry.key);
      return;
    }
    entry.expires = this.tick + this.delayTicks;
    this.wheel[entry.expires % this.wheel.length].push(entry);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.advance(), TICK_MS);
      this.timer.unref?.();
    }
  }

  /** Forgets an entry (e.g. the request could not be started). */
  remove(entry: DedupEntry): void {
    if (this.map.get(entry.key) === entry) this.map.delete(entry.key);
  }

  /** Every running request (for shutdown cancel). */
  running(): DedupEntry[] {
    const out: DedupEntry[] = [];
    for (const e of this.map.values()) if (!e.done && e.inflight) out.push(e);
    return out;
  }

  /** Advances the wheel one tick and drops expired entries. Exposed for tests. */
  advance(): void {
    this.tick++;
    const slot = this.wheel[this.tick % this.wheel.length];
    if (slot.length === 0) return;
    const keep: DedupEntry[] = [];
    for (const e of slot) {
      if (e.expires > this.tick) { keep.push(e); continue; }
      if (this.map.get(e.key) === e) this.map.delete(e.key);
    }
    this.wheel[this.tick % this.wheel.length] = keep;
    if (this.map.size === 0 && this.timer !== undefined && this.wheel.every((s) => s.length === 0)) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Stops the timer and forgets everything. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.map.clear();
    for (let i = 0; i < this.wheel.length; i++) this.wheel[i] = [];
  }
}
