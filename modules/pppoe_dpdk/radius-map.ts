/**
 * Pure mapping between the ring records and RADIUS pairs, for the control plane's handler: an Auth Request
 * becomes the pairs of an Access-Request, and the reply (code + pairs) of the site becomes an `AuthResult`.
 * No I/O; the dictionary attributes are resolved once with `resolvePppoeAttrs`.
 *
 * Request pairs: User-Name; User-Password (PAP) or CHAP-Password (identifier ‖ response) + CHAP-Challenge
 * (CHAP); Calling-Station-Id (the client MAC as `AA-BB-CC-DD-EE-FF`); NAS-Port-Id (`pppoe<lcore>:<svlan>.<cvlan>`);
 * NAS-Port-Type = Virtual; Service-Type = Framed-User; Framed-Protocol = PPP; NAS-IP-Address and NAS-Identifier when
 * configured (`NasIdentity`).
 *
 * Reply pairs read: Framed-IP-Address, Framed-IP-Netmask, MS-Primary-DNS-Server, MS-Secondary-DNS-Server,
 * Session-Timeout, Idle-Timeout, Framed-MTU, the rate limits (bits/s: RFC 4679 Actual-Data-Rate-Upstream/-Downstream,
 * else Maximum-Data-Rate-*, else WISPr-Bandwidth-Max-Up/-Down; see `rateOf`), Reply-Message.
 * Every other reply attribute is kept, in RADIUS wire format, in the response's bounded extra area.
 */
import type { DictAttr } from '../../core';
import type { Dictionary } from '../../core';
import { Pair } from '../../core';
import { EncodeError, encodeInto } from '../../core';
import { bytesToString } from '../../core';
import { getValue } from '../../core';
import type { Value } from '../../core';
import { ipv4ToU32, RESP, type AuthRequestView, type AuthResult } from './records';

/** The attributes the mapping uses, resolved from a dictionary. */
export interface PppoeAttrs {
  readonly dict: Dictionary;
  readonly userName: DictAttr;
  readonly userPassword: DictAttr;
  readonly chapPassword: DictAttr;
  readonly chapChallenge: DictAttr;
  readonly callingStationId: DictAttr;
  readonly nasPortId: DictAttr;
  readonly nasPortType: DictAttr;
  readonly serviceType: DictAttr;
  readonly framedProtocol: DictAttr;
  readonly nasIpAddress: DictAttr;
  readonly nasIdentifier: DictAttr;
  readonly framedIp: DictAttr;
  readonly framedNetmask: DictAttr;
  readonly dns1: DictAttr;
  readonly dns2: DictAttr;
  readonly sessionTimeout: DictAttr;
  readonly idleTimeout: DictAttr;
  readonly framedMtu: DictAttr;
  readonly rateUp: DictAttr;
  readonly rateDown: DictAttr;
  readonly actualUp: DictAttr;
  readonly actualDown: DictAttr;
  readonly maximumUp: DictAttr;
  readonly maximumDown: DictAttr;
  readonly replyMessage: DictAttr;
  /** Reply attributes mapped to record fields (left out of the extra area). */
  readonly mapped: ReadonlySet<DictAttr>;
  /** The mapped attributes read by value (all but Reply-Message), by their index in {@link VALUE_KEYS}. */
  readonly valueIndex: ReadonlyMap<DictAttr, number>;
  /** [index, index of the same attribute in valueIndex] for keys naming an attribute another key names too. */
  readonly valueAlias: readonly (readonly [number, number])[];
}

/** The reply attributes `replyResult` reads one value of; rates in order of preference per direction. */
const VALUE_KEYS = [
  'framedIp', 'framedNetmask', 'dns1', 'dns2', 'sessionTimeout', 'idleTimeout', 'framedMtu',
  'actualUp', 'maximumUp', 'rateUp', 'actualDown', 'maximumDown', 'rateDown',
] as const;
const V = Object.fromEntries(VALUE_KEYS.map((k, i) => [k, i])) as { readonly [K in (typeof VALUE_KEYS)[number]]: number };

