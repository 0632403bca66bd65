/**
 * RADIUS over UDP (RFC 2865/2866): one datagram = one packet. Duplicate
 * detection and the reply cache live in one {@link DedupTable} per listener.
 *
 * Two socket paths (the log says which, once per process):
 * - **native** (core/native/udp, built by `npm run build:native`; IPv4 binds):
 *   `recvmmsg` batches in, replies queued and flushed with one `sendmmsg` at the
 *   end of each receive batch (and on the next loop turn for replies that come
 *   later). In a cluster worker a non-exclusive bind opens the worker's own
 *   socket with SO_REUSEPORT: the kernel keeps each NAS flow on one worker, so
 *   the duplicate cache is exact.
 * - **dgram** (the fallback; IPv6 binds; `TSRADIUS_NATIVE_UDP=0`): one
 *   `message` event and one `send` per datagram. Under `cluster`, a worker's
 *   non-exclusive bind shares the primary's socket (see docs/multicore.md).
 */
import cluster from 'node:cluster';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { META_SIZE, SendQueue, openUdp, putPeer, udpBackend, type BatchUdpSocket } from '../native/udp';
import { normaliseAddress } from './clients';
import { DedupTable } from './dedup';
import { Ingest } from './ingest';
import type { Endpoint, Listener, ListenerConfig, ListenerDeps, ListenerStats } from './types';

/** Bind address for a configured `ipaddr` (`*` = all IPv4). */
export function bindAddress(ipaddr: string): string {
  return ipaddr === '*' || ipaddr === '' ? '0.0.0.0' : ipaddr;
}

let backendLogged = false;

/** Replies queued for one `sendmmsg` (native path). */
const OUT_BATCH = 64;
const OUT_SLOT = 4096;

/** A UDP listener. */
export class UdpListener implements Listener {
  private sock: dgram.Socket | undefined;
  private batch: BatchUdpSocket | undefined;
  /** Native path: the reply queue (flushed by {@link flush}). */
  private out: SendQueue | undefined;
  private inBatch = false;
  private flushScheduled = false;
  private readonly ingest: Ingest;
  private readonly dedup: DedupTable;
  private local: Endpoint = { address: '', port: 0 };
  /** The socket is IPv6 (possibly dual-stack): IPv4 destinations must be written as ::ffff:a.b.c.d. */
  private v6 = false;
  private readonly writer = (reply: Buffer, to: Endpoint): void => this.send(reply, to);

  /** Processes sharing the port (cluster workers). */
  private readonly share: number;

  constructor(readonly config: ListenerConfig, deps: ListenerDeps) {
    this.share = deps.share ?? 1;
    this.ingest = new Ingest(config, deps, ['send_errors']);
    this.dedup = new DedupTable(config.cleanupDelay);
  }

