/**
 * The RADIUS process state machine (FreeRADIUS v4 `process_radius`): for each
 * packet code, which sections run and how rcodes become reply codes. The
 * tables are data ({@link RECV_REPLY}, {@link SEND_FAILOVER}); the code only
 * walks them.
 *
 * ```
 * Access-Request      recv Access-Request → [reply.Packet-Type | rcode map | control.Auth-Type →
 *                     authenticate <Auth-Type>] → send Access-Accept|Access-Reject|Access-Challenge
 * Accounting-Request  recv Accounting-Request → accounting <Acct-Status-Type> → send Accounting-Response
 * Status-Server       recv Status-Server (absent → Accept) → send Access-Accept (Accounting-Response on
 *                     accounting-only listeners)
 * CoA/Disconnect      recv … → send …-ACK | …-NAK
 * ```
 * `Do-Not-Respond` (reply.Packet-Type 256, or an rcode that maps to it) runs
 * `send Do-Not-Respond` and sends nothing.
 */
import { systemClock, type Clock } from '../../clock/clock';
import type { DictAttr } from '../../dict/attr';
import type { Rcode } from '../../request/rcode';
import { Pair } from '../../pair/pair';
import { printPairLines } from '../../pair/text';
import { encodePacket, packetCodeName, PacketCode } from '../../protocol/radius/packet';
import type { EncodeWarning } from '../../protocol/radius/decode';
import { RateLimitedLog } from '../../log/rate-limit';
import { Request } from '../../request/request';
import type { LogSink } from '../../request/request-log';
import type { CompiledSection } from '../../unlang/compile/types';
import { Execution } from '../../unlang/interpret/interpreter';
import type { InboundPacket, InFlight, PacketSignal, ReplyCallback } from '../../listen/types';
import type { InjectInput, InjectReply, SiteProcess, CompiledSite } from '../namespace';
import { FifoTimer, type FifoTimerItem } from './fifo-timer';
import type { ProcessOptions } from './types';

/** Internal code for "send nothing" (the Packet-Type value FreeRADIUS uses). */
export const DO_NOT_RESPOND = 256;

const C = PacketCode;
const FAILISH: ReadonlySet<Rcode> = new Set<Rcode>(['fail', 'invalid', 'reject', 'disallow', 'notfound']);

/**
 * rcode → reply code after the `recv` section, by request code. Missing
 * rcodes map to "no decision" (0): Access-Request then consults Auth-Type,
 * the others use the `default` entry.
 */
export const RECV_REPLY: Readonly<Record<number, { map: Partial<Record<Rcode, number>>; default: number }>> = {
  [C.AccessRequest]: {
    map: { fail: C.AccessReject, invalid: C.AccessReject, reject: C.AccessReject, disallow: C.AccessReject, notfound: C.AccessReject, timeout: DO_NOT_RESPOND },
    default: 0,
  },
  [C.AccountingRequest]: {
    map: { noop: C.AccountingResponse, ok: C.AccountingResponse, updated: C.AccountingResponse, handled: C.AccountingResponse },
    default: DO_NOT_RESPOND,
  },
  [C.StatusServer]: {
    map: { ok: C.AccessAccept, updated: C.AccessAccept },
    default: C.AccessReject,
  },
  [C.CoARequest]: {
    map: { noop: C.CoAACK, ok: C.CoAACK, updated: C.CoAACK, notfound: C.CoAACK, handled: C.CoAACK, fail: C.CoANAK, invalid: C.CoANAK, reject: C.CoANAK, disallow: C.CoANAK, timeout: DO_NOT_RESPOND },
    default: C.CoANAK,
  },
  [C.DisconnectRequest]: {
    map: { noop: C.DisconnectACK, ok: C.DisconnectACK, updated: C.DisconnectACK, notfound: C.DisconnectACK, handled: C.DisconnectACK, fail: C.DisconnectNAK, invalid: C.DisconnectNAK, reject: C.DisconnectNAK, disallow: C.DisconnectNAK, timeout: DO_NOT_RESPOND },
    default: C.DisconnectNAK,
  },
};

/** rcode → reply code after `authenticate <Auth-Type>` (`handled` → reply.Packet-Type, else Reject). */
export const AUTHENTICATE_REPLY: Readonly<Partial<Record<Rcode, number>>> = { ok: C.AccessAccept, updated: C.AccessAccept };

