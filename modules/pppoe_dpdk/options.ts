/**
 * Options of the data plane ↔ control plane machinery, with defaults and validation. Every value is
 * explained (with the reason for its default) in README.md.
 */

/** The in-worker synthetic load source (no wire): submits authentication requests at a rate. */
export interface SyntheticOptions {
  /** Requests per second, per lcore. */
  readonly rate: number;
  /** Stop after this many requests per lcore (0 = no limit). */
  readonly count: number;
  /** How long an accepted session stays installed before the source closes it (ms; checked by the scan). */
  readonly holdMs: number;
  /** Share of CHAP requests, 0 … 1 (the rest is PAP). */
  readonly chapRatio: number;
  /** Username prefix; the request number is appended (`user17`). */
  readonly userPrefix: string;
  /** PAP password (and the CHAP secret the responses are computed with). */
  readonly password: string;
  /** Distinct client MACs the source cycles through (exercises the per-MAC cap when small). */
  readonly macs: number;
  /**
   * true (default): submit at `rate` whatever happens, like real clients, so a full ring shows up as refusals.
   * false: submit only while the request ring has room (a closed loop, for measuring the maximum rate).
   */
  readonly openLoop: boolean;
}

/** The wire: a PPPoE access concentrator on a raw Ethernet interface (pppoe.ts, native/). */
export interface WireOptions {
  /** Interface the lcores open with AF_PACKET (every lcore sees every frame; see README). */
  readonly interface: string;
  /** AC-Name in PADO; also the CHAP name. */
  readonly acName: string;
  /** Service-Names offered; empty = any requested name is served. */
  readonly serviceNames: readonly string[];
  /** Key of the AC-Cookie HMAC (secret). */
  readonly cookieSecret: string;
  /** Authentication asked for first in LCP; the other one is accepted when allowed and the peer Naks. */
  readonly auth: 'chap' | 'pap';
  readonly allowPap: boolean;
  readonly allowChap: boolean;
  /** The concentrator's own IPv4 address (IPCP, ICMP echo), big-endian number. */
  readonly localAddress: number;
  /** DNS servers when the reply has none (big-endian numbers, up to two). */
  readonly dns: readonly number[];
  /** Address pool base when the reply has no Framed-IP-Address: base + session id (0 = no pool). */
  readonly poolBase: number;
  /** Largest MRU accepted (1492 on Ethernet without RFC 4638). */
  readonly mru: number;
  /** RFC 1661 restart timer and Max-Configure. */
  readonly restartMs: number;
  readonly maxConfigure: number;
  /** How long a PAP peer may take to send its request after LCP is up. */
  readonly authTimeoutMs: number;
  /** LCP Echo-Request interval (0 = none) and misses before the peer is declared dead. */
  readonly echoIntervalMs: number;
  readonly echoFailures: number;
  /** Acct-Interim-Interval when the reply has none (ms; 0 = no interim updates). */
  readonly interimMs: number;
  /** Per client MAC: PADI/PADR per second and burst (token bucket). */
  readonly discoveryRate: number;
  readonly discoveryBurst: number;
  /** IPv4 forwarding between the sessions and an uplink interface (absent = packets not for us are dropped). */
  readonly uplink?: UplinkOptions;
  /** Negotiate IPV6CP (RFC 5072 interface identifiers) instead of Protocol-Rejecting it. */
  readonly ipv6cp?: boolean;
}

/** The uplink: an Ethernet interface (AF_PACKET), our address on it and the next hop (resolved with ARP). */
export interface UplinkOptions {
  readonly interface: string;
  /** Our address on the uplink (answered in ARP), big-endian number. */
  readonly address: number;
  /** The next hop for everything the sessions send (big-endian number). */
  readonly gateway: number;
}

export const DEFAULT_WIRE: Omit<WireOptions, 'interface' | 'cookieSecret' | 'localAddress'> = Object.freeze({
  acName: 'tsradius',
  serviceNames: [],
  auth: 'chap',
  allowPap: true,
  allowChap: true,
  dns: [],
  poolBase: 0,
  mru: 1492,
  restartMs: 3000,
  maxConfigure: 10,
  authTimeoutMs: 30000,
  echoIntervalMs: 30000,
  echoFailures: 3,
  interimMs: 0,
  discoveryRate: 5,
  discoveryBurst: 10,
});

