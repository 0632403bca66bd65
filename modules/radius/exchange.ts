/**
 * One packet exchange of the `radius` module with the home server (proxy or client mode): owns
 * its ID from assignment to reply / timeout / cancel / connection death and frees it on every
 * path. It is its own trunk waiter and tracked packet, so no closures are created per request.
 */
import type { Rcode, CallContext } from '../../core';
import { Pair } from '../../core';
import { requestAuthenticator } from '../../core';
import { packetCodeName, PacketCode, type RadiusPacket } from '../../core';
import type { Request } from '../../core';
import type { Waiter, DeadlineTarget, DeadlineTicket } from '../../core';
import type { RetryConfig } from './config';
import type { Connection, Tracked } from './connection';
import type { Radius } from './radius';
import { RetryTimer } from '../../core';

/** `authenticator` of packets we encode: empty = the encoder picks (random or hashed). Never written. */
export { NO_AUTH } from '../../core';
/** Placeholder Request Authenticator of an Exchange before its first encode. Never written. */
const NO_AUTH16 = Buffer.alloc(16);

export const ATTR_PROXY_STATE = 33;
export const ATTR_MA = 80;
export const ATTR_USER_NAME = 1;
export const ATTR_USER_PASSWORD = 2;

/** Reply code → module rcode (FreeRADIUS rlm_radius table). */
export function replyRcode(code: number): Rcode {
  switch (code) {
    case PacketCode.AccessAccept: case PacketCode.AccountingResponse: case PacketCode.CoAACK: case PacketCode.DisconnectACK:
      return 'ok';
    case PacketCode.AccessChallenge:
      return 'updated';
    case PacketCode.AccessReject: case PacketCode.CoANAK: case PacketCode.DisconnectNAK:
      return 'reject';
    default: // Protocol-Error included: the home server did not process the request (see Exchange.onReply)
      return 'fail';
  }
}

/**
 * One packet exchange with the home server (proxy or client mode): owns its ID from
 * assignment to reply / timeout / cancel / connection death, and frees it on every path.
 */
export class Exchange implements Tracked, Waiter<Connection>, DeadlineTarget {
  auth: Buffer = NO_AUTH16;
  private conn?: Connection;
  private id = -1;
  private buf?: Buffer;
  private timer?: ReturnType<typeof setTimeout>;
  /** The response window's deadline (one FIFO per duration in the trunk, no timer of its own). */
  private ticket?: DeadlineTicket;
  backlogTimer?: ReturnType<typeof setTimeout>;
  private retry?: RetryTimer;
  private firstSent = 0;
  private done = false;
  private resolve!: (rc: Rcode) => void;
  private acctDelay0 = 0;
  private acctDelayIdx = -1;
  private readonly rcfg: RetryConfig;

  constructor(
    private readonly inst: Radius,
    private readonly request: Request,
    private readonly ctx: CallContext,
    readonly code: number,
    private pairs: Pair[],
    private readonly client: boolean,
    private readonly mergeReply: boolean,
  ) {
    const cfg = inst._config;
    this.rcfg = code === PacketCode.AccessRequest ? cfg['Access-Request'] : code === PacketCode.AccountingRequest ? cfg['Accounting-Request']
      : code === PacketCode.CoARequest ? cfg['CoA-Request'] : cfg['Disconnect-Request'];
    const ad = inst._da['Acct-Delay-Time'];
    if (client && code === PacketCode.AccountingRequest && ad) {
      this.acctDelayIdx = pairs.findIndex((p) => p.da === ad);
      if (this.acctDelayIdx >= 0) this.acctDelay0 = Number(pairs[this.acctDelayIdx].value) || 0;
    }
  }

  /** How long this exchange may last in total (ms). */
  private lifetime(): number {
    const cfg = this.inst._config;
    if (!this.client) return cfg.response_window * 1000;
    const mrd = this.rcfg.max_rtx_duration;
    return (mrd > 0 ? mrd : cfg.response_window) * 1000;
  }