const NAMES = {
  userName: 'User-Name',
  userPassword: 'User-Password',
  chapPassword: 'CHAP-Password',
  chapChallenge: 'CHAP-Challenge',
  callingStationId: 'Calling-Station-Id',
  nasPortId: 'NAS-Port-Id',
  nasPortType: 'NAS-Port-Type',
  serviceType: 'Service-Type',
  framedProtocol: 'Framed-Protocol',
  nasIpAddress: 'NAS-IP-Address',
  nasIdentifier: 'NAS-Identifier',
  framedIp: 'Framed-IP-Address',
  framedNetmask: 'Framed-IP-Netmask',
  dns1: 'MS-Primary-DNS-Server',
  dns2: 'MS-Secondary-DNS-Server',
  sessionTimeout: 'Session-Timeout',
  idleTimeout: 'Idle-Timeout',
  framedMtu: 'Framed-MTU',
  rateUp: 'WISPr-Bandwidth-Max-Up',
  rateDown: 'WISPr-Bandwidth-Max-Down',
  actualUp: 'Actual-Data-Rate-Upstream',
  actualDown: 'Actual-Data-Rate-Downstream',
  maximumUp: 'Maximum-Data-Rate-Upstream',
  maximumDown: 'Maximum-Data-Rate-Downstream',
  replyMessage: 'Reply-Message',
} as const;

/** NAS-Port-Type Virtual (RFC 2865 §5.41). */
export const NAS_PORT_TYPE_VIRTUAL = 5;
/** Service-Type Framed-User. */
export const SERVICE_TYPE_FRAMED = 2;
/** Framed-Protocol PPP. */
export const FRAMED_PROTOCOL_PPP = 1;

/** Resolves every attribute the mapping needs; throws naming the first one the dictionary lacks. */
export function resolvePppoeAttrs(dict: Dictionary): PppoeAttrs {
  const out: Record<string, DictAttr> = {};
  for (const [key, name] of Object.entries(NAMES)) {
    const da = dict.resolve(name);
    if (!da) throw new Error(`pppoe_dpdk: the dictionary has no attribute ${name}`);
    out[key] = da;
  }
  const a = out as unknown as Omit<PppoeAttrs, 'dict' | 'mapped'>;
  const mapped = new Set([a.framedIp, a.framedNetmask, a.dns1, a.dns2, a.sessionTimeout, a.idleTimeout, a.framedMtu, a.rateUp, a.rateDown,
    a.actualUp, a.actualDown, a.maximumUp, a.maximumDown, a.replyMessage]);
  const valueIndex = new Map<DictAttr, number>();
  const valueAlias: [number, number][] = [];
  VALUE_KEYS.forEach((k, i) => {
    const first = valueIndex.get(a[k]);
    if (first === undefined) valueIndex.set(a[k], i);
    else valueAlias.push([i, first]); // two names for one attribute (a dictionary may alias them)
  });
  return { ...a, dict, mapped, valueIndex, valueAlias };
}

/** Who the NAS is (the seed's NAS-IP-Address / NAS-Identifier), added to every request when set. */
export interface NasIdentity {
  readonly ipAddress?: string;
  readonly identifier?: string;
}

/** The Access-Request pairs for one Auth Request (PAP or CHAP). */
export function requestPairs(req: AuthRequestView, a: PppoeAttrs, nas?: NasIdentity): Pair[] {
  const pairs = [new Pair(a.userName, req.username)];
  if (req.authType === 'chap' && req.chap) {
    pairs.push(new Pair(a.chapPassword, Buffer.concat([Buffer.of(req.chap.id & 255), req.chap.response])));
    if (req.chap.challenge.length) pairs.push(new Pair(a.chapChallenge, req.chap.challenge));
  } else {
    // bytesToString keeps bytes that are not UTF-8 (escaped), so any password survives the round trip.
    pairs.push(new Pair(a.userPassword, bytesToString(req.password ?? Buffer.alloc(0))));
  }
  if (req.callingStationId) pairs.push(new Pair(a.callingStationId, req.callingStationId));
  if (req.nasPortId) pairs.push(new Pair(a.nasPortId, req.nasPortId));
  pairs.push(new Pair(a.nasPortType, NAS_PORT_TYPE_VIRTUAL));
  pairs.push(new Pair(a.serviceType, SERVICE_TYPE_FRAMED));
  pairs.push(new Pair(a.framedProtocol, FRAMED_PROTOCOL_PPP));
  if (nas?.ipAddress) pairs.push(new Pair(a.nasIpAddress, nas.ipAddress));
  if (nas?.identifier) pairs.push(new Pair(a.nasIdentifier, nas.identifier));
  return pairs;
}

