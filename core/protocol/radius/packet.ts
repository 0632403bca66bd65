/**
 * RADIUS packets: header, structural checks, authenticators and
 * Message-Authenticator (RFC 2865, 2866, 2869, 3579, 5176), the way
 * FreeRADIUS computes and verifies them.
 */
import type { Dictionary } from '../../dict/dictionary';
import type { Pair } from '../../pair/pair';
import { hmacMd5, md5, randomBytes, safeEqual } from './crypto';
import { decodeRange, view, type EncodeWarning } from './decode';
import { encodeInto } from './encode';
import type { DecodeError } from './errors';
import { EncodeError } from './errors';

/** RADIUS packet codes (RFC 2865, 2866, 5176, 5997, 7930). */
export const PacketCode = {
  AccessRequest: 1,
  AccessAccept: 2,
  AccessReject: 3,
  AccountingRequest: 4,
  AccountingResponse: 5,
  AccessChallenge: 11,
  StatusServer: 12,
  StatusClient: 13,
  DisconnectRequest: 40,
  DisconnectACK: 41,
  DisconnectNAK: 42,
  CoARequest: 43,
  CoAACK: 44,
  CoANAK: 45,
  ProtocolError: 52,
} as const;

const CODE_NAMES: Record<number, string> = {
  1: 'Access-Request', 2: 'Access-Accept', 3: 'Access-Reject', 4: 'Accounting-Request', 5: 'Accounting-Response',
  11: 'Access-Challenge', 12: 'Status-Server', 13: 'Status-Client', 40: 'Disconnect-Request', 41: 'Disconnect-ACK',
  42: 'Disconnect-NAK', 43: 'CoA-Request', 44: 'CoA-ACK', 45: 'CoA-NAK', 52: 'Protocol-Error',
};

/** Name of a packet code (`Access-Request` …), or the number as text when unknown. */
export function packetCodeName(code: number): string {
  return CODE_NAMES[code] ?? String(code);
}

/** True for codes this codec knows. */
export function isKnownCode(code: number): boolean {
  return CODE_NAMES[code] !== undefined;
}

/** True for codes whose authenticator is random (Access-Request, Status-Server, Status-Client). */
function randomVector(code: number): boolean {
  return code === 1 || code === 12 || code === 13;
}

/** True for requests whose authenticator is MD5 over the packet with a zero vector. */
function hashedRequest(code: number): boolean {
  return code === 4 || code === 40 || code === 43;
}

/**
 * True when the Message-Authenticator of `code` is computed over a zeroed
 * authenticator field: Accounting/CoA/Disconnect requests, and
 * Accounting-Response unless it answers a Status-Server (FreeRADIUS and
 * radclient 3.2 do exactly this; other responses use the request's vector).
 */
function maZeroVector(code: number, requestCode?: number): boolean {
  if (hashedRequest(code)) return true;
  return code === PacketCode.AccountingResponse && requestCode !== PacketCode.StatusServer;
}

/** True for request codes (the rest are responses). */
export function isRequestCode(code: number): boolean {
  return randomVector(code) || hashedRequest(code);
}

/** A decoded or to-be-encoded packet. */
export interface RadiusPacket {
  code: number;
  id: number;
  /** 16 bytes: Request or Response Authenticator as on the wire. */
  authenticator: Buffer;
  pairs: Pair[];
}

const HDR = 20;
const MAX_PACKET = 4096;
const ATTR_MA = 80;
const ATTR_EAP = 79;
const ZERO16 = Buffer.alloc(16);

/** Options of `checkPacket`. */
export interface CheckOptions {
  /** Limit on the number of attributes (default 255 like FreeRADIUS's max_attributes; 0 = none). */
  maxAttributes?: number;
  /** Require Message-Authenticator on Access-Request (BlastRADIUS). Status-Server and EAP always require it. */
  requireMessageAuthenticator?: boolean;
}

function err(code: string, message: string, offset?: number, attribute?: number): DecodeError {
  const e: DecodeError = { code, message };
  if (offset !== undefined) e.offset = offset;
  if (attribute !== undefined) e.attribute = attribute;
  return e;
}

/**
 * Structural validation of a received packet (FreeRADIUS `fr_radius_ok`):
 * header and length field, attribute framing, Message-Authenticator length,
 * attribute count, and presence of a required Message-Authenticator.
 * Returns null when the packet is well formed. Never throws.
 */
