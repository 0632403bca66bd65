/**
 * FreeRADIUS's binary operation on two typed values (`fr_value_calc_binary_op`): arithmetic,
 * bit operations, concatenation (`.`), comparisons and the assignment operators (`:=`, `+=` …),
 * with an optional output type the result is cast to.
 *
 * Integer arithmetic is done in 64 bits (unsigned when both sides are unsigned) and the result
 * cast to the output type, so `uint8 255 + uint8 255 -> uint8` fails on the cast, while
 * `uint32 1000 - uint32 999 -> uint8` gives 1; an unsigned subtraction below zero is an
 * underflow of the left-hand type. Strings and octets repeat with `*`; an IPv4 address masked
 * with a network mask (`&`) gives a prefix. The rest is {@link arith} and {@link compareBoxes}.
 */

import { BIGINT_RANGE, INT_RANGE, isBigIntType, isIntType, isSmallIntType } from '../../value/leaf';
import { ipv4FromInt, ipv4ToInt, ipv6FromBytes, ipv6ToBytes, maskIpv6, splitPrefix } from '../../value/ip';
import { bytesToString } from '../../value/utf8';
import { arith, box, boxToOctets, castBox, compareBoxes, BoxError, type ArithOp, type Box, type BoxType, type CmpOp } from './box';

/** Operators of {@link calcBinary}. */
export type CalcOp = ArithOp | '.' | CmpOp | ':=' | '+=' | '-=' | '*=' | '/=' | '%=' | '|=' | '&=' | '^=' | '.=' | '<<=' | '>>=';

const CMP = new Set<string>(['==', '!=', '<', '<=', '>', '>=']);
const ARITH = new Set<string>(['+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>', '.']);

function isUnsigned(t: BoxType): boolean {
  return t === 'uint8' || t === 'uint16' || t === 'uint32' || t === 'uint64' || t === 'size';
}

/** Number of leading one bits of a contiguous network mask, or -1 when it is not one. */
function maskBits(mask: bigint, width: number): number {
  let n = 0;
  for (let i = width - 1; i >= 0; i--) {
    if ((mask >> BigInt(i)) & 1n) n++;
    else break;
  }
  const want = n === 0 ? 0n : ((1n << BigInt(n)) - 1n) << BigInt(width - n);
  return want === mask ? n : -1;
}

function bigOf(b: Box): bigint {
  const v = b.value;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (Buffer.isBuffer(v)) return v.length ? BigInt('0x' + v.toString('hex')) : 0n;
  return BigInt(ipv4ToInt(v as string) >>> 0);
}

/** `addr & mask` with a contiguous mask: the network prefix. */
export function maskAddress(a: Box, b: Box, out: BoxType | undefined): Box | undefined {
  const v4 = (x: Box) => x.type === 'ipaddr' || (x.type === 'combo-ip' && !(x.value as string).includes(':'));
  if (v4(a) && (isIntType(b.type) || b.type === 'octets' || v4(b))) {
    const mask = bigOf(b) & 0xffffffffn;
    const bits = maskBits(mask, 32);
    if (bits < 0) throw new BoxError(`Invalid network mask '0x${mask.toString(16).padStart(8, '0')}'`);
    const net = ipv4FromInt(Number(BigInt(ipv4ToInt(a.value as string) >>> 0) & mask)) + '/' + bits;
    const r = box('ipv4prefix', net);
    return out && out !== 'ipv4prefix' ? castBox(r, out) : r;
  }
  if ((a.type === 'ipv6addr' || a.type === 'combo-ip') && b.type === 'octets') {
    const m = b.value as Buffer;
    if (m.length !== 16) throw new BoxError(`Invalid network mask length ${m.length}`);
    const bits = maskBits(BigInt('0x' + m.toString('hex')), 128);
    if (bits < 0) throw new BoxError(`Invalid network mask '0x${m.toString('hex')}'`);
    const bytes = new Uint8Array(16);
    ipv6ToBytes(a.value as string, bytes);
    maskIpv6(bytes, bits);
    const r = box('ipv6prefix', ipv6FromBytes(bytes) + '/' + bits);
    return out && out !== 'ipv6prefix' ? castBox(r, out) : r;
  }
  return undefined;
}

/** Integer arithmetic in 64 bits, then the cast to the output type. */
function intCalc(a: Box, op: ArithOp, b: Box, out: BoxType | undefined): Box {
  const x = bigOf(a);
  const y = bigOf(b);
  const unsigned = isUnsigned(a.type) && isUnsigned(b.type);
  let r: bigint;
  switch (op) {
    case '+': r = x + y; break;
    case '-':
      if (unsigned && y > x) throw new BoxError(`Value underflows '${a.type}' when calculating result.`);
      r = x - y;
      break;
    case '*': r = x * y; break;
    case '/': if (y === 0n) throw new BoxError('Cannot divide by zero.'); r = x / y; break;
    case '%': if (y === 0n) throw new BoxError('Cannot divide by zero.'); r = x % y; break;
    case '&': r = x & y; break;
    case '|': r = x | y; break;
    case '^': r = x ^ y; break;
    case '<<': r = x << y; break;
    case '>>': r = x >> y; break;
    default: throw new BoxError(`Invalid operator ${op}`);
  }
  const wide: BoxType = unsigned && r >= 0n ? 'uint64' : 'int64';
  const [lo, hi] = BIGINT_RANGE[wide as 'uint64' | 'int64'];
  if (r > hi) throw new BoxError(`Value overflows '${wide}' when calculating result.`);
  if (r < lo) throw new BoxError(`Value underflows '${wide}' when calculating result.`);
  const w = box(wide, r);
  if (out === undefined) {
    // No output type: the wider of the two input types, when the value fits.
    const pick = [a.type, b.type].find((t) => isIntType(t) && fits(t, r)) ?? wide;
    return castBox(w, pick);
  }
  return castBox(w, out);
}

