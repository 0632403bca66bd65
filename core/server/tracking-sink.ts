/**
 * A {@link SiteProcess} wrapper that counts requests in progress (packets and in-process
 * `inject` requests alike), so a reload can wait for the old generation's requests to finish
 * before its modules are detached.
 */
import type { InFlight, InboundPacket, PacketSink, ReplyCallback } from '../listen/types';
import type { InjectInput, InjectReply, SiteProcess } from './namespace';

/** Counts in-flight requests of one site of one generation. */
export class TrackingSink implements SiteProcess {
  private inflight = 0;
  private total = 0;
  private waiters: (() => void)[] = [];

  constructor(readonly inner: PacketSink & Partial<Pick<SiteProcess, 'inject' | 'close'>>) {}

  /** Requests started and not yet answered. */
  get inFlight(): number {
    return this.inflight;
  }

  /** Requests handed to this sink so far. */
  get processed(): number {
    return this.total;
  }

  process(packet: InboundPacket, done: ReplyCallback): InFlight | undefined {
    const [finish] = this.track(done);
    try {
      return this.inner.process(packet, finish);
    } catch {
      // The sink contract says process never throws; be defensive anyway.
      finish(null);
      return undefined;
    }
  }

  /** Runs an in-process request; throws when the inner state machine has no `inject`. */
  inject(input: InjectInput, done: (reply: InjectReply) => void): InFlight | undefined {
    const inject = this.inner.inject?.bind(this.inner);
    if (!inject) throw new Error('this site\'s state machine cannot run in-process requests');
    const [finish, abandon] = this.track(done);
    try {
      return inject(input, finish);
    } catch (e) {
      // The contract says inject never throws; be defensive anyway (the caller sees the error).
      abandon();
      throw e;
    }
  }

  /**
   * Counts one request in; returns `done` wrapped to count it out exactly once, and an
   * `abandon` that counts it out without calling `done`.
   */
  private track<T>(done: (v: T) => void): [(v: T) => void, () => void] {
    this.inflight++;
    this.total++;
    let finished = false;
    const out = (): boolean => {
      if (finished) return false;
      finished = true;
      this.inflight--;
      return true;
    };
    return [
      (v: T) => {
        if (!out()) return;
        try {
          done(v);
        } finally {
          this.wake();
        }
      },
      () => {
        if (out()) this.wake();
      },
    ];
  }

  private wake(): void {
    if (this.inflight === 0 && this.waiters.length) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }

  /** Sends replies the inner sink still holds (reject_delay) now, if it can (`RadiusProcess.close`). */
  close(): void {
    try {
      this.inner.close?.();
    } catch { /* never let shutdown fail on this */ }
  }

  /** Resolves when nothing is in flight, or after `timeoutMs` (resolves false then). */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.inflight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== ok);
        resolve(false);
      }, timeoutMs);
      t.unref?.();
      const ok = () => {
        clearTimeout(t);
        resolve(true);
      };
      this.waiters.push(ok);
    });
  }
}
