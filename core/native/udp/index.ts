/**
 * Batched UDP sockets: the native addon (`recvmmsg`/`sendmmsg`, SO_REUSEPORT,
 * IP_PKTINFO, SO_RCVBUF sizing; see src/udp.c and README.md) when it has been
 * built, else a pure `node:dgram` fallback with the same interface (batches of
 * one). Which one is in use is `udpBackend()`; callers log it once.
 *
 * The addon is optional: `npm run build:native` builds it; nothing in
 * `npm ci`/`npm test` needs a compiler. `TSRADIUS_NATIVE_UDP=0` forces the
 * fallback (to test both paths on one machine).
 */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Bytes of per-datagram address metadata (see the layout in src/udp.c). */
export const META_SIZE = 48;

/** The raw addon functions (src/udp.c). */
interface Addon {
  create(opts: object, recvBuffer: Buffer, recvLengths: Uint32Array, recvMeta: Buffer | null, onMessages: (count: number) => void): object;
  sendBatch(h: object, buffer: Buffer, offsets: Uint32Array, lengths: Uint32Array, count: number, meta: Buffer | null): number;
  info(h: object): SocketInfo;
  close(h: object): void;
  md5(init: Int32Array, prefixLen: number, data: Uint8Array, start: number, end: number, out: Uint8Array, outOff: number): void;
}

/** What a socket is bound to, and the buffer sizes the kernel granted (Linux reports twice the asked size). */
export interface SocketInfo {
  family: 4 | 6;
  address: string;
  port: number;
  rcvbuf: number;
  sndbuf: number;
}

export interface UdpOptions {
  family?: 4 | 6;
  /** Local address and port (numeric); port 0 or unset: any. */
  bind?: { address?: string; port?: number };
  /** Connect to this peer (numeric address): only its datagrams are received, sends need no address. */
  connect?: { address: string; port: number };
  /** SO_REUSEPORT: several sockets (one per worker) on one port; the kernel spreads flows over them. */
  reusePort?: boolean;
  /**
   * With `reusePort`, the number of sockets in the group (N ≥ 2): the kernel hands each datagram to
   * socket (byte 1 mod N), the RADIUS packet ID, instead of hashing the flow (addon only; see src/udp.c).
   */
  spread?: number;
  /** SO_RCVBUF / SO_SNDBUF to ask for (capped by net.core.rmem_max / wmem_max). */
  rcvbuf?: number;
  sndbuf?: number;
  /** Report each datagram's local (destination) address and interface (IP_PKTINFO). */
  pktinfo?: boolean;
  /** Datagrams per receive batch (1–256, default 32). */
  batch?: number;
  /** Largest datagram received (default 4096, the RADIUS maximum). */
  maxSize?: number;
  /** Keep peer addresses in `meta` (default: true unless connected). */
  meta?: boolean;
  /** Called with the number of datagrams now in `buffer`/`lengths`/`meta`; valid until it returns. */
  onMessages(sock: BatchUdpSocket, count: number): void;
}

export interface BatchUdpSocket {
  readonly backend: 'native' | 'dgram';
  /** Datagram i of a batch is at `buffer[i * slotSize …]`, `lengths[i]` bytes. */
  readonly buffer: Buffer;
  readonly slotSize: number;
  readonly lengths: Uint32Array;
  /** Per datagram: META_SIZE bytes of peer (and, with pktinfo, local) address, or null. */
  readonly meta: Buffer | null;
  /**
   * Sends `count` datagrams (`buffer[offsets[i] … + lengths[i]]`); with `meta`,
   * to the peer in each record (and from its local address when flag bit 0 is
   * set). The bytes are copied or sent before it returns. Returns how many
   * were sent, or −errno when the first failed.
   */
  sendBatch(buffer: Buffer, offsets: Uint32Array, lengths: Uint32Array, count: number, meta?: Buffer | null): number;
  info(): SocketInfo;
  close(): void;
}

let addon: Addon | null | undefined;
let loadError = '';

/** Where the built addon lives (node-gyp's output beside binding.gyp in the source tree). */
export function addonPath(): string {
  // From dist/core/native/udp or core/native/udp: the source folder holds build/.
  const here = __dirname;
  const src = here.includes(`${path.sep}dist${path.sep}`) ? here.replace(`${path.sep}dist${path.sep}`, path.sep) : here;
  return path.join(src, 'build', 'Release', 'tsradius_udp.node');
}

function loadAddon(): Addon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env.TSRADIUS_NATIVE_UDP === '0') { loadError = 'disabled by TSRADIUS_NATIVE_UDP=0'; return null; }
  const file = addonPath();
  if (!fs.existsSync(file)) { loadError = `not built (${file}); npm run build:native builds it`; return null; }
  try {
    addon = require(file) as Addon;
  } catch (e) {
    loadError = `failed to load ${file}: ${(e as Error).message}`;
  }
  return addon;
}

