/**
 * Typed values as the unlang evaluator sees them ("value boxes").
 *
 * An expression evaluates to a list of boxes (`Box[]`): an attribute reference
 * with `[*]` gives several, a missing attribute gives none. Each box carries its
 * data type, its JS value (see `core/types/data-types.ts`), and, when it came from an
 * attribute, the attribute definition (for enum names) and the pair (for
 * write-back in `foreach`).
 *
 * This file holds the operations the evaluator needs on boxes: printing, casting,
 * comparison, arithmetic and truthiness.
 */

import type { DictAttr } from '../../dict/attr';
import type { LeafType, Value } from '../../types/data-types';
import type { Pair } from '../../pair/pair';
import { parseValue } from '../../value/parse';
import { printValueUnquoted } from '../../value/print';
import { PRECISION_SCALE } from '../../value/time';
import { ipv4ToInt, ipv4FromInt, splitPrefix } from '../../value/ip';
import { BIGINT_RANGE, INT_RANGE, isBigIntType, isIntType, isSmallIntType } from '../../value/leaf';
import { castValue, compareOp, compareResult, toNetwork, type CompareOperator } from '../../value/ops';

/** Data types a box may have: a leaf type, or `group` for a structural pair. */
export type BoxType = LeafType | 'group';

/** One typed value. */
export interface Box {
  type: BoxType;
  value: Value;
  /** The attribute it came from (enum names, precision). */
  da?: DictAttr;
  /** The pair it came from (structural boxes, foreach write-back). */
  pair?: Pair;
  /**
   * The escaping this value is already safe for (FreeRADIUS's `safe_for`): set by a module's
   * `%<instance>.safe()` and `.escape()`, kept through casts to the same type and through
   * assignment to an attribute or local variable. Absent (the default): escaped when expanded
   * into a module's text.
   */
  safeFor?: SafeFor;
}

/**
 * The mark of values an escape function leaves as they are: a name of the escaping (the SQL
 * module uses `sql.<driver>`, as FreeRADIUS marks values safe for a driver, not an instance).
 */
export type SafeFor = string;

/**
 * Escapes one expanded value for a module's text (an SQL statement, an LDAP filter, a file
 * name). `safeFor` is the value's mark: an escape returns the value unchanged when the mark is
 * its own. An escape that ignores it escapes every value.
 */
export type ValueEscape = (value: string, safeFor?: SafeFor) => string;

/**
 * The text of expanded values with `escape` applied to each: the values are joined and escaped
 * once, unless one of them carries a `safeFor` mark (then each is escaped with its own).
 */
export function escapeBoxes(l: readonly Box[], escape: ValueEscape): string {
  let marked = false;
  for (let i = 0; i < l.length; i++) if (l[i].safeFor !== undefined) { marked = true; break; }
  if (!marked) {
    if (l.length === 1) return escape(boxToString(l[0]));
    let s = '';
    for (const b of l) s += boxToString(b);
    return escape(s);
  }
  let s = '';
  for (const b of l) s += escape(boxToString(b), b.safeFor);
  return s;
}

/** Error raised by value operations; the evaluator turns it into a run-time failure. */
export class BoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BoxError';
  }
}

/** Type-name aliases accepted in declarations and casts (`integer`, `byte` …). */
export const TYPE_ALIASES: Readonly<Record<string, BoxType>> = {
  string: 'string', octets: 'octets', ipaddr: 'ipaddr', ipv4addr: 'ipaddr', ipv6addr: 'ipv6addr',
  ipv4prefix: 'ipv4prefix', ipv6prefix: 'ipv6prefix', 'combo-ip': 'combo-ip', 'combo-prefix': 'combo-prefix',
  ifid: 'ifid', ether: 'ether', bool: 'bool', boolean: 'bool',
  uint8: 'uint8', uint16: 'uint16', uint32: 'uint32', uint64: 'uint64',
  int8: 'int8', int16: 'int16', int32: 'int32', int64: 'int64',
  byte: 'uint8', short: 'uint16', integer: 'uint32', integer64: 'uint64', signed: 'int32',
  float32: 'float32', float64: 'float64', date: 'date', time_delta: 'time_delta', size: 'size',
  abinary: 'abinary', group: 'group',
};

