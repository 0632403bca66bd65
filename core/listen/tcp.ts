/**
 * RADIUS over TCP (RFC 6613): the same packets on a stream, framed by the
 * header's length field. The client is looked up once per connection; a
 * connection from an unknown address is closed at once.
 *
 * Framing rules: a length below 20 or above `maxPacketSize`, an unknown
 * code, or a packet that fails `checkPacket` means the stream cannot be
 * trusted any more: the connection is closed and counted
 * (`tcp_closed_bad`). Partial reads are reassembled. Retransmits do not
 * happen on one connection, so duplicate tracking is per connection and
 * only covers requests in progress (same ID + authenticator → `dup`; same ID,
 * new authenticator → the old one is cancelled).
 *
 * Exhaustion limits (see {@link TCP_LIMIT_DEFAULTS}): at most `maxConnections`
 * open connections, at most `maxConnectionsPerClient` from one source
 * address, idle connections closed after `idleTimeout`, and a packet whose
 * first bytes arrived must be complete within `readTimeout`. Every refusal
 * and every close is counted under its reason, so that
 * `tcp_accepted = tcp_open + tcp_closed + tcp_closed_bad + tcp_closed_idle + tcp_closed_read_timeout` and
 * `tcp_rejected = tcp_rejected_unknown_client + tcp_rejected_max_connections + tcp_rejected_per_client`.
 */
import * as net from 'node:net';
import { RadiusFramer } from '../client/framer';
import { isKnownCode } from '../protocol/radius/packet';
import { normaliseAddress } from './clients';
import { DedupTable } from './dedup';
import { Ingest } from './ingest';
import { DropLog } from './rate-log';
import { bindAddress } from './udp';
import type { Endpoint, Listener, ListenerConfig, ListenerDeps, ListenerStats, RadiusClient } from './types';

/**
 * Defaults of the TCP limits (`listen { limit { … } }`). FreeRADIUS 3's default site uses
 * max_connections = 16 and idle_timeout = 30; FreeRADIUS has no per-address limit on a
 * listener (its per-client `limit { max_connections }` counts a whole client definition)
 * and no read deadline.
 */
export const TCP_LIMIT_DEFAULTS = Object.freeze({
  /** Open connections on one listener (0 = unlimited). */
  maxConnections: 16,
  /** Open connections from one source address (0 = unlimited). */
  maxConnectionsPerClient: 4,
  /** Seconds without traffic before a connection is closed (0 = never). */
  idleTimeout: 30,
  /** Seconds a started packet may take to arrive completely (0 = no deadline). */
  readTimeout: 5,
});

/** Why a connection was closed: the counter it is counted under. */
type CloseReason = 'tcp_closed' | 'tcp_closed_bad' | 'tcp_closed_idle' | 'tcp_closed_read_timeout';

const TCP_COUNTERS = [
  'tcp_accepted', 'tcp_open', 'tcp_closed', 'tcp_closed_bad', 'tcp_closed_idle', 'tcp_closed_read_timeout',
  'tcp_rejected', 'tcp_rejected_unknown_client', 'tcp_rejected_max_connections', 'tcp_rejected_per_client', 'tcp_accept_errors',
] as const;

/** Destroys a socket with a reset when possible (no TIME_WAIT left on our side), never throws. */
function refuse(sock: net.Socket): void {
  try {
    sock.on('error', () => { /* ignore */ });
    if (typeof sock.resetAndDestroy === 'function' && !sock.destroyed) sock.resetAndDestroy();
    else sock.destroy();
  } catch {
    try { sock.destroy(); } catch { /* gone */ }
  }
}

/** One client connection. */
class Connection {
  private readonly framer: RadiusFramer;
  private readonly dedup = new DedupTable(0);
  private closed = false;
  private reason: CloseReason | undefined;
  /** Deadline of the packet being read (set while a partial packet is buffered). */
  private readTimer: NodeJS.Timeout | undefined;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  private readonly writer = (reply: Buffer): void => {
    if (!this.closed && !this.sock.destroyed) this.sock.write(reply);
  };

