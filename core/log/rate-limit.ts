/**
 * Rate-limited logging for floods (unknown clients, bad authenticators): per key, at most
 * `burst` lines per `interval`; what goes over is counted and reported as one line
 * `<key>: suppressed K similar messages` when the window ends (on the next message for that
 * key, on {@link RateLimitedLog.flush}, or by the limiter's own unref'd timer).
 */
import type { Logger } from './logger';
import type { LogLevelName } from './memory';

/** Options of {@link RateLimitedLog}. */
export interface RateLimitOptions {
  /** Lines allowed per key and interval (default 5). */
  readonly burst?: number;
  /** Window length in milliseconds (default 10 000). */
  readonly interval?: number;
  /** Keys tracked at once; beyond it new keys share one bucket `*` (default 1000). */
  readonly maxKeys?: number;
  /** Clock (milliseconds), for tests. */
  readonly now?: () => number;
  /** Report suppressed counts from a timer even when no further message comes (default true). */
  readonly timer?: boolean;
}

interface Bucket {
  start: number;
  count: number;
  suppressed: number;
  level: LogLevelName;
}

/** A logger front that limits lines per key. */
export class RateLimitedLog {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burst: number;
  private readonly interval: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly useTimer: boolean;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly log: Logger, opts: RateLimitOptions = {}) {
    this.burst = opts.burst ?? 5;
    this.interval = opts.interval ?? 10_000;
    this.maxKeys = opts.maxKeys ?? 1000;
    this.now = opts.now ?? Date.now;
    this.useTimer = opts.timer ?? true;
  }

  /** Logs `msg` at `level` unless `key` already used its burst in this window. Returns whether it was written. */
  write(level: LogLevelName, key: string, msg: string): boolean {
    const t = this.now();
    let k = key;
    let b = this.buckets.get(k);
    if (!b && this.buckets.size >= this.maxKeys) {
      this.sweep(t);
      if (this.buckets.size >= this.maxKeys) {
        k = '*';
        b = this.buckets.get(k);
      }
    }
    if (b && t - b.start >= this.interval) {
      this.report(k, b);
      b.start = t;
      b.count = 0;
    }
    if (!b) {
      b = { start: t, count: 0, suppressed: 0, level };
      this.buckets.set(k, b);
    }
    if (b.count < this.burst) {
      b.count++;
      this.log[level](msg);
      return true;
    }
    b.suppressed++;
    b.level = level;
    this.arm();
    return false;
  }

  /** `write('debug', …)`. */
  debug(key: string, msg: string): boolean { return this.write('debug', key, msg); }
  /** `write('info', …)`. */
  info(key: string, msg: string): boolean { return this.write('info', key, msg); }
  /** `write('warn', …)`. */
  warn(key: string, msg: string): boolean { return this.write('warn', key, msg); }
  /** `write('error', …)`. */
  error(key: string, msg: string): boolean { return this.write('error', key, msg); }

  /** Reports every finished window (`all`: every window) and forgets idle keys. */
  flush(all = false): void {
    const t = this.now();
    for (const [k, b] of this.buckets) {
      if (all || t - b.start >= this.interval) {
        this.report(k, b);
        this.buckets.delete(k);
      }
    }
    if (this.timer && ![...this.buckets.values()].some((b) => b.suppressed > 0)) this.disarm();
  }

  /** Reports what is pending and stops the timer. */
  close(): void {
    this.flush(true);
    this.disarm();
  }

  /** Number of keys currently tracked. */
  get size(): number {
    return this.buckets.size;
  }

  private report(key: string, b: Bucket): void {
    if (b.suppressed === 0) return;
    const n = b.suppressed;
    b.suppressed = 0;
    this.log[b.level](`${key}: suppressed ${n} similar message${n === 1 ? '' : 's'}`);
  }

  private sweep(t: number): void {
    for (const [k, b] of this.buckets) {
      if (t - b.start >= this.interval) {
        this.report(k, b);
        this.buckets.delete(k);
      }
    }
  }

  private arm(): void {
    if (!this.useTimer || this.timer) return;
    this.timer = setInterval(() => this.flush(), this.interval);
    this.timer.unref?.();
  }

  private disarm(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
