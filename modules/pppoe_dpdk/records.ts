/**
 * Fixed-size, pointer-free records carried by the rings between the data plane (lcores) and
 * the control plane: the Auth Request (lcore → control plane) and the Auth Response (control
 * plane → lcore). Both are 512 bytes (8 cache lines of 64 bytes), little-endian, with every
 * multi-byte field naturally aligned.
 *
 * Writers fill a slot in place (`writeRequestHeader` + `writeBytes`/`writeAscii`, or
 * `writeResponse`); the lcore reads response fields in place with the `resp*` accessors. None of
 * those allocate. `decodeRequest`/`decodeResponse` copy a whole record into a plain object for
 * the control plane (which allocates per request anyway to build RADIUS pairs) and for tests.
 */

/** Size of one record in bytes (a multiple of the 64-byte cache line). */
export const RECORD_SIZE = 512;
/** Cache line size the layouts are aligned to. */
export const CACHE_LINE = 64;

/** Record kinds (first byte of the kind field). */
export const Kind = { AUTH: 1, PROBE: 2, ACCT: 3 } as const;
/** Acct-Status-Type of an accounting record (RFC 2866 values). */
export const AcctStatus = { START: 1, STOP: 2, INTERIM: 3 } as const;
/** Acct-Terminate-Cause values the concentrator uses (RFC 2866 §5.10). */
export const TermCause = {
  USER_REQUEST: 1, LOST_CARRIER: 2, IDLE_TIMEOUT: 4, SESSION_TIMEOUT: 5, ADMIN_RESET: 6, NAS_ERROR: 9, NAS_REQUEST: 10,
  SERVICE_UNAVAILABLE: 15, USER_ERROR: 17,
} as const;
/** Credential type of an Auth Request. */
export const AuthType = { PAP: 1, CHAP: 2 } as const;
/** Result codes of an Auth Response. */
export const Result = { ACCEPT: 1, REJECT: 2, TIMEOUT: 3, ERROR: 4 } as const;
export type ResultCode = (typeof Result)[keyof typeof Result];
/** Result names, by code. */
export const RESULT_NAMES: Readonly<Record<number, AuthResultName>> = { 1: 'accept', 2: 'reject', 3: 'timeout', 4: 'error' };
export type AuthResultName = 'accept' | 'reject' | 'timeout' | 'error';

/** Auth Request layout: byte offsets and field capacities. */
export const REQ = {
  REQUEST_ID: 0, // f64: per-lcore sequence * 256 + lcore id (exact up to 2^53)
  SESSION_ID: 8, // u32
  SVLAN: 12, // u16 outer VLAN (0 = none)
  CVLAN: 14, // u16 inner VLAN (0 = none)
  TIMESTAMP: 16, // f64 ms since the epoch (performance.timeOrigin + performance.now())
  MAC: 24, // 6 bytes
  KIND: 30, // u8 Kind
  AUTH_TYPE: 31, // u8 AuthType
  CHAP_ID: 32, // u8
  LCORE: 33, // u8
  USER_LEN: 34, // u8
  PASS_LEN: 35, // u8 (PAP password or CHAP response)
  CHALLENGE_LEN: 36, // u8
  CALLING_LEN: 37, // u8
  NAS_PORT_ID_LEN: 38, // u8
  USER: 64, USER_MAX: 128,
  PASS: 192, PASS_MAX: 128,
  CHALLENGE: 320, CHALLENGE_MAX: 64,
  CALLING: 384, CALLING_MAX: 48,
  NAS_PORT_ID: 432, NAS_PORT_ID_MAX: 64,
} as const;

/**
 * Accounting Request layout (`Kind.ACCT`): the Auth Request header (request id, session id, VLANs, timestamp,
 * MAC, lcore, User-Name, Calling-Station-Id, NAS-Port-Id) with the status in `AUTH_TYPE`, the terminate cause in
 * `CHAP_ID`, and the session's figures in the (unused) credential area. The control plane answers it like an
 * authentication (ACCEPT = Accounting-Response received), and the lcore only counts that answer.
 */
export const ACCT = {
  STATUS: 31, // u8 AcctStatus (REQ.AUTH_TYPE)
  CAUSE: 32, // u8 TermCause (REQ.CHAP_ID); 0 = none
  FRAMED_IP: 192, // u32 (big-endian number, like RESP.FRAMED_IP)
  SESSION_TIME: 196, // u32 seconds
  IN_OCTETS: 200, // f64 (from the client)
  OUT_OCTETS: 208, // f64
  IN_PACKETS: 216, // f64
  OUT_PACKETS: 224, // f64
  STARTED_AT: 232, // f64 ms since the epoch (the Acct-Session-Id is made from it and the session id)
} as const;