  constructor(private readonly sock: net.Socket, private readonly client: RadiusClient, private readonly owner: TcpListener,
    private readonly ingest: Ingest, src: Endpoint) {
    this.src = src;
    this.dst = { address: normaliseAddress(sock.localAddress ?? ''), port: sock.localPort ?? 0 };
    sock.on('data', (d) => this.onData(d));
    sock.on('error', () => { /* 'close' follows */ });
    sock.on('close', () => this.onClose());
    const idle = owner.limits.idleTimeout;
    if (idle > 0) sock.setTimeout(idle * 1000, () => this.end('tcp_closed_idle'));
    sock.setNoDelay(true);
    const counters = this.ingest.counters;
    // Copy: decoded pairs view into the packet, and the stream buffer is reused by concat.
    this.framer = new RadiusFramer({ maxPacketSize: owner.config.maxPacketSize, copy: true, knownCode: isKnownCode }, {
      packet: (pkt) => {
        if (!this.ingest.packet(pkt, this.src, this.dst, this.client, this.dedup, this.writer)) { this.bad(); return false; }
        return !this.closed && this.reason === undefined;
      },
      bad: (why) => {
        counters.received++;
        const k = `malformed:tcp-${why}`;
        counters[k] = (counters[k] ?? 0) + 1;
        counters.drop_malformed++;
        this.bad();
      },
    });
  }

  /** Closes the connection and counts it under `reason` (first reason wins). */
  private end(reason: CloseReason): void {
    if (this.reason === undefined && !this.closed) {
      this.reason = reason;
      this.ingest.counters[reason]++;
    }
    this.framer.stop();
    this.clearReadTimer();
    this.sock.destroy();
  }

  private bad(): void {
    this.end('tcp_closed_bad');
  }

  private clearReadTimer(): void {
    if (this.readTimer) { clearTimeout(this.readTimer); this.readTimer = undefined; }
  }

  private onData(chunk: Buffer): void {
    if (this.closed || this.reason !== undefined) return;
    try {
      const framed = this.framer.push(chunk);
      if (this.closed || this.reason !== undefined) return;
      if (this.framer.buffered > 0) {
        // A new packet started (first tail, or a packet completed before it): its deadline starts now.
        const limit = this.owner.limits.readTimeout;
        if (limit > 0 && (framed > 0 || !this.readTimer)) {
          this.clearReadTimer();
          this.readTimer = setTimeout(() => this.end('tcp_closed_read_timeout'), limit * 1000);
          this.readTimer.unref();
        }
      } else {
        this.clearReadTimer();
      }
    } catch {
      this.ingest.counters.drop_internal++;
      this.bad();
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearReadTimer();
    const c = this.ingest.counters;
    if (this.reason === undefined) c.tcp_closed++;
    c.tcp_open--;
    this.owner.forget(this);
    // Nobody can receive these replies any more.
    for (const e of this.dedup.running()) e.inflight?.signal('cancel');
    this.dedup.close();
  }

  /** Cancels the requests in progress on this connection. */
  cancelAll(): void {
    for (const e of this.dedup.running()) e.inflight?.signal('cancel');
  }

  /** Closes the connection. */
  close(): void {
    this.sock.destroy();
  }
}

/** A TCP listener (RFC 6613). */
export class TcpListener implements Listener {
  private server: net.Server | undefined;
  private readonly ingest: Ingest;
  private readonly conns = new Set<Connection>();
  /** Open connections by source address (for `maxConnectionsPerClient`). */
  private readonly perAddress = new Map<string, number>();
  /** Effective limits (configured values, defaults filled in). */
  readonly limits: { readonly maxConnections: number; readonly maxConnectionsPerClient: number; readonly idleTimeout: number; readonly readTimeout: number };
  private refusals: DropLog;

  constructor(readonly config: ListenerConfig, deps: ListenerDeps) {
    this.ingest = new Ingest(config, deps, TCP_COUNTERS);
    this.refusals = new DropLog(deps.log);
    this.limits = Object.freeze({
      maxConnections: config.maxConnections ?? TCP_LIMIT_DEFAULTS.maxConnections,
      maxConnectionsPerClient: config.maxConnectionsPerClient ?? TCP_LIMIT_DEFAULTS.maxConnectionsPerClient,
      idleTimeout: config.idleTimeout ?? TCP_LIMIT_DEFAULTS.idleTimeout,
      readTimeout: config.readTimeout ?? TCP_LIMIT_DEFAULTS.readTimeout,
    });
  }