export interface PppoeDpdkOptions {
  /** Data-plane worker threads ("lcores"). */
  readonly lcores: number;
  /** Slots per ring (power of two); every lcore has one request ring and one response ring. */
  readonly ringSize: number;
  /** Records moved per burst on every ring operation. */
  readonly burst: number;
  /**
   * Session table size per lcore (internal session ids are partitioned between lcores, ≤ MAX_TOTAL_SESSIONS in
   * total; the PPPoE session id on the wire is keyed with the client MAC, so it does not bound this).
   */
  readonly maxSessions: number;
  /** Pending-request table size per lcore (0 = 2 × ringSize). */
  readonly maxPending: number;
  /**
   * Accounting records an lcore keeps when its request ring is full, retried oldest first as the ring drains
   * (0 = min(maxSessions, 65536)). Preallocated: one record (512 bytes) each.
   */
  readonly acctBacklog: number;
  /** Times the control plane runs an accounting record through the site before it answers a failure (1 = no retry). */
  readonly acctAttempts: number;
  /** Pending requests allowed per session. */
  readonly sessionPendingCap: number;
  /** Pending requests allowed per client MAC (per lcore). */
  readonly macPendingCap: number;
  /** A request without an answer after this long gets a synthetic TIMEOUT (ms, 1000 … 60000). */
  readonly timeoutMs: number;
  /** Interval of the pending-table scan (ms). */
  readonly scanIntervalMs: number;
  /** The control plane counts as stalled when its heartbeat is older than this (ms). */
  readonly cpStallMs: number;
  /** An lcore counts as stuck when its heartbeat is older than this (ms); it is then restarted. */
  readonly lcoreStallMs: number;
  /** A new worker must reach its first heartbeat within this long (ms; loading code is slow on a busy machine). */
  readonly startTimeoutMs: number;
  /** Control plane watchdog and heartbeat interval (ms). */
  readonly watchdogIntervalMs: number;
  /** Longest idle sleep of an lcore or of the control plane pump (ms). */
  readonly maxIdleMs: number;
  /** Empty polls before an lcore starts sleeping. */
  readonly spinPolls: number;
  /** Graceful stop: how long lcores wait for answers to pending requests (ms). */
  readonly drainMs: number;
  /** First restart delay after a worker died (ms); doubles for repeated deaths within a minute, up to 5 s. */
  readonly restartDelayMs: number;
  /** Synthetic source (absent = off: requests come only from `Lcore.submit*`). */
  readonly synthetic?: SyntheticOptions;
  /** PPPoE on a raw interface (absent = no wire). */
  readonly wire?: WireOptions;
  /** Honour the CRASH/HANG commands (tests only). */
  readonly testHooks: boolean;
}

/**
 * Sessions per process (lcores × maxSessions): internal ids are u32 in the records; this bound keeps a mistyped
 * size from allocating tens of GB of tables (about 300 bytes per session).
 */
export const MAX_TOTAL_SESSIONS = 1 << 24;

export const DEFAULT_SYNTHETIC: SyntheticOptions = Object.freeze({
  rate: 1000,
  count: 0,
  holdMs: 0,
  chapRatio: 0,
  userPrefix: 'user',
  password: 'secret',
  macs: 1 << 20,
  openLoop: true,
});

export const DEFAULT_OPTIONS: PppoeDpdkOptions = Object.freeze({
  lcores: 1,
  ringSize: 1024,
  burst: 32,
  maxSessions: 4096,
  maxPending: 0,
  acctBacklog: 0,
  acctAttempts: 3,
  sessionPendingCap: 1,
  macPendingCap: 4,
  timeoutMs: 5000,
  scanIntervalMs: 1000,
  cpStallMs: 3000,
  lcoreStallMs: 3000,
  startTimeoutMs: 30000,
  watchdogIntervalMs: 100,
  maxIdleMs: 2,
  spinPolls: 64,
  drainMs: 2000,
  restartDelayMs: 100,
  testHooks: false,
});

type Input = Partial<Omit<PppoeDpdkOptions, 'synthetic'>> & { synthetic?: Partial<SyntheticOptions> };