/** Auth Response layout. */
export const RESP = {
  REQUEST_ID: 0, // f64
  SESSION_ID: 8, // u32
  RESULT: 12, // u8 Result
  FLAGS: 13, // u8 RespFlag bits
  REPLY_MSG_LEN: 14, // u8
  KIND: 15, // u8 Kind
  FRAMED_IP: 16, // u32, the address as a big-endian number (192.0.2.1 = 0xC0000201); 0 = none
  FRAMED_NETMASK: 20, // u32, same form; 0 = none
  DNS1: 24, // u32
  DNS2: 28, // u32
  SESSION_TIMEOUT: 32, // u32 seconds; 0 = none
  IDLE_TIMEOUT: 36, // u32 seconds; 0 = none
  RATE_UP: 40, // u32 bits/s; 0 = unlimited
  RATE_DOWN: 44, // u32 bits/s; 0 = unlimited
  FRAMED_MTU: 48, // u16; 0 = none
  EXTRA_LEN: 50, // u16
  ANSWERED_AT: 56, // f64 ms since the epoch (control plane clock)
  REPLY_MSG: 64, REPLY_MSG_MAX: 128,
  EXTRA: 192, EXTRA_MAX: 320,
} as const;

/** Response flag bits. */
export const RespFlag = { NAT: 1, REPLY_MSG_TRUNCATED: 2, EXTRA_TRUNCATED: 4 } as const;

/** A decoded Auth Request (a copy; what the control plane's handler receives). */
export interface AuthRequestView {
  readonly requestId: number;
  readonly sessionId: number;
  readonly lcore: number;
  readonly kind: number;
  readonly authType: 'pap' | 'chap';
  readonly username: string;
  /** PAP: the cleartext password bytes. */
  readonly password?: Buffer;
  /** CHAP: identifier, challenge and 16-byte response. */
  readonly chap?: { readonly id: number; readonly challenge: Buffer; readonly response: Buffer };
  /** Client MAC, `aa:bb:cc:dd:ee:ff`. */
  readonly mac: string;
  readonly svlan: number;
  readonly cvlan: number;
  readonly callingStationId: string;
  readonly nasPortId: string;
  /** Submission time, ms since the epoch. */
  readonly timestamp: number;
  /** `Kind.ACCT` only: the accounting figures. */
  readonly acct?: AcctView;
}

/** The accounting part of a `Kind.ACCT` record. */
export interface AcctView {
  readonly status: number;
  readonly cause: number;
  readonly framedIp: number;
  readonly sessionTime: number;
  readonly inOctets: number;
  readonly outOctets: number;
  readonly inPackets: number;
  readonly outPackets: number;
  readonly startedAt: number;
}

/** What the control plane answers for one request (before it is written into a response record). */
export interface AuthResult {
  readonly result: AuthResultName;
  /** Dotted-quad addresses. */
  readonly framedIp?: string;
  readonly framedNetmask?: string;
  readonly dns?: readonly string[];
  readonly sessionTimeout?: number;
  readonly idleTimeout?: number;
  /** bits/s. */
  readonly rateUp?: number;
  readonly rateDown?: number;
  readonly framedMtu?: number;
  readonly nat?: boolean;
  readonly replyMessage?: string;
  /** Further reply attributes in RADIUS wire format (attribute TLVs), at most `RESP.EXTRA_MAX` bytes kept. */
  readonly extra?: Uint8Array;
  /** Some extra attributes were left out (set by the mapping, which cuts at attribute boundaries). */
  readonly extraTruncated?: boolean;
}

/** A decoded Auth Response (a copy; tests and the ring monitor). */
export interface AuthResponseView extends AuthResult {
  readonly requestId: number;
  readonly sessionId: number;
  readonly kind: number;
  readonly flags: number;
  readonly answeredAt: number;
}

// ---- addresses ----

/** Dotted quad → u32 (big-endian numeric form); undefined when not an IPv4 address. */
export function ipv4ToU32(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return undefined;
    n = n * 256 + o;
  }
  return n;
}

/** u32 → dotted quad. */
export function u32ToIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

// ---- request: in-place writers (no allocation) ----

/** Writes the fixed header fields of an Auth Request at `off`; variable fields are written separately. */
export function writeRequestHeader(
  dv: DataView, u8: Uint8Array, off: number,
  requestId: number, sessionId: number, lcore: number, kind: number, authType: number, chapId: number,
  mac: Uint8Array, macOff: number, svlan: number, cvlan: number, timestamp: number,
): void {
  dv.setFloat64(off + REQ.REQUEST_ID, requestId, true);
  dv.setFloat64(off + REQ.TIMESTAMP, timestamp, true);
  writeRequestFixed(dv, u8, off, sessionId, lcore, kind, authType, chapId, mac, macOff, svlan, cvlan);
}

