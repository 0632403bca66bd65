/**
 * The CoA/Disconnect client: sends CoA-Request and Disconnect-Request (RFC 5176) to NASes and
 * waits for the ACK or NAK.
 *
 * - One UDP socket per address family, shared by every NAS; each NAS (address and port) has its
 *   own channel: 256 IDs (`IdTable`, core/client/ids.ts) and a backlog when they are all in flight.
 * - Every request carries Message-Authenticator (RFC 5176 §3.3 allows it; it protects the
 *   request against forgery beyond the Request Authenticator).
 * - Retransmission follows RFC 5080 §2.2.1 (`RetryTimer`, core/client/retry.ts): the same bytes
 *   (same ID and authenticator) are sent again until an answer, MRC or MRD.
 * - An answer is verified (`verifyReply`: Response Authenticator, Message-Authenticator when
 *   present, code answers the request) before it is accepted; anything else is counted and dropped.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { IdTable } from '../client/ids';
import { verifyReply, type MaPolicy } from '../client/reply';
import { requestAuthenticator } from '../client/request';
import { RetryTimer, type RetrySettings } from '../client/retry';
import type { Dictionary } from '../dict/dictionary';
import type { Pair } from '../pair/pair';
import { encodePacket, PacketCode, type DecodePacketOptions } from '../protocol/radius';

/** Where a NAS listens for dynamic authorization. The secret is never logged. */
export interface DacTarget {
  readonly address: string;
  readonly port: number;
  readonly secret: Buffer;
}

/** How an exchange ended. */
export interface DacAnswer {
  readonly result: 'ack' | 'nak' | 'timeout';
  /** The answer's code (CoA-ACK …), absent on timeout. */
  readonly code?: number;
  /** The answer's attributes. */
  readonly pairs?: Pair[];
  /** Error-Cause of a NAK (or ACK), when present. */
  readonly errorCause?: number;
  /** First transmission to answer (or to giving up), ms. */
  readonly rttMs: number;
  /** Transmissions made. */
  readonly transmissions: number;
}

/** Default RFC 5080 timers for CoA/Disconnect (seconds): FreeRADIUS v4's defaults for these packets. */
export const DAC_RETRY_DEFAULTS: RetrySettings = { initial_rtx_time: 2, max_rtx_time: 16, max_rtx_count: 5, max_rtx_duration: 30 };

/** Counts of what the client saw (the service turns them into metrics). */
export interface DacClientCounters {
  sent: number;
  retransmitted: number;
  /** Answers dropped: unknown ID, bad authenticator, wrong code. */
  dropped: number;
  backlogged: number;
}

interface Pending {
  auth: Buffer;
  readonly bytes: Buffer;
  readonly code: number;
  readonly pairs: Pair[];
  readonly target: DacTarget;
  readonly started: number;
  timer?: RetryTimer;
  handle?: NodeJS.Timeout;
  id: number;
  readonly resolve: (a: DacAnswer) => void;
  readonly signal?: AbortSignal;
  onAbort?: () => void;
}

interface Channel {
  readonly key: string;
  readonly ids: IdTable<Pending>;
  readonly backlog: Pending[];
  /** Decode options reused for every answer on this channel (request fields set per answer). */
  readonly decode: DecodePacketOptions;
}

const NO_MA_REQUIRED: MaPolicy = { requireMa: () => false };

/** Options of {@link DacClient}. */
export interface DacClientOptions {
  readonly retry?: RetrySettings;
  /** Source address for IPv4 (default: any). */
  readonly srcIpv4?: string;
  /** Source address for IPv6 (default: any). */
  readonly srcIpv6?: string;
  /** Monotonic ms (default `performance.now`). */
  readonly now?: () => number;
}

