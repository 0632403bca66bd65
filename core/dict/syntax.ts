/**
 * Low-level pieces of the dictionary syntax: line tokens, numbers and OIDs,
 * data type names, flag lists and VALUE literals. Every function reports a
 * problem through the `fail` callback, which the loader turns into a located
 * `DictError`.
 */
import { Encrypt, type AttrFlags } from './types';
import type { DataType, LeafType, TimePrecision, Value } from '../types/data-types';

/** Reports a problem; never returns. */
export type Fail = (message: string) => never;

/**
 * Split one dictionary line into tokens, dropping a trailing `#` comment
 * (a `#` at the start of the line or after white space).
 */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    let c = line.charCodeAt(i);
    // Skip white space (space, tab, CR, VT, FF).
    while (c === 32 || (c >= 9 && c <= 13)) {
      if (++i >= n) return out;
      c = line.charCodeAt(i);
    }
    if (c === 35 /* # */) return out;
    const start = i;
    while (i < n) {
      c = line.charCodeAt(i);
      if (c === 32 || (c >= 9 && c <= 13)) break;
      i++;
    }
    out.push(line.slice(start, i));
  }
  return out;
}

const DECIMAL = /^[0-9]+$/;
const HEX = /^0x[0-9a-f]+$/i;

/** Parse one non-negative integer written in decimal or `0x` hex; undefined when malformed. */
export function parseUint(text: string): number | undefined {
  if (DECIMAL.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  if (HEX.test(text)) {
    const n = parseInt(text.slice(2), 16);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

/** A parsed attribute number: `1`, `0x1a`, `241.1`, `26.9.1` or relative `.1`, `.1.2`. */
export interface Oid {
  /** Leading dot: relative to the last attribute defined with a non-relative number. */
  relative: boolean;
  parts: number[];
}

/** Parse an attribute number or dotted OID. */
export function parseOid(text: string, fail: Fail): Oid {
  const relative = text.startsWith('.');
  const body = relative ? text.slice(1) : text;
  const pieces = body.split('.');
  const parts: number[] = [];
  for (const p of pieces) {
    const n = parseUint(p);
    if (n === undefined || n > 0xffffffff) {
      // FreeRADIUS's wording: one bad number, or a bad component of a dotted OID.
      fail(pieces.length === 1 && !relative ? 'Invalid ATTRIBUTE number' : `Invalid OID component "${p}" (0)`);
    }
    parts.push(n);
  }
  return { relative, parts };
}

/** Result of parsing a data type name such as `uint32`, `octets[16]`, `bit[3]` or `extended`. */
export interface TypeSpec {
  type: DataType | 'auto';
  /** Fixed size from `[n]`. */
  length?: number;
  bits?: boolean;
  extended?: boolean;
  longExtended?: boolean;
}

const TYPE_NAMES: Record<string, DataType | 'auto'> = {
  string: 'string', octets: 'octets', abinary: 'abinary',
  ipaddr: 'ipaddr', ipv4addr: 'ipaddr', ipv6addr: 'ipv6addr',
  ipv4prefix: 'ipv4prefix', ipv6prefix: 'ipv6prefix',
  'combo-ip': 'combo-ip', 'combo-prefix': 'combo-prefix',
  ifid: 'ifid', ether: 'ether', bool: 'bool',
  uint8: 'uint8', uint16: 'uint16', uint32: 'uint32', uint64: 'uint64',
  int8: 'int8', int16: 'int16', int32: 'int32', int64: 'int64',
  float32: 'float32', float64: 'float64',
  date: 'date', time_delta: 'time_delta', size: 'size',
  // a value naming an attribute (`::Vendor-Specific.Cisco.AVPair`)
  attribute: 'attribute',
  // v3 names
  byte: 'uint8', short: 'uint16', integer: 'uint32', integer64: 'uint64', signed: 'int32',
  // structural
  tlv: 'tlv', struct: 'struct', vsa: 'vsa', evs: 'vsa', group: 'group', union: 'union',
  vendor: 'vendor',
  auto: 'auto',
};

const TYPE_WITH_SIZE = /^([a-z0-9_]+)\[([0-9]+)\]$/i;

/** Parse a data type name (v3 and v4 spellings). */
export function parseType(text: string, fail: Fail, member = false): TypeSpec {
  const lower = text.toLowerCase();
  if (lower === 'extended') return { type: 'tlv', extended: true };
  if (lower === 'long-extended' || lower === 'long_extended') return { type: 'tlv', longExtended: true };
  const sized = TYPE_WITH_SIZE.exec(lower);
  if (sized) {
    const base = sized[1]!;
    const n = Number(sized[2]);
    if (base === 'bit') {
      if (!member) fail(`'${text}': bit fields are only allowed in MEMBER`);
      if (n < 1 || n > 64) fail(`'${text}': bit field size must be 1..64`);
      return { type: n <= 8 ? 'uint8' : n <= 16 ? 'uint16' : n <= 32 ? 'uint32' : 'uint64', length: n, bits: true };
    }
    if (base !== 'octets' && base !== 'string') fail(`Attributes of type '${sized[1]}' cannot use the ${sized[1]}[...] syntax`);
    if (n < 1 || n > 65535) fail(`Invalid length for '${base}[...]'`);
    return { type: base, length: n };
  }
  const t = TYPE_NAMES[lower];
  if (t === undefined) fail(`unknown data type '${text}'`);
  return { type: t };
}

/** Flags as written, before the loader resolves references. */
export interface ParsedFlags {
  flags: AttrFlags;
  /** `abinary` flag on an `octets` attribute. */
  abinary?: boolean;
}

const PRECISIONS = new Set<TimePrecision>([
  'seconds', 'milliseconds', 'microseconds', 'nanoseconds',
  'centiseconds', 'minutes', 'hours', 'days', 'weeks', 'months', 'years',
]);

const INTEGER_TYPES = new Set<string>(['uint8', 'uint16', 'uint32', 'uint64', 'int8', 'int16', 'int32', 'int64']);

/**
 * Parse the flag tokens after the type (`has_tag,encrypt=2`, `secret unsafe`,
 * `precision=milliseconds,subtype=uint16` …). Unknown flags fail.
 */
export function parseFlags(tokens: string[], fail: Fail): ParsedFlags {
  const flags: AttrFlags = {};
  const out: ParsedFlags = { flags };
  for (const tok of tokens) {
    for (const item of tok.split(',')) {
      if (item === '') continue;
      const eq = item.indexOf('=');
      const key = (eq < 0 ? item : item.slice(0, eq)).toLowerCase();
      const val = eq < 0 ? undefined : item.slice(eq + 1);
      const needValue = (): string => {
        if (val === undefined || val === '') fail(`flag '${key}' needs a value`);
        return val;
      };
      const noValue = (): void => {
        if (val !== undefined) fail(`flag '${key}' takes no value`);
      };
      switch (key) {
        case 'internal': noValue(); flags.internal = true; break;
        case 'array': noValue(); flags.array = true; break;
        case 'concat': noValue(); flags.concat = true; break;
        case 'has_tag': noValue(); flags.hasTag = true; break;
        case 'virtual': noValue(); flags.virtual = true; break;
        case 'secret': noValue(); flags.secret = true; break;
        case 'unsafe': noValue(); flags.unsafe = true; break;
        case 'counter': noValue(); flags.counter = true; break;
        case 'flat': noValue(); flags.flat = true; break;
        case 'abinary': noValue(); out.abinary = true; break;
        case 'extended': noValue(); flags.extended = true; break;
        case 'long_extended': case 'long-extended': noValue(); flags.longExtended = true; break;
        case 'encrypt': flags.encrypt = parseEncrypt(needValue(), fail); break;
        case 'precision': {
          const p = needValue().toLowerCase() as TimePrecision;
          if (!PRECISIONS.has(p)) fail(`unknown precision '${val}'`);
          flags.precision = p;
          break;
        }
        case 'subtype': {
          const spec = parseType(needValue(), fail);
          if (!INTEGER_TYPES.has(spec.type)) fail(`subtype must be an integer type, not '${val}'`);
          flags.subtype = spec.type as LeafType;
          break;
        }
        case 'length': {
          const n = parseUint(needValue());
          if (n === undefined || n < 1 || n > 65535) fail(`invalid length '${val}'`);
          flags.length = n;
          break;
        }
        case 'offset': {
          const n = parseUint(needValue());
          if (n === undefined) fail(`invalid offset '${val}'`);
          flags.offset = n;
          break;
        }
        case 'key':
          if (val === undefined) flags.key = true;
          else flags.unionKey = needValue();
          break;
        case 'ref': flags.ref = needValue(); break;
        case 'clone': flags.clone = needValue(); break;
        case 'enum': flags.enumRef = needValue(); break;
        default:
          fail(`unknown flag '${item}'`);
      }
    }
  }
  return out;
}

function parseEncrypt(text: string, fail: Fail): Encrypt {
  switch (text.toLowerCase()) {
    case '0': return Encrypt.None;
    case '1': case 'user-password': return Encrypt.UserPassword;
    case '2': case 'tunnel-password': return Encrypt.TunnelPassword;
    case '3': case 'ascend-secret': return Encrypt.AscendSecret;
    default: return fail(`unknown encrypt method '${text}'`);
  }
}

const INT_RANGES: Record<string, [number, number]> = {
  uint8: [0, 0xff], uint16: [0, 0xffff], uint32: [0, 0xffffffff],
  int8: [-0x80, 0x7f], int16: [-0x8000, 0x7fff], int32: [-0x80000000, 0x7fffffff],
};

/** Parse a signed decimal or hex integer as bigint; undefined when malformed. */
function parseBigInt(text: string): bigint | undefined {
  let neg = false;
  let body = text;
  if (body.startsWith('-')) { neg = true; body = body.slice(1); } else if (body.startsWith('+')) body = body.slice(1);
  if (!DECIMAL.test(body) && !HEX.test(body)) return undefined;
  const n = BigInt(body);
  return neg ? -n : n;
}

/**
 * Parse the value of a `VALUE` line for an attribute of the given type, into
 * the JS representation of `core/types/data-types.ts`.
 */
export function parseValueLiteral(type: DataType, text: string, fail: Fail): Value {
  const range = INT_RANGES[type];
  if (range) {
    const n = parseBigInt(text);
    if (n === undefined) fail(`Failed parsing string as type '${type}'`);
    if (n > BigInt(range[1])) fail('integer overflow');
    if (n < BigInt(range[0])) fail('integer underflow');
    return Number(n);
  }
  switch (type) {
    case 'uint64': case 'size': {
      const n = parseBigInt(text);
      if (n === undefined) fail(`Failed parsing string as type '${type}'`);
      if (n > 0xffffffffffffffffn) fail('integer overflow');
      if (n < 0n) fail('integer underflow');
      return n;
    }
    case 'int64': {
      const n = parseBigInt(text);
      if (n === undefined) fail(`Failed parsing string as type '${type}'`);
      if (n >= 1n << 63n) fail('integer overflow');
      if (n < -(1n << 63n)) fail('integer underflow');
      return n;
    }
    case 'float32': case 'float64': case 'date': case 'time_delta': {
      const n = Number(text);
      if (text === '' || !Number.isFinite(n)) fail(`Failed parsing string as type '${type}'`);
      return n;
    }
    case 'bool':
      switch (text.toLowerCase()) {
        case 'true': case 'yes': case '1': return true;
        case 'false': case 'no': case '0': return false;
        default: return fail(`Failed parsing string as type 'bool'`);
      }
    case 'octets': case 'abinary':
      if (/^0x([0-9a-f]{2})*$/i.test(text)) return Buffer.from(text.slice(2), 'hex');
      return Buffer.from(text, 'utf8');
    case 'ether':
      return text.toLowerCase();
    case 'string': case 'ipaddr': case 'ipv6addr': case 'ipv4prefix': case 'ipv6prefix':
    case 'combo-ip': case 'combo-prefix': case 'ifid':
      return text;
    default:
      return fail(`VALUE is not allowed for ${type} attributes`);
  }
}

/**
 * Convert an enumerated value to another attribute type (used by `enum=`,
 * e.g. a uint64 ENUM referenced from a uint32 attribute). Undefined when it does not fit.
 */
export function castValue(v: Value, type: DataType): Value | undefined {
  const range = INT_RANGES[type];
  if (range) {
    if (typeof v !== 'number' && typeof v !== 'bigint') return undefined;
    const n = Number(v);
    return Number.isInteger(n) && n >= range[0] && n <= range[1] ? n : undefined;
  }
  if (type === 'uint64' || type === 'int64' || type === 'size') {
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
    return undefined;
  }
  return v;
}
