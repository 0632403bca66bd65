/**
 * Comparison, truthiness, casting and the internal binary ("network") form,
 * for the unlang interpreter and xlat functions.
 */

import type { LeafType, Value } from '../types/data-types';
import type { DictAttr } from '../dict/attr';
import { ValueError } from './errors';
import {
  BIGINT_RANGE, INT_RANGE, isBigIntType, isIntType, isNumericType, isSmallIntType, jsKindOf,
} from './leaf';
import { ipv4FromBytes, ipv4FromInt, ipv4Mask, ipv4ToInt, ipv6FromBytes, ipv6ToBytes, maskIpv6, splitPrefix } from './ip';
import { parseValue } from './parse';
import { printValueUnquoted } from './print';
import { encodeValue } from './wire';
import { bytesToString, stringByteLength, stringToBytes } from './utf8';
import { DictAttr as DictAttrClass } from '../dict/attr';

// ------------------------------------------------------------------ helpers

function isV6(s: string): boolean {
  return s.includes(':');
}

/** 16-byte form of an IPv4 or IPv6 address text (IPv4 as `::ffff:a.b.c.d`). */
function addrBytes16(addr: string): Uint8Array {
  const out = new Uint8Array(16);
  if (isV6(addr)) {
    ipv6ToBytes(addr, out);
  } else {
    out[10] = 0xff;
    out[11] = 0xff;
    const n = ipv4ToInt(addr);
    out[12] = n >>> 24;
    out[13] = (n >>> 16) & 0xff;
    out[14] = (n >>> 8) & 0xff;
    out[15] = n & 0xff;
  }
  return out;
}

function cmpBytes(a: Uint8Array, b: Uint8Array): -1 | 0 | 1 {
  const n = Buffer.compare(a, b);
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function cmpPrim(a: number | bigint | string, b: number | bigint | string): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

// ------------------------------------------------------------------ compare

/**
 * Total order of two values of the same leaf type: strings and octets
 * byte-wise, numbers numerically, addresses by their bytes (IPv4 before
 * IPv6 for combo types), prefixes by address then length, booleans
 * false < true.
 */
export function compareValues(a: Value, b: Value, type: LeafType): -1 | 0 | 1 {
  switch (type) {
    case 'string': {
      const sa = a as string;
      const sb = b as string;
      if (sa === sb) return 0;
      if (isAscii(sa) && isAscii(sb)) return sa < sb ? -1 : 1;
      return cmpBytes(stringToBytes(sa), stringToBytes(sb));
    }
    case 'octets': case 'abinary':
      return cmpBytes(a as Buffer, b as Buffer);
    case 'bool':
      return cmpPrim(a ? 1 : 0, b ? 1 : 0);
    case 'ipaddr':
      return cmpPrim(ipv4ToInt(a as string), ipv4ToInt(b as string));
    case 'ipv6addr':
      return cmpBytes(addrBytes16(a as string), addrBytes16(b as string));
    case 'combo-ip': {
      const va = isV6(a as string);
      const vb = isV6(b as string);
      if (va !== vb) return va ? 1 : -1;
      return va ? cmpBytes(addrBytes16(a as string), addrBytes16(b as string)) : cmpPrim(ipv4ToInt(a as string), ipv4ToInt(b as string));
    }
    case 'ipv4prefix': case 'ipv6prefix': case 'combo-prefix': {
      const pa = splitPrefix(a as string);
      const pb = splitPrefix(b as string);
      const va = isV6(pa.addr);
      const vb = isV6(pb.addr);
      if (va !== vb) return va ? 1 : -1;
      const c = cmpBytes(addrBytes16(pa.addr), addrBytes16(pb.addr));
      return c !== 0 ? c : cmpPrim(pa.len, pb.len);
    }
    default:
      if (typeof a === 'string' && typeof b === 'string') return cmpPrim(a, b);
      if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return cmpBytes(a, b);
      return cmpPrim(a as number | bigint, b as number | bigint);
  }
}

/** True when two values of `type` are equal. */
export function valuesEqual(a: Value, b: Value, type: LeafType): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' && typeof b !== 'object' && jsKindOf(type) !== 'string') return a == b; // eslint-disable-line eqeqeq
  return compareValues(a, b, type) === 0;
}

/** Comparison operators understood by {@link compareOp}. */
export type CompareOperator = '==' | '!=' | '<' | '<=' | '>' | '>=';