/** What a failing `send` section (fail, invalid, reject, disallow, notfound) turns its reply into. */
export const SEND_FAILOVER: Readonly<Record<number, number>> = {
  [C.AccessAccept]: C.AccessReject,
  [C.AccessChallenge]: C.AccessReject,
  [C.CoAACK]: C.CoANAK,
  [C.DisconnectACK]: C.DisconnectNAK,
  [C.AccountingResponse]: DO_NOT_RESPOND,
};

/** Auth-Type magic values (dictionary.freeradius.internal). */
const AUTH_TYPE_ACCEPT = 254;
const AUTH_TYPE_REJECT = 4;
const ATTR_PROXY_STATE = 33;

/** Section names are matched case-insensitively (`authenticate PAP` = `authenticate pap`). */
function sectionTable(site: CompiledSite): Map<string, CompiledSection> {
  const m = new Map<string, CompiledSection>();
  // Exact keys first (no allocation on the hot path), lower-case keys as the fallback.
  for (const [k, v] of site.sections) m.set(k.toLowerCase(), v);
  for (const [k, v] of site.sections) m.set(k, v);
  return m;
}

interface Attrs {
  packetType?: DictAttr;
  authType?: DictAttr;
  acctStatusType?: DictAttr;
  srcIp?: DictAttr; srcIp6?: DictAttr; srcPort?: DictAttr; net?: NetAttrs;
  dstIp?: DictAttr; dstIp6?: DictAttr; dstPort?: DictAttr;
  clientIp?: DictAttr; clientIp6?: DictAttr; clientShortname?: DictAttr;
}

/** Counters of a process instance. */
export interface ProcessStats {
  requests: number;
  replies: number;
  noReply: number;
  cancelled: number;
  errors: number;
  /** Requests currently being processed (including those in reject_delay). */
  active: number;
}

/** The state machine for one compiled site; the `PacketSink` listeners feed, and `inject` runs requests in-process. */
export class RadiusProcess implements SiteProcess {
  readonly sections: Map<string, CompiledSection>;
  /** Section names looked up and not found (see {@link section}). */
  private readonly absent = new Set<string>();
  /** Case variants of section names added to {@link sections} (see {@link section}). */
  private spellings = 0;
  readonly attrs: Attrs;
  /** Reject-delay queue and max_request_time deadlines (one timer each). */
  readonly delays: FifoTimer;
  readonly deadlines: FifoTimer;
  /** The server clock (receive times, timers). */
  readonly clock: Clock;
  readonly counters: ProcessStats = { requests: 0, replies: 0, noReply: 0, cancelled: 0, errors: 0, active: 0 };
  readonly sink: LogSink | undefined;
  readonly hasStatusSection: boolean;
  /** True when the site has a `finally` section (of any request type). */
  readonly hasFinally: boolean;
  /** Values cut short while encoding the current reply (encoding is synchronous: reused). */
  readonly encodeWarnings: EncodeWarning[] = [];
  /** Truncation warnings go to the server log at most 5 per attribute per 10 s. */
  private truncationLog?: RateLimitedLog;
  /** Section keys built once per value, not per request: `send <code>`, `authenticate <Auth-Type>`. */
  private readonly sendKeys = new Map<number, string>();
  private readonly authKeys = new Map<number, string>();

  constructor(readonly site: CompiledSite, readonly opts: ProcessOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.delays = new FifoTimer(this.clock);
    this.deadlines = new FifoTimer(this.clock);
    this.sections = sectionTable(site);
    const d = site.dict;
    const r = (n: string): DictAttr | undefined => d.resolve(n);
    this.attrs = {
      packetType: r('Packet-Type'), authType: r('Auth-Type'), acctStatusType: r('Acct-Status-Type'),
      srcIp: r('Packet-Src-IP-Address'), srcIp6: r('Packet-Src-IPv6-Address'), srcPort: r('Packet-Src-Port'),
      dstIp: r('Packet-Dst-IP-Address'), dstIp6: r('Packet-Dst-IPv6-Address'), dstPort: r('Packet-Dst-Port'),
      clientIp: r('Client-IP-Address'), clientIp6: r('Client-IPv6-Address'), clientShortname: r('Client-Shortname'),
      net: netAttrs(r('Net')),
    };
    const log = opts.log;
    this.sink = opts.requestLogSink ?? (log ? (level, line) => log[level](line) : undefined);
    this.hasStatusSection = this.section('recv Status-Server') !== undefined;
    this.hasFinally = [...site.sections.keys()].some((k) => k === 'finally' || k.startsWith('finally '));
  }

