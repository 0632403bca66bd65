/**
 * A fault-injecting RADIUS home server for the proxy tests (loopback only).
 *
 * It listens on UDP (and optionally TCP, RFC 6613 framing) on 127.0.0.1, answers
 * Access-Request, Accounting-Request, Status-Server, CoA-Request and
 * Disconnect-Request with our codec, and can be reprogrammed at run time through
 * {@link FaultServer.set} / {@link FaultServer.plan}:
 *
 * - drop the next N packets (`dropNext`), or a fraction of them (`dropRate`);
 * - delay replies (`delayMs` plus uniform `jitterMs`);
 * - answer only Status-Server (`onlyStatusServer`), or nothing at all (`silent`;
 *   {@link FaultServer.silence} goes silent and comes back after a time);
 * - reply with garbage bytes, a wrong Response Authenticator, or a missing or
 *   corrupted Message-Authenticator (each as a fraction 0..1 of the replies);
 * - send every reply twice (`duplicateReply`), to exercise duplicate-reply handling;
 * - choose the reply code (`replyCode`, or `users` for PAP Accept/Reject) and the
 *   reply attributes (`replyAttrs`, pair text).
 *
 * Proxy-State attributes of a request are copied into its reply in order, as
 * RFC 2865 §5.33 asks. Everything received is counted ({@link FaultServer.stats}):
 * by code, duplicates (same source, ID and authenticator seen before), requests that
 * failed verification (bad Request Authenticator / Message-Authenticator), what
 * arrived while silent, and by source port (one connected UDP socket of the proxy =
 * one source port). {@link FaultServer.stop} closes the sockets (the proxy then gets
 * ICMP port-unreachable); {@link FaultServer.restart} binds the same port again.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { loadDefaultDictionary } from '../../core/dict/default';
import type { Dictionary } from '../../core/dict/dictionary';
import { Pair } from '../../core/pair/pair';
import { parsePairList } from '../../core/pair/text';
import { decodePacket, encodePacket, PacketCode } from '../../core/protocol/radius';

/** The behaviour of the server; every field can be changed while it runs. */
export interface FaultPlan {
  /** Drop the next N packets (decremented as packets arrive; Status-Server included). */
  dropNext: number;
  /** Drop this fraction (0..1) of the packets that are not dropped otherwise. */
  dropRate: number;
  /** Spare Status-Server from `dropNext`, `dropRate`, `delayMs`/`jitterMs` and reply sabotage (default false). */
  spareStatusServer: boolean;
  /** Fixed reply delay in ms. */
  delayMs: number;
  /** Extra uniform random delay 0..jitterMs. */
  jitterMs: number;
  /** Answer nothing at all (everything is counted as received while silent). */
  silent: boolean;
  /** Answer Status-Server only; every other request is dropped. */
  onlyStatusServer: boolean;
  /** Fraction of replies replaced by random garbage of 20..60 bytes. */
  garbage: number;
  /** Fraction of replies with a wrong Response Authenticator. */
  wrongAuthenticator: number;
  /** Message-Authenticator in replies: `valid` (default), `omit` or `corrupt`. */
  messageAuthenticator: 'valid' | 'omit' | 'corrupt';
  /** Send each reply twice. */
  duplicateReply: boolean;
  /**
   * Reply code for a request code; default: Access-Request → Access-Accept (or the
   * `users` check), Accounting-Request → Accounting-Response, Status-Server →
   * Access-Accept, CoA → CoA-ACK, Disconnect → Disconnect-ACK. Return 0 to drop.
   */
  replyCode?: (requestCode: number, userName: string | undefined) => number;
  /** PAP users: when set, Access-Request with a matching User-Password gets Accept, else Reject. */
  users?: Record<string, string>;
  /** Reply attributes (pair text) added to Access-Accept; `%u` in a string is not expanded. */
  replyAttrs: string;
}

/** What the server saw and did. */
export interface FaultStats {
  /** Every datagram or TCP frame received (including dropped and malformed ones). */
  received: number;
  /** Received, by packet code. */
  byCode: Record<number, number>;
  /** Received again with the same source, ID and authenticator (retransmissions). */
  duplicates: number;
  /** Retransmissions by packet code. */
  duplicatesByCode: Record<number, number>;
  /** Requests that failed verification (framing, Request Authenticator, Message-Authenticator). */
  badRequests: number;
  /** Requests without Message-Authenticator where one was expected (Access-Request, Status-Server). */
  missingMessageAuthenticator: number;
  /** Received while `silent` was set, by code. */
  whileSilent: Record<number, number>;
  /** Packets dropped on purpose (dropNext, dropRate, silent, onlyStatusServer, replyCode 0). */
  dropped: number;
  /** Replies sent (a duplicated reply counts once). */
  replied: number;
  /** Replies sent by code. */
  repliedByCode: Record<number, number>;
  /** Replies sabotaged: garbage, wrong authenticator, bad/missing MA. */
  sabotaged: number;
  /** Received per source "ip:port" (UDP) or per TCP connection ("tcp:ip:port"). */
  bySource: Record<string, number>;
  /** TCP connections accepted. */
  tcpConnections: number;
}