function prefixOf(v: Value, t: LeafType): { addr: Uint8Array; len: number; v6: boolean } | undefined {
  if (t === 'ipaddr' || t === 'ipv6addr' || t === 'combo-ip') {
    const s = v as string;
    return { addr: addrBytes16(s), len: isV6(s) ? 128 : 32, v6: isV6(s) };
  }
  if (t === 'ipv4prefix' || t === 'ipv6prefix' || t === 'combo-prefix') {
    const p = splitPrefix(v as string);
    return { addr: addrBytes16(p.addr), len: p.len, v6: isV6(p.addr) };
  }
  return undefined;
}

/** `inner` lies within `outer` (same family, longer-or-equal prefix, same network bits). */
function within(inner: { addr: Uint8Array; len: number; v6: boolean }, outer: { addr: Uint8Array; len: number; v6: boolean }): boolean {
  if (inner.v6 !== outer.v6 || inner.len < outer.len) return false;
  const bits = outer.v6 ? outer.len : outer.len + 96;
  const a = inner.addr.slice();
  const b = outer.addr.slice();
  maskIpv6(a, bits);
  maskIpv6(b, bits);
  return cmpBytes(a, b) === 0;
}

/**
 * Evaluates `a op b` with FreeRADIUS semantics, converting `b` to `a`'s type
 * when they differ (and the reverse when that fails).
 *
 * When either side is a prefix, `<`, `<=`, `>` and `>=` mean "strictly
 * within", "within or equal", "strictly contains" and "contains or equal"
 * (`192.0.2.1 < 192.0.2.0/24`); values of different address families are
 * never within each other. Numbers of different types compare numerically.
 *
 * @throws ValueError when the values cannot be converted to a common type.
 */
export function compareOp(op: CompareOperator, a: Value, ta: LeafType, b: Value, tb: LeafType): boolean {
  const isPfx = (t: LeafType) => t === 'ipv4prefix' || t === 'ipv6prefix' || t === 'combo-prefix';
  const isAddr = (t: LeafType) => t === 'ipaddr' || t === 'ipv6addr' || t === 'combo-ip';
  // A string holding a prefix compared with an address is a prefix.
  if (tb === 'string' && isAddr(ta) && (b as string).includes('/')) {
    b = parseValue('combo-prefix', (b as string).trim());
    tb = 'combo-prefix';
  } else if (ta === 'string' && isAddr(tb) && (a as string).includes('/')) {
    a = parseValue('combo-prefix', (a as string).trim());
    ta = 'combo-prefix';
  }
  if ((isPfx(ta) || isPfx(tb)) && op !== '==' && op !== '!=') {
    if (tb === 'string') {
      b = parseValue(ta, (b as string).trim());
      tb = ta;
    } else if (ta === 'string') {
      a = parseValue(tb, (a as string).trim());
      ta = tb;
    }
    const pa = prefixOf(a, ta);
    const pb = prefixOf(b, tb);
    if (!pa || !pb) throw new ValueError(`Cannot compare ${ta} with ${tb}`);
    switch (op) {
      case '<': return pa.len > pb.len && within(pa, pb);
      case '<=': return within(pa, pb);
      case '>': return pb.len > pa.len && within(pb, pa);
      case '>=': return within(pb, pa);
    }
  }
  let c: number;
  if (ta === tb) {
    c = compareValues(a, b, ta);
  } else if (isNumericType(ta) && isNumericType(tb) || (isNumericType(ta) || ta === 'date' || ta === 'time_delta') && (isNumericType(tb) || tb === 'date' || tb === 'time_delta')) {
    c = cmpPrim(a as number | bigint, b as number | bigint);
  } else {
    let converted: Value | undefined;
    try {
      converted = castValue(b, tb, ta);
    } catch {
      converted = undefined;
    }
    if (converted !== undefined) {
      c = compareValues(a, converted, ta);
    } else {
      c = compareValues(castValue(a, ta, tb), b, tb);
    }
  }
  return compareResult(op, c);
}

/** `op` applied to a three-way comparison result `c` (negative, zero or positive). */
export function compareResult(op: CompareOperator, c: number): boolean {
  switch (op) {
    case '==': return c === 0;
    case '!=': return c !== 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
    case '>': return c > 0;
    case '>=': return c >= 0;
  }
  return false;
}

// ------------------------------------------------------------------ truthiness

