/**
 * The I/O half of the client tools: sockets, RADIUS IDs, retransmission,
 * timeouts, parallelism and rate limiting. It moves bytes only; building,
 * verifying and printing packets is the caller's job (see `exchange.ts`),
 * which does all packet work through `core/protocol/radius`.
 *
 * - UDP: one connected socket per 256 IDs (a new socket is opened when all IDs
 *   of the existing ones are in flight), so a reply is matched by socket + ID
 *   and only comes from the server address. A request is retransmitted with
 *   the same bytes after each timeout, `attempts` times in total.
 * - TCP (RFC 6613): the same packet format over one stream per 256 IDs; the
 *   receiver reassembles packets from the 2-byte length in the header. There
 *   are no retransmissions over TCP: one send, one timeout.
 */
import * as dgram from 'node:dgram';
import * as dns from 'node:dns/promises';
import * as net from 'node:net';
import { RadiusFramer } from '../client/framer';

/** Transport protocol used to reach the server. */
export type Transport = 'udp' | 'tcp';

/** How to reach the server and how patient to be. */
export interface ClientOptions {
  /** Server host name or address. */
  host: string;
  port: number;
  /** Force the address family used to resolve `host`. */
  family?: 4 | 6;
  transport?: Transport;
  /** Seconds to wait for a reply before retransmitting (UDP) or giving up. */
  timeout: number;
  /** Total number of sends per request over UDP (at least 1). */
  attempts: number;
}

/** What the caller supplies for one request. */
export interface Outgoing {
  /**
   * Encodes the request with the allocated ID. Called once; the same bytes
   * are retransmitted.
   */
  build(id: number): Buffer;
  /**
   * Checks a packet that arrived with this request's ID. Return true to accept
   * it as the reply; return a string (the reason) to drop it and keep waiting.
   */
  accept(reply: Buffer): true | string;
}

/** Outcome of one request. */
export interface ExchangeResult {
  /** The bytes that were sent (the last attempt). */
  request: Buffer;
  /** The accepted reply, or undefined after the last timeout. */
  reply?: Buffer;
  /** Number of sends (1 + retransmissions). */
  sends: number;
  /** Local address and port the request was sent from. */
  local: { address: string; port: number };
  /** Server address and port. */
  remote: { address: string; port: number };
  /** Round-trip time of the accepted reply in milliseconds. */
  rttMs?: number;
}

/** Observer for debug output (`-x`): every send, drop and timeout. */
export interface ClientEvents {
  sent?(request: Buffer, attempt: number, local: { address: string; port: number }): void;
  dropped?(packet: Buffer, reason: string): void;
  timedOut?(request: Buffer, attempt: number): void;
}

interface Pending {
  out: Outgoing;
  bytes: Buffer;
  sends: number;
  started: number;
  timer?: NodeJS.Timeout;
  resolve(r: ExchangeResult): void;
  channel: Channel;
  id: number;
}

/** One socket (UDP) or stream (TCP) with its own 256 IDs. */
abstract class Channel {
  readonly pending = new Map<number, Pending>();
  /** Free IDs, reused in FIFO order so that an ID is reused as late as possible. */
  private readonly free: number[];

  constructor(readonly client: RadiusClient) {
    const start = Math.floor(Math.random() * 256);
    this.free = Array.from({ length: 256 }, (_, i) => (start + i) & 0xff);
  }

  hasFreeId(): boolean { return this.free.length > 0; }
  takeId(): number { return this.free.shift()!; }
  releaseId(id: number): void { this.pending.delete(id); this.free.push(id); }

  abstract readonly local: { address: string; port: number };
  abstract write(bytes: Buffer): void;
  abstract close(): void;

  /** Routes one received packet to its request. */
  onPacket(buf: Buffer): void {
    if (buf.length < 20) { this.client.events.dropped?.(buf, 'shorter than a RADIUS header'); return; }
    const p = this.pending.get(buf[1]);
    if (!p) { this.client.events.dropped?.(buf, `no request with ID ${buf[1]} outstanding`); return; }
    const verdict = p.out.accept(buf);
    if (verdict !== true) { this.client.events.dropped?.(buf, verdict); return; }
    this.client.finish(p, buf);
  }

  /** Fails every outstanding request of this channel (the stream closed). */
  failAll(): void {
    for (const p of [...this.pending.values()]) this.client.finish(p, undefined);
  }
}

class UdpChannel extends Channel {
  local = { address: '0.0.0.0', port: 0 };
  constructor(client: RadiusClient, private readonly sock: dgram.Socket) {
    super(client);
    sock.on('message', (msg) => this.onPacket(msg));
    const a = sock.address();
    this.local = { address: a.address, port: a.port };
  }
  write(bytes: Buffer): void { this.sock.send(bytes); }
  close(): void { this.sock.close(); }
}

class TcpChannel extends Channel {
  local = { address: '0.0.0.0', port: 0 };
  private readonly framer = new RadiusFramer({ maxPacketSize: 65535 }, {
    packet: (pkt) => this.onPacket(pkt),
    bad: (_why, len, rest) => {
      // The stream is out of sync; nothing after this point can be trusted.
      this.client.events.dropped?.(rest, `bad length ${len} on TCP stream, closing it`);
      this.sock.destroy();
    },
  });
  constructor(client: RadiusClient, private readonly sock: net.Socket) {
    super(client);
    this.local = { address: sock.localAddress ?? '0.0.0.0', port: sock.localPort ?? 0 };
    sock.on('data', (d) => this.framer.push(d));
    sock.on('close', () => { this.client.dropChannel(this); this.failAll(); });
    sock.on('error', () => { /* 'close' follows and fails the requests */ });
  }
  write(bytes: Buffer): void { this.sock.write(bytes); }
  close(): void { this.sock.destroy(); }
}