/**
 * The integer header fields only. The lcore writes the two f64 fields itself, inline: a double passed to a
 * function that is not inlined is boxed by V8 (a heap allocation per call).
 */
export function writeRequestFixed(
  dv: DataView, u8: Uint8Array, off: number, sessionId: number, lcore: number, kind: number, authType: number, chapId: number,
  mac: Uint8Array, macOff: number, svlan: number, cvlan: number,
): void {
  dv.setUint32(off + REQ.SESSION_ID, sessionId, true);
  dv.setUint16(off + REQ.SVLAN, svlan, true);
  dv.setUint16(off + REQ.CVLAN, cvlan, true);
  for (let i = 0; i < 6; i++) u8[off + REQ.MAC + i] = mac[macOff + i];
  u8[off + REQ.KIND] = kind;
  u8[off + REQ.AUTH_TYPE] = authType;
  u8[off + REQ.CHAP_ID] = chapId;
  u8[off + REQ.LCORE] = lcore;
}

/**
 * Copies `len` bytes of `src` (from `srcOff`) into the field at `fieldOff` (capacity `max`) and its length byte
 * at `lenOff`. Returns false, writing nothing, when the value does not fit (callers refuse such requests rather
 * than truncating credentials).
 */
export function writeBytes(u8: Uint8Array, off: number, fieldOff: number, max: number, lenOff: number, src: Uint8Array, srcOff: number, len: number): boolean {
  if (len > max || len > 255) return false;
  const base = off + fieldOff;
  for (let i = 0; i < len; i++) u8[base + i] = src[srcOff + i];
  u8[off + lenOff] = len;
  return true;
}

/** Writes an ASCII/Latin-1 string (no allocation; code points above 0xFF are refused). */
export function writeAscii(u8: Uint8Array, off: number, fieldOff: number, max: number, lenOff: number, s: string): boolean {
  const len = s.length;
  if (len > max || len > 255) return false;
  const base = off + fieldOff;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return false;
    u8[base + i] = c;
  }
  u8[off + lenOff] = len;
  return true;
}

const HEX = '0123456789abcdef';
const HEX_UPPER = '0123456789ABCDEF';

/**
 * Writes the MAC at `mac[macOff..+6]` as a Calling-Station-Id in the IEEE 802 form `AA-BB-CC-DD-EE-FF`
 * (RFC 3580 §3.21) without allocating.
 */
export function writeCallingStationId(u8: Uint8Array, off: number, mac: Uint8Array, macOff: number): void {
  const base = off + REQ.CALLING;
  for (let i = 0; i < 6; i++) {
    const b = mac[macOff + i];
    u8[base + i * 3] = HEX_UPPER.charCodeAt(b >>> 4);
    u8[base + i * 3 + 1] = HEX_UPPER.charCodeAt(b & 15);
    if (i < 5) u8[base + i * 3 + 2] = 0x2d; // '-'
  }
  u8[off + REQ.CALLING_LEN] = 17;
}

// ---- request: decode (copying) ----

/** A Buffer over the same memory as `u8`, kept for the last array seen (a ring's view: one per burst, not per field). */
let viewOf: Uint8Array | undefined;
let viewBuf: Buffer = Buffer.alloc(0);
const bufferView = (u8: Uint8Array): Buffer => {
  if (u8 !== viewOf) {
    viewBuf = Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
    viewOf = u8;
  }
  return viewBuf;
};
const latin1 = (u8: Uint8Array, start: number, len: number): string => (len === 0 ? '' : bufferView(u8).toString('latin1', start, start + len));
const utf8 = (u8: Uint8Array, start: number, len: number): string => (len === 0 ? '' : bufferView(u8).toString('utf8', start, start + len));
const copy = (u8: Uint8Array, start: number, len: number): Buffer => {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = u8[start + i];
  return b;
};

/** `00`…`ff`, one string per byte value. */
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) => HEX[b >>> 4] + HEX[b & 15]);

/** Formats 6 bytes as `aa:bb:cc:dd:ee:ff`. */
export function macString(u8: Uint8Array, at: number): string {
  return `${HEX_BYTE[u8[at]]}:${HEX_BYTE[u8[at + 1]]}:${HEX_BYTE[u8[at + 2]]}:${HEX_BYTE[u8[at + 3]]}:${HEX_BYTE[u8[at + 4]]}:${HEX_BYTE[u8[at + 5]]}`;
}

