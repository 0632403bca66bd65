/**
 * The `radius` instance: proxies, originates or replicates packets to one home server over a
 * pool of connections (see `connection.ts` for a connection's states).
 *
 * - **proxy**: forwards the request's pairs with our own Proxy-State (loop detection: two
 *   copies of ours already in the request → `fail`). No timers of our own: the packet is
 *   re-sent (same bytes, same ID; UDP only) when the NAS retransmits (`dup` signal), and one
 *   `response_window` timeout applies.
 * - **client**: originates the packet with RFC 5080 timers per type (`retry.ts`). A
 *   retransmitted Accounting-Request gets its Acct-Delay-Time updated; a changed packet gets a
 *   new ID and is re-encoded (new authenticator, Message-Authenticator recomputed); an
 *   unchanged one is re-sent as it is. TCP never retransmits: one timeout of MRD.
 * - **replicate**: writes the packet and returns `ok`; replies are ignored.
 *
 * New packets go to the *most lively* active connection (the one that answered last). When
 * none is active the call fails at once if the home server is unwell (zombie / dead /
 * reopening after a failure), else it waits in a bounded backlog for a connection to open or
 * an ID to free. Limits (`max_outstanding`, `pool.max`) are divided between worker processes.
 */
import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { sectionOf } from '../../core/config/schema';
import type { DictAttr } from '../../core/dict/attr';
import type { Dictionary } from '../../core/dict/dictionary';
import { workerShare } from '../../core/listen/cluster';
import type { Logger } from '../../core/log/logger';
import type { CallContext, Rcode } from '../../core/module/api';
import type { BootstrapContext, InstantiateContext, ModuleInstance } from '../../core/module/define';
import { MODULE_CONFIG, MODULE_LOG, MODULE_NAME } from '../../core/module/tokens';
import { makeAt } from '../../core/module/at';
import { Pair } from '../../core/pair/pair';
import { encodePacket, packetCodeName, PacketCode, type RadiusPacket } from '../../core/protocol/radius';
import { randomBytes } from '../../core/protocol/radius/crypto';
import type { Request } from '../../core/request/request';
import { SENDABLE_TYPES, type RadiusConfig, type RetryConfig } from './config';
import { Connection, newCounters, type ConnCounters, type ConnShared, type ConnState, type Tracked } from './connection';
import { RetryTimer } from './retry';
import { allowedCodes, statusCheck, transportOf } from './validate';

/** `authenticator` of packets we encode: empty = the encoder picks (random or hashed). Never written. */
const NO_AUTH = Buffer.alloc(0);
/** Placeholder Request Authenticator of an Exchange before its first encode. Never written. */
const NO_AUTH16 = Buffer.alloc(16);

const ATTR_PROXY_STATE = 33;
const ATTR_MA = 80;

/** Reply code → module rcode (FreeRADIUS rlm_radius table). */
export function replyRcode(code: number): Rcode {
  switch (code) {
    case PacketCode.AccessAccept: case PacketCode.AccountingResponse: case PacketCode.CoAACK: case PacketCode.DisconnectACK:
      return 'ok';
    case PacketCode.AccessChallenge:
      return 'updated';
    case PacketCode.AccessReject: case PacketCode.CoANAK: case PacketCode.DisconnectNAK:
      return 'reject';
    case PacketCode.ProtocolError:
      return 'handled';
    default:
      return 'fail';
  }
}

/** Instance-level counters (connection counters summed, plus instance events). */
export interface InstanceCounters extends ConnCounters {
  /** Calls refused because max_outstanding was reached. */
  limit_outstanding: number;
  /** Calls that failed at once because the home server is zombie / dead. */
  fail_fast: number;
  /** Calls that waited in the backlog. */
  backlogged: number;
  /** Calls that failed because the backlog was full or timed out. */
  backlog_failed: number;
  /** Calls refused by Proxy-State loop detection. */
  loops: number;
  /** Calls cancelled while in flight (ID released). */
  cancelled: number;
}

/** One connection in {@link RadiusStats}. */
export interface ConnectionStats extends ConnCounters {
  number: number;
  state: ConnState;
  reason: string;
  outstanding: number;
  ids_in_use: number;
  local_port: number;
  last_reply: number;
}

