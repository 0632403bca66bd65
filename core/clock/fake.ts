/**
 * A clock for tests: time stands still until {@link FakeClock.advance} moves it, and timers
 * fire inside `advance`, in due order. No real time passes, so tests that use it are exact.
 */
import type { Clock, TimerHandle } from './clock';

interface FakeTimer { at: number; seq: number; fn: () => void; live: boolean }

/** A manually driven {@link Clock}. */
export class FakeClock implements Clock {
  private mono: number;
  private readonly epochOffset: number;
  private timers: FakeTimer[] = [];
  private seq = 0;

  /** `start`: initial monotonic ms; `epochMs`: the wall time at `start`. */
  constructor(start = 1000, epochMs = Date.UTC(2026, 0, 1)) {
    this.mono = start;
    this.epochOffset = epochMs - start;
  }

  now(): number {
    return this.mono;
  }

  wall(mono = this.mono): number {
    return mono + this.epochOffset;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t: FakeTimer = { at: this.mono + Math.max(0, ms), seq: this.seq++, fn, live: true };
    this.timers.push(t);
    return t;
  }

  clearTimeout(h: TimerHandle | undefined): void {
    if (h && typeof h === 'object' && 'live' in h) (h as FakeTimer).live = false;
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.timers.filter((t) => t.live).length;
  }

  /** Moves time forward by `ms`, firing every timer that comes due (timers they set included). */
  advance(ms: number): void {
    const end = this.mono + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const t of this.timers) {
        if (t.live && t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      next.live = false;
      this.mono = Math.max(this.mono, next.at);
      next.fn();
    }
    this.timers = this.timers.filter((t) => t.live);
    this.mono = end;
  }
}
