/**
 * A queue of callbacks due at (nearly) non-decreasing times, served by one
 * timer armed for the head. Used for `reject_delay` (due = receipt + constant)
 * and `max_request_time` deadlines, so neither needs a timer per request.
 *
 * An item pushed with an earlier time than the tail waits behind it; callers
 * only push times that grow with arrival order, so the lateness is bounded
 * by the spread of arrival order (milliseconds).
 */
import { systemClock, type Clock, type TimerHandle } from '../../clock/clock';

/** A queued callback; `fn` is cleared when it is cancelled. */
export interface FifoTimerItem { at: number; fn: (() => void) | undefined }
type Item = FifoTimerItem;

/** One-timer FIFO of due callbacks (times in the clock's monotonic ms). */
export class FifoTimer {
  private q: Item[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;
  private armedAt = Infinity;
  /** Cancelled items still in the queue. */
  private cancelled = 0;

  constructor(private readonly clock: Clock = systemClock) {}

  /** Number of pending (not cancelled) callbacks. */
  get size(): number {
    return this.q.length - this.head - this.cancelled;
  }

  /** Runs `fn` at time `at` (or soon after). The item can be passed to {@link cancel}. */
  push(at: number, fn: () => void): FifoTimerItem {
    const it: Item = { at, fn };
    this.q.push(it);
    if (this.q.length - this.head === 1) this.arm();
    return it;
  }

  /**
   * Forgets a pending callback (the request finished before its deadline). The closure is
   * released at once, so a finished request is not kept alive until its deadline; the queue
   * is compacted when most of it is cancelled, so it stays as long as what is really pending.
   */
  cancel(it: FifoTimerItem): void {
    if (it.fn === undefined) return;
    it.fn = undefined;
    this.cancelled++;
    if (this.cancelled > 256 && this.cancelled * 2 > this.q.length - this.head) this.compact();
  }

  private compact(): void {
    const live: Item[] = [];
    for (let i = this.head; i < this.q.length; i++) if (this.q[i].fn !== undefined) live.push(this.q[i]);
    this.q = live;
    this.head = 0;
    this.cancelled = 0;
    if (live.length === 0 && this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.armedAt = Infinity;
    } else {
      this.arm();
    }
  }

  private arm(): void {
    if (this.head >= this.q.length) {
      this.armedAt = Infinity;
      return;
    }
    const at = this.q[this.head].at;
    if (this.timer !== undefined && this.armedAt <= at) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, at - this.clock.now()));
    (this.timer as { unref?: () => unknown }).unref?.();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.clock.now() + 1;
    while (this.head < this.q.length && this.q[this.head].at <= now) {
      const it = this.q[this.head];
      this.q[this.head++] = undefined as unknown as Item;
      const fn = it.fn;
      if (fn === undefined) { this.cancelled--; continue; }
      it.fn = undefined;
      try { fn(); } catch { /* callbacks guard themselves */ }
    }
    if (this.head > 1024 && this.head * 2 > this.q.length) {
      this.q = this.q.slice(this.head);
      this.head = 0;
    } else if (this.head === this.q.length) {
      this.q = [];
      this.head = 0;
    }
    this.arm();
  }

  /** Runs every pending callback now (e.g. delayed replies at shutdown). */
  flush(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
    const q = this.q;
    const head = this.head;
    this.q = [];
    this.head = 0;
    this.cancelled = 0;
    for (let i = head; i < q.length; i++) {
      const fn = q[i].fn;
      if (fn === undefined) continue;
      q[i].fn = undefined;
      try { fn(); } catch { /* callbacks guard themselves */ }
    }
  }

  /** Drops every pending callback without running it. */
  clear(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
    this.q = [];
    this.head = 0;
    this.cancelled = 0;
  }
}
