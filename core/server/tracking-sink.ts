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
  /**
   * `latency`: observes each request's time from hand-over to answer (or end without one), in
   * seconds (the server's `tsradius_request_duration_seconds{server}`).
   */
  constructor(readonly inner: PacketSink & Partial<Pick<SiteProcess, 'inject' | 'close'>>, readonly site = '',
    private readonly latency?: { observe(seconds: number): void }) {}

  /** Requests started and not yet answered. */
  get inFlight(): number {
    return this.inflight;
  }

  /** Requests handed to this sink so far. */
  get processed(): number {
    return this.total;
  }

  process(packet: InboundPacket, done: ReplyCallback): InFlight | undefined {
    const t = this.track(done);
    try {
      return t.hold(this.inner.process(packet, t.finish));
    } catch {
      // The sink contract says process never throws; be defensive anyway.
      t.finish(null);
      return undefined;
    }
  }

  /** Runs an in-process request; throws when the inner state machine has no `inject`. */
  inject(input: InjectInput, done: (reply: InjectReply) => void): InFlight | undefined {
    const inner = this.inner;
    if (!inner.inject) throw new Error('this site\'s state machine cannot run in-process requests');
    const t = this.track(done);
    try {
      return t.hold(inner.inject(input, t.finish));
    } catch (e) {
      // The contract says inject never throws; be defensive anyway (the caller sees the error).
      t.abandon();
      throw e;
    }
  }

  /** Counts one request in; the returned ticket counts it out exactly once (one object per request). */
  private track<T>(done: (v: T) => void): Ticket<T> {
    this.inflight++;
    this.total++;
    return new Ticket(this, done, this.latency ? performance.now() : 0);
  }

  /** Called by a {@link Ticket} when its request ends. */
  counted(handle: InFlight | undefined, started: number): void {
    this.inflight--;
    if (this.latency) this.latency.observe((performance.now() - started) / 1000);
    if (handle) this.live.delete(handle);
  }

  /** Keeps a request's signal handle until it is counted out (for {@link cancelAll}). */
  held(handle: InFlight): void {
    this.live.add(handle);
  }

  wake(): void {
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

/**
 * One request counted by a {@link TrackingSink}: `finish` (the wrapped reply callback, bound once)
 * counts it out and then answers; `abandon` counts it out without answering; `hold` keeps its
 * signal handle while it is in flight.
 */
class Ticket<T> {
  private finished = false;
  private handle: InFlight | undefined;

  constructor(private readonly sink: TrackingSink, private readonly done: (v: T) => void, private readonly started: number) {}

  readonly finish = (v: T): void => {
    if (!this.out()) return;
    try {
      this.done(v);
    } finally {
      this.sink.wake();
    }
  };

  abandon(): void {
    if (this.out()) this.sink.wake();
  }

  hold(h: InFlight | undefined): InFlight | undefined {
    if (h && !this.finished) {
      this.handle = h;
      this.sink.held(h);
    }
    return h;
  }

  private out(): boolean {
    if (this.finished) return false;
    this.finished = true;
    this.sink.counted(this.handle, this.started);
    return true;
  }
}
