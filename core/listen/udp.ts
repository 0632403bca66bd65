/**
 * RADIUS over UDP (RFC 2865/2866): one datagram = one packet. Duplicate
 * detection and the reply cache live in one {@link DedupTable} per listener.
 *
 * Under `cluster`, a worker's non-exclusive bind shares the primary's socket
 * (see docs/multicore.md); nothing here is cluster-specific.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { normaliseAddress } from './clients';
import { DedupTable } from './dedup';
import { Ingest } from './ingest';
import type { Endpoint, Listener, ListenerConfig, ListenerDeps, ListenerStats } from './types';

/** Bind address for a configured `ipaddr` (`*` = all IPv4). */
export function bindAddress(ipaddr: string): string {
  return ipaddr === '*' || ipaddr === '' ? '0.0.0.0' : ipaddr;
}

/** A UDP listener. */
export class UdpListener implements Listener {
  private sock: dgram.Socket | undefined;
  private readonly ingest: Ingest;
  private readonly dedup: DedupTable;
  private local: Endpoint = { address: '', port: 0 };
  /** The socket is IPv6 (possibly dual-stack): IPv4 destinations must be written as ::ffff:a.b.c.d. */
  private v6 = false;
  private readonly writer = (reply: Buffer, to: Endpoint): void => this.send(reply, to);

  constructor(readonly config: ListenerConfig, deps: ListenerDeps) {
    this.ingest = new Ingest(config, deps, ['send_errors']);
    this.dedup = new DedupTable(config.cleanupDelay);
  }

  start(): Promise<void> {
    const host = bindAddress(this.config.ipaddr);
    const type = net.isIPv6(host) ? 'udp6' : 'udp4';
    const sock = dgram.createSocket({
      type,
      recvBufferSize: this.config.recvBuff,
      sendBufferSize: this.config.sendBuff,
      ipv6Only: type === 'udp6' ? false : undefined,
    });
    this.sock = sock;
    sock.on('message', (msg, rinfo) => {
      // Never let anything escape into the event loop.
      try {
        // A dual-stack (`::`) socket sees IPv4 peers as ::ffff:a.b.c.d; policies, client lookup and
        // dedup use the plain IPv4 form (send() maps it back).
        this.ingest.packet(msg, { address: normaliseAddress(rinfo.address), port: rinfo.port }, this.local, undefined, this.dedup, this.writer);
      } catch { this.ingest.counters.drop_internal++; }
    });
    return new Promise<void>((resolve, reject) => {
      const onErr = (e: Error): void => { sock.close(); this.sock = undefined; reject(e); };
      sock.once('error', onErr);
      sock.bind({ address: host, port: this.config.port, exclusive: this.config.exclusive ?? false }, () => {
        sock.off('error', onErr);
        sock.on('error', (e) => this.ingest.log?.error(`${this.config.name}: socket error: ${e.message}`));
        const a = sock.address();
        this.local = { address: normaliseAddress(a.address), port: a.port };
        this.v6 = a.family === 'IPv6' || (a.family as unknown) === 6;
        resolve();
      });
    });
  }

  private send(reply: Buffer, to: Endpoint): void {
    const s = this.sock;
    if (!s) return;
    const addr = this.v6 && net.isIPv4(to.address) ? '::ffff:' + to.address : to.address;
    s.send(reply, to.port, addr, (err) => {
      if (err) this.ingest.counters.send_errors++;
    });
  }

  stop(): Promise<void> {
    const s = this.sock;
    this.sock = undefined;
    this.dedup.close();
    if (!s) return Promise.resolve();
    return new Promise((resolve) => {
      try { s.close(() => resolve()); } catch { resolve(); }
    });
  }

  address(): { address: string; port: number; family: string } | undefined {
    if (!this.sock) return undefined;
    try {
      const a = this.sock.address();
      return { address: a.address, port: a.port, family: a.family };
    } catch { return undefined; }
  }

  stats(): ListenerStats {
    const s = this.ingest.stats();
    s.tracked = this.dedup.size;
    return s;
  }

  update(deps: Partial<ListenerDeps>): void {
    this.ingest.update(deps);
  }

  /** Cancels every request in progress (shutdown). */
  cancelAll(): void {
    for (const e of this.dedup.running()) e.inflight?.signal('cancel');
  }
}