/** Options merged over the defaults and checked; throws `RangeError` naming the bad option. */
export function resolveOptions(input: Input = {}): PppoeDpdkOptions {
  const o = { ...DEFAULT_OPTIONS, ...input, synthetic: input.synthetic ? { ...DEFAULT_SYNTHETIC, ...input.synthetic } : undefined };
  const int = (name: string, v: number, min: number, max: number): void => {
    if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`pppoe_dpdk: ${name} must be an integer in ${min}…${max}, got ${v}`);
  };
  int('lcores', o.lcores, 1, 64);
  int('ringSize', o.ringSize, 2, 1 << 16);
  if ((o.ringSize & (o.ringSize - 1)) !== 0) throw new RangeError(`pppoe_dpdk: ringSize must be a power of two, got ${o.ringSize}`);
  int('burst', o.burst, 1, o.ringSize);
  int('maxSessions', o.maxSessions, 1, 1 << 22);
  if (o.lcores * o.maxSessions > MAX_TOTAL_SESSIONS) {
    throw new RangeError(`pppoe_dpdk: lcores × maxSessions must be ≤ ${MAX_TOTAL_SESSIONS}, got ${o.lcores * o.maxSessions}`);
  }
  int('maxPending', o.maxPending, 0, 1 << 20);
  int('acctBacklog', o.acctBacklog, 0, 1 << 20);
  int('acctAttempts', o.acctAttempts, 1, 10);
  int('sessionPendingCap', o.sessionPendingCap, 1, 16);
  int('macPendingCap', o.macPendingCap, 1, 1 << 16);
  int('timeoutMs', o.timeoutMs, 100, 60000);
  int('scanIntervalMs', o.scanIntervalMs, 10, 10000);
  int('cpStallMs', o.cpStallMs, 50, 600000);
  int('lcoreStallMs', o.lcoreStallMs, 50, 600000);
  int('startTimeoutMs', o.startTimeoutMs, 100, 600000);
  int('watchdogIntervalMs', o.watchdogIntervalMs, 10, 10000);
  if (!(o.maxIdleMs > 0 && o.maxIdleMs <= 100)) throw new RangeError(`pppoe_dpdk: maxIdleMs must be in (0, 100], got ${o.maxIdleMs}`);
  int('spinPolls', o.spinPolls, 0, 1 << 20);
  int('drainMs', o.drainMs, 0, 600000);
  int('restartDelayMs', o.restartDelayMs, 0, 60000);
  if (o.synthetic) {
    const s = o.synthetic;
    if (!(s.rate > 0)) throw new RangeError(`pppoe_dpdk: synthetic.rate must be > 0, got ${s.rate}`);
    int('synthetic.count', s.count, 0, Number.MAX_SAFE_INTEGER);
    int('synthetic.holdMs', s.holdMs, 0, 86_400_000);
    if (!(s.chapRatio >= 0 && s.chapRatio <= 1)) throw new RangeError(`pppoe_dpdk: synthetic.chapRatio must be in 0…1, got ${s.chapRatio}`);
    int('synthetic.macs', s.macs, 1, 1 << 24);
  }
  if (o.wire) {
    const w = o.wire;
    if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(w.interface)) throw new RangeError(`pppoe_dpdk: wire.interface must be an interface name, got ${JSON.stringify(w.interface)}`);
    int('wire.mru', w.mru, 128, 1492);
    int('wire.maxConfigure', w.maxConfigure, 1, 255);
    int('wire.echoFailures', w.echoFailures, 1, 255);
    int('wire.restartMs', w.restartMs, 100, 60000);
    if (!w.allowPap && !w.allowChap) throw new RangeError('pppoe_dpdk: wire: neither PAP nor CHAP is allowed');
    if ((w.auth === 'pap' && !w.allowPap) || (w.auth === 'chap' && !w.allowChap)) throw new RangeError(`pppoe_dpdk: wire.auth = ${w.auth} is not allowed`);
    if (w.localAddress === 0) throw new RangeError('pppoe_dpdk: wire.localAddress is required');
    if (Buffer.byteLength(w.cookieSecret) < 16) throw new RangeError('pppoe_dpdk: wire.cookieSecret must have at least 16 bytes');
    if (!(w.discoveryRate > 0) || !(w.discoveryBurst >= 1)) throw new RangeError('pppoe_dpdk: wire discovery rate and burst must be positive');
  }
  return Object.freeze({ ...o, maxPending: o.maxPending || 2 * o.ringSize, acctBacklog: o.acctBacklog || Math.min(o.maxSessions, 65536) });
}