/**
 * FreeRADIUS truthiness: non-empty string or octets, non-zero number, `true`,
 * a non-zero address (or prefix address), non-zero date/time_delta.
 */
export function isTruthy(v: Value | undefined, type: LeafType): boolean {
  if (v === undefined) return false;
  switch (type) {
    case 'string': return (v as string).length > 0;
    case 'octets': case 'abinary': return (v as Buffer).length > 0;
    case 'bool': return v === true;
    case 'ipaddr': return ipv4ToInt(v as string) !== 0;
    case 'ipv6addr': case 'combo-ip': case 'ipv4prefix': case 'ipv6prefix': case 'combo-prefix': {
      const addr = splitPrefix(v as string).addr;
      if (!isV6(addr)) return ipv4ToInt(addr) !== 0;
      return addrBytes16(addr).some((x) => x !== 0);
    }
    case 'ether': case 'ifid': return /[1-9a-f]/i.test(v as string);
    default:
      if (typeof v === 'bigint') return v !== 0n;
      if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string') return v.length > 0;
      return (v as Buffer).length > 0;
  }
}

// ------------------------------------------------------------------ network form

function intBytes(type: LeafType, v: Value): Buffer {
  const size = type === 'uint8' || type === 'int8' ? 1 : type === 'uint16' || type === 'int16' ? 2 : type === 'uint32' || type === 'int32' ? 4 : 8;
  const b = Buffer.allocUnsafe(size);
  if (size === 8) b.writeBigUInt64BE(BigInt.asUintN(64, BigInt(v as bigint | number)));
  else if (size === 4) b.writeUInt32BE(Number(v) >>> 0);
  else if (size === 2) b.writeUInt16BE(Number(v) & 0xffff);
  else b[0] = Number(v) & 0xff;
  return b;
}

/**
 * FreeRADIUS's generic binary ("network") form of a value, as used by
 * `%hex()`, `(octets)` casts and `%length()` on non-string types: integers
 * big-endian at their width, addresses as bytes, `ipv4prefix` as length +
 * 4 address bytes (5), `ipv6prefix` as 0 + length + 16 address bytes (18),
 * date/time_delta as in RADIUS (4-byte seconds unless `da` says otherwise).
 */
export function toNetwork(type: LeafType, v: Value, da?: DictAttr): Buffer {
  switch (type) {
    case 'string': return stringToBytes(v as string);
    case 'octets': case 'abinary': return v as Buffer;
    case 'ipv4prefix': {
      const p = splitPrefix(v as string);
      const b = Buffer.allocUnsafe(5);
      b[0] = p.len;
      b.writeUInt32BE(ipv4ToInt(p.addr), 1);
      return b;
    }
    case 'ipv6prefix': {
      const p = splitPrefix(v as string);
      const b = Buffer.alloc(18);
      b[1] = p.len;
      ipv6ToBytes(p.addr, b, 2);
      return b;
    }
    case 'combo-prefix':
      return toNetwork(isV6(v as string) ? 'ipv6prefix' : 'ipv4prefix', v);
    default:
      if (isIntType(type)) return intBytes(type, v);
      return encodeValue(da && da.type === type ? da : new DictAttrClass('', 0, type, null), v);
  }
}

/**
 * Length of a value as `%length()` reports it: bytes for string/octets,
 * otherwise the size of the internal binary form (ipv4prefix 5,
 * ipv6prefix 17, date/time_delta 8).
 */
export function valueLength(type: LeafType, v: Value): number {
  switch (type) {
    case 'string': return stringByteLength(v as string);
    case 'octets': case 'abinary': return (v as Buffer).length;
    case 'ipv4prefix': return 5;
    case 'ipv6prefix': return 17;
    case 'combo-prefix': return isV6(v as string) ? 17 : 5;
    case 'combo-ip': return isV6(v as string) ? 16 : 4;
    case 'date': case 'time_delta': return 8;
    default: return toNetwork(type, v).length;
  }
}

// ------------------------------------------------------------------ casts

function castError(from: string, to: string, why?: string): ValueError {
  return new ValueError(`Invalid cast from ${from} to ${to}${why ? ': ' + why : ''}`);
}

/** FreeRADIUS's wording for an integer cast out of the destination's range. */
function rangeCastError(from: LeafType, to: LeafType, n: number | bigint, lo: number | bigint, hi: number | bigint): ValueError {
  if (from === 'float32' || from === 'float64') return new ValueError('Source value for cast would overflow destination type');
  return new ValueError(`Invalid cast from ${from} to ${to}.  ${String(n)} outside value range ${lo}-${hi}`);
}

