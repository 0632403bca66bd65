/**
 * One outgoing connection of a `radius` instance: a connected UDP socket or a TCP stream
 * (RFC 6613, framed by `core/client/framer.ts`), its 256-entry ID tracking table and its
 * counters. Its state (opening, active, full, zombie, dead) and the decisions about it live in
 * `core/trunk` ({@link TrunkConnection}, `Trunk`); this class reports to the trunk when an ID
 * frees and when a reply (or a late one) arrives.
 *
 * Replies are matched on ID alone (all codes share one ID space, `core/client/ids.ts`), then
 * verified by `core/client/reply.ts` (Response Authenticator, Message-Authenticator when present,
 * required on Access-* replies when the instance says so, code consistent with the request).
 * Anything else is dropped and counted by reason.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { RadiusFramer } from '../../core';
import { openUdp, udpBackend, SendQueue, type BatchUdpSocket } from '../../core';
import { IdTable } from '../../core';
import { verifyReply, type MaPolicy, type ReplyDrop } from '../../core';
import { RequestEncoder } from '../../core';
import { TrunkConnection, type ConnState } from '../../core';
import { checkPacket, decodePacket, type DecodePacketOptions, type RadiusPacket } from '../../core';

export type { ConnState };

/** Reasons a received packet is dropped. */
export type DropReason = ReplyDrop | 'unsolicited' | 'too_big' | 'replicate';

/** Counters of a connection (also summed per instance). */
export interface ConnCounters {
  sent: number;
  retransmitted: number;
  answered: number;
  timed_out: number;
  late: number;
  dropped: number;
  dropped_by_reason: Record<string, number>;
  state_changes: number;
}

/** A fresh counter set. */
export function newCounters(): ConnCounters {
  return { sent: 0, retransmitted: 0, answered: 0, timed_out: 0, late: 0, dropped: 0, dropped_by_reason: {}, state_changes: 0 };
}

/** A packet in flight on a connection (owned by the caller, tracked here by ID). */
export interface Tracked {
  /** Request code. */
  readonly code: number;
  /** Request Authenticator of the bytes on the wire (to verify the reply). */
  auth: Buffer;
  /** Called once with the verified reply. The ID is already free. */
  onReply(pkt: RadiusPacket, hasMa: boolean): void;
  /** The connection died with this packet in flight. The ID is already free. */
  onDead(reason: string): void;
}

/** What a connection needs from its instance. */
export interface ConnShared extends MaPolicy {
  readonly transport: 'udp' | 'tcp';
  readonly host: string;
  readonly port: number;
  readonly srcAddr?: string;
  readonly recvBuff?: number;
  readonly sendBuff?: number;
  readonly secret: Buffer;
  readonly dict: import('../../core').Dictionary;
  readonly maxPacketSize: number;
  readonly maxAttributes: number;
  readonly perConnectionMax: number;
  readonly connectTimeout: number;
  /**
   * Whether a reply that `maCovered` must carry Message-Authenticator now (`yes`, or `auto`
   * after one was seen on such a reply).
   */
  requireMa(): boolean;
  /** A verified covered reply carried Message-Authenticator (for `auto`). */
  sawMa(): void;
  /** True in replicate mode: replies are ignored. */
  readonly replicate: boolean;
}

/** Packets per upstream `sendmmsg`, and the largest one (RFC 2865's limit). */
const SEND_BATCH = 64;
const MAX_DATAGRAM = 4096;

/**
 * The addon is used for UDP when it is built and loads (`TSRADIUS_NATIVE_UDP=0` turns it off), and the
 * home server and source are numeric addresses (it does not resolve names); else `node:dgram`.
 */
function useNativeUdp(sh: ConnShared): boolean {
  return udpBackend().backend === 'native' && net.isIP(sh.host) !== 0 && (!sh.srcAddr || net.isIP(sh.srcAddr) !== 0);
}

