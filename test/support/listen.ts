/**
 * Test helpers for listeners and sites: compile a small site from unlang
 * text, build a client table from config text, and a tiny UDP/TCP peer that
 * sends raw RADIUS packets on loopback. Used by the tests in core/listen and
 * core/process; not part of the runtime.
 */
import * as crypto from 'node:crypto';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { parseConfigString } from '../../core/config/parser';
import type { ConfSection } from '../../core/config/ast';
import { loadDefaultDictionary } from '../../core/dict/default';
import type { Dictionary } from '../../core/dict/dictionary';
import type { ModuleHandle, ModuleMethod } from '../../core/unlang/module-call';
import { parsePairList } from '../../core/pair/text';
import { decodePacket, encodePacket, type RadiusPacket } from '../../core/protocol/radius/packet';
import { compileUnlang } from '../../core/unlang';
import type { CompiledSection } from '../../core/unlang/compile/types';
import { DEFAULT_SITE_CONFIG, type CompiledSite, type SiteConfig } from '../../core/process/namespace';
import { parseClients, type ClientTable } from '../../core/listen/clients';
import type { Listener, ListenerConfig } from '../../core/listen/types';

/** The default RADIUS dictionary. */
export function testDict(): Dictionary {
  return loadDefaultDictionary();
}

/** A module table from plain methods (`name → method`), every section bound to the same method. */
export function moduleTable(table: Record<string, ModuleMethod>): (name: string) => ModuleHandle | undefined {
  return (name) => (table[name] ? { name, method: () => table[name] } : undefined);
}

/**
 * Compiles a site from `section key → unlang body text`, e.g.
 * `{ 'recv Access-Request': 'ok', 'authenticate pap': 'pap' }`.
 */
export function compileSite(
  sections: Record<string, string>,
  opts: { modules?: Record<string, ModuleMethod>; config?: Partial<SiteConfig>; name?: string; dict?: Dictionary } = {},
): CompiledSite {
  const dict = opts.dict ?? testDict();
  const modules = moduleTable(opts.modules ?? {});
  const map = new Map<string, CompiledSection>();
  for (const [key, text] of Object.entries(sections)) {
    const sp = key.indexOf(' ');
    const name1 = sp < 0 ? key : key.slice(0, sp);
    const name2 = sp < 0 ? undefined : key.slice(sp + 1);
    map.set(key, compileUnlang(text, { dict, modules, section: { name1, name2 } }));
  }
  return { name: opts.name ?? 'test', sections: map, config: { ...DEFAULT_SITE_CONFIG, ...opts.config }, dict };
}

/** A client table from config text containing `client NAME { … }` sections. */
export function clientsFromText(text: string): ClientTable {
  const root = parseConfigString(text, 'clients.conf');
  return parseClients(root.children.filter((c): c is ConfSection => c.kind === 'section' && c.name1 === 'client'));
}

/** Options of {@link buildRequest}. */
export interface BuildOptions {
  id?: number;
  secret?: string;
  /** Add a Message-Authenticator (default true for Access-Request and Status-Server). */
  ma?: boolean;
  authenticator?: Buffer;
  dict?: Dictionary;
}

/** Encodes a request packet from pair text (`User-Name = "bob", …`). */
export function buildRequest(code: number, pairs: string, o: BuildOptions = {}): Buffer {
  const dict = o.dict ?? testDict();
  const pkt: RadiusPacket = {
    code,
    id: o.id ?? 1,
    authenticator: o.authenticator ?? crypto.randomBytes(16),
    pairs: pairs.trim() ? parsePairList(pairs, dict) : [],
  };
  return encodePacket(pkt, { dict, secret: Buffer.from(o.secret ?? 'testing123'), messageAuthenticator: o.ma ?? (code === 1 || code === 12) });
}

/** Decodes and verifies a reply to `request`. Throws on verification failure. */
export function decodeReply(reply: Buffer, request: Buffer, secret = 'testing123', dict = testDict()): RadiusPacket & { hasMa: boolean } {
  const r = decodePacket(reply, { dict, secret: Buffer.from(secret), requestAuthenticator: request.subarray(4, 20), requestCode: request[0] });
  if (!r.ok) throw new Error(`bad reply: ${r.error.message}`);
  return { ...r.packet, hasMa: r.hasMessageAuthenticator };
}