function toIntChecked(n: number | bigint, to: LeafType, from: LeafType): number | bigint {
  if (isSmallIntType(to)) {
    const x = typeof n === 'bigint' ? Number(n) : Math.trunc(n);
    const [lo, hi] = INT_RANGE[to];
    if (!(x >= lo && x <= hi)) throw rangeCastError(from, to, n, lo, hi);
    return x;
  }
  if (isBigIntType(to)) {
    if (typeof n === 'number' && !Number.isFinite(n)) throw rangeCastError(from, to, n, 0, 0);
    const x = typeof n === 'bigint' ? n : BigInt(Math.trunc(n));
    const [lo, hi] = BIGINT_RANGE[to];
    if (x < lo || x > hi) throw rangeCastError(from, to, n, lo, hi);
    return x;
  }
  throw castError(from, to);
}

function fromOctets(b: Buffer, to: LeafType): Value {
  if (isIntType(to)) {
    const size = intBytes(to, 0).length;
    if (b.length > size) throw castError('octets', to, `${b.length} bytes is too long (maximum ${size})`);
    let n = 0n;
    for (const x of b) n = (n << 8n) | BigInt(x);
    if (to.startsWith('int') && b.length === size) n = BigInt.asIntN(size * 8, n);
    return isBigIntType(to) ? n : Number(n);
  }
  switch (to) {
    case 'string': return bytesToString(b);
    case 'abinary': case 'octets': return b;
    case 'ipaddr': if (b.length === 4) return ipv4FromBytes(b); break;
    case 'ipv6addr': if (b.length === 16) return ipv6FromBytes(b); break;
    case 'combo-ip': if (b.length === 4) return ipv4FromBytes(b); if (b.length === 16) return ipv6FromBytes(b); break;
    case 'ipv4prefix': if (b.length === 5 && b[0] <= 32) return ipv4FromInt((b.readUInt32BE(1) & ipv4Mask(b[0])) >>> 0) + '/' + b[0]; break;
    case 'ipv6prefix': if (b.length === 18 && b[1] <= 128) { const a = new Uint8Array(b.subarray(2)); maskIpv6(a, b[1]); return ipv6FromBytes(a) + '/' + b[1]; } break;
    case 'ether': if (b.length === 6) return b.toString('hex').replace(/(..)(?!$)/g, '$1:'); break;
    case 'ifid': if (b.length === 8) return b.toString('hex').replace(/(....)(?!$)/g, '$1:'); break;
    case 'bool': if (b.length === 1) return b[0] !== 0; break;
    case 'float32': if (b.length === 4) return b.readFloatBE(0); break;
    case 'float64': if (b.length === 8) return b.readDoubleBE(0); break;
    case 'date': case 'time_delta':
      if (b.length <= 8) { let n = 0n; for (const x of b) n = (n << 8n) | BigInt(x); return Number(to === 'time_delta' && b.length === 8 ? BigInt.asIntN(64, n) : n); }
      break;
    default: break;
  }
  throw castError('octets', to, `invalid length ${b.length}`);
}

/**
 * Converts a value between leaf types with FreeRADIUS cast rules:
 *
 * - to `string`: the unquoted presentation text (`printValueUnquoted`; with
 *   `fromDa` enumerated values give their name, abinary gives filter text);
 *   octets → string copies bytes;
 * - from `string`: parsed as `to` (`parseValue`); string → octets copies bytes;
 * - to `octets`: the binary form (`toNetwork`); from `octets`: the reverse,
 *   big-endian, shorter input zero-extended for integers;
 * - integers/floats/bool/date/time_delta among themselves: numeric value
 *   with range check (floats truncate toward zero);
 * - `ipaddr` ↔ `uint32`; address ↔ prefix (/32 or /128, prefix → address only
 *   when full length); IPv4 ↔ IPv6 via `::ffff:a.b.c.d`; combo types.
 *
 * @throws ValueError when the conversion is impossible or out of range.
 */
