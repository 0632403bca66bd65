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
import { performance } from 'node:perf_hooks';
import type { DictAttr } from '../../dict/attr';
import type { Rcode } from '../../module/api';
import { Pair } from '../../pair/pair';
import { printPair } from '../../pair/text';
import { encodePacket, packetCodeName, PacketCode } from '../../protocol/radius/packet';
import { Request } from '../../request/request';
import type { LogSink } from '../../request/request-log';
import type { CompiledSection } from '../../unlang/compile/types';
import { Execution } from '../../unlang/interpret/interpreter';
import type { InboundPacket, InFlight, PacketSignal, PacketSink, ReplyCallback } from '../../listen/types';
import { FifoTimer, type FifoTimerItem } from './fifo-timer';
import type { CompiledSite, ProcessOptions } from './types';

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
  srcIp?: DictAttr; srcIp6?: DictAttr; srcPort?: DictAttr;
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

/** The state machine for one compiled site; the `PacketSink` listeners feed. */
export class RadiusProcess implements PacketSink {
  readonly sections: Map<string, CompiledSection>;
  readonly attrs: Attrs;
  /** Reject-delay queue and max_request_time deadlines (one timer each). */
  readonly delays = new FifoTimer();
  readonly deadlines = new FifoTimer();
  readonly counters: ProcessStats = { requests: 0, replies: 0, noReply: 0, cancelled: 0, errors: 0, active: 0 };
  readonly sink: LogSink | undefined;
  readonly hasStatusSection: boolean;
  /** True when the site has a `finally` section (of any request type). */
  readonly hasFinally: boolean;

  constructor(readonly site: CompiledSite, readonly opts: ProcessOptions = {}) {
    this.sections = sectionTable(site);
    const d = site.dict;
    const r = (n: string): DictAttr | undefined => d.resolve(n);
    this.attrs = {
      packetType: r('Packet-Type'), authType: r('Auth-Type'), acctStatusType: r('Acct-Status-Type'),
      srcIp: r('Packet-Src-IP-Address'), srcIp6: r('Packet-Src-IPv6-Address'), srcPort: r('Packet-Src-Port'),
      dstIp: r('Packet-Dst-IP-Address'), dstIp6: r('Packet-Dst-IPv6-Address'), dstPort: r('Packet-Dst-Port'),
      clientIp: r('Client-IP-Address'), clientIp6: r('Client-IPv6-Address'), clientShortname: r('Client-Shortname'),
    };
    const log = opts.log;
    this.sink = opts.requestLogSink ?? (log ? (level, line) => log[level](line) : undefined);
    this.hasStatusSection = this.section('recv Status-Server') !== undefined;
    this.hasFinally = [...site.sections.keys()].some((k) => k === 'finally' || k.startsWith('finally '));
  }

  /** The compiled section for `name1 name2`, if the site has it. */
  section(key: string): CompiledSection | undefined {
    return this.sections.get(key) ?? this.sections.get(key.toLowerCase());
  }

  process(pkt: InboundPacket, done: ReplyCallback): InFlight | undefined {
    this.counters.requests++;
    this.counters.active++;
    const t = new Transaction(this, pkt, done);
    try {
      t.start();
    } catch (e) {
      t.fail(e);
    }
    return t.finished ? undefined : t;
  }