/** One received packet, kept in a bounded ring for assertions on timing. */
export interface FaultEvent {
  /** `Date.now()` when it arrived. */
  t: number;
  code: number;
  id: number;
  source: string;
  duplicate: boolean;
  silent: boolean;
}

/** Options for {@link startFaultServer}. */
export interface FaultServerOptions {
  /** Shared secret (default `testing123`). */
  secret?: string;
  /** UDP port (default: any free one). */
  port?: number;
  /** Also listen on TCP (port chosen freely unless `tcpPort`). */
  tcp?: boolean;
  tcpPort?: number;
  /** Initial plan (merged over the defaults). */
  plan?: Partial<FaultPlan>;
  /** Dictionary (default: the built-in default dictionary). */
  dict?: Dictionary;
  /** How many events {@link FaultServer.events} keeps (default 10,000). */
  eventRing?: number;
}

/** A running fault server. */
export interface FaultServer {
  readonly host: string;
  readonly port: number;
  readonly tcpPort?: number;
  readonly secret: string;
  /** The current plan (mutable: assign fields directly or use {@link set}). */
  readonly plan: FaultPlan;
  /** Merges `p` into the plan. */
  set(p: Partial<FaultPlan>): void;
  /** Goes silent now, and comes back after `ms` when given. */
  silence(ms?: number): void;
  /** Ends silence. */
  comeBack(): void;
  /** Counters (live object). */
  readonly stats: FaultStats;
  /** Recent packets, oldest first. */
  events(): FaultEvent[];
  /** Zeroes the counters and the event ring (not the plan). */
  reset(): void;
  /** Replies waiting for their delay. */
  pendingReplies(): number;
  /** Closes the sockets (like a killed server; pending delayed replies are dropped). */
  stop(): Promise<void>;
  /** Binds the same port(s) again after {@link stop}. */
  restart(): Promise<void>;
  /** True between start/restart and stop. */
  readonly running: boolean;
}

const DEFAULT_PLAN: FaultPlan = {
  dropNext: 0,
  dropRate: 0,
  spareStatusServer: false,
  delayMs: 0,
  jitterMs: 0,
  silent: false,
  onlyStatusServer: false,
  garbage: 0,
  wrongAuthenticator: 0,
  messageAuthenticator: 'valid',
  duplicateReply: false,
  replyAttrs: '',
};

function emptyStats(): FaultStats {
  return {
    received: 0, byCode: {}, duplicates: 0, duplicatesByCode: {}, badRequests: 0, missingMessageAuthenticator: 0,
    whileSilent: {}, dropped: 0, replied: 0, repliedByCode: {}, sabotaged: 0, bySource: {}, tcpConnections: 0,
  };
}

function inc(rec: Record<number | string, number>, k: number | string): void {
  rec[k] = (rec[k] ?? 0) + 1;
}

let sharedDict: Dictionary | undefined;