/** True for integer and float types. */
export function isNumeric(t: BoxType): boolean {
  return isIntType(t) || t === 'float32' || t === 'float64' || t === 'date' || t === 'time_delta' || t === 'bool';
}

/** Makes a box. */
export function box(type: BoxType, value: Value, da?: DictAttr): Box {
  return da ? { type, value, da } : { type, value };
}

/** The string form of a box for expansion: enum names bare, no quotes. */
export function boxToString(b: Box): string {
  if (b.type === 'group') return '';
  if (b.type === 'string') return b.value as string;
  if (b.type === 'octets' && Buffer.isBuffer(b.value)) return '0x' + b.value.toString('hex');
  if (b.type === 'date' && typeof b.value === 'number' && !b.da) return String(Math.trunc(b.value));
  return printValueUnquoted(b.da ?? (b.type as LeafType), b.value);
}

/** A value as text for string functions: octets give their bytes, anything else prints. */
export function boxAsText(b: Box): string {
  if (b.type === 'octets' && Buffer.isBuffer(b.value)) return b.value.toString('utf8');
  return boxToString(b);
}

/**
 * Network-order bytes of a value, as FreeRADIUS `%hex()` and `(octets)` casts see it: the
 * network form of `core/value` ({@link toNetwork}), except that strings give their UTF-8
 * text, date and time_delta give 4 bytes of their value, and combo-prefix (and group)
 * give their printed text.
 */
export function boxToOctets(b: Box): Buffer {
  const v = b.value;
  switch (b.type) {
    case 'string': return Buffer.from(v as string, 'utf8');
    case 'date': case 'time_delta': {
      const o = Buffer.alloc(4); o.writeUInt32BE(Number(BigInt.asUintN(32, BigInt(Math.trunc(Number(v)))))); return o;
    }
    case 'combo-prefix': case 'group': return Buffer.from(boxToString(b), 'utf8');
    default: return toNetwork(b.type, v);
  }
}

/** Byte length of a value in its network form (FreeRADIUS `%length()`). */
export function boxLength(b: Box): number {
  if (b.type === 'ipv6prefix') return 17;
  return boxToOctets(b).length;
}

function toBigInt(b: Box): bigint {
  const v = b.value;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(b.type === 'time_delta' && b.da ? v * timeScale(b) : v));
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (Buffer.isBuffer(v)) return v.length === 0 ? 0n : BigInt('0x' + v.toString('hex'));
  if (b.type === 'ipaddr') return BigInt(ipv4ToInt(v) >>> 0);
  return BigInt(parseValue('int64', String(v)) as bigint);
}

/** Units per second of a time box (its attribute's precision; seconds by default). */
function timeScale(b: Box): number {
  const p = b.da?.flags.precision;
  return p ? PRECISION_SCALE[p] : 1;
}

function toNumber(b: Box): number {
  const v = b.value;
  if (typeof v === 'number') return b.type === 'time_delta' && b.da ? v * timeScale(b) : v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (Buffer.isBuffer(v)) return Number(toBigInt(b));
  if (b.type === 'ipaddr') return ipv4ToInt(v) >>> 0;
  const n = Number(v);
  if (Number.isNaN(n)) throw new BoxError(`Cannot convert "${v}" to a number`);
  return n;
}

function checkRange(t: BoxType, n: number | bigint): void {
  const r = isSmallIntType(t) ? INT_RANGE[t] : undefined;
  if (r && (Number(n) < r[0] || Number(n) > r[1])) throw new BoxError(`Value ${n} is out of range for ${t}`);
  const br = isBigIntType(t) ? BIGINT_RANGE[t] : undefined;
  if (br && (BigInt(n) < br[0] || BigInt(n) > br[1])) throw new BoxError(`Value ${n} is out of range for ${t}`);
}