/** `native` when the addon is built and loads, else `dgram`; `why` says why the fallback is used. */
export function udpBackend(): { backend: 'native' | 'dgram'; why?: string } {
  return loadAddon() ? { backend: 'native' } : { backend: 'dgram', why: loadError };
}

/** The addon's MD5 (src/md5.c), the same contract as the JavaScript one in core/protocol/radius/crypto.ts; undefined without the addon. */
export type NativeMd5 = Addon['md5'];
export function nativeMd5(): NativeMd5 | undefined {
  const a = loadAddon();
  return a && typeof a.md5 === 'function' ? a.md5 : undefined;
}

/**
 * Opens a socket with the addon when available, else through dgram (see
 * {@link openDgram}); resolves once it is bound (and connected).
 */
export async function openUdp(o: UdpOptions): Promise<BatchUdpSocket> {
  const a = loadAddon();
  return a ? openNative(a, o) : openDgram(o);
}

function openNative(a: Addon, o: UdpOptions): BatchUdpSocket {
  const batch = Math.min(256, Math.max(1, o.batch ?? 32));
  const slotSize = o.maxSize ?? 4096;
  const buffer = Buffer.alloc(batch * slotSize);
  const lengths = new Uint32Array(batch);
  const meta = (o.meta ?? !o.connect) || o.pktinfo ? Buffer.alloc(batch * META_SIZE) : null;
  let sock!: BatchUdpSocket;
  const h = a.create({
    family: o.family ?? 4,
    bindAddress: o.bind?.address, bindPort: o.bind?.port,
    connectAddress: o.connect?.address, connectPort: o.connect?.port,
    reusePort: o.reusePort, spread: o.spread, rcvbuf: o.rcvbuf, sndbuf: o.sndbuf, pktinfo: o.pktinfo,
  }, buffer, lengths, meta, (count) => o.onMessages(sock, count));
  let closed = false;
  sock = {
    backend: 'native', buffer, slotSize, lengths, meta,
    sendBatch: (b, off, len, count, m) => a.sendBatch(h, b, off, len, count, m ?? null),
    info: () => a.info(h),
    close: () => { if (!closed) { closed = true; a.close(h); } },
  };
  return sock;
}

/**
 * Datagrams waiting for one `sendBatch` (one `sendmmsg` with the addon). Each
 * is copied in, so the caller may reuse its buffer at once; with `withMeta`
 * each has a destination record (`meta`, at `index * META_SIZE`) for sockets
 * that are not connected. Used by the listener's replies, the `radius`
 * module's upstream connections and Sandstorm.
 */
export class SendQueue {
  /** Destination records, one per queued datagram (null for connected sockets). */
  readonly meta: Buffer | null;
  /** The error that ended the last send early (a negative errno); 0 when none, or when there was no socket. */
  lastError = 0;
  private readonly out: Buffer;
  private readonly offsets: Uint32Array;
  private readonly lengths: Uint32Array;
  private n = 0;
  private used = 0;
  private lost = 0;

  constructor(readonly capacity: number, readonly maxLen: number, withMeta: boolean) {
    this.out = Buffer.allocUnsafe(capacity * maxLen);
    this.offsets = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
    this.meta = withMeta ? Buffer.alloc(capacity * META_SIZE) : null;
  }

  /** Datagrams queued. */
  get size(): number {
    return this.n;
  }

  /**
   * Queues `len` bytes of `buf` from `start` (a full queue is sent first) and
   * returns its index, for the caller's destination record; −1, counted as
   * lost, when it is longer than `maxLen`.
   */
  add(sock: BatchUdpSocket | undefined, buf: Uint8Array, start: number, len: number): number {
    if (len > this.maxLen) { this.lost++; return -1; }
    if (this.n === this.capacity) this.send(sock);
    const i = this.n++;
    this.out.set(buf.subarray(start, start + len), this.used);
    this.offsets[i] = this.used;
    this.lengths[i] = len;
    this.used += len;
    return i;
  }

  /** Sends what is queued; returns how many datagrams were lost since the last flush. */
  flush(sock: BatchUdpSocket | undefined): number {
    this.send(sock);
    const l = this.lost;
    this.lost = 0;
    return l;
  }