/**
 * A RADIUS client connection pool to one server. Create it with
 * {@link RadiusClient.open}, send with {@link RadiusClient.send}, and
 * {@link RadiusClient.close} it when done.
 */
export class RadiusClient {
  private readonly channels: Channel[] = [];
  private opening?: Promise<Channel>;
  readonly transport: Transport;

  private constructor(
    readonly opts: ClientOptions,
    readonly remote: { address: string; port: number; family: 4 | 6 },
    readonly events: ClientEvents,
  ) {
    this.transport = opts.transport ?? 'udp';
  }

  /** Resolves the server address; sockets are opened on first use. */
  static async open(opts: ClientOptions, events: ClientEvents = {}): Promise<RadiusClient> {
    let address = opts.host;
    let family = net.isIP(address) as 0 | 4 | 6;
    if (family === 0 || (opts.family && opts.family !== family)) {
      const r = await dns.lookup(opts.host, opts.family ? { family: opts.family } : {});
      address = r.address;
      family = r.family as 4 | 6;
    }
    return new RadiusClient(opts, { address, port: opts.port, family: family as 4 | 6 }, events);
  }

  /** Sends one request and resolves with its reply, or without one after the last timeout. */
  async send(out: Outgoing): Promise<ExchangeResult> {
    const [ch, id] = await this.allocate();
    let bytes: Buffer;
    try {
      bytes = out.build(id);
    } catch (e) {
      ch.releaseId(id);
      throw e;
    }
    return new Promise<ExchangeResult>((resolve) => {
      const p: Pending = { out, bytes, sends: 0, started: 0, resolve, channel: ch, id };
      ch.pending.set(id, p);
      this.transmit(p);
    });
  }

  private transmit(p: Pending): void {
    p.sends++;
    p.started = performance.now();
    this.events.sent?.(p.bytes, p.sends, p.channel.local);
    p.channel.write(p.bytes);
    // Over TCP the transport retransmits; we wait the whole budget once.
    const attempts = Math.max(1, Math.floor(this.opts.attempts));
    const wait = this.transport === 'tcp' ? this.opts.timeout * attempts : this.opts.timeout;
    p.timer = setTimeout(() => {
      this.events.timedOut?.(p.bytes, p.sends);
      if (this.transport === 'udp' && p.sends < attempts) this.transmit(p);
      else this.finish(p, undefined);
    }, wait * 1000);
  }

  /** @internal Completes a request (reply or final timeout) and frees its ID. */
  finish(p: Pending, reply: Buffer | undefined): void {
    if (p.channel.pending.get(p.id) !== p) return;
    clearTimeout(p.timer);
    p.channel.releaseId(p.id);
    p.resolve({
      request: p.bytes,
      reply,
      sends: p.sends,
      local: p.channel.local,
      remote: { address: this.remote.address, port: this.remote.port },
      rttMs: reply ? performance.now() - p.started : undefined,
    });
  }

  /** @internal Forgets a channel whose stream closed. */
  dropChannel(ch: Channel): void {
    const i = this.channels.indexOf(ch);
    if (i >= 0) this.channels.splice(i, 1);
  }

  /** A channel and an ID taken from it in the same tick (so no other caller can take it). */
  private async allocate(): Promise<[Channel, number]> {
    for (;;) {
      const ch = this.channels.find((c) => c.hasFreeId());
      if (ch) return [ch, ch.takeId()];
      if (!this.opening) {
        this.opening = this.openChannel()
          .then((c) => { this.channels.push(c); return c; })
          .finally(() => { this.opening = undefined; });
      }
      await this.opening;
    }
  }

  private openChannel(): Promise<Channel> {
    const { address, port, family } = this.remote;
    if (this.transport === 'tcp') {
      return new Promise((resolve, reject) => {
        const s = net.connect({ host: address, port, family });
        s.setNoDelay(true);
        s.once('connect', () => { s.removeListener('error', reject); resolve(new TcpChannel(this, s)); });
        s.once('error', reject);
      });
    }
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
      s.once('error', reject);
      s.bind(0, () => {
        s.connect(port, address, () => {
          s.removeListener('error', reject);
          // ICMP errors (port unreachable) surface here; the request just times out.
          s.on('error', () => undefined);
          resolve(new UdpChannel(this, s));
        });
      });
    });
  }

  /** Closes every socket. Outstanding requests resolve without a reply. */
  close(): void {
    for (const ch of this.channels.splice(0)) {
      for (const p of [...ch.pending.values()]) this.finish(p, undefined);
      ch.close();
    }
  }
}

/**
 * Runs `jobs` through `client` with at most `parallel` requests in flight and
 * at most `rate` new requests per second (0 = unlimited). Results come back in
 * job order.
 */
export async function runAll<T>(
  jobs: readonly T[],
  start: (job: T) => Promise<ExchangeResult>,
  parallel: number,
  rate = 0,
): Promise<ExchangeResult[]> {
  const results: ExchangeResult[] = new Array(jobs.length);
  let next = 0;
  const interval = rate > 0 ? 1000 / rate : 0;
  let nextSendAt = performance.now();
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      if (interval > 0) {
        const now = performance.now();
        const at = Math.max(now, nextSendAt);
        nextSendAt = at + interval;
        if (at > now) await new Promise((r) => setTimeout(r, at - now));
      }
      results[i] = await start(jobs[i]);
    }
  };
  const n = Math.max(1, Math.min(parallel, jobs.length));
  await Promise.all(Array.from({ length: n }, worker));
  return results;
}