  /**
   * Reports reply values the encoder truncated: in the request's log (the `-X` trace), and in
   * the server log at a limited rate per attribute.
   */
  reportTruncation(req: Request, code: number, to: string): void {
    const log = this.opts.log;
    if (log) this.truncationLog ??= new RateLimitedLog(log);
    for (const w of this.encodeWarnings) {
      const msg = `${packetCodeName(code)} to ${to}: ${w.attr} is ${w.length} bytes, truncated to ${w.sent} (one attribute holds no more and ${w.attr} may not be split)`;
      if (req.debug || !this.truncationLog) req.log.warn(msg);
      else this.truncationLog.warn(`truncated ${w.attr}`, msg);
    }
    this.encodeWarnings.length = 0;
  }

  /** `send <reply name>` for a reply code (Do-Not-Respond for {@link DO_NOT_RESPOND}). */
  sendKey(code: number): string {
    let k = this.sendKeys.get(code);
    if (k === undefined) {
      k = `send ${code === DO_NOT_RESPOND ? 'Do-Not-Respond' : packetCodeName(code)}`;
      if (this.sendKeys.size < 512) this.sendKeys.set(code, k);
    }
    return k;
  }

  /** `authenticate <name>` for an Auth-Type value (its dictionary name, else the number). */
  authKey(authType: DictAttr, v: number): string {
    let k = this.authKeys.get(v);
    if (k === undefined) {
      k = `authenticate ${authType.nameOfValue(v) ?? String(v)}`;
      if (this.authKeys.size < 1024) this.authKeys.set(v, k);
    }
    return k;
  }

  /** The compiled section for `name1 name2`, if the site has it. */
  section(key: string): CompiledSection | undefined {
    const hit = this.sections.get(key);
    if (hit !== undefined || this.absent.has(key)) return hit;
    const folded = this.sections.get(key.toLowerCase());
    // Remember names the site lacks (most packets ask for a `finally`/`send` it does not have), and
    // the spelling of names it has in another case (`authenticate PAP` for `authenticate pap`: no
    // lower-casing per request); bounded, as Auth-Type and Acct-Status-Type names come from policy and data.
    if (folded === undefined) {
      if (this.absent.size < 1024) this.absent.add(key);
    } else if (this.spellings++ < 1024) this.sections.set(key, folded);
    return folded;
  }

  process(pkt: InboundPacket, done: ReplyCallback): InFlight | undefined {
    this.counters.requests++;
    this.counters.active++;
    return this.begin(new PacketTransaction(this, pkt, done));
  }

  /**
   * Runs an in-process request (`Server.inject`): the same sections and decisions as a packet,
   * without encoding. `max_request_time` applies; `reject_delay` (a defence against guessing
   * over the network) does not, and nothing is echoed (Proxy-State) or signed.
   */
  inject(input: InjectInput, done: (reply: InjectReply) => void): InFlight | undefined {
    this.counters.requests++;
    this.counters.active++;
    return this.begin(new InjectTransaction(this, input, done));
  }

  /**
   * Runs `req` through this site for `call <server>` in another site: an {@link inject} of the
   * caller's own request (its lists are edited in place; the site's max_request_time does not
   * apply, the caller's does). Resolves with the rcode of the last section that ran, `fail` when
   * it was cancelled; `signal` (the caller's cancel) cancels it.
   */
  call(req: Request, signal: AbortSignal): Promise<Rcode> {
    if (signal.aborted) return Promise.resolve('fail');
    return new Promise<Rcode>((resolve) => {
      const t = this.inject(
        { code: req.code, pairs: req.request, request: req, received: performance.now(), via: 'call' },
        (reply) => resolve(req.cancelled ? 'fail' : reply.rcode ?? 'noop'),
      );
      if (t) signal.addEventListener('abort', () => t.signal('cancel'), { once: true });
    });
  }

  private begin(t: Transaction): InFlight | undefined {
    try {
      t.start();
    } catch (e) {
      t.fail(e);
    }
    return t.finished ? undefined : t;
  }

  /**
   * Sends every reply still held by `reject_delay` now (shutdown, or the old
   * configuration after a reload). `max_request_time` deadlines stay armed
   * (their timer is unref'd) so requests in flight still end.
   */
  close(): void {
    this.delays.flush();
  }
}

/** Creates the process state machine for a compiled site. */
export function createRadiusProcess(site: CompiledSite, opts: ProcessOptions = {}): RadiusProcess {
  return new RadiusProcess(site, opts);
}