/** Sends CoA/Disconnect requests; see the file comment. */
export class DacClient {
  private readonly sockets = new Map<4 | 6, Promise<dgram.Socket>>();
  private readonly channels = new Map<string, Channel>();
  readonly counters: DacClientCounters = { sent: 0, retransmitted: 0, dropped: 0, backlogged: 0 };
  private retry: RetrySettings;
  private readonly now: () => number;
  private closed = false;

  constructor(private dict: Dictionary, private readonly opts: DacClientOptions = {}) {
    this.retry = opts.retry ?? DAC_RETRY_DEFAULTS;
    this.now = opts.now ?? (() => performance.now());
  }

  /** A new dictionary (reload). */
  setDictionary(dict: Dictionary): void {
    this.dict = dict;
  }

  /** New retransmission timers, for requests sent from now on. */
  setRetry(r: RetrySettings): void {
    this.retry = r;
  }

  /** Requests in flight or waiting for an ID, over all NASes. */
  get inFlight(): number {
    let n = 0;
    for (const c of this.channels.values()) n += c.ids.inUse + c.backlog.length;
    return n;
  }

  /** Number of NAS channels opened so far. */
  get channelCount(): number {
    return this.channels.size;
  }

  /**
   * Sends a CoA-Request or Disconnect-Request with `pairs` to `target` and resolves with the
   * answer, or `timeout` once the retransmissions are exhausted. Never rejects for a network
   * problem (that is a timeout); throws `EncodeError` when the pairs do not fit a packet.
   */
  send(target: DacTarget, code: number, pairs: Pair[], signal?: AbortSignal): Promise<DacAnswer> {
    if (code !== PacketCode.CoARequest && code !== PacketCode.DisconnectRequest) throw new Error(`DAC: cannot send code ${code}`);
    if (this.closed) return Promise.resolve({ result: 'timeout', rttMs: 0, transmissions: 0 });
    // Encode once to fail early on bad pairs; the real bytes need the ID.
    encodePacket({ code, id: 0, authenticator: Buffer.alloc(0), pairs }, { dict: this.dict, secret: target.secret, messageAuthenticator: true });
    return new Promise<DacAnswer>((resolve) => {
      const p: Pending = { auth: Buffer.alloc(0), bytes: Buffer.alloc(0), code, pairs, target, started: this.now(), id: -1, resolve, signal };
      if (signal) {
        if (signal.aborted) return resolve({ result: 'timeout', rttMs: 0, transmissions: 0 });
        p.onAbort = () => this.finish(p, { result: 'timeout', rttMs: this.now() - p.started, transmissions: p.timer?.count ?? 0 });
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      const ch = this.channel(target);
      const id = ch.ids.allocate(p);
      if (id === undefined) {
        this.counters.backlogged++;
        ch.backlog.push(p);
        return;
      }
      void this.transmitFirst(ch, p, id);
    });
  }

  /** Closes the sockets; requests in flight end as `timeout`. */
  async close(): Promise<void> {
    this.closed = true;
    for (const ch of this.channels.values()) {
      for (const p of ch.backlog.splice(0)) this.finish(p, { result: 'timeout', rttMs: 0, transmissions: 0 });
      for (let id = 0; id < 256; id++) {
        const p = ch.ids.get(id);
        if (p) this.finish(p, { result: 'timeout', rttMs: this.now() - p.started, transmissions: p.timer?.count ?? 0 });
      }
    }
    const socks = [...this.sockets.values()];
    this.sockets.clear();
    for (const s of socks) {
      try {
        const sock = await s;
        await new Promise<void>((r) => sock.close(() => r()));
      } catch { /* never opened */ }
    }
  }

  private channel(t: DacTarget): Channel {
    const key = `${t.address}|${t.port}`;
    let ch = this.channels.get(key);
    if (!ch) {
      ch = { key, ids: new IdTable<Pending>(Math.floor(Math.random() * 256)), backlog: [], decode: { dict: this.dict, secret: t.secret } };
      this.channels.set(key, ch);
    }
    return ch;
  }

  private socket(family: 4 | 6): Promise<dgram.Socket> {
    let s = this.sockets.get(family);
    if (!s) {
      s = new Promise<dgram.Socket>((resolve, reject) => {
        const sock = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
        sock.once('error', reject);
        sock.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
        sock.bind({ port: 0, address: family === 4 ? this.opts.srcIpv4 : this.opts.srcIpv6 }, () => {
          sock.off('error', reject);
          sock.on('error', () => { /* a send error is retried by the timer */ });
          sock.unref();
          resolve(sock);
        });
      });
      this.sockets.set(family, s);
    }
    return s;
  }

  private async transmitFirst(ch: Channel, p: Pending, id: number): Promise<void> {
    p.id = id;
    const bytes = encodePacket({ code: p.code, id, authenticator: Buffer.alloc(0), pairs: p.pairs },
      { dict: this.dict, secret: p.target.secret, messageAuthenticator: true });
    (p as { bytes: Buffer }).bytes = bytes;
    p.auth = requestAuthenticator(bytes);
    p.timer = new RetryTimer(this.retry, this.now());
    this.arm(ch, p);
    await this.write(p);
    this.counters.sent++;
  }

  private arm(ch: Channel, p: Pending): void {
    const t = p.timer!;
    p.handle = setTimeout(() => {
      const now = this.now();
      const ev = t.fire(now);
      if (ev === 'retry') {
        this.counters.retransmitted++;
        void this.write(p);
        this.arm(ch, p);
      } else {
        this.finish(p, { result: 'timeout', rttMs: now - p.started, transmissions: t.count });
      }
    }, Math.max(0, t.next - this.now()));
  }

  private async write(p: Pending): Promise<void> {
    const fam = net.isIPv6(p.target.address) ? 6 : 4;
    try {
      const sock = await this.socket(fam);
      sock.send(p.bytes, p.target.port, p.target.address);
    } catch { /* the retransmission timer tries again */ }
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < 20) { this.counters.dropped++; return; }
    const addr = rinfo.address.startsWith('::ffff:') && net.isIPv4(rinfo.address.slice(7)) ? rinfo.address.slice(7) : rinfo.address;
    const ch = this.channels.get(`${addr}|${rinfo.port}`);
    const p = ch?.ids.get(msg[1]);
    if (!ch || !p) { this.counters.dropped++; return; }
    const o = ch.decode;
    o.dict = this.dict;
    o.secret = p.target.secret;
    o.requestAuthenticator = p.auth;
    o.requestCode = p.code;
    const v = verifyReply(msg, o, NO_MA_REQUIRED);
    if (!v.ok) { this.counters.dropped++; return; }
    const code = v.packet.code;
    const pairs = v.packet.pairs;
    const ecDa = this.dict.resolve('Error-Cause');
    const ec = ecDa ? pairs.find((x) => x.da === ecDa) : undefined;
    const ack = code === PacketCode.CoAACK || code === PacketCode.DisconnectACK;
    this.finish(p, {
      result: ack ? 'ack' : 'nak', code, pairs, errorCause: ec ? Number(ec.value) : undefined,
      rttMs: this.now() - p.started, transmissions: p.timer?.count ?? 1,
    });
  }

  private finish(p: Pending, a: DacAnswer): void {
    if (p.handle) clearTimeout(p.handle);
    p.handle = undefined;
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
    const ch = this.channels.get(`${p.target.address}|${p.target.port}`);
    if (ch) {
      if (p.id >= 0) {
        ch.ids.release(p.id, p);
        const next = ch.backlog.shift();
        if (next) {
          const id = ch.ids.allocate(next);
          if (id !== undefined) void this.transmitFirst(ch, next, id);
          else ch.backlog.unshift(next);
        }
      } else {
        const i = ch.backlog.indexOf(p);
        if (i >= 0) ch.backlog.splice(i, 1);
      }
    }
    p.id = -1;
    p.resolve(a);
  }
}
