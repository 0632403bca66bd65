/**
 * The `pppoe_dpdk` app: the data-plane lcores and their control plane, with the control plane's handler wired
 * to a virtual-server site through `host.inject` (the framework is the RADIUS control thread).
 *
 * ```
 * app pppoe_dpdk [NAME] {
 *     site = pppoe                 # server NAME the requests run through (required)
 *     lcores = 2                   # restart needed to change: workers, rings and tables
 *     ring_size = 1024             #   (restart)
 *     burst = 32                   #   (restart)
 *     timeout = 5s                 # hot: the lcores read it at their next scan
 *     nas_ip_address = 192.0.2.1   # hot: added to every request
 *     nas_identifier = "bng1"      # hot
 *     synthetic {                  # in-worker load source (restart); absent = off
 *         rate = 1000
 *     }
 * }
 * ```
 *
 * A reload applies `site`, `timeout`, `nas_ip_address` and `nas_identifier` in place (the policy itself is the
 * site's, so a reload that changes the site's sections or modules changes the policy for the next request
 * without touching the lcores). Every other item sizes the workers, rings or tables: a reload that changes one
 * keeps the running lcores, logs a warning naming the items, and reports them in `health().detail.restartPending`;
 * they take effect when the daemon restarts.
 */
import { conf, type Infer } from '../../core';
import type { Dictionary } from '../../core';
import { defineApp, type AppContext, type AppInstance, type AppSessionInfo, type AppSessions, type Health } from '../../core';
import { ControlPlane, type AuthHandler, type LcoreSpawner } from './control-plane';
import { pppoeCollector } from './metrics';
import { sidOfAcctSessionId, startNas } from './nas';
import { DEFAULT_SYNTHETIC, DEFAULT_WIRE, MAX_TOTAL_SESSIONS, resolveOptions, type PppoeDpdkOptions, type WireOptions } from './options';
import { ipv4ToU32, Kind, type AuthResult } from './records';
import { MailOp, MailResult } from './shared';
import { acctSessionId, accountingPairs, replyResult, requestPairs, resolveAcctAttrs, resolvePppoeAttrs, type AcctAttrs, type NasIdentity, type PppoeAttrs } from './radius-map';

/** A power-of-two integer field (ring sizes). */
function powerOfTwo(o: { default: number; min: number; max: number; doc: string }) {
  const base = conf.integer(o);
  return {
    ...base,
    typeName: `power of two (${o.min}..${o.max})`,
    convert: (v: string, q: Parameters<typeof base.convert>[1], fail: Parameters<typeof base.convert>[2]): number => {
      const n = base.convert(v, q, fail);
      if ((n & (n - 1)) !== 0) fail(`${n} is not a power of two`);
      return n;
    },
  };
}

/** `synthetic { … }`: the in-worker load source. */
export const SyntheticConfig = conf.section({
  rate: conf.integer({ default: DEFAULT_SYNTHETIC.rate, min: 1, max: 10_000_000, doc: 'Requests per second, per lcore.' }),
  count: conf.integer({ default: 0, min: 0, doc: 'Stop after this many requests per lcore (0 = no limit).' }),
  hold: conf.duration({ default: 0, min: 0, max: '1d', doc: 'How long an accepted session stays installed (0 = closed at once).' }),
  chap_percent: conf.integer({ default: 0, min: 0, max: 100, doc: 'Share of CHAP requests (the rest is PAP), percent.' }),
  user_prefix: conf.string({ default: DEFAULT_SYNTHETIC.userPrefix, doc: 'User-Name prefix; the request number is appended.' }),
  password: conf.string({ default: DEFAULT_SYNTHETIC.password, secret: true, doc: 'PAP password and CHAP secret.' }),
  macs: conf.integer({ default: DEFAULT_SYNTHETIC.macs, min: 1, max: 1 << 24, doc: 'Distinct client MACs cycled through.' }),
  open_loop: conf.boolean({ default: true, doc: 'Submit at `rate` whatever happens (no = only while the ring has room).' }),
});

