/**
 * Text → value for every leaf type, following FreeRADIUS v4 input forms.
 */

import type { LeafType, TimePrecision, Value } from '../types/data-types';
import type { DictAttr } from '../dict/attr';
import { ValueError } from './errors';
import { BIGINT_RANGE, INT_RANGE, isBigIntType, isSmallIntType, type BigIntType, type SmallIntType } from './leaf';
import { parseIpv4, parseIpv6 } from './ip';
import { parseDate, parseTimeDelta } from './time';
import { stringToBytes } from './utf8';
import { parseAscendFilter } from './ascend';

const DEC_RE = /^[+-]?[0-9]+$/;
const HEX_RE = /^0x[0-9a-f]+$/i;

/** Parses a number-valued integer type with range check. */
export function parseSmallInt(type: SmallIntType, text: string): number {
  const t = text.trim();
  let n: number;
  if (HEX_RE.test(t)) {
    if (t.length > 18) throw rangeError(type, text);
    n = Number(BigInt(t));
  } else if (DEC_RE.test(t)) {
    n = Number(t);
  } else {
    throw notParsed(type);
  }
  const [lo, hi] = INT_RANGE[type];
  if (!(n >= lo && n <= hi)) throw rangeError(type, text);
  return n;
}

/** Parses a bigint-valued integer type with range check. */
export function parseBigInt(type: BigIntType, text: string): bigint {
  const t = text.trim();
  let n: bigint;
  if (HEX_RE.test(t)) n = BigInt(t);
  else if (DEC_RE.test(t)) n = BigInt(t);
  else throw notParsed(type);
  const [lo, hi] = BIGINT_RANGE[type];
  if (n < lo || n > hi) throw rangeError(type, text);
  return n;
}

/** FreeRADIUS's wording for text that is not a value of the type. */
function notParsed(type: string): ValueError {
  return new ValueError(`Failed parsing string as type '${type}'`);
}

/** FreeRADIUS's wording for an integer outside the type's range. */
function rangeError(type: string, text: string): ValueError {
  return new ValueError(text.trim().startsWith('-') ? 'integer underflow' : 'integer overflow');
}

/** Parses `0x…` hex into bytes; throws on odd length or bad digits. */
export function parseHex(text: string): Buffer {
  const hex = text.slice(2);
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new ValueError(`Invalid hex string "${text}"`);
  }
  return Buffer.from(hex, 'hex');
}

/** Parses `yes/no/true/false/1/0` (case-insensitive). */
export function parseBool(text: string): boolean {
  switch (text.trim().toLowerCase()) {
    case 'yes': case 'true': case '1': return true;
    case 'no': case 'false': case '0': return false;
    default: throw new ValueError(`Invalid boolean value "${text}"`);
  }
}

/** Parses an interface id: `a:b:c:d` (1–4 hex digits each), or 16 hex digits. Returns `xxxx:xxxx:xxxx:xxxx`. */
export function parseIfid(text: string): string {
  const t = text.trim();
  let words: string[] | undefined;
  if (/^[0-9a-f]{16}$/i.test(t)) {
    words = [t.slice(0, 4), t.slice(4, 8), t.slice(8, 12), t.slice(12, 16)];
  } else if (t.includes('::')) {
    const [a, b] = t.split('::');
    const left = a ? a.split(':') : [];
    const right = b ? b.split(':') : [];
    if (t.indexOf('::') !== t.lastIndexOf('::') || left.length + right.length > 3) words = undefined;
    else words = [...left, ...new Array(4 - left.length - right.length).fill('0'), ...right];
  } else {
    words = t.split(':');
  }
  if (!words || words.length !== 4 || !words.every((w) => /^[0-9a-f]{1,4}$/i.test(w))) {
    throw new ValueError(`Invalid interface ID "${text}"`);
  }
  return words.map((w) => w.toLowerCase().padStart(4, '0')).join(':');
}

/**
 * Parses an Ethernet address: `00:11:22:33:44:55` (also `-` separated, one or
 * two hex digits per byte), `0011.2233.4455`, `001122334455` or `0x001122334455`.
 */
export function parseEther(text: string): string {
  const t = text.trim();
  let bytes: string[] | undefined;
  let m: RegExpExecArray | null;
  if ((m = /^(?:0x)?([0-9a-f]{12})$/i.exec(t))) {
    bytes = m[1].match(/../g)!;
  } else if (/^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i.test(t)) {
    bytes = t.replace(/\./g, '').match(/../g)!;
  } else {
    const parts = t.split(/[:-]/);
    if (parts.length === 6 && parts.every((p) => /^[0-9a-f]{1,2}$/i.test(p))) bytes = parts;
  }
  if (!bytes) throw new ValueError(`Invalid Ethernet address "${text}"`);
  return bytes.map((b) => b.toLowerCase().padStart(2, '0')).join(':');
}

