/**
 * The VX NAS simulator: plays the NAS side of the seed's AAA flow against a RADIUS server, and
 * answers the server's CoA-Request and Disconnect-Request as a NAS would.
 *
 * - `login` sends the VX Access-Request (User-Name, User-Password, NAS-IP-Address or
 *   NAS-IPv6-Address, NAS-Port, Framed-Route `client_ip/{32|128} 0.0.0.0`, Message-Authenticator)
 *   and keeps what the Accept granted (Acct-Session-Id, the framed address, timeouts, Port-Limit,
 *   the six RFC 4679 rates).
 * - `start`, `interim`, `stop` send Accounting-Request with the session id and growing octets
 *   (with Gigawords past 4 GiB).
 * - CoA-Request: the session is found by Acct-Session-Id; its dynamic attributes are applied and
 *   reported (`on('coa')`), answered with CoA-ACK; an unknown session gets CoA-NAK with
 *   Error-Cause 503 (Session-Context-Not-Found); `nak` makes it refuse with a chosen cause.
 * - Disconnect-Request: Disconnect-ACK, the session ends and a Stop (Acct-Terminate-Cause
 *   Admin-Reset) is sent.
 * - A retransmitted request (same source, ID and authenticator) gets the same answer again.
 *
 * `run()` drives N sessions through the whole flow and reports latencies per packet type: the
 * end-to-end tests and the load benchmark use it; `bin/nassim.js` is its command line.
 */
import * as crypto from 'node:crypto';
import * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { verifyReply } from '../../client/reply';
import type { Dictionary } from '../../dict/dictionary';
import { forEachLeaf } from '../../pair/list';
import { Pair } from '../../pair/pair';
import { decodePacket, encodePacket, PacketCode } from '../../protocol/radius';
import { printValueUnquoted } from '../../value/print';
import { RadiusClient } from '../client';

/** Error-Cause values (RFC 5176 §3.5). */
export const ERROR_CAUSE = { SessionContextNotFound: 503, AdministrativelyProhibited: 501, UnsupportedAttribute: 401 } as const;

/** What the seed calls dynamic: the attributes a CoA may change. */
const DYNAMIC = ['Idle-Timeout', 'Port-Limit', 'Actual-Data-Rate-Downstream', 'Actual-Data-Rate-Upstream',
  'Minimum-Data-Rate-Downstream', 'Minimum-Data-Rate-Upstream', 'Maximum-Data-Rate-Downstream', 'Maximum-Data-Rate-Upstream'];
const GRANTED = ['Acct-Session-Id', 'Framed-IP-Address', 'Framed-IPv6-Address', 'Session-Timeout', ...DYNAMIC];

/** Options of {@link NasSimulator}. */
export interface NasSimulatorOptions {
  readonly dict: Dictionary;
  /** The RADIUS server. */
  readonly server: string;
  readonly authPort: number;
  readonly acctPort: number;
  readonly secret: string;
  /** The NAS's own address: NAS-IP-Address or NAS-IPv6-Address (default 127.0.0.1). */
  readonly nasIp?: string;
  /** Where the simulator listens for CoA/Disconnect (default: 127.0.0.1, port 0 = any free port). */
  readonly coaAddress?: string;
  readonly coaPort?: number;
  /** Secret of CoA/Disconnect (default: `secret`). */
  readonly coaSecret?: string;
  /** Seconds before a request is sent again, and how many sends (default 2 s, 3). */
  readonly timeout?: number;
  readonly attempts?: number;
}

/** One simulated session. */
export interface SimSession {
  readonly user: string;
  readonly nasPort: number;
  readonly clientIp: string;
  /** From the Access-Accept (empty until then). */
  id: string;
  /** What the Accept granted and later CoAs changed: attribute name → value text. */
  readonly granted: Record<string, string>;
  inputOctets: number;
  outputOctets: number;
  state: 'new' | 'authorized' | 'rejected' | 'active' | 'stopped';
  readonly started: number;
  /** The Access-Request's reply code. */
  replyCode?: number;
}

/** Latencies of one packet type, in ms. */
export interface Latency {
  count: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
}

/** Result of {@link NasSimulator.run}. */
export interface RunReport {
  sessions: number;
  accepted: number;
  rejected: number;
  completed: number;
  seconds: number;
  sessionsPerSecond: number;
  latency: Record<string, Latency>;
}