/** A site's answer: the reply packet code (0 = no reply) and the reply pairs. */
export interface RadiusReply {
  readonly code: number;
  readonly pairs: readonly Pair[];
}

/** True for addresses a CGNAT/NAT44 must translate: RFC 1918 private and RFC 6598 shared space. */
export function isNatAddress(ip: string): boolean {
  const n = ipv4ToU32(ip);
  if (n === undefined) return false;
  return (n >>> 24) === 10 // 10/8
    || (n >>> 20) === 0xac1 // 172.16/12
    || (n >>> 16) === 0xc0a8 // 192.168/16
    || (n >>> 22) === 0x191; // 100.64/10
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && v > 0 ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The Auth Result for a reply. Access-Accept (2) → accept, Access-Reject (3) → reject, anything else (no reply,
 * Access-Challenge) → error. Framed-IP-Address 255.255.255.255 / 255.255.255.254 ("user or NAS selects",
 * RFC 2865 §5.8) count as absent: the data plane's pool decides.
 */
export function replyResult(reply: RadiusReply, a: PppoeAttrs): AuthResult {
  const pairs = reply.pairs;
  const messages: string[] = [];
  for (const p of pairs) if (p.da === a.replyMessage && typeof p.value === 'string') messages.push(p.value);
  const replyMessage = messages.length ? messages.join('\n') : undefined;
  if (reply.code === 3) return { result: 'reject', replyMessage };
  if (reply.code !== 2) return { result: 'error', replyMessage: replyMessage ?? (reply.code === 0 ? 'no reply' : `unexpected reply code ${reply.code}`) };
  const v = mappedValues(pairs, a);
  let framedIp = str(v[V.framedIp]);
  if (framedIp === '255.255.255.255' || framedIp === '255.255.255.254') framedIp = undefined;
  const dns1 = str(v[V.dns1]);
  const dns2 = str(v[V.dns2]);
  const extra = pairs.length ? extraAttributes(pairs, a) : NO_EXTRA;
  return {
    result: 'accept',
    framedIp,
    framedNetmask: str(v[V.framedNetmask]),
    dns: dns1 !== undefined ? (dns2 !== undefined ? [dns1, dns2] : [dns1]) : dns2 !== undefined ? [dns2] : undefined,
    sessionTimeout: num(v[V.sessionTimeout]),
    idleTimeout: num(v[V.idleTimeout]),
    framedMtu: num(v[V.framedMtu]),
    rateUp: num(v[V.actualUp]) ?? num(v[V.maximumUp]) ?? num(v[V.rateUp]),
    rateDown: num(v[V.actualDown]) ?? num(v[V.maximumDown]) ?? num(v[V.rateDown]),
    nat: framedIp !== undefined && isNatAddress(framedIp),
    replyMessage,
    extra: extra.bytes,
    extraTruncated: extra.truncated || undefined,
  };
}

const NO_EXTRA: { bytes?: Buffer; truncated: boolean } = Object.freeze({ truncated: false });

/**
 * `getValue(pairs, da)` of every attribute in {@link VALUE_KEYS}, indexed as there, in one walk of the top level:
 * a pair found there is the first one of its attribute, as `getValue` takes it. Only when the list has structural
 * pairs (vendor containers) are the attributes not found at the top level looked up along their path.
 */
function mappedValues(pairs: readonly Pair[], a: PppoeAttrs): (Value | undefined)[] {
  const out: (Value | undefined)[] = new Array<Value | undefined>(VALUE_KEYS.length).fill(undefined);
  if (pairs.length === 0) return out;
  let seen = 0;
  let nested = false;
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i];
    if (p.children) nested = true;
    const k = a.valueIndex.get(p.da);
    if (k !== undefined && (seen & (1 << k)) === 0) {
      seen |= 1 << k;
      out[k] = p.value;
    }
  }
  for (const [k, j] of a.valueAlias) {
    if ((seen & (1 << j)) !== 0) {
      seen |= 1 << k;
      out[k] = out[j];
    }
  }
  if (nested) {
    for (let k = 0; k < VALUE_KEYS.length; k++) if ((seen & (1 << k)) === 0) out[k] = getValue(pairs, a[VALUE_KEYS[k]]);
  }
  return out;
}