/** Value of the first pair named `name` in a packet. */
export function pairValue(p: RadiusPacket, name: string, dict = testDict()): unknown {
  const da = dict.resolve(name);
  return p.pairs.find((x) => x.da === da)?.value;
}

/** A UDP peer on loopback that collects replies. */
export class UdpPeer {
  readonly sock: dgram.Socket;
  private readonly queue: Buffer[] = [];
  private waiters: ((b: Buffer | null) => void)[] = [];

  private constructor(sock: dgram.Socket, private readonly port: number, private readonly host: string) {
    this.sock = sock;
    sock.on('message', (m) => {
      const w = this.waiters.shift();
      if (w) w(m);
      else this.queue.push(m);
    });
  }

  /** Opens a peer that talks to `host:port`, bound to `local` (default loopback; any 127/8 address works on Linux). */
  static async open(port: number, host = '127.0.0.1', local?: string): Promise<UdpPeer> {
    const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    await new Promise<void>((res) => sock.bind(0, local ?? (net.isIPv6(host) ? '::1' : '127.0.0.1'), () => res()));
    return new UdpPeer(sock, port, host);
  }

  /** Sends raw bytes. */
  send(buf: Buffer): void {
    this.sock.send(buf, this.port, this.host);
  }

  /** The next reply, or null after `timeoutMs`. */
  recv(timeoutMs = 1000): Promise<Buffer | null> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    return new Promise((resolve) => {
      const w = (b: Buffer | null): void => { clearTimeout(t); resolve(b); };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve(null);
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /**
   * Sends and waits for the reply with the request's ID; stray datagrams (a late reply to an
   * earlier request that timed out, under load) are discarded rather than taken as the answer.
   */
  async exchange(buf: Buffer, timeoutMs = 1000): Promise<Buffer | null> {
    this.send(buf);
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.recv(Math.max(0, until - Date.now()));
      if (r === null || (r.length >= 2 && r[1] === buf[1])) return r;
    }
  }

  /** Replies received but not yet read. */
  get pending(): number {
    return this.queue.length;
  }

  close(): void {
    this.sock.close();
  }
}

/** A TCP peer: writes raw bytes, reassembles replies by the header length. */
export class TcpPeer {
  private buf = Buffer.alloc(0);
  private readonly replies: Buffer[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4) {
        const len = this.buf.readUInt16BE(2);
        if (this.buf.length < len) break;
        this.replies.push(this.buf.subarray(0, len));
        this.buf = this.buf.subarray(len);
      }
      this.wake();
    });
    sock.on('close', () => { this.closed = true; this.wake(); });
    sock.on('error', () => { /* close follows */ });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Connects to `host:port` (default 127.0.0.1) from `local` (default: the kernel's choice; any 127/8 address works on Linux). */
  static connect(port: number, host = '127.0.0.1', local?: string): Promise<TcpPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host, localAddress: local }, () => resolve(new TcpPeer(s)));
      s.once('error', reject);
    });
  }

  write(b: Buffer): void {
    this.sock.write(b);
  }

  /** The next reply, or null on timeout or close. */
  async recv(timeoutMs = 1000): Promise<Buffer | null> {
    const end = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (this.closed || Date.now() >= end) return null;
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.max(1, end - Date.now()));
        this.waiters.push(() => { clearTimeout(t); res(); });
      });
    }
    return this.replies.shift()!;
  }

  /** Resolves true once the server closed the connection (false after the timeout). */
  async waitClosed(timeoutMs = 1000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return this.closed;
  }

  close(): void {
    this.sock.destroy();
  }
}

/** Waits until `cond()` holds or `timeoutMs` passes. */
export async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

/**
 * A listener that never opens a socket, for servers whose requests are injected (`Server.inject`):
 * it reports its configured address while started.
 */
export function inertListener(config: ListenerConfig): Listener {
  let up = false;
  return {
    config,
    start: async () => { up = true; },
    stop: async () => { up = false; },
    address: () => (up ? { address: config.ipaddr, port: config.port, family: 'IPv4' } : undefined),
    stats: () => ({}),
    update: () => undefined,
  };
}