/** `wire { … }`: the PPPoE access concentrator on a raw interface (restart). */
export const WireConfig = conf.section({
  interface: conf.string({ required: true, doc: 'Ethernet interface (AF_PACKET; needs CAP_NET_RAW).' }),
  ac_name: conf.string({ default: DEFAULT_WIRE.acName, doc: 'AC-Name in PADO, and the CHAP name.' }),
  service_name: conf.list(conf.string(), { doc: 'Service-Names offered (repeatable); none = any name is served.' }),
  cookie_secret: conf.string({ required: true, secret: true, doc: 'Key of the AC-Cookie HMAC (≥ 16 bytes).' }),
  auth: conf.enum(['chap', 'pap'] as const, { default: 'chap', doc: 'Authentication asked for first.' }),
  allow_pap: conf.boolean({ default: true, doc: 'Accept PAP when the peer Naks CHAP.' }),
  allow_chap: conf.boolean({ default: true, doc: 'Accept CHAP-MD5.' }),
  local_address: conf.ipaddr({ version: 4, required: true, doc: 'The concentrator\'s own address (IPCP, ICMP echo).' }),
  dns: conf.list(conf.ipaddr({ version: 4 }), { doc: 'DNS servers when the reply has none (up to two).' }),
  pool_base: conf.ipaddr({ version: 4, doc: 'Address pool when the reply has no Framed-IP-Address: base + session id.' }),
  mru: conf.integer({ default: DEFAULT_WIRE.mru, min: 128, max: 1492, doc: 'Largest MRU accepted.' }),
  restart_timer: conf.duration({ default: '3s', min: '100ms', max: '60s', doc: 'RFC 1661 Restart timer.' }),
  max_configure: conf.integer({ default: DEFAULT_WIRE.maxConfigure, min: 1, max: 255, doc: 'RFC 1661 Max-Configure.' }),
  auth_timeout: conf.duration({ default: '30s', min: '1s', max: '600s', doc: 'Time a PAP peer has to authenticate.' }),
  echo_interval: conf.duration({ default: '30s', min: 0, max: '3600s', doc: 'LCP Echo-Request interval (0 = none).' }),
  echo_failures: conf.integer({ default: DEFAULT_WIRE.echoFailures, min: 1, max: 255, doc: 'Unanswered echoes before the peer is dead.' }),
  interim_interval: conf.duration({ default: 0, min: 0, max: '1d', doc: 'Interim-Update interval when the reply has no Acct-Interim-Interval (0 = none).' }),
  discovery_rate: conf.integer({ default: DEFAULT_WIRE.discoveryRate, min: 1, max: 1_000_000, doc: 'PADI/PADR per second per client MAC.' }),
  discovery_burst: conf.integer({ default: DEFAULT_WIRE.discoveryBurst, min: 1, max: 1_000_000, doc: 'PADI/PADR burst per client MAC.' }),
  ipv6cp: conf.boolean({ default: false, doc: 'Negotiate IPV6CP interface identifiers (RFC 5072); no = Protocol-Reject it.' }),
  uplink: conf.subsection({
    interface: conf.string({ required: true, doc: 'Uplink Ethernet interface (AF_PACKET).' }),
    address: conf.ipaddr({ version: 4, required: true, doc: 'Our address on the uplink (answered in ARP).' }),
    gateway: conf.ipaddr({ version: 4, required: true, doc: 'Next hop of the sessions\' traffic (resolved with ARP).' }),
  }, { optional: true, doc: 'IPv4 forwarding between the sessions and this interface, rate-limited per session.' }),
});

/** `coa { … }`: Disconnect and CoA (RFC 5176) received as a NAS (restart). */
export const CoaConfig = conf.section({
  address: conf.ipaddr({ default: '127.0.0.1', doc: 'Address the dynamic authorization port listens on.' }),
  port: conf.integer({ default: 3799, min: 1, max: 65535, doc: 'UDP port (RFC 5176: 3799).' }),
  secret: conf.string({ required: true, secret: true, doc: 'Shared secret of the AAA server sending the requests.' }),
});