/** What `stats()` returns. */
export interface RadiusStats {
  instance: string;
  mode: string;
  home: string;
  /** Summary state: active when some connection is active or full, else the best of the others. */
  state: ConnState;
  outstanding: number;
  backlog: number;
  limits: { max_outstanding: number; max_connections: number; workers: number };
  counters: InstanceCounters;
  connections: ConnectionStats[];
}

/** A packet waiting for a connection (an Exchange: no closures per request). */
interface Waiter {
  start(c: Connection): void;
  fail(why: string): void;
  /** The backlog timeout, while queued. */
  backlogTimer?: ReturnType<typeof setTimeout>;
}

/** The `radius` module instance. */
@injectable()
export class Radius implements ModuleInstance {
  private dict!: Dictionary;
  private conns: Connection[] = [];
  private shared!: ConnShared;
  private allowed = new Set<number>();
  private proxyState = randomBytes(8);
  /** Our Proxy-State as a pair (only ever read by the encoder, so one object serves every packet). */
  private proxyStatePair: Pair | undefined;
  private da: Record<string, DictAttr | undefined> = {};
  private statusCode = 0;
  private statusPairs: Pair[] = [];
  private maSeen = false;
  private inflight = 0;
  private backlog: Waiter[] = [];
  private maxOutstanding = 1;
  private maxConns = 1;
  private workers = 1;
  private closed = false;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  /** Counters of connections that were replaced. */
  private retiredCounters = newCounters();
  private readonly extra = { limit_outstanding: 0, fail_fast: 0, backlogged: 0, backlog_failed: 0, loops: 0, cancelled: 0 };
  /** Until when (ms) calls fail at once after a zombie_period without status checks. */
  private holdUntil = 0;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: RadiusConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
    @inject(MODULE_NAME) private readonly name: string,
  ) {}

  /** Registers `%<instance>.stats([counter])`. */
  bootstrap(ctx: BootstrapContext): void {
    ctx.registerXlat(`${this.name}.stats`, (_x, args) => [this.statsValue(statsKey(args))], { maxArgs: 1, wordArgs: true });
  }

  /** Builds the status check and opens `pool.start` connections (the config was checked by `validateRadiusConfig`). */
  instantiate(ctx: InstantiateContext): void {
    this.dict = ctx.dict;
    const c = this.config;
    this.allowed = allowedCodes(c);
    const { tr, host } = transportOf(c);
    for (const n of ['Proxy-State', 'Message-Authenticator', 'User-Name', 'User-Password', 'Acct-Delay-Time', 'Event-Timestamp',
      'NAS-Identifier', 'CHAP-Password', 'CHAP-Challenge', 'Packet-Authentication-Vector', 'Packet-Type']) {
      this.da[n] = ctx.dict.resolve(n);
    }
    if (this.da['Proxy-State']) this.proxyStatePair = new Pair(this.da['Proxy-State'], this.proxyState);
    if (c.status_check && c.mode !== 'replicate') {
      ({ code: this.statusCode, pairs: this.statusPairs } = statusCheck(c, ctx.dict, makeAt(sectionOf(c)!)));
    }
    this.workers = workerShare();
    this.maxOutstanding = Math.max(1, Math.floor(c.max_outstanding / this.workers));
    this.maxConns = Math.max(1, Math.floor(c.pool.max / this.workers));
    this.shared = {
      transport: c.transport, host, port: tr.port, srcAddr: tr.src_ipaddr, recvBuff: tr.recv_buff, sendBuff: tr.send_buff,
      secret: Buffer.from(tr.secret!, 'utf8'), dict: ctx.dict, maxPacketSize: c.max_packet_size, maxAttributes: c.max_attributes,
      perConnectionMax: this.statusCode ? Math.min(c.pool.per_connection_max, 254) : c.pool.per_connection_max,
      connectTimeout: c.pool.connect_timeout,
      requireMa: () => c.require_message_authenticator === 'yes' || (c.require_message_authenticator === 'auto' && this.maSeen),
      sawMa: () => { this.maSeen = true; },
      replicate: c.mode === 'replicate',
    };
    const n = Math.min(Math.max(c.pool.start, c.pool.min), this.maxConns);
    this.log.info(`${c.mode} to ${c.transport} ${host}:${tr.port}; ${n} connection(s) at start, at most ${this.maxConns}` +
      `${this.workers > 1 ? ` per worker (${this.workers} workers)` : ''}; max_outstanding ${this.maxOutstanding}` +
      `${this.statusCode ? `; status checks with ${packetCodeName(this.statusCode)}` : ''}`);
    for (let i = 0; i < n; i++) this.openConn(false);
  }

  /** Closes every connection and fails whatever is still waiting. Safe after a partial instantiate. */
  detach(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const w of this.backlog.splice(0)) { this.extra.backlog_failed++; w.fail('shutting down'); }
    for (const c of this.conns) {
      const inflight = c.inFlight();
      c.closeSocket();
      for (const { id, t } of inflight) { c.release(id, t); t.onDead('shutting down'); }
    }
    this.conns = [];
  }

  // ───────────────────────── pool ─────────────────────────

  private later(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => { this.timers.delete(t); if (!this.closed) fn(); }, Math.max(0, ms));
    this.timers.add(t);
    return t;
  }

  private cancelTimer(t: ReturnType<typeof setTimeout> | undefined): void {
    if (t) { clearTimeout(t); this.timers.delete(t); }
  }

  private openConn(reviving: boolean): Connection {
    const c = new Connection(this.shared, {
      state: (conn, from, to, reason) => this.onState(conn, from, to, reason),
      idFreed: () => this.drain(),
      reply: (conn, status) => this.onReply(conn, status),
    });
    c.reviving = reviving;
    if (this.statusCode) c.reserveStatusId();
    this.conns.push(c);
    this.log.info(`${c.label}: opening${reviving ? ' (reopening after a failure)' : ''}`);
    c.open(() => {
      if (this.closed) return c.closeSocket();
      if (this.statusCode) {
        this.log.info(`${c.label}: connected; needs ${this.config.status_check!.num_answers_to_alive} answers to ${packetCodeName(this.statusCode)} before it is active`);
        this.startChecks(c);
      } else {
        c.setState('active', 'connected');
      }
    });
    return c;
  }

  private onState(c: Connection, from: ConnState, to: ConnState, reason: string): void {
    this.log.info(`${c.label}: ${from} -> ${to} (${reason})`);
    if (to === 'active') c.reviving = false;
    if (to === 'dead') {
      for (const { id, t } of c.inFlight()) { c.release(id, t); t.onDead(reason); }
      c.trackStatus(undefined);
      const delay = this.holdUntil > Date.now() ? this.holdUntil - Date.now() : this.config.pool.reconnect_delay * 1000;
      this.later(delay, () => this.replace(c));
    }
    if (to === 'full' && !this.conns.some((x) => x.state === 'active') && this.liveCount() < this.maxConns) this.openConn(false);
    if (to === 'active') this.drain();
    else this.failBacklogIfUnwell();
  }

  /** Connections that count against pool.max (every one not dead). */
  private liveCount(): number {
    return this.conns.filter((x) => x.state !== 'dead').length;
  }

  /** Replaces a dead connection by a fresh one (or just drops it when the pool has enough). */
  private replace(c: Connection): void {
    const i = this.conns.indexOf(c);
    if (i < 0) return;
    this.conns.splice(i, 1);
    add(this.retiredCounters, c.counters);
    if (this.liveCount() < Math.max(1, Math.min(this.config.pool.min, this.maxConns))) this.openConn(true);
    else this.failBacklogIfUnwell();
  }

  /** The most lively active connection: the one that answered last (ties: the one written to least recently). */
  private pick(): Connection | undefined {
    let best: Connection | undefined;
    for (const c of this.conns) {
      if (c.state !== 'active') continue;
      if (!best || c.lastReply > best.lastReply || (c.lastReply === best.lastReply && c.lastSent < best.lastSent)) best = c;
    }
    return best;
  }

  /** True when calls must fail at once: nothing active, full or freshly opening, and something is unwell. */
  private unwell(): boolean {
    if (Date.now() < this.holdUntil && !this.conns.some((c) => c.state === 'active' || c.state === 'full')) return true;
    let bad = false;
    for (const c of this.conns) {
      if (c.state === 'active' || c.state === 'full' || (c.state === 'opening' && !c.reviving)) return false;
      bad = true;
    }
    return bad;
  }

  private failBacklogIfUnwell(): void {
    if (this.backlog.length && this.unwell()) {
      for (const w of this.backlog.splice(0)) { this.cancelTimer(w.backlogTimer); this.extra.backlog_failed++; w.fail('home server is not responding'); }
    }
  }

  private drain(): void {
    while (this.backlog.length) {
      const c = this.pick();
      if (!c) return;
      const w = this.backlog.shift()!;
      this.cancelTimer(w.backlogTimer);
      w.backlogTimer = undefined;
      w.start(c);
    }
  }

  /**
   * Gets a connection for a new packet: `w.start(c)` at once, `w.fail(why)` now, or `w` waits in
   * the backlog (up to `waitMs`) until `drain` starts it. A cancelled waiter leaves with {@link unqueue}.
   */
  private acquire(w: Waiter, waitMs: number): void {
    const c = this.pick();
    if (c) return w.start(c);
    if (this.unwell()) { this.extra.fail_fast++; return w.fail('home server is zombie or dead'); }
    if (!this.conns.some((x) => x.state === 'opening') && this.liveCount() < this.maxConns) this.openConn(false);
    if (this.backlog.length >= this.config.pool.max_backlog) { this.extra.backlog_failed++; return w.fail('backlog full'); }
    this.extra.backlogged++;
    w.backlogTimer = this.later(waitMs, () => {
      w.backlogTimer = undefined;
      const i = this.backlog.indexOf(w);
      if (i >= 0) { this.backlog.splice(i, 1); this.extra.backlog_failed++; w.fail('no connection became available in time'); }
    });
    this.backlog.push(w);
  }

  /** Takes a waiter out of the backlog (it was cancelled or finished): no slot is handed to it later. */
  private unqueue(w: Waiter): void {
    if (w.backlogTimer === undefined) return;
    this.cancelTimer(w.backlogTimer);
    w.backlogTimer = undefined;
    const i = this.backlog.indexOf(w);
    if (i >= 0) this.backlog.splice(i, 1);
  }

  // ───────────────────────── zombies and status checks ─────────────────────────

  /** Zombie test after a timeout, retransmit or dup of a packet first sent at `firstSent`. */
  private checkZombie(c: Connection, firstSent: number): void {
    if (c.state !== 'active' && c.state !== 'full') return;
    const now = Date.now();
    // Timers may fire a millisecond early as Date.now() sees it: allow a small tolerance.
    const rw = this.config.response_window * 1000 - 5;
    if (c.lastReply >= firstSent) return;
    if (now - c.lastReply < rw) return;
    if (now - firstSent < rw) return;
    const since = c.lastReply ? `${((now - c.lastReply) / 1000).toFixed(1)}s` : 'ever';
    c.setState('zombie', `no reply for ${since} with ${c.outstanding} packet(s) outstanding (response_window ${this.config.response_window}s)`);
    c.answersInRow = 0;
    // Packets still in flight on the zombie move to a live connection when there is one (new ID, re-sent).
    for (const { t } of c.inFlight()) {
      const to = this.pick();
      if (!to) break;
      if (t instanceof Exchange) t.requeue(to);
    }
    if (this.statusCode) {
      this.startChecks(c);
    } else {
      c.timers.push(this.later(this.config.zombie_period * 1000, () => {
        if (c.state !== 'zombie') return;
        this.holdUntil = Date.now() + this.config.revive_interval * 1000;
        c.fail(`zombie_period ${this.config.zombie_period}s over without a reply; failing calls for revive_interval ${this.config.revive_interval}s`);
      }));
    }
  }

  private onReply(c: Connection, status: boolean): void {
    if (c.state === 'zombie' && !this.statusCode) {
      c.setState('active', 'a reply arrived during zombie_period');
      return;
    }
    if ((c.state === 'zombie' || c.state === 'opening') && this.statusCode) {
      c.answersInRow++;
      const need = this.config.status_check!.num_answers_to_alive;
      if (c.answersInRow >= need) {
        this.stopChecks(c);
        c.setState(c.outstanding >= this.shared.perConnectionMax ? 'full' : 'active', `${c.answersInRow} consecutive answers to status checks`);
      } else if (status) {
        this.sendCheck(c, true);
      }
    }
  }

  private checkTimer = new WeakMap<Connection, { timer?: ReturnType<typeof setTimeout>; retry?: RetryTimer }>();

  private startChecks(c: Connection): void {
    this.sendCheck(c, true);
  }

  private stopChecks(c: Connection): void {
    const s = this.checkTimer.get(c);
    if (s) this.cancelTimer(s.timer);
    this.checkTimer.delete(c);
    c.trackStatus(undefined);
  }

  /** Sends one status check on the reserved ID; `fresh` restarts the retry schedule. */
  private sendCheck(c: Connection, fresh: boolean): void {
    if (this.closed || (c.state !== 'zombie' && c.state !== 'opening')) return;
    let s = this.checkTimer.get(c);
    if (!s) this.checkTimer.set(c, (s = {}));
    this.cancelTimer(s.timer);
    const now = Date.now();
    if (fresh || !s.retry) s.retry = new RetryTimer(this.config['Status-Server'], now);
    const pairs = this.statusPairs.slice();
    if (this.da['Event-Timestamp']) pairs.push(new Pair(this.da['Event-Timestamp'], Math.floor(now / 1000)));
    let buf: Buffer;
    try {
      buf = encodePacket({ code: this.statusCode, id: c.statusId, authenticator: Buffer.alloc(0), pairs },
        { dict: this.dict, secret: this.shared.secret, messageAuthenticator: true });
    } catch (e) {
      this.log.error(`${c.label}: cannot encode the status check: ${(e as Error).message}`);
      return;
    }
    const t: Tracked = { code: this.statusCode, auth: Buffer.from(buf.subarray(4, 20)), onReply: () => undefined, onDead: () => undefined };
    c.trackStatus(t);
    if (this.log.debugEnabled) this.log.debug(`${c.label}: sending ${packetCodeName(this.statusCode)} (id ${c.statusId}) as status check`);
    c.write(buf, !fresh);
    const retry = s.retry;
    s.timer = this.later(retry.next - now, () => {
      if (c.state !== 'zombie' && c.state !== 'opening') return;
      const ev = retry.fire(Date.now());
      if (ev === 'retry') return this.sendCheck(c, false);
      this.stopChecks(c);
      c.fail(`status checks unanswered (${ev === 'mrc' ? `max_rtx_count ${this.config['Status-Server'].max_rtx_count}` : `max_rtx_duration ${this.config['Status-Server'].max_rtx_duration}s`})`);
    });
  }

  // ───────────────────────── the method ─────────────────────────

  /** Sends the packet according to `mode`; see the module comment. */
  send(request: Request, ctx: CallContext): Rcode | Promise<Rcode> {
    if (this.closed || !this.shared) return 'fail';
    const mode = this.config.mode;
    let code = request.code;
    let pairs: readonly Pair[] = request.request;
    let originated = false;
    if (mode === 'client') {
      const pt = this.da['Packet-Type'] && request.control.find((p) => p.da === this.da['Packet-Type']);
      if (pt && typeof pt.value === 'number' && pt.value !== request.code) {
        code = pt.value;
        originated = true;
      } else if (!this.allowed.has(code) && this.allowed.size === 1) {
        code = [...this.allowed][0];
        originated = true;
      }
      if (originated) pairs = request.list(this.config.originate_list).filter((p) => p.da !== this.da['Packet-Type']);
    }
    if (code === PacketCode.StatusServer) {
      ctx.log.debug('Status-Server is never proxied');
      return 'noop';
    }
    if (!this.allowed.has(code)) {
      ctx.log.warn(`${packetCodeName(code)} is not a "type" this instance may send`);
      return 'invalid';
    }
    // Build the pair list to send.
    const out: Pair[] = [];
    let ours = 0;
    let chapPw = false;
    let chapChallenge = false;
    let vector: Buffer | undefined;
    for (const p of pairs) {
      const top = p.da.parent?.type === 'root';
      if (top && p.da.attr === ATTR_MA) continue;
      if (p.da === this.da['Packet-Authentication-Vector']) { vector = p.value as Buffer; continue; }
      if (top && p.da.attr === ATTR_PROXY_STATE && Buffer.isBuffer(p.value) && p.value.equals(this.proxyState)) ours++;
      if (p.da === this.da['CHAP-Password']) chapPw = true;
      if (p.da === this.da['CHAP-Challenge']) chapChallenge = true;
      out.push(p);
    }
    if (mode === 'proxy') {
      if (ours >= 2) {
        this.extra.loops++;
        ctx.log.error(`proxy loop: the request already carries our Proxy-State ${ours} times`);
        return 'fail';
      }
      if (this.proxyStatePair) out.push(this.proxyStatePair);
    }
    // Our Request Authenticator differs from the NAS's: keep CHAP verifiable (RFC 2865 §2.2).
    if (chapPw && !chapChallenge && vector && this.da['CHAP-Challenge']) out.push(new Pair(this.da['CHAP-Challenge'], vector));
    if (this.inflight >= this.maxOutstanding) {
      this.extra.limit_outstanding++;
      ctx.log.warn(`max_outstanding (${this.maxOutstanding}${this.workers > 1 ? ' in this worker' : ''}) reached`);
      return 'fail';
    }
    if (mode === 'replicate') return this.replicate(code, out, ctx);
    return new Exchange(this, request, ctx, code, out, mode === 'client', !originated).run();
  }

  private replicate(code: number, pairs: Pair[], ctx: CallContext): Rcode | Promise<Rcode> {
    const c = this.pick();
    if (!c) { this.extra.fail_fast++; ctx.log.debug('no active connection to replicate on'); return 'fail'; }
    let buf: Buffer;
    try {
      buf = encodePacket({ code, id: c.nextReplicateId(), authenticator: Buffer.alloc(0), pairs },
        { dict: this.dict, secret: this.shared.secret, messageAuthenticator: code === PacketCode.AccessRequest });
    } catch (e) {
      ctx.log.error(`cannot encode ${packetCodeName(code)}: ${(e as Error).message}`);
      return 'fail';
    }
    this.inflight++;
    return new Promise<Rcode>((resolve) => {
      const ok = c.write(buf, false, (err) => { this.inflight--; resolve(err ? 'fail' : 'ok'); });
      if (!ok) { this.inflight--; resolve('fail'); }
    });
  }

  // ───────────────────────── internals shared with Exchange ─────────────────────────

  /** @internal */ get _dict(): Dictionary { return this.dict; }
  /** @internal */ get _shared(): ConnShared { return this.shared; }
  /** @internal */ get _config(): RadiusConfig { return this.config; }
  /** @internal */ get _extra(): Radius['extra'] { return this.extra; }
  /** @internal */ get _da(): Record<string, DictAttr | undefined> { return this.da; }
  /** @internal */ _acquire(w: Waiter, waitMs: number): void { this.acquire(w, waitMs); }
  /** @internal */ _unqueue(w: Waiter): void { this.unqueue(w); }
  /** @internal */ _pick(): Connection | undefined { return this.pick(); }
  /** @internal */ _later(ms: number, fn: () => void): ReturnType<typeof setTimeout> { return this.later(ms, fn); }
  /** @internal */ _cancel(t: ReturnType<typeof setTimeout> | undefined): void { this.cancelTimer(t); }
  /** @internal */ _zombie(c: Connection, firstSent: number): void { this.checkZombie(c, firstSent); }
  /** @internal */ _inflight(d: number): void { this.inflight += d; }

  // ───────────────────────── observability ─────────────────────────

  /** Counters and states of the instance and of every connection (for tests, xlat and status). */
  stats(): RadiusStats {
    const counters: InstanceCounters = { ...newCounters(), ...this.extra };
    add(counters, this.retiredCounters);
    const connections: ConnectionStats[] = this.conns.map((c) => {
      add(counters, c.counters);
      return {
        ...c.counters, dropped_by_reason: { ...c.counters.dropped_by_reason },
        number: c.number, state: c.state, reason: c.reason, outstanding: c.outstanding, ids_in_use: c.inUse,
        local_port: c.localPort, last_reply: c.lastReply,
      };
    });
    const order: ConnState[] = ['active', 'full', 'opening', 'zombie', 'dead'];
    let state: ConnState = 'dead';
    for (const s of order) if (this.conns.some((c) => c.state === s)) { state = s; break; }
    if (state === 'opening' && this.unwell()) state = this.conns.some((c) => c.state === 'zombie') ? 'zombie' : 'dead';
    return {
      instance: this.name, mode: this.config.mode,
      home: this.shared ? `${this.shared.transport} ${this.shared.host}:${this.shared.port}` : '',
      state, outstanding: this.inflight, backlog: this.backlog.length,
      limits: { max_outstanding: this.maxOutstanding, max_connections: this.maxConns, workers: this.workers },
      counters, connections,
    };
  }

  /** IDs in use over every connection (status checks included); 0 when idle = no leak. */
  idsInUse(): number {
    return this.conns.reduce((n, c) => n + c.outstanding, 0);
  }

  private statsValue(key: string): { type: 'string'; value: string } | { type: 'uint32'; value: number } {
    const s = this.stats();
    if (!key) return { type: 'string', value: JSON.stringify(s) };
    if (key === 'state') return { type: 'string', value: s.state };
    if (key === 'outstanding') return { type: 'uint32', value: s.outstanding };
    if (key === 'connections') return { type: 'uint32', value: s.connections.length };
    const v = (s.counters as unknown as Record<string, unknown>)[key];
    if (typeof v === 'number') return { type: 'uint32', value: v };
    const d = s.counters.dropped_by_reason[key.replace(/^dropped\./, '')];
    return { type: 'uint32', value: d ?? 0 };
  }
}

