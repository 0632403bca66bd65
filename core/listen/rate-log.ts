/**
 * Drop logging for listeners: a thin adapter over core/log's
 * {@link RateLimitedLog} (per reason key: a short burst, then one
 * "suppressed N similar messages" line per window).
 */
import type { Logger } from '../log/logger';
import { RateLimitedLog } from '../log/rate-limit';

/** Logs drop reasons at a limited rate; a no-op without a logger. */
export class DropLog {
  private readonly limited: RateLimitedLog | undefined;

  constructor(log: Logger | undefined, opts: { burst?: number; interval?: number } = {}) {
    this.limited = log ? new RateLimitedLog(log, { burst: opts.burst ?? 5, interval: opts.interval ?? 10_000 }) : undefined;
  }

  /** Logs `msg()` under `key` at warn level unless the key is over its rate. */
  warn(key: string, msg: () => string): void {
    const l = this.limited;
    if (!l) return;
    try { l.write('warn', key, msg()); } catch { /* logging must not break the listener */ }
  }
}