export function checkPacket(buf: Buffer, opts: CheckOptions = {}): DecodeError | null {
  return check(buf, opts.maxAttributes, opts.requireMessageAuthenticator);
}

/** Offset of the Message-Authenticator found by the last `check` (-1: none). Single-threaded scratch. */
let lastMa = -1;

function check(buf: Buffer, maxAttributes: number | undefined, requireMa: boolean | undefined): DecodeError | null {
  lastMa = -1;
  if (!Buffer.isBuffer(buf) || buf.length < HDR) return err('too-short', 'packet is smaller than the minimum packet length', 0);
  const code = buf[0];
  if (!isKnownCode(code)) return err('unknown-code', 'unknown packet code', 0);
  const len = buf.readUInt16BE(2);
  if (len < HDR) return err('length-too-small', "header 'length' field has a value smaller than the minimum packet length", 2);
  if (len > buf.length) return err('length-too-large', "header 'length' field has a value larger than the received data", 2);
  if (len > MAX_PACKET) return err('too-long', "header 'length' field has a value larger than the maximum packet length", 2);
  const max = maxAttributes ?? 255;
  let count = 0;
  let p = HDR;
  let sawMa = false;
  let sawEap = false;
  while (p < len) {
    if (len - p < 2) return err('attr-header-overflow', 'attribute header overflows the packet', p, buf[p]);
    const t = buf[p];
    const l = buf[p + 1];
    if (t === 0) return err('attr-zero', 'attribute number 0 is invalid', p, 0);
    if (l < 2) return err('attr-length-invalid', "attribute 'length' field contains invalid value", p, t);
    if (p + l > len) return err('attr-overflow', "attribute 'length' field overflows the packet", p, t);
    if (t === ATTR_MA) {
      if (l !== 18) return err('ma-invalid-length', 'Message-Authenticator has invalid length', p, t);
      if (!sawMa) lastMa = p;
      sawMa = true;
    } else if (t === ATTR_EAP) {
      sawEap = true;
    }
    count++;
    p += l;
  }
  if (max > 0 && count > max) return err('too-many-attributes', `packet contains too many attributes (${count} > ${max})`, HDR);
  if (!sawMa) {
    if (code === PacketCode.StatusServer || (sawEap && (code === 1 || code === 2 || code === 3 || code === 11))
      || (requireMa && code === PacketCode.AccessRequest)) {
      return err('ma-missing', 'Message-Authenticator is required for this packet, but it is missing', HDR, ATTR_MA);
    }
  }
  return null;
}

/** Options of `decodePacket`. */
export interface DecodePacketOptions {
  dict: Dictionary;
  secret: Buffer;
  /**
   * The Request Authenticator of the request this packet answers (responses).
   * Leave it unset when decoding requests: when set there, it replaces the
   * packet's own authenticator for revealing hidden attributes, which is only
   * useful for test vectors (FreeRADIUS's `decode-proto` does exactly that).
   */
  requestAuthenticator?: Buffer;
  /** Explicit vector for revealing User-Password/Tunnel-Password/Ascend values (overrides the defaults above). */
  vector?: Buffer;
  /** Code of the request this response answers; only matters for an Accounting-Response to Status-Server. */
  requestCode?: number;
  /** Require Message-Authenticator on Access-Request (BlastRADIUS mitigation). */
  requireMessageAuthenticator?: boolean;
  /** Verify authenticators and Message-Authenticator (default true). */
  verify?: boolean;
  maxAttributes?: number;
}

/** Result of `decodePacket`. */
export type DecodePacketResult =
  | { ok: true; packet: RadiusPacket; hasMessageAuthenticator: boolean }
  | { ok: false; error: DecodeError };

/** HMAC-MD5 of the packet with the MA value zeroed and `vector` as authenticator. */
function computeMa(buf: Buffer, len: number, maOff: number, vector: Buffer, secret: Buffer): Buffer {
  return hmacMd5(secret, buf.subarray(0, 4), vector, buf.subarray(HDR, maOff + 2), ZERO16, buf.subarray(maOff + 18, len));
}

const maSaved = Buffer.allocUnsafe(16);

/**
 * {@link computeMa} for a packet whose vector is its own authenticator (requests with a random one, e.g.
 * Access-Request): the MA value is zeroed in place for the hash and put back before returning, so the
 * message is hashed as one piece (no copy, no per-part views).
 */
