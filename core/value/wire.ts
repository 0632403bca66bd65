/**
 * RADIUS wire form of leaf values (network byte order).
 */

import type { LeafType, Value } from '../types/data-types';
import type { DictAttr } from '../dict/attr';
import { ipv4FromBytes, ipv4FromInt, ipv4Mask, ipv4ToInt, ipv6FromBytes, ipv6ToBytes, maskIpv6, splitPrefix } from './ip';
import { PRECISION_SCALE } from './time';
import { timeWireSigned, timeWireSize } from './leaf';
import { bytesToString, stringToBytes } from './utf8';

function fixLength(b: Buffer, len: number | undefined): Buffer {
  if (!len || b.length === len) return b;
  if (b.length > len) return b.subarray(0, len);
  const out = Buffer.alloc(len);
  b.copy(out);
  return out;
}

function ipv6Bytes(addr: string): Buffer {
  const out = Buffer.alloc(16);
  ipv6ToBytes(addr, out);
  return out;
}

function encodeIpv4Prefix(v: string): Buffer {
  const { addr, len } = splitPrefix(v);
  const n = ipv4ToInt(addr);
  const out = Buffer.allocUnsafe(6);
  out[0] = 0;
  // RFC 6572: an all-zero prefix is sent with prefix length 32.
  out[1] = n === 0 ? 32 : len;
  out.writeUInt32BE((n & ipv4Mask(len)) >>> 0, 2);
  return out;
}

function encodeIpv6Prefix(v: string): Buffer {
  const { addr, len } = splitPrefix(v);
  const a = ipv6Bytes(addr);
  maskIpv6(a, len);
  const n = (len + 7) >> 3;
  const out = Buffer.allocUnsafe(2 + n);
  out[0] = 0;
  out[1] = len;
  a.copy(out, 2, 0, n);
  return out;
}

function clamp(n: number, lo: number, hi: number): number {
  return n < lo ? lo : n > hi ? hi : n;
}

/**
 * Seconds → whole precision units, truncating toward zero like FreeRADIUS
 * but forgiving binary floating-point error (0.065 s is 65 ms, not 64).
 */
function toUnits(v: number, scale: number): number {
  const x = v * scale;
  const r = Math.round(x);
  return Math.abs(x - r) < 1e-6 ? r : Math.trunc(x);
}

function encodeTime(da: DictAttr, v: number): Buffer {
  const size = timeWireSize(da);
  const scale = PRECISION_SCALE[da.flags.precision ?? 'seconds'];
  const units = toUnits(v, scale);
  const signed = timeWireSigned(da);
  const out = Buffer.allocUnsafe(size);
  if (size === 8) {
    let b = BigInt(Number.isFinite(units) ? units : 0);
    if (!signed && b < 0n) b = 0n;
    out.writeBigUInt64BE(BigInt.asUintN(64, b));
  } else if (size === 2) {
    if (signed) out.writeInt16BE(clamp(units, -0x8000, 0x7fff));
    else out.writeUInt16BE(clamp(units, 0, 0xffff));
  } else {
    if (signed) out.writeInt32BE(clamp(units, -0x80000000, 0x7fffffff));
    else out.writeUInt32BE(clamp(units, 0, 0xffffffff));
  }
  return out;
}

/**
 * Encodes a leaf value into its RADIUS wire bytes.
 *
 * Integers wrap to their width (values are range-checked when parsed);
 * `date`/`time_delta` are scaled to the attribute's precision and clamped to
 * the wire integer (`subtype`, default 4 bytes: unsigned for date, signed for
 * time_delta); `ipv4prefix` is 6 bytes (reserved, length, address) with
 * 0.0.0.0/0 sent as /32; `ipv6prefix` is reserved, length and only the
 * prefix bytes (an IPv6 `combo-prefix` always takes all 18 bytes); fixed-`length` strings and octets are zero-padded or
 * truncated. Tags, encryption and arrays are the codec's business.
 */
export function encodeValue(da: DictAttr, v: Value): Buffer {
  const type = da.type as LeafType;
  let b: Buffer;
  switch (type) {
    case 'string':
      return fixLength(typeof v === 'string' ? stringToBytes(v) : Buffer.isBuffer(v) ? v : Buffer.from(String(v)), da.flags.length);
    case 'octets': case 'abinary':
      return fixLength(Buffer.isBuffer(v) ? v : typeof v === 'string' ? stringToBytes(v) : Buffer.from(String(v)), da.flags.length);
    case 'uint8': case 'int8':
      b = Buffer.allocUnsafe(1); b[0] = Number(v) & 0xff; return b;
    case 'bool':
      b = Buffer.allocUnsafe(1); b[0] = v ? 1 : 0; return b;
    case 'uint16': case 'int16':
      b = Buffer.allocUnsafe(2); b.writeUInt16BE(Number(v) & 0xffff); return b;
    case 'uint32': case 'int32':
      b = Buffer.allocUnsafe(4); b.writeUInt32BE(Number(v) >>> 0); return b;
    case 'uint64': case 'int64': case 'size':
      b = Buffer.allocUnsafe(8); b.writeBigUInt64BE(BigInt.asUintN(64, BigInt(v as bigint))); return b;
    case 'float32':
      b = Buffer.allocUnsafe(4); b.writeFloatBE(Number(v)); return b;
    case 'float64':
      b = Buffer.allocUnsafe(8); b.writeDoubleBE(Number(v)); return b;
    case 'ipaddr':
      b = Buffer.allocUnsafe(4); b.writeUInt32BE(ipv4ToInt(v as string)); return b;
    case 'ipv6addr':
      return ipv6Bytes(v as string);
    case 'combo-ip': {
      const s = v as string;
      if (s.includes(':')) return ipv6Bytes(s);
      b = Buffer.allocUnsafe(4); b.writeUInt32BE(ipv4ToInt(s)); return b;
    }
    case 'ipv4prefix':
      return encodeIpv4Prefix(v as string);
    case 'ipv6prefix':
      return encodeIpv6Prefix(v as string);
    case 'combo-prefix': {
      if (!(v as string).includes(':')) return encodeIpv4Prefix(v as string);
      // Always the full 18 bytes, so that it cannot be mistaken for the 6-byte IPv4 form.
      const p = encodeIpv6Prefix(v as string);
      if (p.length === 18) return p;
      const full = Buffer.alloc(18);
      p.copy(full);
      return full;
    }
    case 'ifid':
      return Buffer.from((v as string).replace(/:/g, ''), 'hex');
    case 'ether':
      return Buffer.from((v as string).replace(/:/g, ''), 'hex');
    case 'date': case 'time_delta':
      return encodeTime(da, Number(v));
    default:
      throw new TypeError(`encodeValue: ${String(type)} is not a leaf type`);
  }
}

