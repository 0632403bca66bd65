/**
 * A slow directory for tests: a loopback TCP proxy in front of a real slapd that holds every
 * search request for `delayMs` before passing it on (the directory "takes" that long per
 * lookup), and honours LDAP Abandon the way a server does: an abandoned request still held is
 * dropped and never reaches slapd. `pending()` is the number of lookups the directory is still
 * working on; `abandoned` counts the ones the client called off.
 *
 * Framing: each LDAPMessage is a BER SEQUENCE (0x30, definite length); the message ID is the
 * first INTEGER and the protocol-op tag follows it (0x63 SearchRequest, 0x50 AbandonRequest).
 */
import * as net from 'node:net';

/** A running proxy. */
export interface SlowLdap {
  readonly port: number;
  readonly url: string;
  /** Searches held, not yet passed on or abandoned. */
  pending(): number;
  /** Searches passed on to slapd. */
  readonly counts: { held: number; passed: number; abandoned: number };
  close(): Promise<void>;
}

/** Splits complete BER messages off the front of `buf`; returns them and the rest. */
function frames(buf: Buffer): { msgs: Buffer[]; rest: Buffer } {
  const msgs: Buffer[] = [];
  let off = 0;
  for (;;) {
    if (buf.length - off < 2) break;
    let len = buf[off + 1];
    let hdr = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (buf.length - off < 2 + n) break;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[off + 2 + i];
      hdr = 2 + n;
    }
    if (buf.length - off < hdr + len) break;
    msgs.push(buf.subarray(off, off + hdr + len));
    off += hdr + len;
  }
  return { msgs, rest: buf.subarray(off) };
}

/** Message ID, op tag and (for Abandon) the abandoned ID of one message. */
function header(m: Buffer): { id: number; tag: number; abandonId?: number } {
  let off = 1;
  const l = m[off];
  off += l & 0x80 ? 1 + (l & 0x7f) : 1;
  // INTEGER messageID
  const ilen = m[off + 1];
  let id = 0;
  for (let i = 0; i < ilen; i++) id = id * 256 + m[off + 2 + i];
  off += 2 + ilen;
  const tag = m[off];
  let abandonId: number | undefined;
  if (tag === 0x50) {
    const alen = m[off + 1];
    abandonId = 0;
    for (let i = 0; i < alen; i++) abandonId = abandonId * 256 + m[off + 2 + i];
  }
  return { id, tag, abandonId };
}

/** Starts the proxy on a free loopback port in front of `127.0.0.1:targetPort`. */
export async function startSlowLdap(targetPort: number, delayMs: number): Promise<SlowLdap> {
  const counts = { held: 0, passed: 0, abandoned: 0 };
  const held = new Set<{ timer: ReturnType<typeof setTimeout>; id: number; conn: object }>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const conn = {};
    let buf = Buffer.alloc(0);
    upstream.on('data', (d) => client.write(d));
    const end = () => {
      client.destroy();
      upstream.destroy();
      for (const h of held) if (h.conn === conn) { clearTimeout(h.timer); held.delete(h); }
    };
    upstream.on('close', end);
    client.on('close', end);
    upstream.on('error', end);
    client.on('error', end);
    client.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const { msgs, rest } = frames(buf);
      buf = Buffer.from(rest);
      for (const m of msgs) {
        const h = header(m);
        if (h.tag === 0x63) {
          counts.held++;
          const entry = {
            id: h.id, conn,
            timer: setTimeout(() => { held.delete(entry); counts.passed++; upstream.write(m); }, delayMs),
          };
          held.add(entry);
        } else if (h.tag === 0x50) {
          for (const e of held) {
            if (e.conn === conn && e.id === h.abandonId) { clearTimeout(e.timer); held.delete(e); counts.abandoned++; }
          }
          upstream.write(m);
        } else {
          upstream.write(m);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `ldap://127.0.0.1:${port}`,
    counts,
    pending: () => held.size,
    close: () => new Promise<void>((resolve) => {
      for (const h of held) clearTimeout(h.timer);
      held.clear();
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
