/**
 * One LDAP connection of a trunk: a TCP (or TLS) socket, the responses decoded by `./wire.ts`,
 * requests encoded by `./wire.ts` (searches, binds) or ldapts's message classes (the rest), and our own
 * message IDs, so that many operations share the connection and any of them can be abandoned
 * (RFC 4511 §4.11) without touching the others. The requests written during one turn of the event
 * loop leave in one write (queued until `setImmediate`, then one buffer): under load a connection
 * carries a batch of searches per system call, and slapd reads them in one go.
 *
 * Opening: connect (ldap:// or ldaps://) → StartTLS when configured → the admin bind (search
 * trunk) → ready. A connection that does not get there within `net_timeout` fails. Every step
 * verifies the server certificate against the configured CA unless `require_cert` says not to.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { AbandonRequest, ExtendedRequest, UnbindRequest } from 'ldapts';
import { BindMessage, ResponseReader, SaslBindMessage, type Response } from './wire';

/** An LDAP request message (`./wire.ts` SearchMessage, or ldapts's message classes). */
export interface Message {
  messageId: number;
  write(): Buffer;
}

/** An LDAP result message. */
export interface MessageResponse {
  readonly messageId: number;
  readonly status: number;
  readonly errorMessage: string;
}
import { TrunkConnection } from '../../core';

/** Where and how to connect (one server). */
export interface ServerTarget {
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
  /** `ldap://host:port` for logs. */
  readonly url: string;
  /** `ldapi://`: the Unix socket (then `host` is the same path and `port` 0). */
  readonly path?: string;
}

/** Settings shared by the connections of one trunk. */
export interface ConnSettings {
  readonly target: ServerTarget;
  readonly startTls: boolean;
  readonly tls: tls.ConnectionOptions;
  /** Admin bind after connecting (search trunk); undefined for the bind trunk. */
  /** The admin bind: simple (dn, password), or SASL `mech` (EXTERNAL). */
  readonly bind?: { dn: string; password: string; mech?: 'EXTERNAL' };
  readonly connectTimeout: number;
  readonly perConnectionMax: number;
  /** What the trunk logs and counts. */
  readonly kind: 'search' | 'bind';
}

/** One search result entry: DN and attribute values (attribute names lower-cased). */
export interface Entry {
  readonly dn: string;
  readonly attrs: Map<string, Buffer[]>;
}

/** The outcome of an operation. */
export interface OpResult {
  /** LDAP result code (0 = success). */
  readonly status: number;
  readonly message: string;
  readonly entries: Entry[];
  /** Search references (URLs) returned instead of entries. */
  readonly refs: string[];
}

/** An operation in flight on a connection (the connection calls these). */
export interface Op {
  readonly message: Message;
  /** Probe (health check) operations do not count as outstanding. */
  readonly probe?: boolean;
  /** Binds cannot be abandoned. */
  readonly abandonable: boolean;
  /** Forgotten while it could not be abandoned (a bind): its result is dropped. */
  dropped?: boolean;
  entries: Entry[];
  refs: string[];
  /** Time written (ms). */
  sent: number;
  done(r: MessageResponse): void;
  connFailed(reason: string): void;
}

/** Connection counters (summed per server in stats). */
export interface ConnCounters {
  requests: number;
  abandoned: number;
  late: number;
  timeouts: number;
}

const MAX_ID = 0x7fffffff;

/** An LDAP connection (see the file comment). */
export class LdapConn extends TrunkConnection {
  readonly label: string;
  /** Operations in flight by message ID. */
  readonly ops = new Map<number, Op>();
  readonly counters: ConnCounters = { requests: 0, abandoned: 0, late: 0, timeouts: 0 };
  private socket?: net.Socket;
  private readonly reader = new ResponseReader((m) => this.onMessage(m));
  private nextId = 0;
  private probes = 0;
  /** Requests written this turn of the event loop, and their socket (see the file comment). */
  private out: Buffer[] = [];
  private outSocket?: net.Socket;

  constructor(readonly settings: ConnSettings) {
    super();
    this.label = `${settings.target.url} ${settings.kind} connection ${this.number}`;
  }

  get outstanding(): number {
    return this.ops.size - this.probes;
  }