  run(): Promise<Rcode> {
    return new Promise<Rcode>((resolve) => {
      this.resolve = resolve;
      this.inst._inflight(1);
      // onSignal, not ctx.signal: reading ctx.signal makes the interpreter create an
      // AbortController per call. The interpreter delivers 'cancel' to the yielded call for
      // max_request_time, an enclosing `timeout` and shutdown alike (see CallContext).
      this.ctx.onSignal((s) => {
        if (s === 'cancel') this.cancel();
        else if (s === 'dup') this.dup();
      });
      this.inst._trunk.acquire(this, this.lifetime());
    });
  }

  private encode(c: Connection): boolean {
    const id = c.alloc(this);
    if (id === undefined) return false;
    try {
      this.buf = c.encoder.encode(this.code, id, this.pairs);
    } catch (e) {
      c.release(id, this);
      this.ctx.log.error(`cannot encode ${packetCodeName(this.code)}: ${(e as Error).message}`);
      this.finish('fail', 'encode error');
      return true;
    }
    this.conn = c;
    this.id = id;
    // A view, not a copy: `buf` is ours and never written after encoding (a changed packet gets a new buf).
    this.auth = requestAuthenticator(this.buf);
    return true;
  }

  /** Waiter: a connection is available. */
  start(c: Connection): void {
    if (this.done) return;
    if (!this.encode(c)) {
      // Raced to full: try again through the normal path.
      this.inst._trunk.acquire(this, this.lifetime());
      return;
    }
    if (this.done) return;
    const now = Date.now();
    this.firstSent = now;
    if (this.ctx.log.debugEnabled) {
      this.ctx.log.debug(`sending ${packetCodeName(this.code)} (id ${this.id}) to ${this.inst._shared.host}:${this.inst._shared.port} on ${c.label}`);
    }
    if (!c.write(this.buf!)) { this.finish('fail', 'write failed'); return; }
    if (this.done) return;
    if (this.client && this.inst._shared.transport === 'udp') {
      this.retry = new RetryTimer(this.rcfg, now);
      this.arm(this.retry.next - now);
    } else {
      this.arm(this.lifetime());
    }
  }

  private arm(ms: number): void {
    this.disarm();
    // deadline, not later: replies that arrived while this process was stalled are read before the verdict.
    // The whole lifetime (every proxied request's response window) is the same duration for all
    // exchanges of a kind, so it is queued in the trunk's FIFO; retry intervals vary and get a timer.
    if (ms === this.lifetime()) this.ticket = this.inst._trunk.fixedDeadline(ms, this);
    else this.timer = this.inst._trunk.deadline(ms, () => this.expire());
  }

  private disarm(): void {
    if (this.timer !== undefined) { this.inst._trunk.cancel(this.timer); this.timer = undefined; }
    if (this.ticket !== undefined) { this.inst._trunk.cancelFixed(this.ticket); this.ticket = undefined; }
  }

  /** DeadlineTarget: the response window is over. */
  onDeadline(): void {
    this.ticket = undefined;
    this.expire();
  }

  private expire(): void {
    if (this.done) return;
    const now = Date.now();
    if (this.retry) {
      const ev = this.retry.fire(now);
      if (ev === 'retry') {
        this.retransmit(now);
        if (!this.done) this.arm(this.retry.next - now);
        return;
      }
    }
    const c = this.conn;
    if (c) c.counters.timed_out++;
    this.ctx.log.debug(`no reply to ${packetCodeName(this.code)} (id ${this.id}) after ${((now - this.firstSent) / 1000).toFixed(1)}s`);
    this.finish('fail', 'timeout');
    if (c) this.inst._zombie(c, this.firstSent);
  }

  /** Client mode: retransmit, re-encoding with a new ID when the content changes. */
  private retransmit(now: number): void {
    const c = this.conn!;
    if (this.acctDelayIdx >= 0) {
      const ad = this.inst._da['Acct-Delay-Time']!;
      const v = this.acctDelay0 + Math.floor((now - this.firstSent) / 1000);
      if (v !== Number(this.pairs[this.acctDelayIdx].value)) {
        this.pairs = this.pairs.slice();
        this.pairs[this.acctDelayIdx] = new Pair(ad, v);
        // Changed content: a new ID and a new authenticator; never the old bytes.
        const target = c.state === 'active' || c.state === 'full' ? c : this.inst._trunk.pick() ?? c;
        c.release(this.id, this);
        this.conn = undefined;
        this.id = -1;
        if (!this.encode(target) && !this.done) {
          const other = this.inst._trunk.pick();
          if (!other || !this.encode(other)) { this.finish('fail', 'no ID free for the retransmission'); return; }
        }
        if (this.done) return;
        if (this.ctx.log.debugEnabled) this.ctx.log.debug(`retransmitting ${packetCodeName(this.code)} with Acct-Delay-Time = ${v} as id ${this.id}`);
        this.conn!.write(this.buf!, true);
        this.inst._zombie(this.conn!, this.firstSent);
        return;
      }
    }
    if (this.ctx.log.debugEnabled) this.ctx.log.debug(`retransmitting ${packetCodeName(this.code)} (id ${this.id})`);
    c.write(this.buf!, true);
    this.inst._zombie(c, this.firstSent);
  }

