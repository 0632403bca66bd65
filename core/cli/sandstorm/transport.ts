/**
 * Sandstorm's sockets. A channel is one socket (UDP) or one connection (TCP)
 * towards one server port, owning 256 RADIUS IDs. Channels only move bytes:
 * `queue` takes a request to send, `flush` sends what was queued (one
 * `sendmmsg` with the native addon; the dgram and TCP channels send at once
 * and `flush` does nothing), and every datagram that arrives is handed to the
 * receiver as (channel, buffer, offset, length) — one handler per socket, no
 * closure per packet.
 */
import * as net from 'node:net';
import { SendQueue, openUdp, type BatchUdpSocket } from '../../native/udp';

/** Called for every packet received on a channel. */
export interface Receiver {
  onPacket(ch: Channel, buf: Buffer, off: number, len: number): void;
  /** End of a batch of packets (flush queued sends). */
  onBatchEnd(): void;
}

export interface Channel {
  /** Index of the channel in the engine's list. */
  readonly index: number;
  /** Queues `len` bytes of `buf` for sending (the buffer must stay unchanged until the reply). */
  queue(buf: Buffer, len: number): void;
  /** Sends what was queued; returns the number of send errors. */
  flush(): number;
  close(): void;
  /** True when `flush` has something to send. */
  readonly dirty: boolean;
}

/** Kernel socket buffer size asked for (the kernel caps it at net.core.rmem_max/wmem_max). */
const SOCK_BUF = 4 << 20;

/** Most datagrams handed to one `sendmmsg`. */
const SEND_BATCH = 64;

/**
 * A connected UDP socket from core/native/udp: `recvmmsg`/`sendmmsg` batches
 * with the addon, one datagram per call through its dgram fallback.
 */
export class UdpChannel implements Channel {
  /** Queued datagrams (copied: the caller's buffer may change after `queue`). */
  private readonly out: SendQueue;
  private sock!: BatchUdpSocket;
  private constructor(readonly index: number, maxLen: number) {
    this.out = new SendQueue(SEND_BATCH, maxLen, false);
  }

  get dirty(): boolean { return this.out.size > 0; }

  static async open(index: number, host: string, port: number, family: 4 | 6, maxLen: number, rx: Receiver): Promise<UdpChannel> {
    const ch = new UdpChannel(index, maxLen);
    ch.sock = await openUdp({
      family, connect: { address: host, port }, rcvbuf: SOCK_BUF, sndbuf: SOCK_BUF,
      onMessages: (s, count) => {
        const { buffer, lengths, slotSize } = s;
        for (let i = 0; i < count; i++) rx.onPacket(ch, buffer, i * slotSize, lengths[i]);
        rx.onBatchEnd();
      },
    });
    return ch;
  }

  queue(buf: Buffer, len: number): void {
    this.out.add(this.sock, buf, 0, len);
  }

  flush(): number {
    return this.out.flush(this.sock); // lost datagrams (EAGAIN/ENOBUFS/ECONNREFUSED): those requests time out
  }

  close(): void {
    this.sock.close();
  }
}

/** A TCP connection (RFC 6613): the same packets over a stream, reassembled by their length field. */
export class TcpChannel implements Channel {
  readonly dirty = false;
  private pending: Buffer | null = null;
  private errors = 0;
  private constructor(readonly index: number, private readonly sock: net.Socket) {}

  static async open(index: number, host: string, port: number, rx: Receiver): Promise<TcpChannel> {
    const sock = net.connect({ host, port, noDelay: true });
    const ch = new TcpChannel(index, sock);
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.once('connect', () => { sock.off('error', reject); resolve(); });
    });
    sock.on('error', () => { ch.errors++; });
    sock.on('data', (chunk: Buffer) => {
      const buf = ch.pending ? Buffer.concat([ch.pending, chunk]) : chunk;
      let p = 0;
      while (buf.length - p >= 4) {
        const len = buf.readUInt16BE(p + 2);
        if (len < 20) { sock.destroy(); return; } // broken framing: nothing after it can be trusted
        if (buf.length - p < len) break;
        rx.onPacket(ch, buf, p, len);
        p += len;
      }
      ch.pending = p < buf.length ? Buffer.from(buf.subarray(p)) : null;
      rx.onBatchEnd();
    });
    return ch;
  }

  queue(buf: Buffer, len: number): void {
    this.sock.write(buf.subarray(0, len));
  }

  flush(): number {
    const e = this.errors;
    this.errors = 0;
    return e;
  }

  close(): void {
    this.sock.destroy();
  }
}