/** For the start-up log line: which UDP path this instance's connections take, and why not the addon. */
export function udpIo(sh: ConnShared): string {
  if (useNativeUdp(sh)) return 'native (recvmmsg/sendmmsg)';
  const b = udpBackend();
  return `node:dgram (${b.backend === 'dgram' ? b.why : 'the addon needs numeric addresses'})`;
}

/** One connection (its state and liveliness live in {@link TrunkConnection}). */
export class Connection extends TrunkConnection {
  readonly counters = newCounters();
  /** When the connection was opened (ms). */
  readonly opened = Date.now();
  /** Packets in flight (not counting the status check). */
  outstanding = 0;
  /** The ID reserved for status checks, when configured (−1: none). */
  statusId = -1;
  /** Local port, once known. */
  localPort = 0;
  /** Encodes this connection's requests (dictionary and secret of the instance). */
  readonly encoder: RequestEncoder;
  /** The 256 IDs (LRU: an ID is reused as late as possible) and the authenticators last freed from them. */
  private readonly ids = new IdTable<Tracked>();
  /** Authenticators of earlier transmissions of the status check in flight (newest first). */
  private statusPrev: Buffer[] = [];
  /** Authenticators of the transmissions of the last finished status check (late-reply detection). */
  private statusOld: Buffer[] = [];
  private udp?: dgram.Socket;
  /** The native path (core's batched UDP addon): the socket, and a token telling a pending open it is still wanted. */
  private nat?: BatchUdpSocket;
  private natOpen?: object;
  /** Packets written in this event-loop turn, sent together by {@link flushNative}, and their `done` callbacks. */
  private natQueue?: SendQueue;
  private natDone: (((err?: Error | null) => void) | undefined)[] = [];
  private natFlushPending = false;
  private readonly flushNative = (): void => this.flushQueued();
  private tcp?: net.Socket;
  /** Reused options of the reply decode (see `receive`). */
  private decodeOpts?: DecodePacketOptions;
  private replicateId = 0;

  constructor(private readonly sh: ConnShared) {
    super();
    this.encoder = new RequestEncoder(sh.dict, sh.secret);
  }

  /** Label for logs: `connection 3 (127.0.0.1:1812 from port 40000)`. */
  get label(): string {
    return `connection ${this.number} (${this.sh.transport} ${this.sh.host}:${this.sh.port}${this.localPort ? ` from port ${this.localPort}` : ''})`;
  }

  /** Opens the socket; `ready` runs when it is connected, or the state becomes dead. */
  connect(ready: () => void): void {
    if (this.sh.transport === 'udp') this.openUdp(ready);
    else this.openTcp(ready);
  }

  private openUdp(ready: () => void): void {
    if (useNativeUdp(this.sh)) return this.openNative(ready);
    const family = net.isIPv6(this.sh.host) ? 'udp6' : 'udp4';
    const s = dgram.createSocket({ type: family, recvBufferSize: this.sh.recvBuff || undefined, sendBufferSize: this.sh.sendBuff || undefined });
    this.udp = s;
    s.on('error', (e) => this.fail(`socket error: ${e.message}`));
    s.on('message', (buf) => this.receive(buf));
    // exclusive: under node:cluster a shared bind of port 0 hands every worker the same
    // socket (the primary owns it), so one worker would read the others' replies.
    s.bind({ address: this.sh.srcAddr, port: 0, exclusive: true }, () => {
      if (this.udp !== s) return;
      try {
        s.connect(this.sh.port, this.sh.host, (err?: Error) => {
          if (this.udp !== s) return;
          if (err) return this.fail(`connect failed: ${err.message}`);
          try { this.localPort = s.address().port; } catch { /* closed */ }
          ready();
        });
      } catch (e) {
        this.fail(`connect failed: ${(e as Error).message}`);
      }
    });
  }