/** Copies the Auth Request at `off` into a plain object. */
export function decodeRequest(dv: DataView, u8: Uint8Array, off: number): AuthRequestView {
  const chap = u8[off + REQ.AUTH_TYPE] === AuthType.CHAP;
  const passLen = u8[off + REQ.PASS_LEN];
  return {
    requestId: dv.getFloat64(off + REQ.REQUEST_ID, true),
    sessionId: dv.getUint32(off + REQ.SESSION_ID, true),
    lcore: u8[off + REQ.LCORE],
    kind: u8[off + REQ.KIND],
    authType: chap ? 'chap' : 'pap',
    username: utf8(u8, off + REQ.USER, u8[off + REQ.USER_LEN]),
    password: chap ? undefined : copy(u8, off + REQ.PASS, passLen),
    chap: chap
      ? { id: u8[off + REQ.CHAP_ID], challenge: copy(u8, off + REQ.CHALLENGE, u8[off + REQ.CHALLENGE_LEN]), response: copy(u8, off + REQ.PASS, passLen) }
      : undefined,
    mac: macString(u8, off + REQ.MAC),
    svlan: dv.getUint16(off + REQ.SVLAN, true),
    cvlan: dv.getUint16(off + REQ.CVLAN, true),
    callingStationId: latin1(u8, off + REQ.CALLING, u8[off + REQ.CALLING_LEN]),
    nasPortId: utf8(u8, off + REQ.NAS_PORT_ID, u8[off + REQ.NAS_PORT_ID_LEN]),
    timestamp: dv.getFloat64(off + REQ.TIMESTAMP, true),
    acct: u8[off + REQ.KIND] === Kind.ACCT ? {
      status: u8[off + ACCT.STATUS],
      cause: u8[off + ACCT.CAUSE],
      framedIp: dv.getUint32(off + ACCT.FRAMED_IP, true),
      sessionTime: dv.getUint32(off + ACCT.SESSION_TIME, true),
      inOctets: dv.getFloat64(off + ACCT.IN_OCTETS, true),
      outOctets: dv.getFloat64(off + ACCT.OUT_OCTETS, true),
      inPackets: dv.getFloat64(off + ACCT.IN_PACKETS, true),
      outPackets: dv.getFloat64(off + ACCT.OUT_PACKETS, true),
      startedAt: dv.getFloat64(off + ACCT.STARTED_AT, true),
    } : undefined,
  };
}

// ---- response ----

const RESULT_CODES: Readonly<Record<AuthResultName, number>> = { accept: 1, reject: 2, timeout: 3, error: 4 };

/**
 * Writes a whole Auth Response at `off` from `r` (control plane side). Text and extra bytes that do not fit are
 * truncated and flagged (`RespFlag.*_TRUNCATED`). Unparseable addresses are written as 0 (absent).
 */
export function writeResponse(dv: DataView, u8: Uint8Array, off: number, requestId: number, sessionId: number, kind: number, r: AuthResult, answeredAt: number): void {
  let flags = (r.nat ? RespFlag.NAT : 0) | (r.extraTruncated ? RespFlag.EXTRA_TRUNCATED : 0);
  dv.setFloat64(off + RESP.REQUEST_ID, requestId, true);
  dv.setUint32(off + RESP.SESSION_ID, sessionId, true);
  u8[off + RESP.RESULT] = RESULT_CODES[r.result] ?? Result.ERROR;
  u8[off + RESP.KIND] = kind;
  const ip = (s: string | undefined): number => (s === undefined ? 0 : ipv4ToU32(s) ?? 0);
  dv.setUint32(off + RESP.FRAMED_IP, ip(r.framedIp), true);
  dv.setUint32(off + RESP.FRAMED_NETMASK, ip(r.framedNetmask), true);
  dv.setUint32(off + RESP.DNS1, ip(r.dns?.[0]), true);
  dv.setUint32(off + RESP.DNS2, ip(r.dns?.[1]), true);
  const u32 = (n: number | undefined): number => (n === undefined || !(n > 0) ? 0 : Math.min(0xffffffff, Math.floor(n)));
  dv.setUint32(off + RESP.SESSION_TIMEOUT, u32(r.sessionTimeout), true);
  dv.setUint32(off + RESP.IDLE_TIMEOUT, u32(r.idleTimeout), true);
  dv.setUint32(off + RESP.RATE_UP, u32(r.rateUp), true);
  dv.setUint32(off + RESP.RATE_DOWN, u32(r.rateDown), true);
  dv.setUint16(off + RESP.FRAMED_MTU, Math.min(0xffff, u32(r.framedMtu)), true);
  dv.setFloat64(off + RESP.ANSWERED_AT, answeredAt, true);
  let msgLen = 0;
  if (r.replyMessage) {
    const target = Buffer.from(u8.buffer, u8.byteOffset + off + RESP.REPLY_MSG, RESP.REPLY_MSG_MAX);
    const bytes = Buffer.byteLength(r.replyMessage, 'utf8');
    msgLen = bytes <= RESP.REPLY_MSG_MAX ? target.write(r.replyMessage, 'utf8') : utf8Prefix(target, r.replyMessage);
    if (bytes > RESP.REPLY_MSG_MAX) flags |= RespFlag.REPLY_MSG_TRUNCATED;
  }
  u8[off + RESP.REPLY_MSG_LEN] = msgLen;
  let extraLen = 0;
  if (r.extra && r.extra.length) {
    extraLen = Math.min(r.extra.length, RESP.EXTRA_MAX);
    if (extraLen < r.extra.length) flags |= RespFlag.EXTRA_TRUNCATED;
    u8.set(r.extra.subarray(0, extraLen), off + RESP.EXTRA);
  }
  dv.setUint16(off + RESP.EXTRA_LEN, extraLen, true);
  u8[off + RESP.FLAGS] = flags;
}

