/**
 * A tiny home server for the unit tests of the `radius` module (UDP or TCP on loopback). Each
 * received request is decoded and handed to `behave`, which returns the reply to send (or
 * nothing to stay silent). Not used at run time; the fault-injecting home server of the
 * end-to-end tests lives in `test/proxy/`.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { Dictionary } from '../../core';
import { Pair } from '../../core';
import { decodePacket, encodePacket, PacketCode, type RadiusPacket } from '../../core';

/** What `behave` returns: a reply, or undefined for silence. */
export interface HomeReply {
  code: number;
  pairs?: Pair[];
  /** Delay in ms before replying. */
  delay?: number;
  /** Add a Message-Authenticator (default true). */
  ma?: boolean;
  /** Corrupt the Response Authenticator. */
  badAuth?: boolean;
  /** Send these bytes instead. */
  raw?: Buffer;
}

/** A received request as the home server saw it. */
export interface Seen {
  packet: RadiusPacket;
  raw: Buffer;
  port: number;
  at: number;
}

/** The test home server. */
export class TestHome {
  readonly seen: Seen[] = [];
  behave: (p: RadiusPacket, n: number) => HomeReply | undefined = (p) => ({ code: defaultAnswer(p.code) });
  port = 0;
  private udp?: dgram.Socket;
  private tcp?: net.Server;
  private socks = new Set<net.Socket>();
  private timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(private readonly dict: Dictionary, private readonly secret = 'testing123') {}

  /** Starts listening on 127.0.0.1 (port chosen by the kernel). */
  async start(transport: 'udp' | 'tcp' = 'udp', port = 0): Promise<this> {
    if (transport === 'udp') {
      const s = dgram.createSocket('udp4');
      this.udp = s;
      // A delayed reply may fire after stop(): a closed socket just drops it.
      s.on('message', (buf, rinfo) => this.handle(buf, rinfo.port, (out) => { if (this.udp === s) s.send(out, rinfo.port, rinfo.address); }));
      await new Promise<void>((r) => s.bind(port, '127.0.0.1', () => r()));
      this.port = s.address().port;
    } else {
      const srv = net.createServer((sock) => {
        this.socks.add(sock);
        sock.on('close', () => this.socks.delete(sock));
        let rx = Buffer.alloc(0);
        sock.on('data', (d) => {
          rx = Buffer.concat([rx, d]);
          while (rx.length >= 4 && rx.length >= rx.readUInt16BE(2)) {
            const len = rx.readUInt16BE(2);
            this.handle(rx.subarray(0, len), sock.remotePort ?? 0, (out) => { if (!sock.destroyed) sock.write(out); });
            rx = rx.subarray(len);
          }
        });
        sock.on('error', () => undefined);
      });
      this.tcp = srv;
      await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
      this.port = (srv.address() as net.AddressInfo).port;
    }
    return this;
  }

  private handle(raw: Buffer, port: number, send: (b: Buffer) => void): void {
    const r = decodePacket(Buffer.from(raw), { dict: this.dict, secret: Buffer.from(this.secret) });
    if (!r.ok) return;
    const n = this.seen.length;
    this.seen.push({ packet: r.packet, raw: Buffer.from(raw), port, at: Date.now() });
    const rep = this.behave(r.packet, n);
    if (!rep) return;
    const go = (): void => {
      if (rep.raw) return send(rep.raw);
      const out = encodePacket({ code: rep.code, id: r.packet.id, authenticator: Buffer.alloc(0), pairs: rep.pairs ?? [] }, {
        dict: this.dict, secret: Buffer.from(this.secret), requestAuthenticator: r.packet.authenticator,
        requestCode: r.packet.code, messageAuthenticator: rep.ma !== false,
      });
      if (rep.badAuth) out[5] ^= 0xff;
      send(out);
    };
    if (rep.delay) {
      const t = setTimeout(() => { this.timers.delete(t); go(); }, rep.delay);
      this.timers.add(t);
    } else go();
  }

  /** Stops listening (and drops TCP connections). */
  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.udp) { const u = this.udp; this.udp = undefined; await new Promise<void>((r) => u.close(() => r())); }
    if (this.tcp) {
      for (const s of this.socks) s.destroy();
      const t = this.tcp; this.tcp = undefined;
      await new Promise<void>((r) => t.close(() => r()));
    }
  }
}

/** The usual positive answer to a request code. */
export function defaultAnswer(code: number): number {
  switch (code) {
    case PacketCode.AccessRequest: return PacketCode.AccessAccept;
    case PacketCode.AccountingRequest: return PacketCode.AccountingResponse;
    case PacketCode.CoARequest: return PacketCode.CoAACK;
    case PacketCode.DisconnectRequest: return PacketCode.DisconnectACK;
    case PacketCode.StatusServer: return PacketCode.AccessAccept;
    default: return PacketCode.ProtocolError;
  }
}