/** The counter named by the xlat's argument ('' = all, as JSON); bare words are text (`wordArgs`). */
function statsKey(args: readonly (readonly { value: unknown }[])[]): string {
  let key = '';
  for (const b of args[0] ?? []) key += String(b.value);
  return key;
}

function add(into: ConnCounters, from: ConnCounters): void {
  into.sent += from.sent;
  into.retransmitted += from.retransmitted;
  into.answered += from.answered;
  into.timed_out += from.timed_out;
  into.late += from.late;
  into.dropped += from.dropped;
  into.state_changes += from.state_changes;
  for (const [k, v] of Object.entries(from.dropped_by_reason)) into.dropped_by_reason[k] = (into.dropped_by_reason[k] ?? 0) + v;
}

/**
 * One packet exchange with the home server (proxy or client mode): owns its ID from
 * assignment to reply / timeout / cancel / connection death, and frees it on every path.
 */
class Exchange implements Tracked, Waiter {
  auth: Buffer = NO_AUTH16;
  private conn?: Connection;
  private id = -1;
  private buf?: Buffer;
  private timer?: ReturnType<typeof setTimeout>;
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
      this.inst._acquire(this, this.lifetime());
    });
  }

  private encode(c: Connection): boolean {
    const id = c.alloc(this);
    if (id === undefined) return false;
    try {
      this.buf = encodePacket({ code: this.code, id, authenticator: NO_AUTH, pairs: this.pairs },
        { dict: this.inst._dict, secret: this.inst._shared.secret, messageAuthenticator: this.code === PacketCode.AccessRequest });
    } catch (e) {
      c.release(id, this);
      this.ctx.log.error(`cannot encode ${packetCodeName(this.code)}: ${(e as Error).message}`);
      this.finish('fail', 'encode error');
      return true;
    }
    this.conn = c;
    this.id = id;
    // A view, not a copy: `buf` is ours and never written after encoding (a changed packet gets a new buf).
    this.auth = this.buf.subarray(4, 20);
    return true;
  }

  /** Waiter: a connection is available. */
  start(c: Connection): void {
    if (this.done) return;
    if (!this.encode(c)) {
      // Raced to full: try again through the normal path.
      this.inst._acquire(this, this.lifetime());
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
    this.inst._cancel(this.timer);
    this.timer = this.inst._later(ms, () => this.expire());
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
        const target = c.state === 'active' || c.state === 'full' ? c : this.inst._pick() ?? c;
        c.release(this.id, this);
        this.conn = undefined;
        this.id = -1;
        if (!this.encode(target) && !this.done) {
          const other = this.inst._pick();
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
    this.inst._cancel(this.timer);
    if (this.backlogTimer !== undefined) this.inst._unqueue(this);
    if (this.conn && this.id >= 0) this.conn.release(this.id, this);
    this.id = -1;
    this.inst._inflight(-1);
    this.resolve(rc);
  }
}

export { SENDABLE_TYPES };