function addPair(list: Pair[], da: DictAttr | undefined, v: string | number): void {
  if (da) list.push(new Pair(da, v));
}

/** `Net` and its `Src`/`Dst` { `IP`, `Port` } members, resolved once per site (not per packet). */
interface NetAttrs {
  net: DictAttr;
  src?: EndpointAttrs;
  dst?: EndpointAttrs;
}
interface EndpointAttrs { da: DictAttr; ip?: DictAttr; port?: DictAttr }

function netAttrs(net: DictAttr | undefined): NetAttrs | undefined {
  if (!net) return undefined;
  const side = (name: string): EndpointAttrs | undefined => {
    const da = net.childByName(name);
    return da && { da, ip: da.childByName('IP'), port: da.childByName('Port') };
  };
  return { net, src: side('Src'), dst: side('Dst') };
}

/** The v4 transport view `Net { Src { IP, Port }, Dst { IP, Port } }` of a packet's endpoints. */
function netPair(net: NetAttrs, src?: { address: string; port: number }, dst?: { address?: string; port: number }): Pair {
  const top = new Pair(net.net);
  const children: Pair[] = (top.children = []);
  endpointPair(children, net.src, src);
  endpointPair(children, net.dst, dst);
  return top;
}

function endpointPair(into: Pair[], a: EndpointAttrs | undefined, e: { address?: string; port: number } | undefined): void {
  if (!a || !e?.address) return;
  const p = new Pair(a.da);
  p.children = [];
  addPair(p.children, a.ip, e.address);
  addPair(p.children, a.port, e.port);
  into.push(p);
}

/** Debug-prints pairs, one per line; hidden (encrypt=…) and secret attributes are masked. */
function debugPairs(req: Request, pairs: readonly Pair[]): void {
  for (const x of pairs) {
    const f = x.da.flags;
    if (f.internal) continue;
    let text: string;
    try {
      // As the detail file and radclient print them: enumerations by name, v3 flat names.
      text = f.secret || f.encrypt ? `${x.da.name} = <hidden>` : printPairLines([x], { indent: '' });
    } catch {
      text = `${x.da.name} = <unprintable>`;
    }
    for (const line of text.split('\n')) req.log.debug(`  ${line}`);
  }
}

/** What the state machine needs to know about where a request came from. */
interface Origin {
  readonly code: number;
  readonly id: number;
  readonly authenticator: Buffer | undefined;
  readonly pairs: Pair[];
  readonly src: { address: string; port: number } | undefined;
  readonly dst: { address: string; port: number } | undefined;
  readonly shortname: string | undefined;
  /** Packet codes the entry accepts (Status-Server answers depend on it). */
  readonly types: readonly number[];
  /** Arrival, in the server clock's monotonic milliseconds (`ProcessOptions.clock`). */
  readonly received: number;
  /**
   * An existing request to run (`call <server>`) instead of a new one: no Packet-* / Net
   * attributes are added, and max_request_time is the caller's, not this site's.
   */
  readonly request?: Request;
}

/** The step after a section (`Transaction.recv`), in place of a closure per section. */
const enum Then { ACCESS, ACCOUNTING, MAP_RECV, AUTHENTICATE, SEND, FN }

/** One request going through the state machine; subclasses deliver the reply (packet or in-process). */
abstract class Transaction implements InFlight {
  readonly req: Request;
  finished = false;
  private ex: Execution | undefined;
  private deadlineArmed = false;
  /** The max_request_time entry, cancelled when the request finishes (so it is not kept alive until then). */
  private deadline: FifoTimerItem | undefined;
  private sends = 0;
  /** The rcode of the last section that ran. */
  protected last: Rcode = 'noop';
  private finallyDone = false;
  private inFinally = false;
  /** What follows the section `recv` runs (see {@link Then}); `thenFn` for {@link Then.FN}. */
  private then: Then = Then.FN;
  private thenFn: ((rc: Rcode | undefined) => void) | undefined = undefined;
  /** The reply code of the `send` section running. */
  private sending = 0;

  constructor(protected readonly p: RadiusProcess, protected readonly origin: Origin) {
    if (origin.request) {
      this.req = origin.request;
      return;
    }
    const req = new Request({
      code: origin.code, id: origin.id, dict: p.site.dict, debug: p.opts.debug === true, sink: p.sink, clock: p.clock, receivedAt: origin.received,
    });
    req.request = origin.pairs;
    if (origin.authenticator) req.authenticator = origin.authenticator;
    this.req = req;
  }