  /**
   * Runs `req` through this site's state machine for `call <server>` in another site: the
   * same sections and decisions as for a packet (recv, authenticate, send), editing the
   * caller's lists; no packet is sent. Resolves with the last section's rcode; `signal`
   * (the caller's cancel) cancels it.
   */
  call(req: Request, signal: AbortSignal): Promise<Rcode> {
    return new Promise<Rcode>((resolve) => {
      const t = new CalledTransaction(this, req, resolve);
      if (signal.aborted) return resolve('fail');
      signal.addEventListener('abort', () => t.signal('cancel'), { once: true });
      try {
        t.start();
      } catch (e) {
        t.fail(e);
      }
    });
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

/** Debug-prints pairs, one per line; hidden (encrypt=…) and secret attributes are masked. */
function debugPairs(req: Request, pairs: readonly Pair[]): void {
  for (const x of pairs) {
    const f = x.da.flags;
    if (f.internal) continue;
    let text: string;
    try {
      text = f.secret || f.encrypt ? `${x.da.name} = <hidden>` : printPair(x);
    } catch {
      text = `${x.da.name} = <unprintable>`;
    }
    req.log.debug(`  ${text}`);
  }
}

/** One request going through the state machine. */
class Transaction implements InFlight {
  readonly req: Request;
  finished = false;
  private ex: Execution | undefined;
  private deadlineArmed = false;
  /** The max_request_time entry, cancelled when the request finishes (so it is not kept alive until then). */
  private deadline: FifoTimerItem | undefined;
  private sends = 0;
  /** The rcode of the last section that ran. */
  protected last: Rcode = 'noop';

  constructor(protected readonly p: RadiusProcess, private readonly pkt: InboundPacket, private readonly done: ReplyCallback, req?: Request) {
    if (req) {
      this.req = req;
      return;
    }
    const packet = pkt.packet;
    req = new Request({ code: packet.code, id: packet.id, dict: p.site.dict, debug: p.opts.debug === true, sink: p.sink });
    req.request = packet.pairs;
    req.authenticator = packet.authenticator;
    this.req = req;
  }

  start(): void {
    const { req, pkt, p } = this;
    const a = p.attrs;
    const list = req.request;
    const v6src = pkt.src.address.includes(':');
    addPair(list, v6src ? a.srcIp6 : a.srcIp, pkt.src.address);
    addPair(list, a.srcPort, pkt.src.port);
    if (pkt.dst.address) {
      addPair(list, pkt.dst.address.includes(':') ? a.dstIp6 : a.dstIp, pkt.dst.address);
      addPair(list, a.dstPort, pkt.dst.port);
    }
    addPair(list, v6src ? a.clientIp6 : a.clientIp, pkt.src.address);
    addPair(list, a.clientShortname, pkt.client.shortname);
    addPair(list, a.packetType, pkt.packet.code);
    if (req.debug) {
      req.log.debug(`Received ${packetCodeName(pkt.packet.code)} ID ${pkt.packet.id} from ${pkt.src.address}:${pkt.src.port} to ${pkt.dst.address}:${pkt.dst.port} length ${pkt.raw.length} via ${pkt.listener.name}`);
      debugPairs(req, pkt.packet.pairs);
    }
    this.dispatch(pkt.packet.code);
  }

  /** Runs the sections for a request of `code`. */
  protected dispatch(code: number): void {
    switch (code) {
      case C.AccessRequest: return this.recv('recv Access-Request', (rc) => this.afterAccessRecv(rc));
      case C.AccountingRequest: return this.recv('recv Accounting-Request', (rc) => this.afterAccountingRecv(rc));
      case C.StatusServer: return this.statusServer();
      case C.CoARequest: return this.recv('recv CoA-Request', (rc) => this.decide(this.mapRecv(code, rc)));
      case C.DisconnectRequest: return this.recv('recv Disconnect-Request', (rc) => this.decide(this.mapRecv(code, rc)));
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
    else this.finish(null); // waiting in reject_delay: the reply is no longer wanted
  }

  // ------------------------------------------------------------ sections

  /**
   * Runs a section and continues with its rcode. A section the site does not
   * have "runs" as its default rcode, `noop` (as in FreeRADIUS v4), so e.g. a
   * site without `recv Accounting-Request` still answers Accounting-Response.
   * Synchronous sections continue at once.
   */
  private run(key: string, then: (rc: Rcode | undefined) => void): void {
    const sec = this.p.section(key);
    if (!sec) {
      if (this.req.debug) this.req.log.debug(`${key}: no such section, using its default rcode (noop)`);
      then('noop');
      return;
    }
    const ex = new Execution(sec, this.req);
    this.ex = ex;
    const r = ex.start();
    if (r !== undefined) {
      this.ex = undefined;
      this.last = r;
      then(r);
      return;
    }
    this.armDeadline();
    ex.promise.then((rc) => {
      this.ex = undefined;
      this.last = rc;
      if (this.finished) return;
      try { then(rc); } catch (e) { this.fail(e); }
    }, (e) => this.fail(e));
  }

  /** `run`, but a cancelled request stops here without a reply (after `finally`). */
  private recv(key: string, then: (rc: Rcode | undefined) => void): void {
    this.run(key, (rc) => {
      if (this.req.cancelled) {
        this.req.rcode = 'timeout';
        return this.runFinally(() => this.finish(null));
      }
      then(rc);
    });
  }

  private finallyDone = false;
  private inFinally = false;

  /**
   * Runs `finally <request type>` (or else `finally`) once, as the last section of the request,
   * starting with the previous section's rcode; then `then`. Its rcode does not change the
   * reply, and max_request_time does not cancel it.
   */
  protected runFinally(then: () => void): void {
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
      then();
    };
    const r = ex.start();
    if (r !== undefined) return done(r);
    ex.promise.then(done, (e) => this.fail(e));
  }

  protected armDeadline(): void {
    if (this.deadlineArmed) return;
    this.deadlineArmed = true;
    const mrt = this.p.site.config.maxRequestTime;
    if (!(mrt > 0)) return;
    this.deadline = this.p.deadlines.push(this.pkt.received + mrt * 1000, () => {
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
    const name = atDa!.nameOfValue(v) ?? String(v);
    const key = `authenticate ${name}`;
    if (!this.p.section(key)) {
      req.log.warn(`No "${key}" section: rejecting the user`);
      return this.decide(C.AccessReject);
    }
    this.recv(key, (arc) => {
      if (arc === 'handled') return this.decide(this.replyPacketType() ?? C.AccessReject);
      this.decide((arc !== undefined ? AUTHENTICATE_REPLY[arc] : undefined) ?? C.AccessReject);
    });
  }

  private afterAccountingRecv(rc: Rcode | undefined): void {
    const decided = this.mapRecv(C.AccountingRequest, rc);
    if (decided !== C.AccountingResponse) return this.decide(decided);
    const da = this.p.attrs.acctStatusType;
    const st = da ? this.req.request.find((x) => x.da === da) : undefined;
    const name = st && st.value !== undefined ? (da!.nameOfValue(st.value) ?? String(st.value)) : undefined;
    if (name === undefined || !this.p.section(`accounting ${name}`)) return this.decide(decided);
    this.recv(`accounting ${name}`, (arc) => {
      const pt = this.replyPacketType();
      if (pt !== undefined) return this.decide(pt);
      this.decide(arc !== undefined && RECV_REPLY[C.AccountingRequest].map[arc] === undefined ? DO_NOT_RESPOND : C.AccountingResponse);
    });
  }

  private statusServer(): void {
    const types = this.listenerTypes();
    const acctOnly = !types.includes(C.AccessRequest) && types.includes(C.AccountingRequest);
    const yes = acctOnly ? C.AccountingResponse : C.AccessAccept;
    const no = acctOnly ? DO_NOT_RESPOND : C.AccessReject;
    // On an accounting listener the answer skips `send Accounting-Response` (which typically logs accounting).
    const answer = (code: number): void => (acctOnly ? this.reply(code) : this.decide(code));
    if (!this.p.hasStatusSection) return answer(yes);
    this.recv('recv Status-Server', (rc) => {
      const pt = this.replyPacketType();
      if (pt !== undefined) return answer(pt);
      answer(rc === 'ok' || rc === 'updated' ? yes : no);
    });
  }

  /** Runs `send <code>` (with failover by rcode) and then replies. */
  private decide(code: number): void {
    if (this.finished) return;
    if (++this.sends > 3) return this.reply(code);
    const name = code === DO_NOT_RESPOND ? 'Do-Not-Respond' : packetCodeName(code);
    this.setReplyPacketType(code);
    this.recv(`send ${name}`, (rc) => {
      if (code === DO_NOT_RESPOND) return this.reply(code);
      const pt = this.replyPacketType();
      if (pt !== undefined && pt !== code) return this.decide(pt);
      if (rc === 'timeout') return this.decide(DO_NOT_RESPOND);
      if (rc !== undefined && FAILISH.has(rc)) {
        const next = SEND_FAILOVER[code];
        if (next !== undefined) return this.decide(next);
      }
      this.reply(code);
    });
  }

  /** Packet codes the receiving listener accepts (Status-Server answers depend on it). */
  protected listenerTypes(): readonly number[] {
    return this.pkt.listener.types;
  }

  // ------------------------------------------------------------ reply

  protected reply(code: number): void {
    if (this.finished) return;
    if (this.p.hasFinally && !this.finallyDone) return this.runFinally(() => this.reply(code));
    if (code === DO_NOT_RESPOND || code <= 0 || code > 255) {
      if (this.req.debug) this.req.log.debug('Not sending a reply (Do-Not-Respond)');
      return this.finish(null);
    }
    const bytes = this.encode(code);
    if (!bytes) return this.finish(null);
    const delay = this.p.site.config.rejectDelay;
    if (code === C.AccessReject && delay > 0) {
      const at = this.pkt.received + delay * 1000;
      if (at > performance.now()) {
        if (this.req.debug) this.req.log.debug(`Delaying Access-Reject by ${delay}s (reject_delay)`);
        this.p.delays.push(at, () => this.finish(bytes));
        return;
      }
    }
    this.finish(bytes);
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
      const out = encodePacket(
        { code, id: pkt.packet.id, authenticator: auth, pairs },
        { dict: this.p.site.dict, secret: pkt.client.secret, requestAuthenticator: auth, messageAuthenticator: access || pkt.hasMessageAuthenticator },
      );
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

  /** Ends the request because of an unexpected exception (no reply). */
  fail(e: unknown): void {
    if (this.finished) return;
    this.p.counters.errors++;
    try { this.req.log.error(`internal error: ${(e as Error)?.stack ?? String(e)}`); } catch { /* ignore */ }
    this.finish(null);
  }

  protected finish(reply: Buffer | null): void {
    if (this.finished) return;
    this.finished = true;
    if (this.deadline !== undefined) {
      this.p.deadlines.cancel(this.deadline);
      this.deadline = undefined;
    }
    const c = this.p.counters;
    c.active--;
    if (reply) c.replies++;
    else c.noReply++;
    try { this.done(reply); } catch { /* the listener guards itself */ }
  }
}

/**
 * A request `call`ed from another site: no packet, no network attributes, no reply sent, no
 * max_request_time of its own (the caller's applies). Ends with the last section's rcode.
 */
class CalledTransaction extends Transaction {
  constructor(p: RadiusProcess, req: Request, private readonly settle: (rc: Rcode) => void) {
    super(p, undefined as unknown as InboundPacket, () => undefined, req);
  }

  override start(): void {
    this.dispatch(this.req.code);
  }

  protected override armDeadline(): void { /* the caller's deadline applies */ }

  protected override listenerTypes(): readonly number[] {
    return [C.AccessRequest, C.AccountingRequest];
  }

  protected override reply(): void {
    // The called server's `finally` rcode is what the caller sees.
    this.runFinally(() => this.finish(null));
  }

  protected override finish(_reply?: Buffer | null): void {
    if (this.finished) return;
    this.finished = true;
    this.settle(this.req.cancelled ? 'fail' : this.last);
  }
}