/** How {@link NasSimulator.run} drives the flow. */
export interface RunOptions {
  /** Sessions to run. */
  readonly sessions: number;
  /** User names (cycled) and their password. */
  readonly users: readonly { name: string; password: string }[];
  /** Interim-Updates per session (default 3). */
  readonly interims?: number;
  /** Pause between the packets of one session, ms (default 0). */
  readonly intervalMs?: number;
  /** Sessions in flight at once (default 64). */
  readonly concurrency?: number;
  /** Octets added per Interim-Update, each direction (default 1 MiB in, 256 KiB out). */
  readonly octetsPerInterim?: number;
}

/** Packet types whose latency is recorded. */
type Kind = 'auth' | 'start' | 'interim' | 'stop';

/** Events: `coa` (session, applied attributes), `disconnect` (session), `nak` (kind, session id, cause). */
export class NasSimulator extends EventEmitter {
  private auth: RadiusClient | undefined;
  private acct: RadiusClient | undefined;
  private coaSock: dgram.Socket | undefined;
  private readonly byId = new Map<string, SimSession>();
  private readonly secret: Buffer;
  private readonly coaSecret: Buffer;
  private readonly nasIp: string;
  private nextPort = 1;
  private readonly samples: Record<Kind, number[]> = { auth: [], start: [], interim: [], stop: [] };
  private readonly failures: Record<Kind, number> = { auth: 0, start: 0, interim: 0, stop: 0 };
  /** Recent answers by `src|id|authenticator`, for retransmitted CoA/Disconnect. */
  private readonly answered = new Map<string, Buffer>();
  /** Refuse CoA (or Disconnect) with this Error-Cause, e.g. for a NAK test. */
  nak: { coa?: number; disconnect?: number } = {};
  /** Ignore the next N CoA/Disconnect requests (as a lossy path would), to exercise retransmission. */
  drop = 0;
  /** Requests received, by kind (retransmissions included). */
  readonly received = { coa: 0, disconnect: 0, retransmissions: 0 };

  constructor(private readonly o: NasSimulatorOptions) {
    super();
    this.secret = Buffer.from(o.secret, 'utf8');
    this.coaSecret = Buffer.from(o.coaSecret ?? o.secret, 'utf8');
    this.nasIp = o.nasIp ?? '127.0.0.1';
  }