  /** The `Received …` debug line. */
  protected abstract describe(): string;
  /** Sends reply `code` (never Do-Not-Respond) and then calls `end`. */
  protected abstract deliver(code: number): void;
  /** Hands the outcome to the caller (`code` null = no reply). */
  protected abstract complete(code: number | null, payload: Buffer | null): void;

  start(): void {
    if (this.origin.request) return this.dispatch(this.origin.code);
    const { req, origin, p } = this;
    const a = p.attrs;
    const list = req.request;
    const src = origin.src;
    const v6src = src !== undefined && src.address.includes(':');
    if (src) {
      addPair(list, v6src ? a.srcIp6 : a.srcIp, src.address);
      addPair(list, a.srcPort, src.port);
    }
    if (origin.dst?.address) {
      addPair(list, origin.dst.address.includes(':') ? a.dstIp6 : a.dstIp, origin.dst.address);
      addPair(list, a.dstPort, origin.dst.port);
    }
    if (a.net && (src || origin.dst?.address)) list.push(netPair(a.net, src, origin.dst));
    if (src) addPair(list, v6src ? a.clientIp6 : a.clientIp, src.address);
    if (origin.shortname !== undefined) addPair(list, a.clientShortname, origin.shortname);
    addPair(list, a.packetType, origin.code);
    if (req.debug) {
      req.log.debug(this.describe());
      debugPairs(req, origin.pairs);
    }
    this.dispatch(origin.code);
  }

  /** Runs the sections for a request of `code`. */
  private dispatch(code: number): void {
    switch (code) {
      case C.AccessRequest: return this.recv('recv Access-Request', Then.ACCESS);
      case C.AccountingRequest: return this.recv('recv Accounting-Request', Then.ACCOUNTING);
      case C.StatusServer: return this.statusServer();
      case C.CoARequest: return this.recv('recv CoA-Request', Then.MAP_RECV);
      case C.DisconnectRequest: return this.recv('recv Disconnect-Request', Then.MAP_RECV);
      default: return this.decide(DO_NOT_RESPOND);
    }
  }

  // ------------------------------------------------------------ signals

  signal(s: PacketSignal): void {
    if (this.finished) return;
    if (s === 'dup') {
      this.ex?.signal('dup');
      return;
    }
    if (this.inFinally) return; // max_request_time does not stop `finally`
    this.req.cancelled = true;
    if (this.ex) this.ex.signal('cancel');
    else this.end(null, null); // waiting in reject_delay: the reply is no longer wanted
  }

  // ------------------------------------------------------------ sections

  /**
   * Runs a section and continues with its rcode. A section the site does not
   * have "runs" as its default rcode, `noop` (as in FreeRADIUS v4), so e.g. a
   * site without `recv Accounting-Request` still answers Accounting-Response.
   * Synchronous sections continue at once.
   */
  private run(key: string): void {
    const sec = this.p.section(key);
    if (!sec) {
      if (this.req.debug) this.req.log.debug(`${key}: no such section, using its default rcode (noop)`);
      this.ran('noop');
      return;
    }
    const ex = new Execution(sec, this.req);
    this.ex = ex;
    const r = ex.start();
    if (r !== undefined) {
      this.ex = undefined;
      this.last = r;
      this.ran(r);
      return;
    }
    this.armDeadline();
    ex.promise.then((rc) => {
      this.ex = undefined;
      this.last = rc;
      if (this.finished) return;
      try { this.ran(rc); } catch (e) { this.fail(e); }
    }, (e) => this.fail(e));
  }

  /**
   * `run`, then `then` with the section's rcode; a cancelled request stops there without a reply
   * (after `finally`). The common continuations are named by a {@link Then} rather than a closure:
   * a request runs three sections or more, and a closure per section (plus its first call through
   * V8's lazy-compile stub) was a measurable share of a synchronous request's CPU.
   */
  private recv(key: string, then: Then, fn?: (rc: Rcode | undefined) => void): void {
    this.then = then;
    this.thenFn = fn;
    this.run(key);
  }

  /** Continues after the section `recv` ran. */
  private ran(rc: Rcode | undefined): void {
    if (this.req.cancelled) {
      this.req.rcode = 'timeout';
      return this.runFinally(() => this.end(null, null));
    }
    switch (this.then) {
      case Then.ACCESS: return this.afterAccessRecv(rc);
      case Then.ACCOUNTING: return this.afterAccountingRecv(rc);
      case Then.MAP_RECV: return this.decide(this.mapRecv(this.origin.code, rc));
      case Then.AUTHENTICATE: return this.afterAuthenticate(rc);
      case Then.SEND: return this.afterSend(this.sending, rc);
      case Then.FN: return this.thenFn!(rc);
    }
  }