function computeMaInPlace(buf: Buffer, len: number, maOff: number, secret: Buffer): Buffer {
  const v = maOff + 2;
  buf.copy(maSaved, 0, v, v + 16);
  buf.fill(0, v, v + 16);
  try {
    return hmacMd5(secret, len === buf.length ? buf : buf.subarray(0, len));
  } finally {
    maSaved.copy(buf, v);
  }
}

/** MD5(header ‖ vector ‖ attributes ‖ secret). */
function computeAuth(buf: Buffer, len: number, vector: Buffer, secret: Buffer): Buffer {
  const tmp = Buffer.allocUnsafe(len + secret.length);
  buf.copy(tmp, 0, 0, 4);
  vector.copy(tmp, 4, 0, 16);
  buf.copy(tmp, HDR, HDR, len);
  secret.copy(tmp, len);
  return md5(tmp);
}

/**
 * Checks and verifies a packet exactly as {@link decodePacket} does, without
 * decoding its attributes (for callers that only need the verdict, such as a
 * load generator checking every reply). Returns null when the packet is good.
 */
export function verifyPacket(buf: Buffer, opts: Omit<DecodePacketOptions, 'dict' | 'vector' | 'verify'>): DecodeError | null {
  const bad = check(buf, opts.maxAttributes, opts.requireMessageAuthenticator);
  if (bad) return bad;
  return verifyChecked(buf, lastMa, opts);
}

/** The authenticator and Message-Authenticator checks of a packet `check` accepted (MA at `maOff`, −1: none). */
function verifyChecked(buf: Buffer, maOff: number, opts: Pick<DecodePacketOptions, 'secret' | 'requestAuthenticator' | 'requestCode'>): DecodeError | null {
  const code = buf[0];
  const len = (buf[2] << 8) | buf[3];
  const auth = buf.subarray(4, HDR);
  const request = isRequestCode(code);
  const reqAuth = opts.requestAuthenticator;
  const secret = opts.secret;
  if (!request && (!reqAuth || reqAuth.length !== 16)) {
    return err('no-request-authenticator', 'cannot verify a response without the request authenticator', 4);
  }
  if (maOff >= 0) {
    const expect = randomVector(code)
      ? computeMaInPlace(buf, len, maOff, secret)
      : computeMa(buf, len, maOff, maZeroVector(code, opts.requestCode) ? ZERO16 : reqAuth!, secret);
    if (!safeEqual(expect, buf.subarray(maOff + 2, maOff + 18))) {
      return err('bad-message-authenticator', 'Message-Authenticator does not match (wrong shared secret?)', maOff, ATTR_MA);
    }
  }
  if (!randomVector(code)) {
    const expect = computeAuth(buf, len, hashedRequest(code) ? ZERO16 : reqAuth!, secret);
    if (!safeEqual(expect, auth)) {
      return err('bad-authenticator', request ? 'Request Authenticator does not match (wrong shared secret?)' : 'Response Authenticator does not match (wrong shared secret?)', 4);
    }
  }
  return null;
}

/**
 * Checks, verifies and decodes a packet. Never throws.
 *
 * Verification (unless `verify: false`):
 * - Accounting-Request, CoA-Request, Disconnect-Request: the Request
 *   Authenticator is MD5 over the packet with a zero vector plus the secret;
 * - responses: the Response Authenticator over the packet with
 *   `requestAuthenticator` (required for responses);
 * - Message-Authenticator, when present, is HMAC-MD5 over the packet with the
 *   MA zeroed and, as authenticator, the packet's own (Access-Request,
 *   Status-Server), zeros (Accounting/CoA/Disconnect requests) or the
 *   request's (responses).
 * The returned pairs are lazy views over `buf`: do not reuse the buffer
 * while they are alive.
 */
export function decodePacket(buf: Buffer, opts: DecodePacketOptions): DecodePacketResult {
  const bad = check(buf, opts.maxAttributes, opts.requireMessageAuthenticator);
  if (bad) return { ok: false, error: bad };
  const maOff = lastMa;
  const code = buf[0];
  const len = (buf[2] << 8) | buf[3];
  const auth = view(buf, 4, HDR);
  const request = isRequestCode(code);
  const reqAuth = opts.requestAuthenticator;
  if (opts.verify !== false) {
    const e = verifyChecked(buf, maOff, opts);
    if (e) return { ok: false, error: e };
  }
  let vector: Buffer;
  if (opts.vector && opts.vector.length === 16) vector = opts.vector;
  else if (reqAuth && reqAuth.length === 16) vector = reqAuth;
  else vector = request && hashedRequest(code) ? ZERO16 : auth;
  const r = decodeRange(buf, HDR, len, { dict: opts.dict, secret: opts.secret, vector });
  if (r.error) return { ok: false, error: r.error };
  return {
    ok: true,
    packet: { code, id: buf[1], authenticator: auth, pairs: r.pairs },
    hasMessageAuthenticator: maOff >= 0,
  };
}

