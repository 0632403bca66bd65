/**
 * A {@link PacketSink} wrapper that counts requests in progress, so a reload can wait for the
 * old generation's requests to finish before its modules are detached.
 */
import type { InFlight, InboundPacket, PacketSink, ReplyCallback } from '../listen/types';

/** Counts in-flight requests of one site of one generation. */
export class TrackingSink implements PacketSink {
  private inflight = 0;
  private total = 0;
  private waiters: (() => void)[] = [];

  /** `site`: the server (virtual server) name, for metrics. */
  constructor(readonly inner: PacketSink, readonly site = '') {}

  /** Requests started and not yet answered. */
  get inFlight(): number {
    return this.inflight;
  }

  /** Requests handed to this sink so far. */
  get processed(): number {
    return this.total;
  }

  process(packet: InboundPacket, done: ReplyCallback): InFlight | undefined {
    this.inflight++;
    this.total++;
    let finished = false;
    const finish: ReplyCallback = (reply) => {
      if (finished) return;
      finished = true;
      this.inflight--;
      try {
        done(reply);
      } finally {
        if (this.inflight === 0 && this.waiters.length) {
          const w = this.waiters;
          this.waiters = [];
          for (const f of w) f();
        }
      }
    };
    try {
      return this.inner.process(packet, finish);
    } catch {
      // The sink contract says process never throws; be defensive anyway.
      finish(null);
      return undefined;
    }
  }

  /** Sends replies the inner sink still holds (reject_delay) now, if it can (`RadiusProcess.close`). */
  close(): void {
    try {
      (this.inner as { close?: () => void }).close?.();
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