/** Schema of `app pppoe_dpdk [NAME] { … }`. */
export const PppoeDpdkConfig = conf.section({
  site: conf.string({ required: true, doc: 'The virtual server (`server NAME { … }`) every request runs through. Hot.' }),
  lcores: conf.integer({ default: 1, min: 1, max: 64, doc: 'Data-plane worker threads. Restart.' }),
  ring_size: powerOfTwo({ default: 1024, min: 2, max: 65536, doc: 'Slots per ring. Restart.' }),
  burst: conf.integer({ default: 32, min: 1, max: 65536, doc: 'Records per ring operation (≤ ring_size). Restart.' }),
  max_sessions: conf.integer({ default: 4096, min: 1, max: 1 << 22, doc: 'Sessions per lcore (lcores × max_sessions ≤ 16777216; PPPoE session ids are per client MAC, so more than 65534 is fine). Restart.' }),
  max_pending: conf.integer({ default: 0, min: 0, max: 1 << 20, doc: 'Pending-table entries per lcore (0 = 2 × ring_size). Restart.' }),
  acct_backlog: conf.integer({ default: 0, min: 0, max: 1 << 20, doc: 'Accounting records kept per lcore while the request ring is full (0 = min(max_sessions, 65536); 512 bytes each). Restart.' }),
  acct_attempts: conf.integer({ default: 3, min: 1, max: 10, doc: 'Times an accounting record goes through the site before its failure (timeout, error) is final. Restart.' }),
  session_pending_cap: conf.integer({ default: 1, min: 1, max: 16, doc: 'Pending requests per session. Restart.' }),
  mac_pending_cap: conf.integer({ default: 4, min: 1, max: 65536, doc: 'Pending requests per client MAC and lcore. Restart.' }),
  timeout: conf.duration({ default: '5s', min: '100ms', max: '60s', doc: 'Synthetic TIMEOUT after this long without an answer. Hot.' }),
  scan_interval: conf.duration({ default: '1s', min: '10ms', max: '10s', doc: 'Pending and session scan interval. Restart.' }),
  drain: conf.duration({ default: '2s', min: 0, max: '600s', doc: 'Graceful stop: how long to wait for pending answers.' }),
  nas_ip_address: conf.ipaddr({ version: 4, doc: 'NAS-IP-Address added to every request. Hot.' }),
  nas_identifier: conf.string({ doc: 'NAS-Identifier added to every request. Hot.' }),
  synthetic: conf.subsection(SyntheticConfig, { optional: true, doc: 'In-worker load source (no wire). Restart.' }),
  wire: conf.subsection(WireConfig, { optional: true, doc: 'PPPoE access concentrator on a raw interface. Restart.' }),
  coa: conf.subsection(CoaConfig, { optional: true, doc: 'Disconnect / CoA as a NAS (RFC 5176). Restart.' }),
});
export type PppoeDpdkConfig = Infer<typeof PppoeDpdkConfig>;

/** Items applied in place by a reload; every other one needs a restart. */
const HOT = new Set<keyof PppoeDpdkConfig>(['site', 'timeout', 'nas_ip_address', 'nas_identifier']);

/** The control-plane options a configuration stands for (throws `RangeError` on a bad combination). */
export function optionsOf(c: PppoeDpdkConfig, extra: { testHooks?: boolean } = {}): PppoeDpdkOptions {
  const ms = (s: number) => Math.round(s * 1000);
  const s = c.synthetic;
  return resolveOptions({
    lcores: c.lcores, ringSize: c.ring_size, burst: c.burst, maxSessions: c.max_sessions, maxPending: c.max_pending,
    acctBacklog: c.acct_backlog, acctAttempts: c.acct_attempts,
    sessionPendingCap: c.session_pending_cap, macPendingCap: c.mac_pending_cap, timeoutMs: ms(c.timeout),
    scanIntervalMs: ms(c.scan_interval), drainMs: ms(c.drain), testHooks: extra.testHooks ?? false,
    synthetic: s ? {
      rate: s.rate, count: s.count, holdMs: ms(s.hold), chapRatio: s.chap_percent / 100, userPrefix: s.user_prefix,
      password: s.password, macs: s.macs, openLoop: s.open_loop,
    } : undefined,
    wire: c.wire ? wireOf(c.wire) : undefined,
  });
}