  /**
   * A connected socket of core's batched UDP addon: replies come in `recvmmsg` batches, and the
   * packets written in one event-loop turn leave in one `sendmmsg` (see {@link write}).
   */
  private openNative(ready: () => void): void {
    const token = {};
    this.natOpen = token;
    this.natQueue ??= new SendQueue(SEND_BATCH, MAX_DATAGRAM, false);
    openUdp({
      family: net.isIPv6(this.sh.host) ? 6 : 4,
      bind: { address: this.sh.srcAddr, port: 0 },
      connect: { address: this.sh.host, port: this.sh.port },
      rcvbuf: this.sh.recvBuff || undefined, sndbuf: this.sh.sendBuff || undefined,
      meta: false,
      maxSize: Math.min(65536, this.sh.maxPacketSize + 1),
      onMessages: (sock, n) => this.receiveBatch(sock, n),
    }).then((sock) => {
      if (this.natOpen !== token) { sock.close(); return; }
      this.nat = sock;
      try { this.localPort = sock.info().port; } catch { /* closed */ }
      ready();
    }, (e: Error) => {
      if (this.natOpen === token) this.fail(`connect failed: ${e.message}`);
    });
  }

  /** A receive batch: the addon reuses its slots, so the batch is copied once (replies are decoded lazily, as views). */
  private receiveBatch(sock: BatchUdpSocket, n: number): void {
    const { buffer, lengths, slotSize } = sock;
    let total = 0;
    for (let i = 0; i < n; i++) total += lengths[i];
    const copy = Buffer.allocUnsafe(total);
    for (let i = 0, o = 0; i < n; o += lengths[i], i++) buffer.copy(copy, o, i * slotSize, i * slotSize + lengths[i]);
    for (let i = 0, o = 0; i < n && this.nat === sock; o += lengths[i], i++) this.receive(copy.subarray(o, o + lengths[i]));
  }

  /** Sends the packets queued in this turn; a send error other than a full socket buffer kills the connection. */
  private flushQueued(): void {
    this.natFlushPending = false;
    const q = this.natQueue;
    if (!q || q.size === 0) return;
    const n = q.size;
    const lost = q.flush(this.nat);
    const done = this.natDone;
    this.natDone = [];
    let err: Error | undefined;
    if (lost > 0) {
      const code = q.lastError < 0 ? getSystemErrorName(q.lastError) : 'socket closed';
      err = new Error(code);
      // A full buffer loses packets the way a network does (their exchanges retransmit or time out).
      if (code !== 'EAGAIN' && code !== 'ENOBUFS') this.fail(`send failed: ${code}`);
    }
    // sendmmsg sends in order and stops at the first failure: the first n − lost went out.
    for (let i = 0; i < done.length; i++) done[i]?.(i < n - lost ? null : err);
  }

  private openTcp(ready: () => void): void {
    const s = net.connect({ host: this.sh.host, port: this.sh.port, localAddress: this.sh.srcAddr, noDelay: true });
    this.tcp = s;
    const timer = setTimeout(() => { if (this.tcp === s) this.fail(`connect timeout after ${this.sh.connectTimeout}s`); }, this.sh.connectTimeout * 1000);
    s.once('connect', () => {
      clearTimeout(timer);
      if (this.tcp !== s) return;
      this.localPort = s.localPort ?? 0;
      ready();
    });
    s.on('error', (e) => { clearTimeout(timer); if (this.tcp === s) this.fail(`socket error: ${e.message}`); });
    s.on('close', () => { clearTimeout(timer); if (this.tcp === s) this.fail('connection closed by peer'); });
    const framer = new RadiusFramer({ maxPacketSize: this.sh.maxPacketSize }, {
      packet: (pkt) => { this.receive(pkt); return this.tcp === s; },
      bad: (_why, len) => { this.drop('malformed'); this.fail(`bad packet length ${len} on the stream`); },
    });
    s.on('data', (chunk: Buffer) => framer.push(chunk));
  }

  /** Fails every packet in flight (their IDs freed) and forgets the status check. */
  failInflight(reason: string): void {
    for (const { id, t } of this.inFlight()) { this.release(id, t); t.onDead(reason); }
    this.trackStatus(undefined);
  }