function fits(t: BoxType, r: bigint): boolean {
  if (isSmallIntType(t)) { const [lo, hi] = INT_RANGE[t]; return r >= BigInt(lo) && r <= BigInt(hi); }
  if (isBigIntType(t)) { const [lo, hi] = BIGINT_RANGE[t]; return r >= lo && r <= hi; }
  return false;
}

/** `a * n` for strings and octets: `a` repeated `n` times (n ≥ 1, non-empty `a`). */
function repeat(a: Box, b: Box): Box {
  const n = Number(bigOf(castBox(b, 'uint32')));
  const len = a.type === 'string' ? (a.value as string).length : (a.value as Buffer).length;
  if (n <= 0 || len === 0) throw new BoxError('');
  return a.type === 'string' ? box('string', (a.value as string).repeat(n)) : box('octets', Buffer.concat(Array(n).fill(a.value as Buffer)));
}

/**
 * `a op b`, cast to `out` when given (comparisons give `bool`).
 * @throws BoxError with FreeRADIUS's message when the operation or the cast fails.
 */
export function calcBinary(a: Box, op: CalcOp, b: Box, out?: BoxType): Box {
  if (CMP.has(op)) {
    const isIp = (t: BoxType) => t === 'ipaddr' || t === 'ipv6addr' || t === 'combo-ip' || t === 'ipv4prefix' || t === 'ipv6prefix' || t === 'combo-prefix';
    if (isIp(a.type) && isIp(b.type)) {
      const v6 = (x: Box) => splitPrefix(x.value as string).addr.includes(':');
      if (v6(a) !== v6(b)) throw new BoxError('Cannot compare IPv4 with IPv6 address');
    }
    if (a.type === 'string' && b.type !== 'string' && b.type !== 'octets') a = castBox(a, b.type);
    else if (b.type === 'string' && a.type !== 'string' && a.type !== 'octets') b = castBox(b, a.type);
    const r = box('bool', compareBoxes(a, op as CmpOp, b));
    return out && out !== 'bool' ? castBox(r, out) : r;
  }
  if (op === ':=') return out ? castBox(b, out) : castBox(b, a.type);
  if (op.length >= 2 && op.endsWith('=')) {
    // `a op= b` is `a op b`, kept in a's type.
    return calcBinary(a, op.slice(0, -1) as CalcOp, b, out ?? a.type);
  }
  if (!ARITH.has(op)) throw new BoxError(`Invalid operator ${op}`);
  if (op === '.') {
    if (a.type === 'string') return castBox(box('string', (a.value as string) + castBox(b, 'string').value), out ?? 'string');
    const r = box('octets', Buffer.concat([boxToOctets(a), boxToOctets(b)]));
    return out ? castBox(r, out) : r;
  }
  if (op === '*' && (a.type === 'string' || a.type === 'octets') && b.type !== 'string' && b.type !== 'octets') return castBox(repeat(a, b), out ?? a.type);
  if (op === '&') {
    const m = maskAddress(a, b, out);
    if (m) return m;
  }
  if (a.type === 'combo-prefix' && !(a.value as string).includes(':')) a = castBox(a, 'ipv4prefix');
  if ((a.type === 'float32' || a.type === 'float64') && (op === '/' || op === '%') && Number(b.value) === 0) throw new BoxError('Cannot divide by zero.');
  if (isIntType(a.type) && isIntType(b.type)) return intCalc(a, op as ArithOp, b, out);
  const r = arith(a, op as ArithOp, b, out);
  if (out && r.type !== out) return castBox(r, out);
  if (!out && (a.type === 'float32' || a.type === 'float64') && a.type === b.type && r.type !== a.type) return castBox(r, a.type);
  return r;
}


/**
 * An operator applied across several values (`fr_value_calc_nary_op`): `+` into a string or
 * octets output concatenates (octets as their bytes, other types as printed or in their binary
 * form); otherwise the values fold left with {@link calcBinary} and the result is cast to `out`.
 * @throws BoxError
 */
export function calcNary(op: CalcOp, values: readonly Box[], out: BoxType): Box {
  if (values.length === 0) throw new BoxError('No values to calculate');
  if (op === '+' && out === 'string') {
    let s = '';
    for (const v of values) s += v.type === 'octets' ? bytesToString(v.value as Buffer) : (castBox(v, 'string').value as string);
    return box('string', s);
  }
  if (op === '+' && out === 'octets') return box('octets', Buffer.concat(values.map(boxToOctets)));
  let acc = values[0];
  for (let i = 1; i < values.length; i++) acc = calcBinary(acc, op, values[i]);
  return castBox(acc, out);
}