function wireOf(w: NonNullable<PppoeDpdkConfig['wire']>): WireOptions {
  const ms = (s: number) => Math.round(s * 1000);
  const ip = (s: string | undefined) => (s ? ipv4ToU32(s) ?? 0 : 0);
  return {
    interface: w.interface, acName: w.ac_name, serviceNames: w.service_name ?? [], cookieSecret: w.cookie_secret,
    auth: w.auth, allowPap: w.allow_pap, allowChap: w.allow_chap, localAddress: ip(w.local_address),
    dns: (w.dns ?? []).slice(0, 2).map((d) => ip(d)), poolBase: ip(w.pool_base), mru: w.mru, restartMs: ms(w.restart_timer),
    maxConfigure: w.max_configure, authTimeoutMs: ms(w.auth_timeout), echoIntervalMs: ms(w.echo_interval),
    echoFailures: w.echo_failures, interimMs: ms(w.interim_interval), discoveryRate: w.discovery_rate, discoveryBurst: w.discovery_burst,
    ipv6cp: w.ipv6cp,
    uplink: w.uplink ? { interface: w.uplink.interface, address: ip(w.uplink.address), gateway: ip(w.uplink.gateway) } : undefined,
  };
}

/** Checks across items (run at parse time, so `radiusd -C` catches them). */
export function validateConfig(c: PppoeDpdkConfig): string | undefined {
  if (c.burst > c.ring_size) return `burst (${c.burst}) must not exceed ring_size (${c.ring_size})`;
  if (c.lcores * c.max_sessions > MAX_TOTAL_SESSIONS) {
    return `lcores × max_sessions must be ≤ ${MAX_TOTAL_SESSIONS}, got ${c.lcores} × ${c.max_sessions} = ${c.lcores * c.max_sessions}`;
  }
  try {
    optionsOf(c);
  } catch (e) {
    return (e as Error).message.replace(/^pppoe_dpdk: /, '');
  }
  return undefined;
}

