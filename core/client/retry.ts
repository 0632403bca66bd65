/**
 * RFC 5080 §2.2.1 retransmission timers, as FreeRADIUS's `fr_retry_t` computes them:
 *
 * - first timeout `RT = IRT·(1 + RAND)`, RAND uniform in ±0.1;
 * - then `RT = RTprev·(2 + RAND)`; when that exceeds MRT, `RT = MRT·(1 + RAND)`;
 * - `next` advances from the previous `next`, not from "now", so the schedule does not drift;
 *   a slot that was missed entirely (the event loop was late by more than RT) is skipped;
 * - the exchange ends when MRC transmissions were made (`mrc`) or MRD elapsed (`mrd`);
 *   0 means "no limit" for either; `mrc = 1` means a single timeout of MRD.
 *
 * Times are milliseconds; config values are seconds.
 */

/** Timer settings in seconds (a parsed `Access-Request { … }` section). */
export interface RetrySettings {
  readonly initial_rtx_time: number;
  readonly max_rtx_time: number;
  readonly max_rtx_count: number;
  readonly max_rtx_duration: number;
}

/** What a timer expiry means. */
export type RetryEvent = 'retry' | 'mrc' | 'mrd';

/** One exchange's retry state. */
export class RetryTimer {
  /** When the first transmission was made (ms). */
  readonly start: number;
  /** When the timer fires next (ms). */
  next: number;
  /** Current RT (ms). */
  rt: number;
  /** Transmissions made so far (1 after the first send). */
  count = 1;
  /** start + MRD, or Infinity. */
  readonly end: number;
  private readonly irt: number;
  private readonly mrt: number;
  private readonly mrc: number;

  constructor(cfg: RetrySettings, now: number, private readonly rand: () => number = Math.random) {
    this.start = now;
    this.irt = cfg.initial_rtx_time * 1000;
    this.mrt = cfg.max_rtx_time * 1000;
    this.mrc = cfg.max_rtx_count;
    const mrd = cfg.max_rtx_duration * 1000;
    this.end = mrd > 0 ? now + mrd : this.mrc > 0 ? now + Math.max(this.mrt * this.mrc, this.irt) : Infinity;
    this.rt = this.irt * (1 + this.jitter());
    if (this.mrc === 1) {
      // A single transmission: wait MRD (or, without MRD, one RT).
      this.next = Number.isFinite(this.end) && mrd > 0 ? this.end : now + this.rt;
    } else {
      this.next = Math.min(now + this.rt, this.end);
    }
  }

  /** RAND in ±0.1. */
  private jitter(): number {
    return (this.rand() * 2 - 1) * 0.1;
  }

  /**
   * The timer fired at `now`. Returns `retry` (retransmit now; `next` is advanced) or the
   * reason the exchange is over.
   */
  fire(now: number): RetryEvent {
    if (this.mrc > 0 && this.count >= this.mrc) return 'mrc';
    if (now >= this.end) return 'mrd';
    this.count++;
    this.rt = this.rt * (2 + this.jitter());
    if (this.rt > this.mrt) this.rt = this.mrt * (1 + this.jitter());
    this.next += this.rt;
    // Skip slots that were missed entirely, keeping the grid (no drift).
    while (this.next <= now) this.next += this.rt;
    if (this.next > this.end) this.next = this.end;
    return 'retry';
  }
}
