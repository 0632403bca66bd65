/**
 * A {@link SiteProcess} wrapper that counts requests in progress (packets and in-process
 * `inject` requests alike), so a reload can wait for the old generation's requests to finish
 * before its modules are detached.
 */
import type { InFlight, InboundPacket, PacketSink, ReplyCallback } from '../listen/types';
import type { InjectInput, InjectReply, SiteProcess } from '../process/namespace';

/** Counts in-flight requests of one site of one generation. */
export class TrackingSink implements SiteProcess {
  private inflight = 0;
  private total = 0;
  private waiters: (() => void)[] = [];
  /** Signal handles of the requests in flight (for {@link cancelAll}). */
  private readonly live = new Set<InFlight>();

  /** `site`: the server (virtual server) name, for metrics. */
  constructor(readonly inner: PacketSink & Partial<Pick<SiteProcess, 'inject' | 'close'>>, readonly site = '') {}

  /** Requests started and not yet answered. */
  get inFlight(): number {
    return this.inflight;
  }

  /** Requests handed to this sink so far. */
  get processed(): number {
    return this.total;
  }

  process(packet: InboundPacket, done: ReplyCallback): InFlight | undefined {
    const [finish, , hold] = this.track(done);
    try {
      return hold(this.inner.process(packet, finish));
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
    const [finish, abandon, hold] = this.track(done);
    try {
      return hold(inject(input, finish));
    } catch (e) {
      // The contract says inject never throws; be defensive anyway (the caller sees the error).
      abandon();
      throw e;
    }
  }

  /**
   * Counts one request in; returns `done` wrapped to count it out exactly once, an
   * `abandon` that counts it out without calling `done`, and `hold`, which keeps the
   * request's signal handle until it is counted out.
   */
  private track<T>(done: (v: T) => void): [(v: T) => void, () => void, (h: InFlight | undefined) => InFlight | undefined] {
    this.inflight++;
    this.total++;
    let finished = false;
    let handle: InFlight | undefined;
    const out = (): boolean => {
      if (finished) return false;
      finished = true;
      this.inflight--;
      if (handle) this.live.delete(handle);
      return true;
    };
    const hold = (h: InFlight | undefined): InFlight | undefined => {
      if (h && !finished) {
        handle = h;
        this.live.add(h);
      }
      return h;
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
      hold,
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

  /**
   * Sends `cancel` to every request still in flight (shutdown after the drain time): each
   * unwinds (module calls see their `ctx.signal` aborted) and ends without a reply.
   * Returns how many were cancelled.
   */
  cancelAll(): number {
    const all = [...this.live];
    for (const h of all) {
      try {
        h.signal('cancel');
      } catch { /* never let shutdown fail on this */ }
    }
    return all.length;
  }

  /**
   * Resolves when nothing is in flight, or after `timeoutMs` (resolves false then). The timer
   * does not keep the process alive (a reload drains in the background); `Server.stop` holds
   * the event loop open itself while it drains.
   */
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
