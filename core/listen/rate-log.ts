/**
 * A minimal rate-limited logger for drop messages: at most one line per key
 * per interval; the next line after a quiet period reports how many were
 * suppressed. (Stands in until core/log ships its RateLimitedLog.)
 */
import type { Logger } from '../log/logger';

interface Slot { next: number; suppressed: number }

/** Logs at most once per `intervalMs` per key. */
export class DropLog {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly log: Logger | undefined, private readonly intervalMs = 1000) {}

  /** Logs `msg()` under `key` at warn level unless the key logged recently. `msg` is only called when logging. */
  warn(key: string, msg: () => string): void {
    const log = this.log;
    if (!log) return;
    const now = Date.now();
    let s = this.slots.get(key);
    if (!s) {
      // Bound the table: keys are reasons (few), not addresses, but be safe.
      if (this.slots.size > 1024) this.slots.clear();
      s = { next: 0, suppressed: 0 };
      this.slots.set(key, s);
    }
    if (now < s.next) {
      s.suppressed++;
      return;
    }
    const extra = s.suppressed > 0 ? ` (${s.suppressed} similar messages suppressed)` : '';
    s.suppressed = 0;
    s.next = now + this.intervalMs;
    try { log.warn(msg() + extra); } catch { /* logging must not break the listener */ }
  }
}