  /** Connects, upgrades and binds; `ready` runs when the connection can carry operations. */
  connect(ready: () => void): void {
    const s = this.settings;
    const { host, port, secure } = s.target;
    const timer = setTimeout(() => this.fail(`no connection within net_timeout ${s.connectTimeout / 1000}s`), s.connectTimeout);
    this.timers.push(timer);
    const onError = (e: Error) => this.fail(`connection failed: ${e.message}`);
    const opened = async () => {
      try {
        if (!secure && s.startTls) {
          const r = await this.request(new ExtendedRequest({ messageId: 0, oid: '1.3.6.1.4.1.1466.20037' }), false);
          if (r.status !== 0) throw new Error(`StartTLS refused (${r.status}: ${r.message})`);
          await this.upgrade();
        }
        if (s.bind?.mech === 'EXTERNAL') {
          // SASL EXTERNAL: the server takes the identity the transport established (ldapi:// peer credentials, a TLS client certificate).
          // An empty authorization identity: the one the transport established (slapd answers "in progress" without it).
          const r = await this.request(new SaslBindMessage('EXTERNAL', Buffer.alloc(0)), false);
          if (r.status !== 0) throw new Error(`SASL EXTERNAL bind failed (${r.status}${r.message ? `: ${r.message}` : ''})`);
        } else if (s.bind && s.bind.dn) {
          const r = await this.request(new BindMessage(s.bind.dn, s.bind.password), false);
          // The identity is logged, never the password.
          if (r.status !== 0) throw new Error(`bind as "${s.bind.dn}" failed (${r.status}${r.message ? `: ${r.message}` : ''})`);
        }
        clearTimeout(timer);
        if (this.state === 'opening') ready();
      } catch (e) {
        this.fail((e as Error).message);
      }
    };
    const sock = secure
      ? tls.connect({ ...s.tls, host, port, servername: net.isIP(host) ? undefined : host })
      : s.target.path ? net.connect({ path: s.target.path }) : net.connect({ host, port });
    this.socket = sock;
    if (!s.target.path) sock.setNoDelay(true);
    sock.once(secure ? 'secureConnect' : 'connect', () => void opened());
    this.attach(sock, onError);
  }

  private attach(sock: net.Socket, onError: (e: Error) => void): void {
    sock.on('data', (d: Buffer) => {
      // Once per chunk (a chunk carries many responses under load).
      this.lastReply = Date.now();
      try {
        this.reader.read(d);
      } catch (e) {
        this.fail(`undecodable message from the server: ${(e as Error).message}`);
      }
    });
    sock.on('error', onError);
    sock.on('close', () => { if (this.socket === sock) this.fail('connection closed by the server'); });
  }

  /** StartTLS: wraps the plain socket in TLS and verifies the certificate. */
  private upgrade(): Promise<void> {
    const plain = this.socket!;
    const { host } = this.settings.target;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    plain.on('error', () => undefined);
    return new Promise((resolve, reject) => {
      const sec = tls.connect({ ...this.settings.tls, socket: plain, servername: net.isIP(host) ? undefined : host, host });
      this.socket = sec;
      sec.once('secureConnect', () => resolve());
      sec.once('error', reject);
      this.attach(sec, (e) => this.fail(`connection failed: ${e.message}`));
    });
  }

  /** Sends a request and resolves with its result (used while opening, and by probes). */
  request(message: Message, probe: boolean, timeoutMs?: number): Promise<OpResult> {
    return new Promise((resolve, reject) => {
      const op: Op = {
        message, probe, abandonable: !(message instanceof BindMessage), entries: [], refs: [], sent: 0,
        done: (r) => resolve({ status: r.status, message: r.errorMessage, entries: op.entries, refs: op.refs }),
        connFailed: (why) => reject(new Error(why)),
      };
      if (timeoutMs) {
        const t = setTimeout(() => { if (this.forget(op)) reject(new Error('timeout')); }, timeoutMs);
        this.timers.push(t);
        const done = op.done;
        op.done = (r) => { clearTimeout(t); done(r); };
      }
      this.send(op);
    });
  }

  /** Writes an operation (a new message ID). */
  send(op: Op): void {
    if (!this.socket) return op.connFailed('not connected');
    this.nextId = this.nextId >= MAX_ID ? 1 : this.nextId + 1;
    op.message.messageId = this.nextId;
    op.sent = Date.now();
    // Fresh lists only for a retry that had received something (usually they are the empty ones it came with).
    if (op.entries.length) op.entries = [];
    if (op.refs.length) op.refs = [];
    this.ops.set(this.nextId, op);
    if (op.probe) this.probes++;
    else this.counters.requests++;
    this.lastSent = op.sent;
    this.write(this.socket, op.message.write());
    if (!op.probe && this.state === 'active' && this.outstanding >= this.settings.perConnectionMax) this.setState('full', 'at per_connection_max');
  }

  /**
   * Takes an operation off the connection: an Abandon is sent for searches (binds cannot be
   * abandoned; their result is dropped when it comes). Returns false when it was not here.
   */
  forget(op: Op): boolean {
    const key = op.message.messageId;
    if (this.ops.get(key) !== op) return false;
    if (op.abandonable) {
      this.ops.delete(key);
      if (op.probe) this.probes--;
      this.counters.abandoned++;
      if (this.socket && !this.socket.destroyed) {
        this.nextId = this.nextId >= MAX_ID ? 1 : this.nextId + 1;
        this.write(this.socket, new AbandonRequest({ messageId: this.nextId, abandonId: op.message.messageId }).write());
      }
      this.freed();
    } else {
      // The bind stays on the connection until its result arrives (then it is dropped as late).
      op.dropped = true;
    }
    return true;
  }