/** Items whose values differ (the synthetic subsection compared as a whole). */
function changed(a: PppoeDpdkConfig, b: PppoeDpdkConfig): (keyof PppoeDpdkConfig)[] {
  return (Object.keys(PppoeDpdkConfig.fields) as (keyof PppoeDpdkConfig)[]).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

/** Test seams (the daemon uses the defaults). */
export interface PppoeDpdkAppDeps {
  readonly spawn?: LcoreSpawner;
  readonly testHooks?: boolean;
}

/** One running `app pppoe_dpdk`. */
export class PppoeDpdkApp implements AppInstance {
  /** The configuration the lcores were started with (restart items) and the hot items in force. */
  private config: PppoeDpdkConfig;
  private readonly started: PppoeDpdkConfig;
  private cp: ControlPlane | undefined;
  private removeCollector: (() => void) | undefined;
  private restartPending: string[] = [];
  private attrs: PppoeAttrs | undefined;
  private attrsDict: Dictionary | undefined;
  private nas: NasIdentity;

  constructor(config: PppoeDpdkConfig, private readonly ctx: AppContext, private readonly deps: PppoeDpdkAppDeps = {}) {
    this.config = config;
    this.started = config;
    this.nas = { ipAddress: config.nas_ip_address, identifier: config.nas_identifier };
  }

  /** The control plane (tools and tests). */
  get controlPlane(): ControlPlane | undefined {
    return this.cp;
  }

  /**
   * The concentrator's sessions for operators (admin API `/api/apps/<name>/sessions`, `pppoe-dpdk sessions`): each
   * lcore answers through its mailbox. A session is named by its PPPoE session id (decimal) or by the
   * Acct-Session-Id our accounting sent; terminate = Terminate-Request, PADT and a Stop with Admin-Reset.
   */
  readonly sessions: AppSessions = {
    list: async ({ user, limit }) => {
      const cp = this.cp;
      if (!cp) return [];
      const out: AppSessionInfo[] = [];
      const per = user ? cp.options.maxSessions : limit;
      for (let i = 0; i < cp.options.lcores && out.length < limit; i++) {
        for (const s of await cp.sessionQuery(i, MailOp.LIST, 0, per)) {
          if (user !== undefined && s.user !== user) continue;
          out.push(sessionInfo(s));
          if (out.length >= limit) break;
        }
      }
      return out;
    },
    get: async (id) => {
      const cp = this.cp;
      const sid = sidOf(id);
      if (!cp || !sid) return undefined;
      const [s] = await cp.sessionQuery(Math.floor((sid - 1) / cp.options.maxSessions), MailOp.DESCRIBE, sid);
      return s && (id.includes('-') ? sessionInfo(s).acctSessionId === id.toUpperCase() : true) ? sessionInfo(s) : undefined;
    },
    terminate: async (id) => {
      const cp = this.cp;
      const sid = sidOf(id);
      if (!cp || !sid) return false;
      if (id.includes('-') && !(await this.sessions.get(id))) return false; // an old Acct-Session-Id: the id was reused
      return (await cp.sessionCommand(sid, MailOp.DISCONNECT)) === MailResult.OK;
    },
  };

  /**
   * Runs one request record through the site: record → pairs → inject → reply → result. Access-Requests go
   * through `host.injectWith` and answer through `call.answer`: a site that finishes without yielding (files +
   * pap) answers before the handler returns, with no Promise on the way.
   */
  private readonly handler: AuthHandler = (req, call) => {
    const a = this.attributes();
    if (req.kind === Kind.ACCT) {
      const x = this.acctAttributes();
      return this.ctx.host.inject(this.config.site, { code: ACCOUNTING_REQUEST, pairs: accountingPairs(req, a, x, this.nas, Date.now()), via: 'pppoe' })
        .then((r): AuthResult => ({ result: r.code === ACCOUNTING_RESPONSE ? 'accept' : 'error' }));
    }
    // No AbortSignal: making one per request cost ~12 % of the control plane's CPU in the bench. A request the
    // control plane abandons (the lcore timed it out) runs on until the site finishes or max_request_time ends
    // it; its late answer is dropped and counted (late_answers).
    this.ctx.host.injectWith(this.config.site, { code: ACCESS_REQUEST, pairs: requestPairs(req, a, this.nas), via: 'pppoe' }, (err, reply) => {
      if (err) return call.fail(err);
      let r: AuthResult;
      try {
        r = replyResult({ code: reply!.code ?? 0, pairs: reply!.pairs }, a);
      } catch (e) {
        return call.fail(e);
      }
      call.answer(r);
    });
    return undefined;
  };

  private dynAuth: { close(): Promise<void>; port: number } | undefined;
  private acctAttrs: AcctAttrs | undefined;
  private acctDict: Dictionary | undefined;

  private acctAttributes(): AcctAttrs {
    const dict = this.ctx.host.dict!;
    if (dict !== this.acctDict || !this.acctAttrs) {
      this.acctAttrs = resolveAcctAttrs(dict);
      this.acctDict = dict;
    }
    return this.acctAttrs;
  }

  /** The mapping's attributes, resolved again when a reload brought a new dictionary. */
  private attributes(): PppoeAttrs {
    const dict = this.ctx.host.dict;
    if (!dict) throw new Error('the server is not running');
    if (dict !== this.attrsDict || !this.attrs) {
      this.attrs = resolvePppoeAttrs(dict);
      this.attrsDict = dict;
    }
    return this.attrs;
  }

  async start(): Promise<void> {
    const options = optionsOf(this.config, { testHooks: this.deps.testHooks });
    if (this.ctx.host.dict) this.attributes(); // a dictionary without the PPPoE attributes fails the start
    const cp = new ControlPlane(this.handler, options, { log: this.ctx.log, spawn: this.deps.spawn });
    this.cp = cp;
    await cp.start(options.startTimeoutMs);
    this.removeCollector = this.ctx.host.metrics.collect(pppoeCollector(this.ctx.name, cp));
    const coa = this.config.coa;
    if (coa) {
      this.dynAuth = await startNas({ address: coa.address, port: coa.port, secret: coa.secret }, () => this.cp, this.ctx.log);
      this.ctx.log.info(`dynamic authorization (Disconnect, CoA) on ${coa.address}:${this.dynAuth.port}`);
    }
    const s = options.synthetic;
    this.ctx.log.info(`${options.lcores} lcore(s) ready: ring_size ${options.ringSize}, burst ${options.burst}, timeout ${options.timeoutMs} ms, site "${this.config.site}"`
      + (s ? `; synthetic source ${s.rate}/s per lcore${s.count ? `, ${s.count} per lcore` : ''}` : ''));
  }

  async stop(): Promise<void> {
    const dynAuth = this.dynAuth;
    this.dynAuth = undefined;
    if (dynAuth) await dynAuth.close();
    this.removeCollector?.();
    this.removeCollector = undefined;
    const cp = this.cp;
    this.cp = undefined;
    if (cp) await cp.stop();
  }

  /** Hot items in place; restart items logged and kept for the next daemon start. Always keeps the lcores. */
  reload(next: unknown): boolean {
    const c = next as PppoeDpdkConfig;
    if (!this.cp) return false;
    const diff = changed(this.config, c).filter((k) => HOT.has(k));
    const cold = changed(this.started, c).filter((k) => !HOT.has(k));
    if (c.timeout !== this.config.timeout) this.cp.setTimeoutMs(Math.round(c.timeout * 1000));
    this.nas = { ipAddress: c.nas_ip_address, identifier: c.nas_identifier };
    // Restart items stay as started (the running lcores use them); hot ones follow the new configuration.
    const kept = Object.fromEntries(Object.entries(c).map(([k, v]) => [k, HOT.has(k as keyof PppoeDpdkConfig) ? v : this.started[k as keyof PppoeDpdkConfig]]));
    this.config = kept as PppoeDpdkConfig;
    if (diff.length) this.ctx.log.info(`reload: applied in place: ${diff.map((k) => `${k} = ${show(c[k])}`).join(', ')}`);
    if (cold.length) {
      this.ctx.log.warn(`reload: ${cold.map((k) => `${k} ${show(this.started[k])} → ${show(c[k])}`).join(', ')}: `
        + `needs a restart of the daemon; the running lcores keep ${cold.map((k) => `${k} = ${show(this.started[k])}`).join(', ')}`);
    }
    this.restartPending = cold;
    return true;
  }

  health(): Health {
    const cp = this.cp;
    if (!cp) return { status: 'down', detail: { error: 'not running' } };
    const snap = cp.snapshot();
    const rings = cp.rings();
    const stuck = rings.some((r) => r.request?.stuck || r.response?.stuck);
    const notReady = snap.lcores.some((l) => l.state !== 'ready');
    return {
      status: stuck || notReady ? 'degraded' : 'ok',
      detail: {
        site: this.config.site,
        timeout: cp.timeout / 1000,
        restartPending: this.restartPending.length ? this.restartPending : undefined,
        total: snap.total,
        latencyUs: snap.latency,
        controlPlane: snap.controlPlane,
        lcores: snap.lcores.map((l) => ({ id: l.id, state: l.state, generation: l.generation, inflight: l.inflight, heartbeatAgeMs: Math.round(l.heartbeatAgeMs), counters: l.counters })),
        rings,
        pending: cp.pending(PENDING_IN_HEALTH),
      },
    };
  }
}

/** Access-Request. */
const ACCESS_REQUEST = 1;
const ACCOUNTING_REQUEST = 4;
const ACCOUNTING_RESPONSE = 5;
/** Pending entries per stage and lcore in the health report (the dumper's view). */
const PENDING_IN_HEALTH = 32;

const show = (v: unknown): string => (v === undefined ? '(unset)' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** `app pppoe_dpdk [NAME] { … }` (with test seams: `makePppoeDpdkApp({ spawn, testHooks })`). */
export function makePppoeDpdkApp(deps: PppoeDpdkAppDeps = {}) {
  return defineApp({
    name: 'pppoe_dpdk',
    config: PppoeDpdkConfig,
    validate: validateConfig,
    create: (config, ctx) => new PppoeDpdkApp(config, ctx, deps),
  });
}

/** `app pppoe_dpdk [NAME] { … }`. */
export const pppoeDpdkApp = makePppoeDpdkApp();

/** Session id from an operator's name for it: the PPPoE session id (decimal) or our Acct-Session-Id; 0 = neither. */
function sidOf(id: string): number {
  if (/^\d{1,5}$/.test(id)) return Number(id);
  return sidOfAcctSessionId(id);
}

/** A session as operators see it: `id` (the PPPoE session id) and the Acct-Session-Id once accounting started. */
function sessionInfo(s: Record<string, unknown>): AppSessionInfo {
  const sid = Number(s.sid);
  const startedAt = Number(s.startedAt) || 0;
  const iso = (ms: unknown) => (Number(ms) > 0 ? new Date(Number(ms)).toISOString() : null);
  return {
    id: String(sid), ...s, acctSessionId: startedAt > 0 ? acctSessionId(startedAt, sid) : null,
    startedAt: iso(startedAt), lastDataAt: iso(s.lastDataAt), sessionTimeoutAt: iso(s.sessionTimeoutAt),
  };
}
