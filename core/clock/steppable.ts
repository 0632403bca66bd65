/**
 * A real clock that a test harness can also step forward: time runs as on {@link SystemClock}
 * (timers fire on their own), and {@link SteppableClock.advance} adds a jump on top, after which
 * every timer that the jump made due fires on the next turn of the event loop. This is what
 * FreeRADIUS's module tests get from `%time.advance()`: the server's notion of time moves, so
 * batch and delay timers fire, without the test waiting for them. Only harnesses create one.
 */
import { systemClock, type Clock, type TimerHandle } from './clock';

/** One pending timer: due at `at` (this clock's time), armed on the base clock as `h`. */
class SteppedTimer {
  h: TimerHandle | undefined;
  unrefd = false;
  constructor(readonly at: number, readonly fn: () => void) {}
  /** As a Node timer: this timer does not keep the process alive. */
  unref(): this {
    this.unrefd = true;
    const h = this.h as { unref?(): unknown } | undefined;
    h?.unref?.();
    return this;
  }
}

/** A {@link Clock} running on `base` plus the total of every {@link advance}. */
export class SteppableClock implements Clock {
  private skew = 0;
  private readonly timers = new Set<SteppedTimer>();

  constructor(private readonly base: Clock = systemClock) {}

  now(): number {
    return this.base.now() + this.skew;
  }

  wall(mono = this.now()): number {
    return this.base.wall(mono);
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = new SteppedTimer(this.now() + Math.max(0, ms), fn);
    this.timers.add(t);
    this.arm(t);
    return t;
  }

  clearTimeout(h: TimerHandle | undefined): void {
    if (!(h instanceof SteppedTimer)) return;
    this.base.clearTimeout(h.h);
    this.timers.delete(h);
  }

  /** Moves time forward by `ms`; timers now due fire on the next turn of the event loop, in due order. */
  advance(ms: number): void {
    this.skew += Math.max(0, ms);
    const pending = [...this.timers].sort((a, b) => a.at - b.at);
    for (const t of pending) {
      this.base.clearTimeout(t.h);
      this.arm(t);
    }
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.timers.size;
  }

  private arm(t: SteppedTimer): void {
    t.h = this.base.setTimeout(() => {
      this.timers.delete(t);
      t.fn();
    }, Math.max(0, t.at - this.now()));
    if (t.unrefd) (t.h as { unref?(): unknown }).unref?.();
  }
}