/** Starts a fault server on 127.0.0.1. */
export async function startFaultServer(opts: FaultServerOptions = {}): Promise<FaultServer> {
  const dict = opts.dict ?? (sharedDict ??= loadDefaultDictionary());
  const secretText = opts.secret ?? 'testing123';
  const secret = Buffer.from(secretText);
  const plan: FaultPlan = { ...DEFAULT_PLAN, ...opts.plan };
  let stats = emptyStats();
  const ringSize = opts.eventRing ?? 10_000;
  let ring: FaultEvent[] = [];
  /** "source|id|auth" → time first seen; pruned every few seconds. */
  let seen = new Map<string, number>();
  let lastPrune = Date.now();
  const timers = new Set<NodeJS.Timeout>();
  let silenceTimer: NodeJS.Timeout | undefined;
  const proxyStateDa = dict.resolve('Proxy-State');
  if (!proxyStateDa) throw new Error('dictionary has no Proxy-State');

  let replyAttrsText = '';
  let replyAttrPairs: Pair[] = [];
  const replyPairs = (): Pair[] => {
    if (plan.replyAttrs !== replyAttrsText) {
      replyAttrPairs = plan.replyAttrs ? parsePairList(plan.replyAttrs, dict) : [];
      replyAttrsText = plan.replyAttrs;
    }
    return replyAttrPairs;
  };

  let udp: dgram.Socket | undefined;
  let tcp: net.Server | undefined;
  const tcpSockets = new Set<net.Socket>();
  let port = opts.port ?? 0;
  let tcpPort = opts.tcpPort ?? 0;
  let running = false;

  const defaultReplyCode = (code: number, pkt: ReturnType<typeof decodePacket>): number => {
    switch (code) {
      case PacketCode.AccessRequest: {
        if (!plan.users) return PacketCode.AccessAccept;
        if (!pkt.ok) return PacketCode.AccessReject;
        let user: string | undefined;
        let pass: string | undefined;
        for (const p of pkt.packet.pairs) {
          if (p.da.name === 'User-Name') user = String(p.value);
          else if (p.da.name === 'User-Password') pass = String(p.value);
        }
        return user !== undefined && pass !== undefined && plan.users[user] === pass
          ? PacketCode.AccessAccept : PacketCode.AccessReject;
      }
      case PacketCode.AccountingRequest: return PacketCode.AccountingResponse;
      case PacketCode.StatusServer: return PacketCode.AccessAccept;
      case PacketCode.CoARequest: return PacketCode.CoAACK;
      case PacketCode.DisconnectRequest: return PacketCode.DisconnectACK;
      default: return 0;
    }
  };

  /** Handles one request; `send` writes a reply to where it came from. */
  const handle = (buf: Buffer, source: string, send: (b: Buffer) => void): void => {
    const now = Date.now();
    stats.received++;
    inc(stats.bySource, source);
    if (buf.length < 20) {
      stats.badRequests++;
      return;
    }
    const code = buf[0];
    const id = buf[1];
    inc(stats.byCode, code);
    const key = `${source}|${id}|${buf.toString('latin1', 4, 20)}`;
    const duplicate = seen.has(key);
    if (duplicate) {
      stats.duplicates++;
      inc(stats.duplicatesByCode, code);
    } else {
      seen.set(key, now);
    }
    if (now - lastPrune > 5000) {
      lastPrune = now;
      for (const [k, t] of seen) if (now - t > 120_000) seen.delete(k);
    }
    const silent = plan.silent;
    if (silent) inc(stats.whileSilent, code);
    ring.push({ t: now, code, id, source, duplicate, silent });
    if (ring.length > ringSize * 2) ring = ring.slice(-ringSize);

    if (silent) { stats.dropped++; return; }
    const isStatus = code === PacketCode.StatusServer;
    if (plan.onlyStatusServer && !isStatus) { stats.dropped++; return; }
    if (!(isStatus && plan.spareStatusServer)) {
      if (plan.dropNext > 0) { plan.dropNext--; stats.dropped++; return; }
      if (plan.dropRate > 0 && Math.random() < plan.dropRate) { stats.dropped++; return; }
    }

    const pkt = decodePacket(buf, { dict, secret });
    if (!pkt.ok) {
      stats.badRequests++;
      return;
    }
    if ((code === PacketCode.AccessRequest || isStatus) && !pkt.hasMessageAuthenticator) {
      stats.missingMessageAuthenticator++;
    }
    let userName: string | undefined;
    const proxyStates: Pair[] = [];
    for (const p of pkt.packet.pairs) {
      if (p.da === proxyStateDa) proxyStates.push(new Pair(proxyStateDa, p.value));
      else if (p.da.name === 'User-Name') userName = String(p.value);
    }
    const rcode = plan.replyCode ? plan.replyCode(code, userName) : defaultReplyCode(code, pkt);
    if (!rcode) { stats.dropped++; return; }
    const pairs: Pair[] = [];
    if (rcode === PacketCode.AccessAccept && !isStatus) pairs.push(...replyPairs());
    pairs.push(...proxyStates);
    let reply = encodePacket(
      { code: rcode, id, authenticator: Buffer.alloc(16), pairs },
      {
        dict, secret, requestAuthenticator: Buffer.from(buf.subarray(4, 20)), requestCode: code,
        messageAuthenticator: plan.messageAuthenticator !== 'omit',
      },
    );
    let sabotaged = false;
    const spare = isStatus && plan.spareStatusServer;
    if (spare) {
      // leave the reply alone
    } else if (plan.garbage > 0 && Math.random() < plan.garbage) {
      const n = 20 + Math.floor(Math.random() * 41);
      reply = Buffer.alloc(n);
      for (let i = 0; i < n; i++) reply[i] = Math.floor(Math.random() * 256);
      // Keep the ID so that the garbage reaches the request it pretends to answer.
      reply[1] = id;
      sabotaged = true;
    } else {
      if (plan.messageAuthenticator === 'corrupt' && reply.length >= 38 && reply[20] === 80) {
        reply[22] ^= 0x5a;
        sabotaged = true;
      }
      if (plan.messageAuthenticator === 'omit') sabotaged = true;
      if (plan.wrongAuthenticator > 0 && Math.random() < plan.wrongAuthenticator) {
        reply[4] ^= 0xff;
        sabotaged = true;
      }
    }
    if (sabotaged) stats.sabotaged++;
    const out = reply;
    const fire = (): void => {
      if (!running) return;
      stats.replied++;
      inc(stats.repliedByCode, out[0]);
      send(out);
      if (plan.duplicateReply) send(out);
    };
    const delay = spare ? 0 : plan.delayMs + (plan.jitterMs > 0 ? Math.random() * plan.jitterMs : 0);
    if (delay <= 0) fire();
    else {
      const t = setTimeout(() => { timers.delete(t); fire(); }, delay);
      timers.add(t);
    }
  };

  const bindUdp = (): Promise<void> => new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.on('message', (m, rinfo) => {
      handle(m, `${rinfo.address}:${rinfo.port}`, (b) => s.send(b, rinfo.port, rinfo.address, () => undefined));
    });
    s.bind(port, '127.0.0.1', () => {
      s.removeListener('error', reject);
      s.on('error', () => undefined);
      try { s.setRecvBufferSize(4 * 1024 * 1024); } catch { /* capped by the kernel */ }
      port = s.address().port;
      udp = s;
      resolve();
    });
  });

  const bindTcp = (): Promise<void> => new Promise((resolve, reject) => {
    const srv = net.createServer((sock) => {
      stats.tcpConnections++;
      tcpSockets.add(sock);
      const source = `tcp:${sock.remoteAddress}:${sock.remotePort}`;
      let pending = Buffer.alloc(0);
      sock.on('data', (d) => {
        pending = pending.length ? Buffer.concat([pending, d]) : d;
        while (pending.length >= 4) {
          const len = pending.readUInt16BE(2);
          if (len < 20 || len > 4096) { sock.destroy(); return; }
          if (pending.length < len) break;
          const frame = pending.subarray(0, len);
          pending = pending.subarray(len);
          handle(Buffer.from(frame), source, (b) => { if (!sock.destroyed) sock.write(b); });
        }
      });
      sock.on('error', () => undefined);
      sock.on('close', () => tcpSockets.delete(sock));
    });
    srv.once('error', reject);
    srv.listen(tcpPort, '127.0.0.1', () => {
      srv.removeListener('error', reject);
      tcpPort = (srv.address() as net.AddressInfo).port;
      tcp = srv;
      resolve();
    });
  });

  const start = async (): Promise<void> => {
    await bindUdp();
    if (opts.tcp) await bindTcp();
    running = true;
  };
  await start();

  const server: FaultServer = {
    host: '127.0.0.1',
    get port() { return port; },
    get tcpPort() { return opts.tcp ? tcpPort : undefined; },
    secret: secretText,
    plan,
    set(p) { Object.assign(plan, p); },
    silence(ms) {
      plan.silent = true;
      if (silenceTimer) clearTimeout(silenceTimer);
      silenceTimer = undefined;
      if (ms !== undefined) silenceTimer = setTimeout(() => { plan.silent = false; silenceTimer = undefined; }, ms);
    },
    comeBack() {
      if (silenceTimer) clearTimeout(silenceTimer);
      silenceTimer = undefined;
      plan.silent = false;
    },
    get stats() { return stats; },
    events: () => ring.slice(-ringSize),
    reset() { stats = emptyStats(); ring = []; seen = new Map(); },
    pendingReplies: () => timers.size,
    get running() { return running; },
    async stop() {
      running = false;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      if (silenceTimer) clearTimeout(silenceTimer);
      silenceTimer = undefined;
      const u = udp;
      udp = undefined;
      if (u) await new Promise<void>((r) => u.close(() => r()));
      const t = tcp;
      tcp = undefined;
      for (const s of tcpSockets) s.destroy();
      tcpSockets.clear();
      if (t) await new Promise<void>((r) => t.close(() => r()));
    },
    async restart() {
      if (running) return;
      await start();
    },
  };
  return server;
}
