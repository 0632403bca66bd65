/**
 * A queue of callbacks due at (nearly) non-decreasing times, served by one
 * timer armed for the head. Used for `reject_delay` (due = receipt + constant)
 * and `max_request_time` deadlines, so neither needs a timer per request.
 *
 * An item pushed with an earlier time than the tail waits behind it; callers
 * only push times that grow with arrival order, so the lateness is bounded
 * by the spread of arrival order (milliseconds).
 */
import { performance } from 'node:perf_hooks';

interface Item { at: number; fn: () => void }

/** One-timer FIFO of due callbacks (times in `performance.now()` ms). */
export class FifoTimer {
  private q: Item[] = [];
  private head = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private armedAt = Infinity;

  /** Number of pending callbacks. */
  get size(): number {
    return this.q.length - this.head;
  }

  /** Runs `fn` at time `at` (or soon after). */
  push(at: number, fn: () => void): void {
    this.q.push({ at, fn });
    if (this.size === 1) this.arm();
  }

  private arm(): void {
    if (this.head >= this.q.length) {
      this.armedAt = Infinity;
      return;
    }
    const at = this.q[this.head].at;
    if (this.timer !== undefined && this.armedAt <= at) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - performance.now()));
    this.timer.unref?.();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = performance.now() + 1;
    while (this.head < this.q.length && this.q[this.head].at <= now) {
      const it = this.q[this.head];
      this.q[this.head++] = undefined as unknown as Item;
      try { it.fn(); } catch { /* callbacks guard themselves */ }
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
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
    const q = this.q;
    const head = this.head;
    this.q = [];
    this.head = 0;
    for (let i = head; i < q.length; i++) {
      try { q[i].fn(); } catch { /* callbacks guard themselves */ }
    }
  }

  /** Drops every pending callback without running it. */
  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
    this.q = [];
    this.head = 0;
  }
}
