/**
 * A minimal NAS for the proxy tests: sends RADIUS requests over one UDP socket with
 * our codec, matches replies by ID, verifies them, and can retransmit the exact same
 * bytes (what a NAS does), so that the proxy's duplicate handling can be observed.
 */
import * as dgram from 'node:dgram';
import { loadDefaultDictionary } from '../../core/dict/default';
import type { Dictionary } from '../../core/dict/dictionary';
import type { Pair } from '../../core/pair/pair';
import { parsePairList } from '../../core/pair/text';
import { decodePacket, encodePacket, PacketCode } from '../../core/protocol/radius';

/** A verified reply. */
export interface NasReply {
  code: number;
  pairs: Pair[];
  /** Milliseconds from the first send. */
  ms: number;
  /** The raw reply. */
  raw: Buffer;
}

/** One request in flight. */
export interface NasRequest {
  readonly id: number;
  readonly bytes: Buffer;
  /** Sends the same bytes again. */
  retransmit(): void;
  /** Resolves with the reply, or null after the timeout. */
  readonly reply: Promise<NasReply | null>;
}

let sharedDict: Dictionary | undefined;

/** The default dictionary, loaded once. */
export function dict(): Dictionary {
  return (sharedDict ??= loadDefaultDictionary());
}

/** A NAS bound to an ephemeral loopback port. */
export class TestNas {
  private sock!: dgram.Socket;
  private nextId = Math.floor(Math.random() * 256);
  private readonly waiting = new Map<number, { auth: Buffer; code: number; t0: number; done: (r: NasReply | null) => void }>();
  /** Replies that matched nothing or failed verification. */
  invalidReplies = 0;

  private constructor(readonly host: string, readonly port: number, readonly secret: string) {}

  /** Opens a NAS socket aimed at host:port. */
  static async open(port: number, secret = 'testing123', host = '127.0.0.1'): Promise<TestNas> {
    const n = new TestNas(host, port, secret);
    n.sock = dgram.createSocket('udp4');
    n.sock.on('message', (m) => n.onMessage(m));
    n.sock.on('error', () => undefined);
    await new Promise<void>((r) => n.sock.bind(0, '127.0.0.1', () => r()));
    return n;
  }

  private onMessage(m: Buffer): void {
    if (m.length < 20) { this.invalidReplies++; return; }
    const w = this.waiting.get(m[1]);
    if (!w) { this.invalidReplies++; return; }
    const d = decodePacket(m, { dict: dict(), secret: Buffer.from(this.secret), requestAuthenticator: w.auth, requestCode: w.code });
    if (!d.ok) { this.invalidReplies++; return; }
    this.waiting.delete(m[1]);
    w.done({ code: d.packet.code, pairs: d.packet.pairs, ms: Date.now() - w.t0, raw: Buffer.from(m) });
  }

  /** Sends a request (pairs as text) and returns a handle; the reply resolves null after `timeoutMs`. */
  send(code: number, pairsText: string, opts: { timeoutMs?: number; id?: number } = {}): NasRequest {
    let id = opts.id;
    if (id === undefined) {
      for (let i = 0; i < 256; i++) {
        const c = (this.nextId + i) & 0xff;
        if (!this.waiting.has(c)) { id = c; break; }
      }
      if (id === undefined) throw new Error('no free ID on the test NAS');
      this.nextId = (id + 1) & 0xff;
    }
    const bytes = encodePacket(
      { code, id, authenticator: Buffer.alloc(0), pairs: parsePairList(pairsText, dict()) },
      { dict: dict(), secret: Buffer.from(this.secret), messageAuthenticator: code === PacketCode.AccessRequest || code === PacketCode.StatusServer },
    );
    const auth = Buffer.from(bytes.subarray(4, 20));
    const t0 = Date.now();
    const timeoutMs = opts.timeoutMs ?? 5000;
    const fixedId = id;
    const reply = new Promise<NasReply | null>((resolve) => {
      const t = setTimeout(() => { this.waiting.delete(fixedId); resolve(null); }, timeoutMs);
      this.waiting.set(fixedId, { auth, code, t0, done: (r) => { clearTimeout(t); resolve(r); } });
    });
    const out = Buffer.from(bytes);
    const sendIt = (): void => { this.sock.send(out, this.port, this.host, () => undefined); };
    sendIt();
    return { id: fixedId, bytes: out, retransmit: sendIt, reply };
  }

  /** Sends and waits. */
  request(code: number, pairsText: string, timeoutMs = 5000): Promise<NasReply | null> {
    return this.send(code, pairsText, { timeoutMs }).reply;
  }

  /** Closes the socket. */
  close(): Promise<void> {
    return new Promise((r) => this.sock.close(() => r()));
  }
}

/** The value of the first pair named `name`, as text. */
export function pairValue(pairs: readonly Pair[], name: string): string | undefined {
  const p = pairs.find((x) => x.da.name === name);
  return p === undefined ? undefined : String(p.value);
}