function decodeTime(da: DictAttr, buf: Buffer): number | undefined {
  const size = timeWireSize(da);
  if (buf.length !== size) return undefined;
  const signed = timeWireSigned(da);
  let units: number;
  if (size === 2) units = signed ? buf.readInt16BE(0) : buf.readUInt16BE(0);
  else if (size === 4) units = signed ? buf.readInt32BE(0) : buf.readUInt32BE(0);
  else if (size === 8) units = Number(signed ? buf.readBigInt64BE(0) : buf.readBigUInt64BE(0));
  else return undefined;
  const scale = PRECISION_SCALE[da.flags.precision ?? 'seconds'];
  return scale === 1 ? units : units / scale;
}

function decodeIpv4Prefix(buf: Buffer): string | undefined {
  if (buf.length !== 6 || buf[0] !== 0 || buf[1] > 32) return undefined;
  const len = buf[1];
  return ipv4FromInt((buf.readUInt32BE(2) & ipv4Mask(len)) >>> 0) + '/' + len;
}

function decodeIpv6Prefix(buf: Buffer): string | undefined {
  if (buf.length < 2 || buf.length > 18 || buf[0] !== 0 || buf[1] > 128) return undefined;
  const len = buf[1];
  if (buf.length - 2 < (len + 7) >> 3) return undefined;
  const a = new Uint8Array(16);
  a.set(buf.subarray(2));
  maskIpv6(a, len);
  return ipv6FromBytes(a) + '/' + len;
}

function hex4(b: Buffer, i: number): string {
  const s = ((b[i] << 8) | b[i + 1]).toString(16);
  return s.length === 4 ? s : '0000'.slice(s.length) + s;
}

/**
 * Decodes RADIUS wire bytes of a leaf attribute. Returns undefined when the
 * length or content is invalid for the type (the codec then makes a raw
 * attribute). Octets are returned zero-copy (the same view).
 */
export function decodeValue(da: DictAttr, buf: Buffer): Value | undefined {
  switch (da.type as LeafType) {
    case 'string':
      return bytesToString(buf);
    case 'octets': case 'abinary':
      return buf;
    case 'uint32':
      return buf.length === 4 ? ((buf[0] << 24) | (buf[1] << 16) | (buf[2] << 8) | buf[3]) >>> 0 : undefined;
    case 'ipaddr':
      return buf.length === 4 ? ipv4FromBytes(buf) : undefined;
    case 'uint8':
      return buf.length === 1 ? buf[0] : undefined;
    case 'uint16':
      return buf.length === 2 ? (buf[0] << 8) | buf[1] : undefined;
    case 'int8':
      return buf.length === 1 ? buf.readInt8(0) : undefined;
    case 'int16':
      return buf.length === 2 ? buf.readInt16BE(0) : undefined;
    case 'int32':
      return buf.length === 4 ? buf.readInt32BE(0) : undefined;
    case 'uint64': case 'size':
      return buf.length === 8 ? buf.readBigUInt64BE(0) : undefined;
    case 'int64':
      return buf.length === 8 ? buf.readBigInt64BE(0) : undefined;
    case 'bool':
      return buf.length === 1 ? buf[0] !== 0 : undefined;
    case 'float32':
      return buf.length === 4 ? buf.readFloatBE(0) : undefined;
    case 'float64':
      return buf.length === 8 ? buf.readDoubleBE(0) : undefined;
    case 'ipv6addr':
      return buf.length === 16 ? ipv6FromBytes(buf) : undefined;
    case 'combo-ip':
      return buf.length === 4 ? ipv4FromBytes(buf) : buf.length === 16 ? ipv6FromBytes(buf) : undefined;
    case 'ipv4prefix':
      return decodeIpv4Prefix(buf);
    case 'ipv6prefix':
      return decodeIpv6Prefix(buf);
    case 'combo-prefix':
      return buf.length === 6 && buf[1] <= 32 ? decodeIpv4Prefix(buf) : decodeIpv6Prefix(buf);
    case 'ifid':
      return buf.length === 8 ? hex4(buf, 0) + ':' + hex4(buf, 2) + ':' + hex4(buf, 4) + ':' + hex4(buf, 6) : undefined;
    case 'ether':
      return buf.length === 6 ? buf.toString('hex').replace(/(..)(?!$)/g, '$1:') : undefined;
    case 'date': case 'time_delta':
      return decodeTime(da, buf);
    default:
      return undefined;
  }
}