/** Writes the longest prefix of `s` that fits `target` without splitting a UTF-8 sequence; returns bytes written. */
function utf8Prefix(target: Buffer, s: string): number {
  const full = Buffer.from(s, 'utf8');
  let n = Math.min(full.length, target.length);
  while (n > 0 && (full[n] & 0xc0) === 0x80) n--; // do not cut inside a multi-byte character
  full.copy(target, 0, 0, n);
  return n;
}

/** Writes a response carrying only a result code (lcore-made TIMEOUT/ERROR results, probes). No allocation. */
export function writeBareResponse(dv: DataView, u8: Uint8Array, off: number, requestId: number, sessionId: number, kind: number, result: number, answeredAt: number): void {
  u8.fill(0, off, off + RESP.REPLY_MSG);
  dv.setFloat64(off + RESP.REQUEST_ID, requestId, true);
  dv.setUint32(off + RESP.SESSION_ID, sessionId, true);
  u8[off + RESP.RESULT] = result;
  u8[off + RESP.KIND] = kind;
  dv.setFloat64(off + RESP.ANSWERED_AT, answeredAt, true);
}

/** Copies the Auth Response at `off` into a plain object. */
export function decodeResponse(dv: DataView, u8: Uint8Array, off: number): AuthResponseView {
  const ip = (at: number): string | undefined => {
    const n = dv.getUint32(off + at, true);
    return n === 0 ? undefined : u32ToIpv4(n);
  };
  const num = (at: number): number | undefined => {
    const n = dv.getUint32(off + at, true);
    return n === 0 ? undefined : n;
  };
  const flags = u8[off + RESP.FLAGS];
  const dns = [ip(RESP.DNS1), ip(RESP.DNS2)].filter((x): x is string => x !== undefined);
  const msgLen = u8[off + RESP.REPLY_MSG_LEN];
  const extraLen = dv.getUint16(off + RESP.EXTRA_LEN, true);
  const mtu = dv.getUint16(off + RESP.FRAMED_MTU, true);
  return {
    requestId: dv.getFloat64(off + RESP.REQUEST_ID, true),
    sessionId: dv.getUint32(off + RESP.SESSION_ID, true),
    kind: u8[off + RESP.KIND],
    result: RESULT_NAMES[u8[off + RESP.RESULT]] ?? 'error',
    flags,
    nat: (flags & RespFlag.NAT) !== 0,
    framedIp: ip(RESP.FRAMED_IP),
    framedNetmask: ip(RESP.FRAMED_NETMASK),
    dns,
    sessionTimeout: num(RESP.SESSION_TIMEOUT),
    idleTimeout: num(RESP.IDLE_TIMEOUT),
    rateUp: num(RESP.RATE_UP),
    rateDown: num(RESP.RATE_DOWN),
    framedMtu: mtu === 0 ? undefined : mtu,
    replyMessage: msgLen ? utf8(u8, off + RESP.REPLY_MSG, msgLen) : undefined,
    extra: extraLen ? copy(u8, off + RESP.EXTRA, extraLen) : undefined,
    extraTruncated: (flags & RespFlag.EXTRA_TRUNCATED) !== 0 || undefined,
    answeredAt: dv.getFloat64(off + RESP.ANSWERED_AT, true),
  };
}