/**
 * The shaping rate of one direction (bits/s): RFC 4679 Actual-Data-Rate (the rate the policy gives this session;
 * the VX site lowers it by CoA for fair use), else Maximum-Data-Rate (a profile with only a ceiling), else
 * WISPr-Bandwidth-Max. 0 is "no limit" and counts as absent.
 */
export function rateOf(pairs: readonly Pair[], actual: DictAttr, maximum: DictAttr, wispr: DictAttr): number | undefined {
  for (const da of [actual, maximum, wispr]) {
    const v = num(getValue(pairs, da));
    if (v) return v;
  }
  return undefined;
}

/** `pairs` without the mapped attributes (structural pairs keep their remaining children). */
function unmapped(pairs: readonly Pair[], mapped: ReadonlySet<DictAttr>): Pair[] {
  const out: Pair[] = [];
  for (const p of pairs) {
    if (mapped.has(p.da)) continue;
    if (!p.children) {
      out.push(p);
      continue;
    }
    const kids = unmapped(p.children, mapped);
    if (kids.length === 0) continue;
    const copy = new Pair(p.da);
    copy.children = kids;
    out.push(copy);
  }
  return out;
}

const NO_SECRET = { secret: Buffer.alloc(0), vector: Buffer.alloc(16) };

/**
 * The reply attributes not mapped to record fields, in RADIUS wire format, whole attributes only, at most
 * `RESP.EXTRA_MAX` bytes (`truncated` when some were left out). Attributes hidden with the shared secret
 * (User-Password-style, Tunnel-Password, …) are never copied: there is no secret on the data plane side.
 */
export function extraAttributes(pairs: readonly Pair[], a: PppoeAttrs): { bytes?: Buffer; truncated: boolean } {
  const rest = unmapped(pairs, a.mapped);
  if (rest.length === 0) return { truncated: false };
  const area = Buffer.alloc(RESP.EXTRA_MAX);
  const ctx = { dict: a.dict, ...NO_SECRET };
  let end = 0;
  let truncated = false;
  for (const p of rest) {
    if (hasHidden(p)) continue;
    try {
      end = encodeInto([p], ctx, area, end, area.length);
    } catch (e) {
      if (!(e instanceof EncodeError)) throw e;
      truncated = true;
    }
  }
  return { bytes: end ? area.subarray(0, end) : undefined, truncated };
}

function hasHidden(p: Pair): boolean {
  if (p.da.flags.encrypt || p.da.flags.secret) return true;
  return p.children?.some(hasHidden) ?? false;
}

// ---- accounting (Kind.ACCT records from the wire) ----

const ACCT_NAMES = {
  statusType: 'Acct-Status-Type', sessionId: 'Acct-Session-Id', sessionTime: 'Acct-Session-Time',
  inOctets: 'Acct-Input-Octets', outOctets: 'Acct-Output-Octets', inGigawords: 'Acct-Input-Gigawords',
  outGigawords: 'Acct-Output-Gigawords', inPackets: 'Acct-Input-Packets', outPackets: 'Acct-Output-Packets',
  terminateCause: 'Acct-Terminate-Cause', delayTime: 'Acct-Delay-Time',
} as const;

export type AcctAttrs = { readonly [K in keyof typeof ACCT_NAMES]: DictAttr };