  /**
   * Runs `finally <request type>` (or else `finally`) once, as the last section of the request,
   * starting with the previous section's rcode; then `then`. Its rcode does not change the
   * reply, and max_request_time does not cancel it.
   */
  private runFinally(then: () => void): void {
    if (!this.p.hasFinally || this.finallyDone) return then();
    this.finallyDone = true;
    const sec = this.p.section(`finally ${packetCodeName(this.req.code)}`) ?? this.p.section('finally');
    if (!sec) return then();
    const req = this.req;
    const cancelled = req.cancelled;
    req.cancelled = false;
    const ex = new Execution(sec, req, { keepRcode: true });
    this.inFinally = true;
    const done = (rc: Rcode | undefined): void => {
      this.inFinally = false;
      if (rc) this.last = rc;
      req.cancelled = req.cancelled || cancelled;
      if (this.finished) return;
      try { then(); } catch (e) { this.fail(e); }
    };
    const r = ex.start();
    if (r !== undefined) return done(r);
    ex.promise.then(done, (e) => this.fail(e));
  }

  private armDeadline(): void {
    if (this.deadlineArmed || this.origin.request) return; // a called request: the caller's deadline applies
    this.deadlineArmed = true;
    const mrt = this.p.site.config.maxRequestTime;
    if (!(mrt > 0)) return;
    this.deadline = this.p.deadlines.push(this.origin.received + mrt * 1000, () => {
      if (this.finished) return;
      this.req.log.warn(`request exceeded max_request_time (${mrt}s); cancelling it, no reply`);
      this.p.counters.cancelled++;
      this.signal('cancel');
    });
  }

  // ------------------------------------------------------------ decisions

  private replyPacketType(): number | undefined {
    const da = this.p.attrs.packetType;
    if (!da) return undefined;
    for (const pr of this.req.reply) if (pr.da === da) return typeof pr.value === 'number' ? pr.value : undefined;
    return undefined;
  }

  private setReplyPacketType(code: number): void {
    const da = this.p.attrs.packetType;
    if (!da) return;
    const reply = this.req.reply;
    for (const pr of reply) if (pr.da === da) { pr.value = code; return; }
    reply.push(new Pair(da, code));
  }

  private mapRecv(code: number, rc: Rcode | undefined): number {
    const pt = this.replyPacketType();
    if (pt !== undefined) return pt;
    const t = RECV_REPLY[code];
    return (rc !== undefined ? t.map[rc] : undefined) ?? t.default;
  }

  private afterAccessRecv(rc: Rcode | undefined): void {
    const req = this.req;
    const decided = this.mapRecv(C.AccessRequest, rc);
    if (decided !== 0) return this.decide(decided);
    const atDa = this.p.attrs.authType;
    const at = atDa ? req.control.find((x) => x.da === atDa) : undefined;
    if (!at || at.value === undefined) {
      if (req.debug) req.log.debug('No Auth-Type found: rejecting the user');
      return this.decide(C.AccessReject);
    }
    const v = at.value as number;
    if (v === AUTH_TYPE_ACCEPT) return this.decide(C.AccessAccept);
    if (v === AUTH_TYPE_REJECT) return this.decide(C.AccessReject);
    const key = this.p.authKey(atDa!, v);
    if (!this.p.section(key)) {
      req.log.warn(`No "${key}" section: rejecting the user`);
      return this.decide(C.AccessReject);
    }
    this.recv(key, Then.AUTHENTICATE);
  }

  private afterAuthenticate(arc: Rcode | undefined): void {
    if (arc === 'handled') return this.decide(this.replyPacketType() ?? C.AccessReject);
    this.decide((arc !== undefined ? AUTHENTICATE_REPLY[arc] : undefined) ?? C.AccessReject);
  }

  private afterAccountingRecv(rc: Rcode | undefined): void {
    const decided = this.mapRecv(C.AccountingRequest, rc);
    if (decided !== C.AccountingResponse) return this.decide(decided);
    const da = this.p.attrs.acctStatusType;
    const st = da ? this.req.request.find((x) => x.da === da) : undefined;
    const name = st && st.value !== undefined ? (da!.nameOfValue(st.value) ?? String(st.value)) : undefined;
    if (name === undefined || !this.p.section(`accounting ${name}`)) return this.decide(decided);
    this.recv(`accounting ${name}`, Then.FN, (arc) => {
      const pt = this.replyPacketType();
      if (pt !== undefined) return this.decide(pt);
      this.decide(arc !== undefined && RECV_REPLY[C.AccountingRequest].map[arc] === undefined ? DO_NOT_RESPOND : C.AccountingResponse);
    });
  }