  /**
   * Queues a request; the requests of one turn of the event loop leave together at `setImmediate`, in
   * one write of one buffer (cheaper than corking the socket: the stream would keep a write request per
   * message and hand the kernel a vector of small buffers).
   */
  private write(s: net.Socket, b: Buffer): void {
    if (this.outSocket !== s) {
      this.flush();
      this.outSocket = s;
      setImmediate(this.flushSoon);
    }
    this.out.push(b);
  }

  private readonly flushSoon = () => this.flush();

  /** Sends what {@link write} queued (to the socket it was queued for). */
  private flush(): void {
    const s = this.outSocket;
    if (!s) return;
    const out = this.out;
    this.outSocket = undefined;
    this.out = [];
    if (s.destroyed || out.length === 0) return;
    s.write(out.length === 1 ? out[0] : Buffer.concat(out));
  }

  private freed(): void {
    if (this.state === 'full' && this.outstanding < this.settings.perConnectionMax) this.setState('active', 'capacity freed');
    if (this.events) this.events.freed(this);
  }

  private onMessage(m: Response): void {
    const key = m.messageId;
    const op = this.ops.get(key);
    if (!op) {
      this.counters.late++;
      this.events?.answered(this, false, true);
      return;
    }
    if (m.kind === 'entry') {
      op.entries.push(m);
      return;
    }
    if (m.kind === 'ref') {
      op.refs.push(...m.uris);
      return;
    }
    this.ops.delete(key);
    if (op.probe) this.probes--;
    if (op.dropped) this.counters.late++;
    else op.done(m);
    if (op.probe || this.state !== 'opening') this.events?.answered(this, !!op.probe, !!op.dropped);
    this.freed();
  }

  closeSocket(): void {
    this.clearTimers();
    const s = this.socket;
    this.socket = undefined;
    if (s && !s.destroyed) {
      try {
        if (this.state !== 'dead' && s.writable) s.write(new UnbindRequest({ messageId: 0 }).write());
      } catch { /* closing anyway */ }
      s.destroy();
    }
  }

  failInflight(reason: string): void {
    const ops = [...this.ops.values()];
    this.ops.clear();
    this.probes = 0;
    for (const op of ops) if (!op.dropped) op.connFailed(reason);
  }
}

/** TLS options from `require_cert` and the `tls { }` files (read by the module's `validate`). */
export function tlsOptions(requireCert: string, files: { ca?: Buffer; cert?: Buffer; key?: Buffer }): tls.ConnectionOptions {
  return {
    ca: files.ca,
    cert: files.cert,
    key: files.key,
    rejectUnauthorized: requireCert === 'demand' || requireCert === 'hard',
    minVersion: 'TLSv1.2',
  };
}

/** Parses a `server` item: a host name or an ldap[s]:// URI (port from the URI, else `port`, else 636 for ldaps). */
export function parseServer(item: string, defaultPort: number): ServerTarget {
  // ldapi://<percent-encoded socket path>[/] (OpenLDAP's LDAP over a Unix socket).
  const li = /^ldapi:\/\/([^/]+)\/?$/i.exec(item.trim());
  if (li) {
    let p: string;
    try {
      p = decodeURIComponent(li[1]);
    } catch {
      throw new Error(`bad socket path in "${item}"`);
    }
    if (!p.startsWith('/')) throw new Error(`"${item}": an ldapi:// URI must hold an absolute socket path (%2F for /)`);
    return { secure: false, host: p, port: 0, path: p, url: `ldapi://${encodeURIComponent(p)}` };
  }
  const m = /^(ldaps?):\/\/(\[[^\]]+\]|[^/:]+)(?::(\d+))?\/?$/i.exec(item.trim());
  if (m) {
    const secure = m[1].toLowerCase() === 'ldaps';
    const host = m[2].replace(/^\[|\]$/g, '');
    const port = m[3] ? Number(m[3]) : secure && defaultPort === 389 ? 636 : defaultPort;
    if (!(port >= 1 && port <= 65535)) throw new Error(`bad port in "${item}"`);
    return { secure, host, port, url: `${secure ? 'ldaps' : 'ldap'}://${host.includes(':') ? `[${host}]` : host}:${port}` };
  }
  if (/^[A-Za-z0-9.\-:]+$/.test(item.trim()) && !item.includes('://')) {
    const host = item.trim();
    return { secure: false, host, port: defaultPort, url: `ldap://${host.includes(':') ? `[${host}]` : host}:${defaultPort}` };
  }
  throw new Error(`"${item}" is neither a host name nor an ldap://, ldaps:// or ldapi:// URI`);
}