  /** Closes the socket quietly (no state change). */
  closeSocket(): void {
    const u = this.udp;
    const t = this.tcp;
    const nat = this.nat;
    if (nat) {
      // What was written before the close still leaves (as dgram would send it).
      this.natQueue!.flush(nat);
      const done = this.natDone;
      this.natDone = [];
      for (const d of done) d?.(null);
    }
    this.udp = undefined;
    this.tcp = undefined;
    this.nat = undefined;
    this.natOpen = undefined;
    if (nat) nat.close();
    if (u) try { u.close(); } catch { /* already closed */ }
    if (t) t.destroy();
    this.clearTimers();
  }

  /** Changes state (counted) and reports it to the trunk (no-op when unchanged). */
  override setState(to: ConnState, reason: string): void {
    if (this.state !== to) this.counters.state_changes++;
    super.setState(to, reason);
  }

  /** True when a new packet can be assigned here. */
  get usable(): boolean {
    return this.state === 'active';
  }

  /** IDs available for normal packets. */
  get capacity(): number {
    return this.sh.perConnectionMax - this.outstanding;
  }

  /** Reserves one ID for status checks (taken out of the free list for the connection's life). */
  reserveStatusId(): number {
    if (this.statusId < 0) this.statusId = this.ids.reserve()!;
    return this.statusId;
  }

  /** Assigns an ID to `t`; undefined when none is free. Turns the connection `full` at the limit. */
  alloc(t: Tracked): number | undefined {
    if (this.outstanding >= this.sh.perConnectionMax) return undefined;
    const id = this.ids.allocate(t);
    if (id === undefined) return undefined;
    this.outstanding++;
    if (this.state === 'active' && (this.outstanding >= this.sh.perConnectionMax || this.ids.free === 0)) {
      this.setState('full', `all ${this.outstanding} IDs in use`);
    }
    return id;
  }

  /** Frees `id` if it still belongs to `t`; remembers its authenticator to recognise a late reply. */
  release(id: number, t: Tracked): boolean {
    if (!this.ids.release(id, t)) return false;
    this.outstanding--;
    if (this.state === 'full') this.setState('active', 'an ID became free');
    this.events.freed(this);
    return true;
  }

  /**
   * Tracks the status check on the reserved ID. A retransmitted check is a new packet (new
   * Event-Timestamp and authenticator); the authenticators of the last few transmissions are
   * kept so that a reply to an earlier one still counts (a home server slower than the retry
   * interval would otherwise never pass a check).
   */
  trackStatus(t: Tracked | undefined): void {
    if (this.statusId < 0) return;
    const cur = this.ids.get(this.statusId);
    if (cur && cur !== t) {
      if (t) {
        this.statusPrev.unshift(cur.auth);
        if (this.statusPrev.length > 4) this.statusPrev.length = 4;
      }
    }
    if (!t && this.statusPrev.length) {
      // Replies to those earlier transmissions are now late, not unsolicited.
      this.statusOld = this.statusPrev.slice(0, 4);
      this.statusPrev = [];
    }
    this.ids.assign(this.statusId, t);
  }

  /** IDs in use (including a status check in flight), for leak checks. */
  get inUse(): number {
    return this.ids.inUse;
  }

  /** Free IDs (excluding the reserved one). */
  get freeIds(): number {
    return this.ids.free;
  }

  /** The packets in flight (for failing them when the connection dies). */
  inFlight(): { id: number; t: Tracked }[] {
    const out: { id: number; t: Tracked }[] = [];
    for (let id = 0; id < 256; id++) {
      const t = this.ids.get(id);
      if (t && id !== this.statusId) out.push({ id, t });
    }
    return out;
  }

  /** A fresh ID for replicate mode (not tracked). */
  nextReplicateId(): number {
    this.replicateId = (this.replicateId + 1) & 0xff;
    return this.replicateId;
  }