/**
 * Parses text into a box of `type` (enum names looked up through `da`).
 * @throws BoxError
 */
export function parseBox(type: BoxType, text: string, da?: DictAttr): Box {
  if (type === 'group') throw new BoxError('Cannot parse a value for a structural attribute');
  try {
    return box(type, parseValue(type, text, da), da);
  } catch (e) {
    throw new BoxError((e as Error).message);
  }
}

/**
 * A box's value as `core/value` sees it: a `time_delta` of an attribute with a precision
 * (`milliseconds` …) counts in that unit when it meets another type.
 */
function scaled(b: Box): Value {
  return b.type === 'time_delta' && b.da?.flags.precision && typeof b.value === 'number' ? b.value * timeScale(b) : b.value;
}

/**
 * Casts a box to another type. The conversion itself is `castValue` of `core/value/ops.ts`
 * (the one implementation of the FreeRADIUS cast rules, e.g. only a /32 prefix becomes an
 * address); the box adds what only it knows: strings are parsed with the target attribute's
 * enum names, printing uses the source attribute's enum names, and `(octets)` gives the
 * {@link boxToOctets} form.
 * @throws BoxError
 */
export function castBox(b: Box, to: BoxType, da?: DictAttr): Box {
  if (b.type === to) {
    if (!da || b.da === da) return b;
    const c = box(to, b.value, da);
    if (b.safeFor !== undefined) c.safeFor = b.safeFor;
    return c;
  }
  if (to === 'group' || b.type === 'group') throw new BoxError(`Cannot cast ${b.type} to ${to}`);
  if (to === 'string') {
    // Octets become their bytes as text; everything else prints.
    if (b.type === 'octets' && Buffer.isBuffer(b.value)) return box('string', b.value.toString('utf8'), da);
    return box('string', boxToString(b), da);
  }
  if (to === 'octets' || to === 'abinary') return box(to, boxToOctets(b), da);
  if (b.type === 'string') return parseBox(to, b.value as string, da);
  try {
    return box(to, castValue(scaled(b), b.type, to, b.da), da);
  } catch (e) {
    throw new BoxError((e as Error).message);
  }
}

/** FreeRADIUS truthiness: non-zero numbers, non-empty strings and octets, `true`. */
export function isTruthy(b: Box): boolean {
  const v = b.value;
  switch (typeof v) {
    case 'boolean': return v;
    case 'number': return v !== 0;
    case 'bigint': return v !== 0n;
    case 'string':
      if (b.type === 'ipaddr') return v !== '0.0.0.0';
      return v.length > 0;
    default:
      if (b.type === 'group') return true;
      return Buffer.isBuffer(v) ? v.length > 0 : true;
  }
}

/** True when the list has at least one truthy value. */
export function listTruthy(l: readonly Box[]): boolean {
  for (const b of l) if (isTruthy(b)) return true;
  return false;
}

/** Comparison operators over values (those of `core/value`). */
export type CmpOp = CompareOperator;

/**
 * Compares two boxes with `op`: `compareOp` of `core/value/ops.ts` (the one implementation:
 * the other side's type wins, numbers compare numerically, an address against a prefix tests
 * containment, `<` = strictly inside). The box adds enum names (a string against an attribute
 * with named values is parsed through it) and never throws: values that cannot be brought to
 * one type compare as printed text.
 */
export function compareBoxes(a: Box, op: CmpOp, b: Box): boolean {
  const ta = a.type;
  const tb = b.type;
  if (ta === 'group' || tb === 'group') return compareResult(op, strCmp(boxToString(a), boxToString(b)));
  if (ta !== tb) {
    // Enum names: `Service-Type == "Framed-User"` with the string on either side.
    if (ta === 'string' && b.da?.values) { try { a = parseBox(tb, a.value as string, b.da); } catch { /* compared below */ } }
    else if (tb === 'string' && a.da?.values) { try { b = parseBox(ta, b.value as string, a.da); } catch { /* compared below */ } }
  }
  try {
    return compareOp(op, scaled(a), a.type as LeafType, scaled(b), b.type as LeafType);
  } catch {
    return compareResult(op, strCmp(boxToString(a), boxToString(b)));
  }
}

function strCmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Arithmetic and bitwise operators. */
export type ArithOp = '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '<<' | '>>';

/**
 * Applies an arithmetic or bitwise operator. Strings and octets concatenate with
 * `+` (and `-` removes a suffix); integers are computed exactly (BigInt when 64-bit)
 * and the result type widens as needed; `hint` is the wanted result type, if any.
 * @throws BoxError on division by zero, overflow of `hint`, or unsupported types.
 */
export function arith(a: Box, op: ArithOp, b: Box, hint?: BoxType): Box {
  let ta = a.type;
  const tb = b.type;
  if (ta === 'string' || (ta === 'octets' && op !== '&' && op !== '|' && op !== '^')) {
    if (ta === 'string') {
      const x = a.value as string;
      const y = boxToString(b);
      if (op === '+') return box('string', x + y);
      // A number minus a number (`%redis('ZSCORE', …) - %c`) is arithmetic; otherwise `-` removes a suffix.
      if (op === '-' && !(isNumeric(tb) && /^\s*[+-]?\d+(\.\d+)?\s*$/.test(x))) return box('string', y !== '' && x.endsWith(y) ? x.slice(0, x.length - y.length) : x);
      if (op === '^') return box('string', y + x);
      if ((op === '<<' || op === '>>') && isNumeric(tb) && !/^\s*[+-]?\d+(\.\d+)?\s*$/.test(x)) {
        // Truncation (FreeRADIUS v4 edit.adoc): `<<` drops the first n bytes, `>>` the last n.
        const xb = Buffer.from(x, 'utf8');
        const n = Math.max(0, Number(toNumber(b)));
        return box('string', (op === '<<' ? xb.subarray(Math.min(n, xb.length)) : xb.subarray(0, Math.max(0, xb.length - n))).toString('utf8'));
      }
      if ((op === '&' || op === '|') && !isNumeric(tb)) {
        // Byte-wise on the strings' bytes (as for octets).
        const xb = Buffer.from(x, 'utf8');
        const yb = Buffer.from(y, 'utf8');
        const o = Buffer.alloc(xb.length);
        for (let i = 0; i < xb.length; i++) o[i] = op === '&' ? xb[i] & (yb[i] ?? 0) : xb[i] | (yb[i] ?? 0);
        return box('string', o.toString('latin1'));
      }
      // A string that holds a number takes part in arithmetic.
      if (isNumeric(tb)) { a = castBox(a, tb); ta = tb; }
      else throw new BoxError(`Cannot apply ${op} to strings`);
    } else {
      const x = a.value as Buffer;
      const y = boxToOctets(b);
      if (op === '+') return box('octets', Buffer.concat([x, y]));
      if (op === '<<' || op === '>>') {
        // Byte shifts: `<<` drops leading bytes, `>>` drops trailing ones.
        const n = Number(castBox(b, 'uint32').value);
        return box('octets', op === '<<' ? x.subarray(Math.min(n, x.length)) : x.subarray(0, Math.max(0, x.length - n)));
      }
      if (op === '-') return box('octets', y.length && x.length >= y.length && x.subarray(x.length - y.length).equals(y) ? x.subarray(0, x.length - y.length) : x);
      throw new BoxError(`Cannot apply ${op} to octets`);
    }
  }
  if (ta === 'octets' && (op === '&' || op === '|' || op === '^')) {
    const x = a.value as Buffer;
    const y = boxToOctets(b);
    const out = Buffer.alloc(x.length);
    for (let i = 0; i < x.length; i++) {
      const yi = y[i] ?? 0;
      out[i] = op === '&' ? x[i] & yi : op === '|' ? x[i] | yi : x[i] ^ yi;
    }
    return box('octets', out);
  }
  if (ta === 'ipaddr' && (op === '+' || op === '-') && isIntType(tb)) {
    const n = (ipv4ToInt(a.value as string) >>> 0) + (op === '+' ? 1 : -1) * toNumber(b);
    return box('ipaddr', ipv4FromInt(n >>> 0));
  }
  if (ta === 'ipv4prefix' && op === '+' && isIntType(tb)) {
    const { addr } = splitPrefix(a.value as string);
    return box('ipaddr', ipv4FromInt(((ipv4ToInt(addr) >>> 0) + toNumber(b)) >>> 0));
  }
  // Fast path: 32-bit (and smaller) integers in plain numbers.
  if (typeof a.value === 'number' && typeof b.value === 'number' && isSmallIntType(ta) && isSmallIntType(tb)) {
    const x = a.value;
    const y = b.value;
    let r: number | undefined;
    switch (op) {
      case '+': r = x + y; break;
      case '-': r = x - y; break;
      case '*': r = x * y; break;
      case '/': if (y === 0) throw new BoxError('Division by zero'); r = Math.trunc(x / y); break;
      case '%': if (y === 0) throw new BoxError('Division by zero'); r = x % y; break;
      default: break;
    }
    if (r !== undefined && Number.isSafeInteger(r)) {
      if (hint && isSmallIntType(hint)) { checkRange(hint, r); return box(hint, r); }
      if (!hint || hint === 'string' || !isNumeric(hint)) {
        const signed = ta.startsWith('int') || tb.startsWith('int') || r < 0;
        if (r >= -0x80000000 && r <= 0xffffffff && !(signed && r > 0x7fffffff)) return box(signed ? 'int32' : 'uint32', r);
      }
    }
  }
  const numA = ta === 'string' ? castBox(a, 'int64') : a;
  const numB = tb === 'string' ? castBox(b, numA.type) : b;
  if ((numA.type === 'time_delta' || numA.type === 'date') && (numB.type === 'time_delta' || numB.type === 'date') && (op === '+' || op === '-')) {
    // Times add and subtract in seconds, whatever unit they print in.
    const r = op === '+' ? (numA.value as number) + (numB.value as number) : (numA.value as number) - (numB.value as number);
    const t: BoxType = numA.type === 'date' && numB.type === 'date' ? 'time_delta' : numA.type === 'date' || numB.type === 'date' ? 'date' : 'time_delta';
    return hint && isNumeric(hint) && hint !== t ? castBox(box(t, r), hint) : box(t, r);
  }
  const fa = numA.type === 'float32' || numA.type === 'float64' || numA.type === 'time_delta' || numA.type === 'date';
  const fb = numB.type === 'float32' || numB.type === 'float64' || numB.type === 'time_delta' || numB.type === 'date';
  if (fa || fb) {
    const x = toNumber(numA);
    const y = toNumber(numB);
    let r: number;
    switch (op) {
      case '+': r = x + y; break;
      case '-': r = x - y; break;
      case '*': r = x * y; break;
      case '/': if (y === 0) throw new BoxError('Division by zero'); r = x / y; break;
      case '%': if (y === 0) throw new BoxError('Division by zero'); r = x % y; break;
      default: throw new BoxError(`Cannot apply ${op} to floating point values`);
    }
    let t: BoxType = numA.type === 'date' && numB.type === 'date' ? 'time_delta' : fa ? numA.type : numB.type;
    if (hint && isNumeric(hint)) return castBox(box(t, r), hint);
    return box(t, r);
  }
  const big = typeof numA.value === 'bigint' || typeof numB.value === 'bigint' || (hint !== undefined && isBigIntType(hint));
  const x = toBigInt(numA);
  const y = toBigInt(numB);
  let r: bigint;
  switch (op) {
    case '+': r = x + y; break;
    case '-': r = x - y; break;
    case '*': r = x * y; break;
    case '/': if (y === 0n) throw new BoxError('Division by zero'); r = x / y; break;
    case '%': if (y === 0n) throw new BoxError('Division by zero'); r = x % y; break;
    case '&': r = x & y; break;
    case '|': r = x | y; break;
    case '^': r = x ^ y; break;
    case '<<': r = x << y; break;
    case '>>': r = x >> y; break;
  }
  if (hint && hint !== 'string' && isNumeric(hint)) {
    return castBox(box(r < 0n ? 'int64' : 'uint64', r), hint);
  }
  const signed = numA.type.startsWith('int') || numB.type.startsWith('int') || r < 0n;
  if (!big && r >= -0x80000000n && r <= 0xffffffffn) {
    const t: BoxType = signed ? (r >= -0x80000000n && r <= 0x7fffffffn ? 'int32' : 'int64') : 'uint32';
    return t === 'int64' ? box(t, r) : box(t, Number(r));
  }
  return box(signed ? 'int64' : 'uint64', r);
}