  start(): Promise<void> {
    const host = bindAddress(this.config.ipaddr);
    const type = net.isIPv6(host) ? 'udp6' : 'udp4';
    const backend = udpBackend();
    if (!backendLogged) {
      backendLogged = true;
      this.ingest.log?.info(backend.backend === 'native'
        ? 'UDP I/O: native (recvmmsg/sendmmsg batches; SO_REUSEPORT per cluster worker)'
        : `UDP I/O: node:dgram (${backend.why})`);
    }
    if (backend.backend === 'native' && type === 'udp4') return this.startNative(host);
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

  /** The native path: batches in, batched replies out. */
  private async startNative(host: string): Promise<void> {
    this.out = new SendQueue(OUT_BATCH, OUT_SLOT, true);
    const local = (): Endpoint => this.local;
    this.batch = await openUdp({
      family: 4,
      bind: { address: host, port: this.config.port },
      // A cluster worker's non-exclusive bind: its own socket on the shared port.
      reusePort: cluster.isWorker && !this.config.exclusive,
      // …and spread by packet ID over the workers, not by flow: a NAS (or load generator) with a few
      // source ports would otherwise load one worker and leave the other idle.
      // TSRADIUS_UDP_SPREAD=0 keeps the kernel's flow hash (for A/B measurements; see docs/multicore.md).
      spread: cluster.isWorker && !this.config.exclusive && this.share > 1 && process.env.TSRADIUS_UDP_SPREAD !== '0' ? this.share : undefined,
      rcvbuf: this.config.recvBuff,
      sndbuf: this.config.sendBuff,
      // One byte over the packet limit, so an oversized datagram is seen (and dropped as too large).
      maxSize: Math.min(65536, this.config.maxPacketSize + 1),
      onMessages: (sock, n) => {
        this.inBatch = true;
        const meta = sock.meta!;
        const lengths = sock.lengths;
        const slot = sock.slotSize;
        // The slots are reused by the next batch: copy the whole batch into one new buffer (one allocation, not
        // two per datagram); each request keeps a view of its own bytes.
        let total = 0;
        for (let i = 0; i < n; i++) total += lengths[i];
        const copy = Buffer.allocUnsafe(total);
        for (let i = 0, o = 0; i < n; o += lengths[i], i++) sock.buffer.copy(copy, o, i * slot, i * slot + lengths[i]);
        for (let i = 0, o = 0; i < n; o += lengths[i], i++) {
          try {
            const at = i * META_SIZE;
            const msg = copy.subarray(o, o + lengths[i]);
            const src: Endpoint = { address: this.peerText(meta, at), port: (meta[at + 2] << 8) | meta[at + 3] };
            this.ingest.packet(msg, src, local(), undefined, this.dedup, this.writer);
          } catch { this.ingest.counters.drop_internal++; }
        }
        this.inBatch = false;
        this.flush();
      },
    });
    const a = this.batch.info();
    this.local = { address: a.address, port: a.port };
  }

  /** The last peer address seen (native path): most datagrams come from the same few NASes, so its text is reused. */
  private lastPeer = -1;
  private lastPeerText = '';

  /** The IPv4 source of a meta record as text (the cached string when it is the last peer's). */
  private peerText(meta: Buffer, at: number): string {
    const v = ((meta[at + 4] << 24) | (meta[at + 5] << 16) | (meta[at + 6] << 8) | meta[at + 7]) >>> 0;
    if (v !== this.lastPeer) {
      this.lastPeer = v;
      this.lastPeerText = `${meta[at + 4]}.${meta[at + 5]}.${meta[at + 6]}.${meta[at + 7]}`;
    }
    return this.lastPeerText;
  }

  /** Writes the IPv4 destination of a reply into a meta record (the last peer's without parsing its text). */
  private putDest(at: number, to: Endpoint): void {
    const m = this.out!.meta!;
    if (to.address !== this.lastPeerText) { putPeer(m, at, to.address, to.port); return; }
    const v = this.lastPeer;
    m[at] = 4;
    m[at + 1] = 0;
    m[at + 2] = to.port >>> 8;
    m[at + 3] = to.port & 255;
    m[at + 4] = v >>> 24;
    m[at + 5] = (v >>> 16) & 255;
    m[at + 6] = (v >>> 8) & 255;
    m[at + 7] = v & 255;
  }

  /** Queues a reply (native path); sent at the end of the receive batch or on the next loop turn. */
  private queue(reply: Buffer, to: Endpoint): void {
    const i = this.out!.add(this.batch, reply, 0, reply.length);
    if (i < 0) return;
    this.putDest(i * META_SIZE, to);
    if (!this.inBatch && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => { this.flushScheduled = false; this.flush(); });
    }
  }

  private flush(): void {
    if (this.out) this.ingest.counters.send_errors += this.out.flush(this.batch);
  }

  private send(reply: Buffer, to: Endpoint): void {
    if (this.batch) return this.queue(reply, to);
    const s = this.sock;
    if (!s) return;
    const addr = this.v6 && net.isIPv4(to.address) ? '::ffff:' + to.address : to.address;
    s.send(reply, to.port, addr, (err) => {
      if (err) this.ingest.counters.send_errors++;
    });
  }

  stop(): Promise<void> {
    const b = this.batch;
    if (b) {
      this.flush();
      this.batch = undefined;
      b.close();
    }
    const s = this.sock;
    this.sock = undefined;
    this.dedup.close();
    if (!s) return Promise.resolve();
    return new Promise((resolve) => {
      try { s.close(() => resolve()); } catch { resolve(); }
    });
  }

  address(): { address: string; port: number; family: string } | undefined {
    if (this.batch) return { address: this.local.address, port: this.local.port, family: 'IPv4' };
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