export function castValue(v: Value, from: LeafType, to: LeafType, fromDa?: DictAttr): Value {
  if (from === to) return v;
  if (to === 'string') {
    if (from === 'octets') return bytesToString(v as Buffer);
    return printValueUnquoted(fromDa && fromDa.type === from ? fromDa : from, v);
  }
  if (from === 'string') {
    if (to === 'octets') return stringToBytes(v as string);
    return parseValue(to, (v as string).trim());
  }
  if (to === 'octets' || to === 'abinary') return toNetwork(from, v, fromDa);
  if (from === 'octets' || from === 'abinary') return fromOctets(v as Buffer, to);

  const numLike = (t: LeafType) => isNumericType(t) || t === 'bool' || t === 'date' || t === 'time_delta';
  if (numLike(from) && numLike(to)) {
    const n: number | bigint = typeof v === 'boolean' ? (v ? 1 : 0) : (v as number | bigint);
    if (to === 'bool') return typeof n === 'bigint' ? n !== 0n : n !== 0;
    if (to === 'float64') return Number(n);
    if (to === 'float32') return Math.fround(Number(n));
    if (to === 'date' || to === 'time_delta') {
      const x = Number(n);
      if (to === 'date' && x < 0) throw castError(from, to, 'negative date');
      return x;
    }
    return toIntChecked(n, to, from);
  }

  // Address family conversions.
  switch (to) {
    case 'ipaddr':
      if (isIntType(from)) return ipv4FromInt(Number(toIntChecked(v as number | bigint, 'uint32', from)));
      if (from === 'combo-ip' || from === 'ipv6addr') {
        const s = v as string;
        if (!isV6(s)) return s;
        const b = addrBytes16(s);
        if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return ipv4FromBytes(b, 12);
        throw castError(from, to, `${s} is not an IPv4-mapped address`);
      }
      if (from === 'ipv4prefix' || from === 'combo-prefix') {
        const p = splitPrefix(v as string);
        if (!isV6(p.addr) && p.len === 32) return p.addr;
        throw castError(from, to, 'only /32 prefixes convert to an address');
      }
      break;
    case 'ipv6addr':
      if (from === 'ipaddr' || from === 'combo-ip') return isV6(v as string) ? v : ipv6FromBytes(addrBytes16(v as string));
      if (from === 'ipv6prefix' || from === 'combo-prefix') {
        const p = splitPrefix(v as string);
        if (isV6(p.addr) && p.len === 128) return p.addr;
        throw castError(from, to, 'only /128 prefixes convert to an address');
      }
      break;
    case 'combo-ip':
      if (from === 'ipaddr' || from === 'ipv6addr') return v;
      if (from === 'ipv4prefix' || from === 'ipv6prefix' || from === 'combo-prefix') {
        const p = splitPrefix(v as string);
        if (p.len === (isV6(p.addr) ? 128 : 32)) return p.addr;
        throw castError(from, to, 'only full-length prefixes convert to an address');
      }
      break;
    case 'ipv4prefix':
      if (from === 'ipaddr' || (from === 'combo-ip' && !isV6(v as string))) return v + '/32';
      if (from === 'combo-prefix' && !isV6(v as string)) return v;
      break;
    case 'ipv6prefix':
      if (from === 'ipv6addr' || (from === 'combo-ip' && isV6(v as string))) return v + '/128';
      if (from === 'ipaddr') return ipv6FromBytes(addrBytes16(v as string)) + '/128';
      if (from === 'combo-prefix' && isV6(v as string)) return v;
      break;
    case 'combo-prefix':
      if (from === 'ipv4prefix' || from === 'ipv6prefix') return v;
      if (from === 'ipaddr' || from === 'ipv6addr' || from === 'combo-ip') return v + (isV6(v as string) ? '/128' : '/32');
      break;
    default:
      if (isIntType(to) && from === 'ipaddr') return toIntChecked(ipv4ToInt(v as string), to, from);
      if (isIntType(to) && (from === 'ether' || from === 'ifid')) {
        return toIntChecked(BigInt('0x' + (v as string).replace(/:/g, '')), to, from);
      }
      if (to === 'ether' && isIntType(from)) {
        const n = BigInt(v as number | bigint);
        if (n < 0n || n > 0xffffffffffffn) throw castError(from, to, 'out of range');
        return n.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
      }
      if (to === 'ifid' && isIntType(from)) {
        const n = BigInt.asUintN(64, BigInt(v as number | bigint));
        return n.toString(16).padStart(16, '0').replace(/(....)(?!$)/g, '$1:');
      }
  }
  throw castError(from, to);
}