  private send(sock: BatchUdpSocket | undefined): void {
    const n = this.n;
    if (n === 0) return;
    this.n = 0;
    this.used = 0;
    this.lastError = 0;
    if (!sock) { this.lost += n; return; }
    let sent = 0;
    // sendmmsg may stop early (a full socket buffer): go on while it makes progress; what is left is lost
    // (EAGAIN, ENOBUFS, ECONNREFUSED: those requests time out and are retransmitted by their owner).
    while (sent < n) {
      const r = sent === 0
        ? sock.sendBatch(this.out, this.offsets, this.lengths, n, this.meta)
        : sock.sendBatch(this.out, this.offsets.subarray(sent), this.lengths.subarray(sent), n - sent, this.meta?.subarray(sent * META_SIZE) ?? null);
      if (r <= 0) { this.lastError = r; break; }
      sent += r;
    }
    this.lost += n - sent;
  }
}

/** Writes a peer address into a meta record. */
export function putPeer(meta: Buffer, at: number, address: string, port: number): void {
  meta.fill(0, at, at + META_SIZE);
  const v6 = address.includes(':');
  meta[at] = v6 ? 6 : 4;
  meta.writeUInt16BE(port, at + 2);
  if (!v6) {
    const parts = address.split('.');
    for (let i = 0; i < 4; i++) meta[at + 4 + i] = Number(parts[i]);
  } else {
    ipv6Bytes(address).copy(meta, at + 4);
  }
}

/** Reads the peer of a meta record. */
export function peerOf(meta: Buffer, at: number): { address: string; port: number } {
  return { address: addrText(meta, at, at + 4), port: meta.readUInt16BE(at + 2) };
}

/** Reads the local (destination) address of a meta record, when IP_PKTINFO reported one. */
export function localOf(meta: Buffer, at: number): { address: string; ifindex: number } | undefined {
  if (!(meta[at + 1] & 1)) return undefined;
  return { address: addrText(meta, at, at + 20), ifindex: meta.readUInt32LE(at + 36) };
}

function addrText(meta: Buffer, at: number, off: number): string {
  if (meta[at] === 4) return `${meta[off]}.${meta[off + 1]}.${meta[off + 2]}.${meta[off + 3]}`;
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(meta.readUInt16BE(off + i).toString(16));
  return g.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

function ipv6Bytes(address: string): Buffer {
  const out = Buffer.alloc(16);
  const [head, tail] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16) || 0, i * 2));
  return out;
}

/**
 * The `node:dgram` fallback: the same interface, one datagram per batch.
 * Sends copy each datagram (dgram may queue it after `send` returns).
 * SO_REUSEPORT is only honoured by Node ≥ 22.12's `reusePort`; IP_PKTINFO is
 * not available (the local address is the bound one).
 */
export async function openDgram(o: UdpOptions): Promise<BatchUdpSocket> {
  const family = o.family ?? 4;
  const s = dgram.createSocket({
    type: family === 6 ? 'udp6' : 'udp4',
    recvBufferSize: o.rcvbuf, sendBufferSize: o.sndbuf,
    ...(o.reusePort ? { reusePort: true } : {}),
  } as dgram.SocketOptions);
  const lengths = new Uint32Array(1);
  const wantMeta = (o.meta ?? !o.connect) || !!o.pktinfo;
  const meta = wantMeta ? Buffer.alloc(META_SIZE) : null;
  const sock = {
    backend: 'dgram' as const,
    buffer: Buffer.alloc(0),
    slotSize: 0,
    lengths,
    meta,
    sendBatch(b: Buffer, off: Uint32Array, len: Uint32Array, count: number, m?: Buffer | null): number {
      for (let i = 0; i < count; i++) {
        const copy = Buffer.from(b.subarray(off[i], off[i] + len[i]));
        if (m) {
          const peer = peerOf(m, i * META_SIZE);
          s.send(copy, peer.port, peer.address);
        } else {
          s.send(copy);
        }
      }
      return count;
    },
    info(): SocketInfo {
      const a = s.address();
      return { family, address: a.address, port: a.port, rcvbuf: s.getRecvBufferSize(), sndbuf: s.getSendBufferSize() };
    },
    close(): void { try { s.close(); } catch { /* closed already */ } },
  };
  s.on('message', (msg, rinfo) => {
    sock.buffer = msg;
    lengths[0] = msg.length;
    if (meta) putPeer(meta, 0, rinfo.address, rinfo.port);
    o.onMessages(sock, 1);
  });
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind({ address: o.bind?.address, port: o.bind?.port ?? 0 }, () => {
      if (!o.connect) { s.off('error', reject); resolve(); return; }
      s.connect(o.connect.port, o.connect.address, () => { s.off('error', reject); resolve(); });
    });
  });
  // ICMP errors on connected sockets and late send failures: the datagram is lost, as with the addon.
  s.on('error', () => undefined);
  return sock;
}