  start(): Promise<void> {
    const server = net.createServer({ noDelay: true }, (sock) => this.onConnection(sock));
    this.server = server;
    return new Promise<void>((resolve, reject) => {
      const onErr = (e: Error): void => { this.server = undefined; reject(e); };
      server.once('error', onErr);
      server.listen({ host: bindAddress(this.config.ipaddr), port: this.config.port, exclusive: this.config.exclusive ?? false }, () => {
        server.off('error', onErr);
        // After the bind, errors come from accept() (EMFILE, ENFILE, ENOBUFS …): the server keeps listening.
        server.on('error', (e) => {
          this.ingest.counters.tcp_accept_errors++;
          this.refusals.warn('accept-error:' + ((e as NodeJS.ErrnoException).code ?? ''),
            () => `${this.config.name}: cannot accept a TCP connection: ${e.message}`);
        });
        resolve();
      });
    });
  }

  private reject(sock: net.Socket, counter: 'tcp_rejected_unknown_client' | 'tcp_rejected_max_connections' | 'tcp_rejected_per_client', msg: () => string): void {
    const c = this.ingest.counters;
    c.tcp_rejected++;
    c[counter]++;
    this.refusals.warn(counter, msg);
    refuse(sock);
  }

  private onConnection(sock: net.Socket): void {
    try {
      const c = this.ingest.counters;
      const remote = sock.remoteAddress;
      if (remote === undefined) {
        // Already reset by the peer before we saw it.
        c.tcp_accept_errors++;
        refuse(sock);
        return;
      }
      const src = { address: normaliseAddress(remote), port: sock.remotePort ?? 0 };
      // Counts drop_unknown_client and logs at a limited rate; a udp-only client is unknown here.
      const client = this.ingest.client(src);
      if (!client) {
        c.tcp_rejected++;
        c.tcp_rejected_unknown_client++;
        refuse(sock);
        return;
      }
      const lim = this.limits;
      const mine = this.perAddress.get(src.address) ?? 0;
      if (lim.maxConnectionsPerClient > 0 && mine >= lim.maxConnectionsPerClient) {
        this.reject(sock, 'tcp_rejected_per_client',
          () => `${this.config.name}: refusing TCP connection from ${src.address} (client ${client.shortname}): it already has ${mine} open (max_connections_per_client = ${lim.maxConnectionsPerClient})`);
        return;
      }
      if (lim.maxConnections > 0 && this.conns.size >= lim.maxConnections) {
        this.reject(sock, 'tcp_rejected_max_connections',
          () => `${this.config.name}: refusing TCP connection from ${src.address} (client ${client.shortname}): ${this.conns.size} connections open (max_connections = ${lim.maxConnections})`);
        return;
      }
      const conn = new Connection(sock, client, this, this.ingest, src);
      c.tcp_accepted++;
      c.tcp_open++;
      this.perAddress.set(src.address, mine + 1);
      this.conns.add(conn);
    } catch {
      this.ingest.counters.drop_internal++;
      refuse(sock);
    }
  }

  /** Called by a connection when it closes. */
  forget(c: Connection): void {
    if (!this.conns.delete(c)) return;
    const n = (this.perAddress.get(c.src.address) ?? 1) - 1;
    if (n > 0) this.perAddress.set(c.src.address, n);
    else this.perAddress.delete(c.src.address);
  }

  stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const c of [...this.conns]) c.close();
    if (!s) return Promise.resolve();
    return new Promise((resolve) => s.close(() => resolve()));
  }

  address(): { address: string; port: number; family: string } | undefined {
    const a = this.server?.address();
    if (!a || typeof a === 'string') return undefined;
    return { address: a.address, port: a.port, family: a.family };
  }

  stats(): ListenerStats {
    return this.ingest.stats();
  }

  /** Cancels every request in progress (shutdown). */
  cancelAll(): void {
    for (const c of this.conns) c.cancelAll();
  }

  update(deps: Partial<ListenerDeps>): void {
    this.ingest.update(deps);
    if (deps.log) this.refusals = new DropLog(deps.log);
  }
}