/** Unary minus / bitwise not. */
export function unary(op: '-' | '~', a: Box): Box {
  if (op === '-') {
    if (typeof a.value === 'bigint') return box('int64', -a.value);
    const n = -toNumber(a);
    if (a.type === 'float32' || a.type === 'float64' || a.type === 'time_delta') return box(a.type, n);
    return Number.isInteger(n) && n >= -0x80000000 ? box('int32', n) : box('int64', BigInt(n));
  }
  if (typeof a.value === 'bigint') return box(a.type, BigInt.asUintN(64, ~a.value));
  if (a.type === 'octets') return box('octets', Buffer.from((a.value as Buffer).map((x) => ~x & 0xff)));
  const n = toNumber(a);
  const t = a.type;
  if (t === 'uint8') return box(t, ~n & 0xff);
  if (t === 'uint16') return box(t, ~n & 0xffff);
  if (t === 'uint32') return box(t, ~n >>> 0);
  return box('int32', ~n);
}

/**
 * Infers the type of an unquoted literal: integers, hex octets, IPv4/IPv6
 * addresses and prefixes, MAC addresses, booleans, time deltas with a unit,
 * floats. Returns undefined when the text is none of these (a bare word).
 */
export function inferLiteral(text: string): Box | undefined {
  if (/^-?\d+$/.test(text)) {
    const n = BigInt(text);
    if (n >= 0n && n <= 0xffffffffn) return box('uint32', Number(n));
    if (n < 0n && n >= -0x80000000n) return box('int32', Number(n));
    if (n < 0n) return box('int64', n);
    if (n <= 0xffffffffffffffffn) return box('uint64', n);
    return undefined;
  }
  if (/^0x[0-9a-f]*$/i.test(text)) return box('octets', Buffer.from(text.slice(2).length % 2 ? '0' + text.slice(2) : text.slice(2), 'hex'));
  if (/^-?\d+\.\d+$/.test(text)) return box('float64', Number(text));
  if (text === 'true' || text === 'yes') return box('bool', true);
  if (text === 'false' || text === 'no') return box('bool', false);
  if (/^\d+(\.\d+)?(ns|us|ms|s|m|h|d|w)$/.test(text)) {
    if (text.endsWith('w')) return box('time_delta', Number(text.slice(0, -1)) * 7 * 86400);
    try { return parseBox('time_delta', text); } catch { return undefined; }
  }
  if (/^\d+(\.\d+){3}$/.test(text)) { try { return parseBox('ipaddr', text); } catch { return undefined; } }
  if (/^\d+(\.\d+){0,3}\/\d+$/.test(text)) { try { return parseBox('ipv4prefix', text); } catch { return undefined; } }
  if (/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(text)) { try { return parseBox('ether', text); } catch { return undefined; } }
  if (text.includes(':') && /^[0-9a-f:.]+(\/\d+)?$/i.test(text) && !text.startsWith('::') || /^::[0-9a-f:.]*(\/\d+)?$/i.test(text)) {
    try { return parseBox(text.includes('/') ? 'ipv6prefix' : 'ipv6addr', text); } catch { return undefined; }
  }
  return undefined;
}