  /** Writes a packet. Returns false when there is no socket. */
  write(buf: Buffer, retransmit = false, done?: (err?: Error | null) => void): boolean {
    if (this.nat) {
      const q = this.natQueue!;
      if (buf.length > q.maxLen) return false;
      if (q.size === q.capacity) this.flushQueued();
      this.natDone[q.add(this.nat, buf, 0, buf.length)] = done;
      if (!this.natFlushPending) {
        this.natFlushPending = true;
        // After the current callback and the promise jobs it started: the packets of one receive batch
        // (the listener's, or this connection's replies resuming requests) leave in one sendmmsg.
        process.nextTick(this.flushNative);
      }
    } else if (this.udp) {
      try {
        // Without a callback a send error is emitted as 'error' (→ dead); a callback costs a closure per packet.
        if (done) {
          this.udp.send(buf, (err) => {
            if (err && err.message) this.fail(`send failed: ${err.message}`);
            done(err);
          });
        } else {
          this.udp.send(buf);
        }
      } catch (e) {
        this.fail(`send failed: ${(e as Error).message}`);
        return false;
      }
    } else if (this.tcp && !this.tcp.destroyed) {
      this.tcp.write(buf, (err) => done?.(err));
    } else {
      return false;
    }
    this.lastSent = Date.now();
    if (retransmit) this.counters.retransmitted++;
    else this.counters.sent++;
    return true;
  }

  /** Counts a dropped packet. */
  drop(reason: DropReason): void {
    this.counters.dropped++;
    this.counters.dropped_by_reason[reason] = (this.counters.dropped_by_reason[reason] ?? 0) + 1;
  }

  /** A datagram (or a framed stream packet) arrived. */
  receive(buf: Buffer): void {
    if (this.sh.replicate) return this.drop('replicate');
    if (buf.length > this.sh.maxPacketSize) return this.drop('too_big');
    if (buf.length < 20) return this.drop('malformed');
    const id = buf[1];
    const t = this.ids.get(id);
    if (!t) {
      if (this.isLate(buf, id)) this.late();
      else this.drop('unsolicited');
      return;
    }
    // One options object per connection (decoding is synchronous and keeps no reference to it).
    const o = (this.decodeOpts ??= { dict: this.sh.dict, secret: this.sh.secret, requestAuthenticator: t.auth, requestCode: t.code, maxAttributes: this.sh.maxAttributes });
    o.requestAuthenticator = t.auth;
    o.requestCode = t.code;
    let r = verifyReply(buf, o, this.sh);
    if (!r.ok && r.reason === 'bad_authenticator' && id === this.statusId) {
      // A reply to an earlier transmission of the same status check.
      for (const prev of this.statusPrev) {
        o.requestAuthenticator = prev;
        r = verifyReply(buf, o, this.sh);
        if (r.ok || r.reason !== 'bad_authenticator') break;
      }
    }
    if (!r.ok) {
      if (r.reason === 'bad_authenticator' && this.isLate(buf, id)) this.late();
      else this.drop(r.reason);
      return;
    }
    const status = id === this.statusId;
    if (status) this.trackStatus(undefined);
    else this.release(id, t);
    this.counters.answered++;
    this.lastReply = Date.now();
    this.events.answered(this, status, false);
    t.onReply(r.packet, r.hasMessageAuthenticator);
  }

  /** A verified reply to a packet already freed: counted, and reported as a sign of life. */
  private late(): void {
    this.counters.late++;
    this.lastReply = Date.now();
    this.events.answered(this, false, true);
  }

  /** True when `buf` verifies against the last packet freed from `id` (a reply that came too late). */
  private isLate(buf: Buffer, id: number): boolean {
    const cands: Buffer[] = [];
    const retired = this.ids.retired(id);
    if (retired) cands.push(retired);
    if (id === this.statusId) cands.push(...this.statusPrev, ...this.statusOld);
    if (cands.length === 0) return false;
    if (checkPacket(buf, { maxAttributes: this.sh.maxAttributes })) return false;
    for (const prev of cands) {
      const r = decodePacket(buf, { dict: this.sh.dict, secret: this.sh.secret, requestAuthenticator: prev, maxAttributes: this.sh.maxAttributes });
      if (r.ok) return true;
    }
    return false;
  }
}