  private statusServer(): void {
    const types = this.origin.types;
    const acctOnly = !types.includes(C.AccessRequest) && types.includes(C.AccountingRequest);
    const yes = acctOnly ? C.AccountingResponse : C.AccessAccept;
    const no = acctOnly ? DO_NOT_RESPOND : C.AccessReject;
    // On an accounting listener the answer skips `send Accounting-Response` (which typically logs accounting).
    const answer = (code: number): void => (acctOnly ? this.reply(code) : this.decide(code));
    if (!this.p.hasStatusSection) return answer(yes);
    this.recv('recv Status-Server', Then.FN, (rc) => {
      const pt = this.replyPacketType();
      if (pt !== undefined) return answer(pt);
      answer(rc === 'ok' || rc === 'updated' ? yes : no);
    });
  }

  /** Runs `send <code>` (with failover by rcode) and then replies. */
  private decide(code: number): void {
    if (this.finished) return;
    if (++this.sends > 3) return this.reply(code);
    this.setReplyPacketType(code);
    this.sending = code;
    this.recv(this.p.sendKey(code), Then.SEND);
  }

  /** After `send <code>`: the reply, or another `send` section when the policy changed the code or failed. */
  private afterSend(code: number, rc: Rcode | undefined): void {
    if (code === DO_NOT_RESPOND) return this.reply(code);
    const pt = this.replyPacketType();
    if (pt !== undefined && pt !== code) return this.decide(pt);
    if (rc === 'timeout') return this.decide(DO_NOT_RESPOND);
    if (rc !== undefined && FAILISH.has(rc)) {
      const next = SEND_FAILOVER[code];
      if (next !== undefined) return this.decide(next);
    }
    this.reply(code);
  }

  // ------------------------------------------------------------ reply

  protected reply(code: number): void {
    if (this.finished) return;
    if (this.p.hasFinally && !this.finallyDone) return this.runFinally(() => this.reply(code));
    if (code === DO_NOT_RESPOND || code <= 0 || code > 255) {
      if (this.req.debug) this.req.log.debug('Not sending a reply (Do-Not-Respond)');
      return this.end(null, null);
    }
    this.deliver(code);
  }

  /** Ends the request because of an unexpected exception (no reply). */
  fail(e: unknown): void {
    if (this.finished) return;
    this.p.counters.errors++;
    try { this.req.log.error(`internal error: ${(e as Error)?.stack ?? String(e)}`); } catch { /* ignore */ }
    this.end(null, null);
  }

  /** Ends the request: `code` null means no reply; `payload` is the encoded reply of a packet. */
  protected end(code: number | null, payload: Buffer | null): void {
    if (this.finished) return;
    this.finished = true;
    if (this.deadline !== undefined) {
      this.p.deadlines.cancel(this.deadline);
      this.deadline = undefined;
    }
    const c = this.p.counters;
    c.active--;
    if (code !== null) c.replies++;
    else c.noReply++;
    try { this.complete(code, payload); } catch { /* the caller guards itself */ }
  }
}

/** A request that arrived as a packet: the reply is encoded, signed and may wait for reject_delay. */
class PacketTransaction extends Transaction {
  constructor(p: RadiusProcess, private readonly pkt: InboundPacket, private readonly done: ReplyCallback) {
    super(p, {
      code: pkt.packet.code, id: pkt.packet.id, authenticator: pkt.packet.authenticator, pairs: pkt.packet.pairs,
      src: pkt.src, dst: pkt.dst, shortname: pkt.client.shortname, types: pkt.listener.types, received: pkt.received,
    });
  }

  protected describe(): string {
    const { pkt } = this;
    // TCP knows the address a connection came to; a UDP socket bound to every address does not
    // (Node has no IP_PKTINFO), so it says `*` rather than pretend the packet went to 0.0.0.0.
    const to = pkt.dst.address === '0.0.0.0' || pkt.dst.address === '::' ? '*' : pkt.dst.address.includes(':') ? `[${pkt.dst.address}]` : pkt.dst.address;
    const from = pkt.src.address.includes(':') ? `[${pkt.src.address}]` : pkt.src.address;
    return `Received ${packetCodeName(pkt.packet.code)} ID ${pkt.packet.id} from ${from}:${pkt.src.port} to ${to}:${pkt.dst.port} length ${pkt.raw.length} via ${pkt.listener.name}`;
  }

