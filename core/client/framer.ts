/**
 * RADIUS over TCP framing (RFC 6613 §2.1): packets follow each other on the stream and are
 * delimited by the length field of their header. The one framer of the tree, used by the TCP
 * listener (`core/listen/tcp.ts`), the client tools' TCP channel (`core/cli/client.ts`) and the
 * `radius` module's TCP connections (`modules/radius/connection.ts`).
 *
 * A length below 20 or above `maxPacketSize` (or a code the caller refuses) means the stream
 * is out of sync: nothing after that point can be trusted, so the framer stops and reports it;
 * the caller closes the connection. Partial reads are reassembled; a short tail is copied
 * (chunk buffers may be pooled by the socket).
 */

/** Why a stream is out of sync. */
export type FrameError = 'length-too-small' | 'length-too-large' | 'unknown-code';

/** What the framer calls. */
export interface FrameSink {
  /**
   * One complete packet. It is a view into the stream buffer unless the framer was built with
   * `copy: true`; return false to stop framing (the caller closes the stream).
   */
  packet(pkt: Buffer): boolean | void;
  /** The stream is out of sync (`len` is the header's length field); framing stopped. */
  bad(why: FrameError, len: number, rest: Buffer): void;
}

/** Framer options. */
export interface FramerOptions {
  /** Largest packet accepted (RFC 6613 allows 4096, RFC 7930 up to 65535). */
  maxPacketSize: number;
  /** Copy each packet out of the stream buffer (when the consumer keeps views into it). */
  copy?: boolean;
  /** Refuse a packet code at the framing stage (the listener refuses codes it does not know). */
  knownCode?: (code: number) => boolean;
}

/** Reassembles RADIUS packets from stream chunks. */
export class RadiusFramer {
  private pending: Buffer | undefined;
  private stopped = false;

  constructor(private readonly opts: FramerOptions, private readonly sink: FrameSink) {}

  /** Bytes of a started, incomplete packet held for the next chunk (0 when at a packet boundary). */
  get buffered(): number {
    return this.pending ? this.pending.length : 0;
  }

  /**
   * Feeds one chunk; calls `sink.packet` for every complete packet in order. Returns how many
   * packets were completed (a caller timing a started packet restarts its deadline when > 0).
   */
  push(chunk: Buffer): number {
    if (this.stopped) return 0;
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    const { maxPacketSize: max, copy, knownCode } = this.opts;
    let off = 0;
    let n = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt16BE(off + 2);
      const why: FrameError | undefined = len < 20 ? 'length-too-small' : len > max ? 'length-too-large'
        : knownCode && !knownCode(buf[off]) ? 'unknown-code' : undefined;
      if (why) {
        this.stopped = true;
        this.sink.bad(why, len, buf.subarray(off));
        return n;
      }
      if (buf.length - off < len) break;
      const view = buf.subarray(off, off + len);
      off += len;
      n++;
      if (this.sink.packet(copy ? Buffer.from(view) : view) === false || this.stopped) {
        this.stopped = true;
        return n;
      }
    }
    if (off < buf.length) this.pending = Buffer.from(buf.subarray(off));
    return n;
  }

  /** Stops framing (the stream is closed): later chunks are ignored, the tail is dropped. */
  stop(): void {
    this.stopped = true;
    this.pending = undefined;
  }
}