  /** Opens the CoA listener and the client sockets. */
  async open(): Promise<void> {
    const c = { host: this.o.server, timeout: this.o.timeout ?? 2, attempts: this.o.attempts ?? 3 };
    this.auth = await RadiusClient.open({ ...c, port: this.o.authPort });
    this.acct = await RadiusClient.open({ ...c, port: this.o.acctPort });
    const addr = this.o.coaAddress ?? '127.0.0.1';
    const sock = dgram.createSocket(net.isIPv6(addr) ? 'udp6' : 'udp4');
    sock.on('message', (m, r) => this.onDac(m, r));
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(this.o.coaPort ?? 0, addr, () => { sock.off('error', reject); resolve(); });
    });
    this.coaSock = sock;
  }

  /** Where CoA/Disconnect reach this simulator. */
  get coaAddress(): { address: string; port: number } {
    const a = this.coaSock!.address();
    return { address: a.address, port: a.port };
  }

  /** Sessions by Acct-Session-Id. */
  session(id: string): SimSession | undefined {
    return this.byId.get(id);
  }

  get sessions(): SimSession[] {
    return [...this.byId.values()];
  }

  async close(): Promise<void> {
    this.auth?.close();
    this.acct?.close();
    const s = this.coaSock;
    this.coaSock = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  /** Sends the VX Access-Request. The session is `authorized` (with the granted attributes) or `rejected`. */
  async login(user: string, password: string, clientIp = `198.51.100.${(this.nextPort % 250) + 1}`): Promise<SimSession> {
    const s: SimSession = {
      user, nasPort: this.nextPort++, clientIp, id: '', granted: {}, inputOctets: 0, outputOctets: 0, state: 'new', started: Date.now(),
    };
    const d = this.o.dict;
    const prefix = net.isIPv6(clientIp) ? 128 : 32;
    const pairs = [
      this.pair('User-Name', user),
      this.pair('User-Password', password),
      this.pair(net.isIPv6(this.nasIp) ? 'NAS-IPv6-Address' : 'NAS-IP-Address', this.nasIp),
      this.pair('NAS-Port', s.nasPort),
      this.pair('Framed-Route', `${clientIp}/${prefix} 0.0.0.0`),
    ];
    const reply = await this.exchange('auth', this.auth!, PacketCode.AccessRequest, pairs);
    if (!reply) {
      s.state = 'rejected';
      return s;
    }
    s.replyCode = reply.code;
    if (reply.code !== PacketCode.AccessAccept) {
      s.state = 'rejected';
      return s;
    }
    forEachLeaf(reply.pairs, (p) => {
      if (GRANTED.includes(p.da.name) && p.value !== undefined) s.granted[p.da.name] = printValueUnquoted(p.da, p.value);
    });
    s.id = s.granted['Acct-Session-Id'] ?? crypto.randomUUID();
    s.state = 'authorized';
    this.byId.set(s.id, s);
    void d;
    return s;
  }

  /** Accounting Start. */
  async start(s: SimSession): Promise<boolean> {
    const ok = await this.accounting('start', s, 'Start');
    if (ok) s.state = 'active';
    return ok;
  }

  /** Interim-Update, the counters grown by `addIn`/`addOut`. */
  async interim(s: SimSession, addIn = 1 << 20, addOut = 1 << 18): Promise<boolean> {
    if (s.state !== 'active') return false;
    s.inputOctets += addIn;
    s.outputOctets += addOut;
    return this.accounting('interim', s, 'Interim-Update');
  }

  /** Accounting Stop (`cause`: Acct-Terminate-Cause name). */
  async stop(s: SimSession, cause = 'User-Request'): Promise<boolean> {
    if (s.state === 'stopped') return false;
    s.state = 'stopped';
    return this.accounting('stop', s, 'Stop', cause);
  }

  /** Runs sessions through the whole flow (auth, Start, Interims, Stop). */
  async run(r: RunOptions): Promise<RunReport> {
    const t0 = performance.now();
    let next = 0;
    let accepted = 0;
    let rejected = 0;
    let completed = 0;
    const pause = (ms: number) => (ms > 0 ? new Promise((res) => setTimeout(res, ms)) : Promise.resolve());
    const one = async (i: number) => {
      const u = r.users[i % r.users.length];
      const s = await this.login(u.name, u.password, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      if (s.state !== 'authorized') { rejected++; return; }
      accepted++;
      await pause(r.intervalMs ?? 0);
      if (!(await this.start(s))) return;
      for (let k = 0; k < (r.interims ?? 3); k++) {
        await pause(r.intervalMs ?? 0);
        if ((s.state as SimSession['state']) !== 'active') return;
        await this.interim(s, r.octetsPerInterim ?? 1 << 20, (r.octetsPerInterim ?? 1 << 20) >> 2);
      }
      await pause(r.intervalMs ?? 0);
      if ((s.state as SimSession['state']) === 'active' && (await this.stop(s))) completed++;
      this.byId.delete(s.id);
    };
    const workers = Array.from({ length: Math.min(r.concurrency ?? 64, r.sessions) }, async () => {
      while (next < r.sessions) await one(next++);
    });
    await Promise.all(workers);
    const seconds = (performance.now() - t0) / 1000;
    return {
      sessions: r.sessions, accepted, rejected, completed, seconds,
      sessionsPerSecond: completed / seconds,
      latency: this.latency(),
    };
  }

  /** Latencies so far, per packet type. */
  latency(): Record<string, Latency> {
    const out: Record<string, Latency> = {};
    for (const k of Object.keys(this.samples) as Kind[]) {
      const v = [...this.samples[k]].sort((a, b) => a - b);
      const at = (q: number) => (v.length ? v[Math.min(v.length - 1, Math.floor(q * v.length))] : 0);
      out[k] = { count: v.length, failed: this.failures[k], p50: at(0.5), p99: at(0.99), max: v.length ? v[v.length - 1] : 0 };
    }
    return out;
  }

  private async accounting(kind: Kind, s: SimSession, status: string, cause?: string): Promise<boolean> {
    const gw = (n: number) => Math.floor(n / 2 ** 32);
    const lo = (n: number) => n % 2 ** 32;
    const pairs = [
      this.pair('Acct-Status-Type', status),
      this.pair('Acct-Session-Id', s.id),
      this.pair('User-Name', s.user),
      this.pair(net.isIPv6(this.nasIp) ? 'NAS-IPv6-Address' : 'NAS-IP-Address', this.nasIp),
      this.pair('NAS-Port', s.nasPort),
    ];
    if (s.granted['Framed-IP-Address']) pairs.push(this.pair('Framed-IP-Address', s.granted['Framed-IP-Address']));
    if (s.granted['Framed-IPv6-Address']) pairs.push(this.pair('Framed-IPv6-Address', s.granted['Framed-IPv6-Address']));
    if (kind !== 'start') {
      pairs.push(this.pair('Acct-Input-Octets', lo(s.inputOctets)), this.pair('Acct-Output-Octets', lo(s.outputOctets)));
      if (gw(s.inputOctets)) pairs.push(this.pair('Acct-Input-Gigawords', gw(s.inputOctets)));
      if (gw(s.outputOctets)) pairs.push(this.pair('Acct-Output-Gigawords', gw(s.outputOctets)));
      pairs.push(this.pair('Acct-Session-Time', Math.floor((Date.now() - s.started) / 1000)));
    }
    if (cause) pairs.push(this.pair('Acct-Terminate-Cause', cause));
    const r = await this.exchange(kind, this.acct!, PacketCode.AccountingRequest, pairs);
    return r?.code === PacketCode.AccountingResponse;
  }

  private pair(name: string, v: string | number): Pair {
    const da = this.o.dict.resolve(name);
    if (!da) throw new Error(`nassim: attribute ${name} is not in the dictionary`);
    let value: unknown = v;
    if (typeof v === 'string' && da.values && da.type !== 'string') value = da.values.get(v.toLowerCase());
    return new Pair(da, value as never);
  }

  private async exchange(kind: Kind, client: RadiusClient, code: number, pairs: Pair[]): Promise<{ code: number; pairs: Pair[] } | undefined> {
    const dict = this.o.dict;
    let decoded: { code: number; pairs: Pair[] } | undefined;
    const t0 = performance.now();
    let auth = Buffer.alloc(0);
    const res = await client.send({
      build: (id) => {
        const b = encodePacket({ code, id, authenticator: Buffer.alloc(0), pairs }, { dict, secret: this.secret, messageAuthenticator: true });
        auth = Buffer.from(b.subarray(4, 20));
        return b;
      },
      accept: (buf) => {
        const v = verifyReply(buf, { dict, secret: this.secret, requestAuthenticator: auth, requestCode: code }, { requireMa: () => false });
        if (!v.ok) return v.message;
        decoded = { code: v.packet.code, pairs: v.packet.pairs };
        return true;
      },
    });
    if (!res.reply || !decoded) {
      this.failures[kind]++;
      return undefined;
    }
    this.samples[kind].push(performance.now() - t0);
    return decoded;
  }

  /** A CoA-Request or Disconnect-Request from the server. */
  private onDac(msg: Buffer, r: dgram.RemoteInfo): void {
    if (this.drop > 0) {
      this.drop--;
      return;
    }
    const key = `${r.address}|${r.port}|${msg.length >= 20 ? msg.subarray(1, 20).toString('hex') : ''}`;
    const again = this.answered.get(key);
    if (again) {
      this.received.retransmissions++;
      this.coaSock?.send(again, r.port, r.address);
      return;
    }
    const d = decodePacket(msg, { dict: this.o.dict, secret: this.coaSecret });
    if (!d.ok) return; // a NAS drops what it cannot verify
    const req = d.packet;
    if (req.code !== PacketCode.CoARequest && req.code !== PacketCode.DisconnectRequest) return;
    const isCoa = req.code === PacketCode.CoARequest;
    if (isCoa) this.received.coa++; else this.received.disconnect++;
    const idPair = req.pairs.find((p) => p.da.name === 'Acct-Session-Id');
    const id = idPair ? String(idPair.value) : '';
    const s = this.byId.get(id);
    const cause = !s || s.state === 'stopped' ? ERROR_CAUSE.SessionContextNotFound : isCoa ? this.nak.coa : this.nak.disconnect;
    let code: number;
    const out: Pair[] = [];
    if (cause !== undefined) {
      code = isCoa ? PacketCode.CoANAK : PacketCode.DisconnectNAK;
      out.push(this.pair('Error-Cause', cause));
      this.emit('nak', isCoa ? 'coa' : 'disconnect', id, cause);
    } else if (isCoa) {
      code = PacketCode.CoAACK;
      const applied: Record<string, string> = {};
      forEachLeaf(req.pairs, (p) => {
        if (DYNAMIC.includes(p.da.name) && p.value !== undefined) applied[p.da.name] = printValueUnquoted(p.da, p.value);
      });
      Object.assign(s!.granted, applied);
      this.emit('coa', s, applied);
    } else {
      code = PacketCode.DisconnectACK;
    }
    const bytes = encodePacket({ code, id: req.id, authenticator: Buffer.alloc(0), pairs: out },
      { dict: this.o.dict, secret: this.coaSecret, requestAuthenticator: req.authenticator, requestCode: req.code });
    this.answered.set(key, bytes);
    if (this.answered.size > 4096) this.answered.delete(this.answered.keys().next().value!);
    this.coaSock?.send(bytes, r.port, r.address);
    if (!isCoa && cause === undefined && s) {
      // The NAS ends the session and reports it.
      void this.stop(s, 'Admin-Reset').then(() => this.emit('disconnect', s));
    }
  }
}