  /** The connection became a zombie: move to `to` with a new ID and send there (the timers keep running). */
  requeue(to: Connection): void {
    if (this.done || !this.conn || to === this.conn) return;
    const from = this.conn;
    from.release(this.id, this);
    this.conn = undefined;
    this.id = -1;
    if (!this.encode(to)) { this.finish('fail', 'no ID free to requeue'); return; }
    if (this.done) return;
    if (this.ctx.log.debugEnabled) this.ctx.log.debug(`${from.label} is a zombie: re-sending ${packetCodeName(this.code)} as id ${this.id} on ${to.label}`);
    to.write(this.buf!, true);
  }

  /** Proxy mode: the NAS retransmitted; re-send the same bytes with the same ID (UDP only). */
  private dup(): void {
    if (this.done || this.client || !this.conn || !this.buf) return;
    if (this.inst._shared.transport !== 'udp') {
      this.ctx.log.debug('the NAS retransmitted; TCP does not retransmit upstream');
      return;
    }
    this.ctx.log.debug(`the NAS retransmitted; re-sending ${packetCodeName(this.code)} (id ${this.id})`);
    this.conn.write(this.buf, true);
    this.inst._zombie(this.conn, this.firstSent);
  }

  /** Waiter: no connection (fail now). */
  fail(why: string): void {
    if (this.done) return;
    this.ctx.log.debug(`not sent: ${why}`);
    this.finish('fail', why);
  }

  private cancel(): void {
    if (this.done) return;
    this.inst._extra.cancelled++;
    this.finish('fail', 'cancelled');
  }

  /** Tracked: verified reply. */
  onReply(pkt: RadiusPacket): void {
    if (this.done) return;
    this.id = -1; // already released by the connection
    if (pkt.code === PacketCode.ProtocolError) {
      this.inst._protocolError(pkt, this.code);
      this.finish('fail', 'Protocol-Error');
      return;
    }
    const rc = replyRcode(pkt.code);
    const ctx = this.ctx;
    if (ctx.log.debugEnabled) {
      ctx.log.debug(`received ${packetCodeName(pkt.code)} (id ${pkt.id}) after ${Date.now() - this.firstSent}ms -> ${rc}`);
    }
    if (this.mergeReply) {
      for (const p of pkt.pairs) {
        const top = p.da.parent?.type === 'root';
        if (top && (p.da.attr === ATTR_PROXY_STATE || p.da.attr === ATTR_MA)) continue;
        this.request.reply.push(p);
      }
      // Proxy mode: the home server's decision becomes ours (the process layer reads reply.Packet-Type).
      const pt = this.inst._da['Packet-Type'];
      if (!this.client && pt) {
        const reply = this.request.reply;
        const i = reply.findIndex((p) => p.da === pt);
        if (i >= 0) reply.splice(i, 1);
        reply.push(new Pair(pt, pkt.code));
      }
    }
    this.finish(rc, 'answered');
  }

  /** Tracked: the connection died. */
  onDead(reason: string): void {
    if (this.done) return;
    this.id = -1;
    this.ctx.log.debug(`connection failed: ${reason}`);
    this.finish('fail', reason);
  }

  private finish(rc: Rcode, _why: string): void {
    if (this.done) return;
    this.done = true;
    this.disarm();
    if (this.backlogTimer !== undefined) this.inst._trunk.unqueue(this);
    if (this.conn && this.id >= 0) this.conn.release(this.id, this);
    this.id = -1;
    this.inst._inflight(-1);
    this.resolve(rc);
  }
}