  protected deliver(code: number): void {
    const bytes = this.encode(code);
    if (!bytes) return this.end(null, null);
    const delay = this.p.site.config.rejectDelay;
    if (code === C.AccessReject && delay > 0) {
      const at = this.pkt.received + delay * 1000;
      if (at > this.p.clock.now()) {
        if (this.req.debug) this.req.log.debug(`Delaying Access-Reject by ${delay}s (reject_delay)`);
        this.p.delays.push(at, () => this.end(code, bytes));
        return;
      }
    }
    this.end(code, bytes);
  }

  protected complete(_code: number | null, payload: Buffer | null): void {
    this.done(payload);
  }

  private encode(code: number): Buffer | undefined {
    const { pkt, req } = this;
    let pairs = req.reply;
    // Proxy-State is echoed from the request, in order, after the reply's own attributes (RFC 2865 §5.33).
    let proxy: Pair[] | undefined;
    for (const x of req.request) {
      if (x.da.attr === ATTR_PROXY_STATE && x.da.parent?.type === 'root') (proxy ??= []).push(x);
    }
    if (proxy) pairs = pairs.filter((x) => !(x.da.attr === ATTR_PROXY_STATE && x.da.parent?.type === 'root')).concat(proxy);
    const access = code === C.AccessAccept || code === C.AccessReject || code === C.AccessChallenge;
    try {
      const auth = pkt.packet.authenticator;
      const warnings = this.p.encodeWarnings;
      warnings.length = 0;
      const out = encodePacket(
        { code, id: pkt.packet.id, authenticator: auth, pairs },
        { dict: this.p.site.dict, secret: pkt.client.secret, requestAuthenticator: auth, requestCode: pkt.packet.code, messageAuthenticator: access || pkt.hasMessageAuthenticator, warnings },
      );
      if (warnings.length) this.p.reportTruncation(req, code, `${pkt.src.address}:${pkt.src.port}`);
      if (req.debug) {
        req.log.debug(`Sending ${packetCodeName(code)} ID ${pkt.packet.id} to ${pkt.src.address}:${pkt.src.port} length ${out.length}`);
        debugPairs(req, pairs);
      }
      return out;
    } catch (e) {
      this.p.counters.errors++;
      req.log.error(`cannot encode ${packetCodeName(code)}: ${(e as Error).message}`);
      return undefined;
    }
  }
}

/** `[code]`, one array per packet code (an in-process request accepts its own code; no array per request). */
const TYPES_OF: (readonly number[])[] = [];
function typesOf(code: number): readonly number[] {
  return code >= 0 && code < 1024 ? (TYPES_OF[code] ??= Object.freeze([code])) : [code];
}

/** `pairs` without internal attributes: the list itself when it has none (the common case), else a filtered copy. */
function withoutInternal(pairs: Pair[]): Pair[] {
  for (let i = 0; i < pairs.length; i++) if (pairs[i].da.flags.internal) return pairs.filter((x) => !x.da.flags.internal);
  return pairs;
}

/** A request run in-process (`inject`): the reply is the reply list, not bytes. */
class InjectTransaction extends Transaction {
  constructor(p: RadiusProcess, private readonly input: InjectInput, private readonly done: (reply: InjectReply) => void) {
    super(p, {
      code: input.code, id: 0, authenticator: undefined, pairs: input.pairs, src: input.src, dst: undefined,
      shortname: input.client, types: typesOf(input.code), received: input.received, request: input.request,
    });
    if (input.control) this.req.control.push(...input.control);
  }

  protected describe(): string {
    const src = this.input.src ? ` from ${this.input.src.address}:${this.input.src.port}` : '';
    return `Received ${packetCodeName(this.input.code)} in-process${src} via ${this.input.via ?? 'inject'}`;
  }

  protected deliver(code: number): void {
    if (this.req.debug) {
      this.req.log.debug(`Replying ${packetCodeName(code)} in-process`);
      debugPairs(this.req, this.req.reply);
    }
    this.end(code, null);
  }

  protected complete(code: number | null): void {
    const pairs = code === null ? [] : withoutInternal(this.req.reply);
    this.done({ code, name: code === null ? 'Do-Not-Respond' : packetCodeName(code), pairs, request: this.req, rcode: this.last });
  }
}