function parseFloatText(type: 'float32' | 'float64', text: string): number {
  const t = text.trim();
  if (!/^[+-]?(?:\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?|inf(?:inity)?|nan)$/i.test(t)) {
    throw notParsed(type);
  }
  const lower = t.toLowerCase().replace(/^\+/, '');
  const n = lower === 'nan' ? NaN : lower.endsWith('inf') || lower.endsWith('infinity') ? (lower.startsWith('-') ? -Infinity : Infinity) : Number(t);
  return type === 'float32' ? Math.fround(n) : n;
}

/**
 * Looks `text` up among the attribute's enumerated names (with or without a
 * leading `::`). Returns undefined when there is no such name.
 */
export function lookupEnum(da: DictAttr | undefined, text: string): Value | undefined {
  if (!da?.values) return undefined;
  const name = text.startsWith('::') ? text.slice(2) : text;
  const v = da.values.get(name.toLowerCase());
  if (v === undefined) return undefined;
  return coerceEnumValue(v, da.type as LeafType);
}

/**
 * Enumerations may be shared between attributes of different integer types
 * (`enum=@.base-enum-uint64` on a uint32): convert the stored value to the
 * JS kind of `type`.
 */
function coerceEnumValue(v: Value, type: LeafType): Value {
  if (typeof v === 'bigint' && isSmallIntType(type)) return Number(v);
  if (typeof v === 'number' && isBigIntType(type)) return BigInt(v);
  return v;
}

/**
 * Parses text (already unquoted and unescaped) into a value of `type`.
 *
 * If `da` has enumerated values, `text` (with or without a leading `::`) is
 * looked up first; for `string` attributes only `::name` is looked up. A
 * `::name` that is not defined is an error.
 *
 * `da` also supplies the `precision` for `date`/`time_delta`.
 *
 * @throws ValueError with a message only (no location).
 */
export function parseValue(type: LeafType, text: string, da?: DictAttr): Value {
  if (da?.values && (type !== 'string' || text.startsWith('::'))) {
    const e = lookupEnum(da, text);
    if (e !== undefined) return coerceEnumValue(e, type);
  }
  if (text.startsWith('::') && type !== 'ipv6addr' && type !== 'ipv6prefix' && type !== 'combo-ip' && type !== 'combo-prefix' && type !== 'string' && type !== 'ifid') {
    throw new ValueError(`Unknown enumeration value "${text.slice(2)}"${da ? ` for attribute ${da.name}` : ''}`);
  }
  const precision: TimePrecision = da?.flags.precision ?? 'seconds';
  switch (type) {
    case 'string':
      return text;
    case 'octets':
      if (text.length >= 2 && text[0] === '0' && (text[1] === 'x' || text[1] === 'X')) return parseHex(text);
      return stringToBytes(text);
    case 'abinary':
      if (text.length >= 2 && text[0] === '0' && (text[1] === 'x' || text[1] === 'X')) return parseHex(text);
      return parseAscendFilter(text);
    case 'bool':
      return parseBool(text);
    case 'uint8': case 'uint16': case 'uint32': case 'int8': case 'int16': case 'int32':
      return parseSmallInt(type, text);
    case 'uint64': case 'int64': case 'size':
      return parseBigInt(type, text);
    case 'float32': case 'float64':
      return parseFloatText(type, text);
    case 'ipaddr':
      return parseIpv4(text.trim(), false);
    case 'ipv4prefix':
      return parseIpv4(text.trim(), true);
    case 'ipv6addr':
      return parseIpv6(text.trim(), false);
    case 'ipv6prefix':
      return parseIpv6(text.trim(), true);
    case 'combo-ip': {
      const t = text.trim();
      return t.includes(':') ? parseIpv6(t, false) : parseIpv4(t, false);
    }
    case 'combo-prefix': {
      const t = text.trim();
      return t.includes(':') ? parseIpv6(t, true) : parseIpv4(t, true);
    }
    case 'ifid':
      return parseIfid(text);
    case 'ether':
      return parseEther(text);
    case 'date':
      return parseDate(text, precision);
    case 'time_delta':
      return parseTimeDelta(text, precision);
    case 'attribute':
      // The name as written, without `::`; resolving it needs the dictionary (core/pair/ref.ts).
      if (!/^(::)?@?[A-Za-z0-9_.\-]+$/.test(text.trim())) throw new ValueError(`Failed parsing string as type 'attribute'`);
      return text.trim().replace(/^::/, '');
    default:
      if (isSmallIntType(type)) return parseSmallInt(type, text);
      if (isBigIntType(type)) return parseBigInt(type, text);
      throw new ValueError(`Cannot parse a value of type ${String(type)}`);
  }
}