/** Resolves the accounting attributes; throws naming the first one the dictionary lacks. */
export function resolveAcctAttrs(dict: Dictionary): AcctAttrs {
  const out: Record<string, DictAttr> = {};
  for (const [key, name] of Object.entries(ACCT_NAMES)) {
    const da = dict.resolve(name);
    if (!da) throw new Error(`pppoe_dpdk: the dictionary has no attribute ${name}`);
    out[key] = da;
  }
  return out as unknown as AcctAttrs;
}

/** Acct-Session-Id of a session: its start (ms, hex) and session id, unique per concentrator. */
export function acctSessionId(startedAt: number, sessionId: number): string {
  return `${hexUpper(Math.floor(startedAt))}-${sessionId.toString(16).toUpperCase().padStart(4, '0')}`;
}

const HEX_UPPER = '0123456789ABCDEF';

/**
 * `v.toString(16).toUpperCase()` for an integer 0 ≤ v < 2^53, from its two 32-bit halves: a clock in ms is not a
 * small integer, and V8 formats such a double digit by digit with fmod (≈ 3× slower; two per setup).
 */
export function hexUpper(v: number): string {
  let hi = Math.floor(v / 0x100000000);
  let lo = v >>> 0;
  let s = '';
  for (let i = 0; i < 8; i++) {
    s = HEX_UPPER[lo & 15] + s;
    lo >>>= 4;
    if (hi === 0 && lo === 0) break;
  }
  for (; hi !== 0; hi >>>= 4) s = HEX_UPPER[hi & 15] + s;
  return s;
}

/**
 * The pairs of an Accounting-Request for a `Kind.ACCT` record: the session's identity (as in the Access-Request,
 * without credentials), Acct-Status-Type, Acct-Session-Id, Framed-IP-Address, and for Interim-Update and Stop
 * the time, octets (with gigawords) and packets; Stop adds Acct-Terminate-Cause.
 */
export function accountingPairs(req: AuthRequestView, a: PppoeAttrs, x: AcctAttrs, nas: NasIdentity | undefined, now: number): Pair[] {
  const ac = req.acct!;
  const pairs = [new Pair(x.statusType, ac.status), new Pair(x.sessionId, acctSessionId(ac.startedAt, req.sessionId))];
  if (req.username) pairs.push(new Pair(a.userName, req.username));
  if (ac.framedIp) pairs.push(new Pair(a.framedIp, `${ac.framedIp >>> 24}.${(ac.framedIp >>> 16) & 255}.${(ac.framedIp >>> 8) & 255}.${ac.framedIp & 255}`));
  if (ac.status !== 1) {
    const g = 0x100000000;
    pairs.push(new Pair(x.sessionTime, ac.sessionTime));
    pairs.push(new Pair(x.inOctets, ac.inOctets % g), new Pair(x.inGigawords, Math.floor(ac.inOctets / g)));
    pairs.push(new Pair(x.outOctets, ac.outOctets % g), new Pair(x.outGigawords, Math.floor(ac.outOctets / g)));
    pairs.push(new Pair(x.inPackets, ac.inPackets % g), new Pair(x.outPackets, ac.outPackets % g));
  }
  if (ac.status === 2 && ac.cause) pairs.push(new Pair(x.terminateCause, ac.cause));
  const delay = Math.floor((now - req.timestamp) / 1000);
  if (delay > 0) pairs.push(new Pair(x.delayTime, delay));
  if (req.callingStationId) pairs.push(new Pair(a.callingStationId, req.callingStationId));
  if (req.nasPortId) pairs.push(new Pair(a.nasPortId, req.nasPortId));
  pairs.push(new Pair(a.nasPortType, NAS_PORT_TYPE_VIRTUAL));
  pairs.push(new Pair(a.serviceType, SERVICE_TYPE_FRAMED));
  pairs.push(new Pair(a.framedProtocol, FRAMED_PROTOCOL_PPP));
  if (nas?.ipAddress) pairs.push(new Pair(a.nasIpAddress, nas.ipAddress));
  if (nas?.identifier) pairs.push(new Pair(a.nasIdentifier, nas.identifier));
  return pairs;
}
