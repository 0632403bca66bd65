/**
 * The server's one clock. Times are **monotonic milliseconds** (`performance.now()`): they never
 * jump when the system clock is set, so timers, `reject_delay` and `max_request_time` use them.
 * Wall time (seconds since the epoch, for `%l`, detail `Timestamp`, log headers) is derived
 * from a monotonic reading with {@link Clock.wall}, so a request's receive time in both forms
 * comes from one reading and the two never disagree.
 *
 * The offset between the two (`Date.now() − performance.now()`) is re-read at most once a
 * second, so a stepped system clock (NTP, an operator) shows up in wall times within a second
 * while monotonic times stay steady. `FakeClock` (`fake.ts`) replaces it in tests.
 */
import { performance } from 'node:perf_hooks';

/** An opaque timer handle. */
export type TimerHandle = { unref?(): unknown } | number | object;

/** The clock service (root container token `CLOCK`). */
export interface Clock {
  /** Monotonic milliseconds (arbitrary origin, fractional). */
  now(): number;
  /** Wall time in milliseconds since the epoch for monotonic time `mono` (default: now). */
  wall(mono?: number): number;
  /** Runs `fn` after `ms` milliseconds of monotonic time (a Node timer: call `unref()` on it if it must not keep the process alive). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer from {@link setTimeout}. */
  clearTimeout(h: TimerHandle | undefined): void;
}

const RESYNC_MS = 1000;

/** The real clock: `performance.now()` and `Date.now()`. */
export class SystemClock implements Clock {
  private offset = Date.now() - performance.now();
  private synced = performance.now();

  now(): number {
    return performance.now();
  }

  wall(mono = performance.now()): number {
    const t = performance.now();
    if (t - this.synced >= RESYNC_MS) {
      this.offset = Date.now() - t;
      this.synced = t;
    }
    return mono + this.offset;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return setTimeout(fn, Math.max(0, ms));
  }

  clearTimeout(h: TimerHandle | undefined): void {
    if (h !== undefined) clearTimeout(h as NodeJS.Timeout);
  }
}

/** The process-wide real clock (the default wherever no clock is passed). */
export const systemClock: Clock = new SystemClock();
