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
 */
import * as net from 'node:net';
import { RadiusFramer } from '../client/framer';
import { isKnownCode } from '../protocol/radius/packet';
import { normaliseAddress } from './clients';
import { DedupTable } from './dedup';
import { Ingest } from './ingest';
import { bindAddress } from './udp';
import type { Endpoint, Listener, ListenerConfig, ListenerDeps, ListenerStats, RadiusClient } from './types';

const TCP_COUNTERS = ['tcp_accepted', 'tcp_closed_bad', 'tcp_rejected', 'tcp_open'] as const;

/** One client connection. */
class Connection {
  private readonly framer: RadiusFramer;
  private readonly dedup = new DedupTable(0);
  private closed = false;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  private readonly writer = (reply: Buffer): void => {
    if (!this.closed && !this.sock.destroyed) this.sock.write(reply);
  };

  constructor(private readonly sock: net.Socket, private readonly client: RadiusClient, private readonly owner: TcpListener, private readonly ingest: Ingest) {
    this.src = { address: normaliseAddress(sock.remoteAddress ?? ''), port: sock.remotePort ?? 0 };
    this.dst = { address: normaliseAddress(sock.localAddress ?? ''), port: sock.localPort ?? 0 };
    sock.on('data', (d) => this.onData(d));
    sock.on('error', () => { /* 'close' follows */ });
    sock.on('close', () => this.onClose());
    const idle = owner.config.idleTimeout ?? 0;
    if (idle > 0) sock.setTimeout(idle * 1000, () => sock.destroy());
    sock.setNoDelay(true);
    const counters = this.ingest.counters;
    // Copy: decoded pairs view into the packet, and the stream buffer is reused by concat.
    this.framer = new RadiusFramer({ maxPacketSize: owner.config.maxPacketSize, copy: true, knownCode: isKnownCode }, {
      packet: (pkt) => {
        if (!this.ingest.packet(pkt, this.src, this.dst, this.client, this.dedup, this.writer)) { this.bad(); return false; }
        return !this.closed;
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

  private bad(): void {
    this.ingest.counters.tcp_closed_bad++;
    this.framer.stop();
    this.sock.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    try {
      this.framer.push(chunk);
    } catch {
      this.ingest.counters.drop_internal++;
      this.bad();
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.ingest.counters.tcp_open--;
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

  constructor(readonly config: ListenerConfig, deps: ListenerDeps) {
    this.ingest = new Ingest(config, deps, TCP_COUNTERS);
  }

  start(): Promise<void> {
    const server = net.createServer({ noDelay: true }, (sock) => this.onConnection(sock));
    server.maxConnections = this.config.maxConnections ?? 1024;
    this.server = server;
    return new Promise<void>((resolve, reject) => {
      const onErr = (e: Error): void => { this.server = undefined; reject(e); };
      server.once('error', onErr);
      server.listen({ host: bindAddress(this.config.ipaddr), port: this.config.port, exclusive: this.config.exclusive ?? false }, () => {
        server.off('error', onErr);
        server.on('error', (e) => this.ingest.log?.error(`${this.config.name}: socket error: ${e.message}`));
        server.on('drop', () => { this.ingest.counters.tcp_rejected++; });
        resolve();
      });
    });
  }

  private onConnection(sock: net.Socket): void {
    try {
      const c = this.ingest.counters;
      const src = { address: normaliseAddress(sock.remoteAddress ?? ''), port: sock.remotePort ?? 0 };
      const client = this.ingest.client(src);
      if (!client || (client as { proto?: string }).proto === 'udp') {
        c.tcp_rejected++;
        sock.on('error', () => { /* ignore */ });
        sock.destroy();
        return;
      }
      c.tcp_accepted++;
      c.tcp_open++;
      this.conns.add(new Connection(sock, client, this, this.ingest));
    } catch {
      this.ingest.counters.drop_internal++;
      sock.destroy();
    }
  }

  /** Called by a connection when it closes. */
  forget(c: Connection): void {
    this.conns.delete(c);
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
  }
}