/** Assembly area reused by `encodePacket` (synchronous, so never shared between calls). */
let work = Buffer.allocUnsafe(MAX_PACKET + 64);

/** Options of `encodePacket`. */
export interface EncodePacketOptions {
  dict: Dictionary;
  secret: Buffer;
  /** The request's authenticator, for responses (required for them). */
  requestAuthenticator?: Buffer;
  /** Code of the request this response answers; only matters for an Accounting-Response to Status-Server. */
  requestCode?: number;
  /**
   * Add a Message-Authenticator (placed first). Also added when the pair list
   * contains one. Default false; servers should set it on every reply.
   */
  messageAuthenticator?: boolean;
  /** uint32 source for Tunnel-Password salts (default: crypto randomness). */
  rand?: () => number;
  /** When given, values cut short on the wire are reported here (see `CodecContext.warnings`). */
  warnings?: EncodeWarning[];
}

/**
 * Encodes a packet: header, attributes (Message-Authenticator first when
 * asked for or present in `pkt.pairs`), then the authenticators as FreeRADIUS
 * does. Access-Request/Status-Server use `pkt.authenticator` when it is 16
 * bytes, else fresh random bytes. Throws `EncodeError` when the attributes do
 * not fit in 4096 bytes or a response lacks `requestAuthenticator`.
 */
export function encodePacket(pkt: RadiusPacket, opts: EncodePacketOptions): Buffer {
  const code = pkt.code & 0xff;
  const secret = opts.secret;
  const request = isRequestCode(code);
  let vector: Buffer;
  if (randomVector(code)) {
    vector = pkt.authenticator && pkt.authenticator.length === 16 ? pkt.authenticator : randomBytes(16);
  } else if (hashedRequest(code)) {
    vector = ZERO16;
  } else {
    const ra = opts.requestAuthenticator;
    if (!ra || ra.length !== 16) throw new EncodeError(`${packetCodeName(code)} needs the request authenticator`);
    vector = ra;
  }
  // Status-Server and EAP always carry a Message-Authenticator (RFC 5997, RFC 3579).
  let wantMa = opts.messageAuthenticator === true || code === PacketCode.StatusServer;
  let pairs: readonly Pair[] = pkt.pairs;
  for (let i = 0; i < pairs.length; i++) {
    const da = pairs[i].da;
    if (da.parent === null || da.parent.type !== 'root') continue;
    if (da.attr === ATTR_EAP) wantMa = true;
    else if (da.attr === ATTR_MA) {
      wantMa = true;
      pairs = pairs.filter((p) => !(p.da.attr === ATTR_MA && p.da.parent !== null && p.da.parent.type === 'root'));
      break;
    }
  }
  if (work.length < MAX_PACKET + secret.length) work = Buffer.allocUnsafe(MAX_PACKET + secret.length);
  const buf = work;
  buf[0] = code;
  buf[1] = pkt.id & 0xff;
  vector.copy(buf, 4, 0, 16);
  let p = HDR;
  if (wantMa) {
    buf[p] = ATTR_MA;
    buf[p + 1] = 18;
    ZERO16.copy(buf, p + 2);
    p += 18;
  }
  const ctx = { dict: opts.dict, secret, vector, rand: opts.rand, noTunnelPassword: request, warnings: opts.warnings };
  const len = encodeInto(pairs, ctx, buf, p, MAX_PACKET);
  buf.writeUInt16BE(len, 2);
  if (wantMa) {
    let ma: Buffer;
    if (!request && maZeroVector(code, opts.requestCode)) {
      ma = hmacMd5(secret, buf.subarray(0, 4), ZERO16, buf.subarray(HDR, len));
    } else {
      ma = hmacMd5(secret, buf.subarray(0, len));
    }
    ma.copy(buf, HDR + 2);
  }
  if (!randomVector(code)) {
    secret.copy(buf, len);
    md5(buf.subarray(0, len + secret.length)).copy(buf, 4);
  }
  const out = Buffer.allocUnsafe(len);
  buf.copy(out, 0, 0, len);
  return out;
}
