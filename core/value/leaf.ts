/**
 * Facts about leaf data types: sizes, integer ranges, JS representation.
 */

import type { DataType, LeafType, Value } from '../types/data-types';
import type { DictAttr } from '../dict/attr';

/** Integer types held as JS numbers. */
export type SmallIntType = 'uint8' | 'uint16' | 'uint32' | 'int8' | 'int16' | 'int32';
/** Integer types held as bigint. */
export type BigIntType = 'uint64' | 'int64' | 'size';
/** All integer types. */
export type IntType = SmallIntType | BigIntType;

/** Inclusive ranges of the number-valued integer types. */
export const INT_RANGE: Readonly<Record<SmallIntType, readonly [number, number]>> = Object.freeze({
  uint8: [0, 0xff], uint16: [0, 0xffff], uint32: [0, 0xffffffff],
  int8: [-0x80, 0x7f], int16: [-0x8000, 0x7fff], int32: [-0x80000000, 0x7fffffff],
});

/** Inclusive ranges of the bigint-valued integer types. */
export const BIGINT_RANGE: Readonly<Record<BigIntType, readonly [bigint, bigint]>> = Object.freeze({
  uint64: [0n, 0xffffffffffffffffn], size: [0n, 0xffffffffffffffffn], int64: [-0x8000000000000000n, 0x7fffffffffffffffn],
});

const LEAF_TYPES = new Set<string>([
  'string', 'octets', 'abinary', 'ipaddr', 'ipv6addr', 'ipv4prefix', 'ipv6prefix', 'combo-ip', 'combo-prefix',
  'ifid', 'ether', 'bool', 'uint8', 'uint16', 'uint32', 'uint64', 'int8', 'int16', 'int32', 'int64',
  'float32', 'float64', 'date', 'time_delta', 'size', 'attribute',
]);

/** True for leaf (value-holding) data types. */
export function isLeafType(t: DataType | string): t is LeafType {
  return LEAF_TYPES.has(t);
}

/** True for the number-valued integer types. */
export function isSmallIntType(t: string): t is SmallIntType {
  return t in INT_RANGE;
}

/** True for the bigint-valued integer types (`uint64`, `int64`, `size`). */
export function isBigIntType(t: string): t is BigIntType {
  return t === 'uint64' || t === 'int64' || t === 'size';
}

/** True for all integer types. */
export function isIntType(t: string): t is IntType {
  return isSmallIntType(t) || isBigIntType(t);
}

/** True for integer and float types (those that support arithmetic). */
export function isNumericType(t: string): boolean {
  return isIntType(t) || t === 'float32' || t === 'float64';
}

const FIXED_SIZE: Partial<Record<LeafType, number>> = {
  uint8: 1, int8: 1, bool: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, ipaddr: 4,
  uint64: 8, int64: 8, size: 8, float64: 8, ifid: 8, ether: 6, ipv6addr: 16, date: 4, time_delta: 4,
  ipv4prefix: 6,
};

/**
 * Default RADIUS wire size in bytes of a fixed-size leaf type, or undefined
 * for variable-size types (string, octets, abinary, ipv6prefix, combo-*).
 * `date`/`time_delta` are 4 unless the attribute says otherwise (see
 * `wireSize`).
 */
export function leafTypeSize(type: LeafType): number | undefined {
  return FIXED_SIZE[type];
}

/**
 * Wire size of a fixed-size attribute, honouring `subtype` / `length` flags
 * of `date` and `time_delta` and fixed `length` of string/octets. Undefined
 * for variable-size attributes.
 */
export function wireSize(da: DictAttr): number | undefined {
  const t = da.type as LeafType;
  if (t === 'date' || t === 'time_delta') return timeWireSize(da);
  if ((t === 'octets' || t === 'string') && da.flags.length && !da.flags.bits) return da.flags.length;
  return FIXED_SIZE[t];
}

/** Byte size and signedness of a date/time_delta attribute on the wire. */
export function timeWireSize(da: DictAttr): number {
  const st = da.flags.subtype;
  if (st) {
    const s = FIXED_SIZE[st];
    if (s) return s;
  }
  if (da.flags.length === 2 || da.flags.length === 4 || da.flags.length === 8) return da.flags.length;
  return 4;
}

/** True when a time_delta attribute's wire integer is signed (the default). */
export function timeWireSigned(da: DictAttr): boolean {
  if (da.type === 'date') return false;
  const st = da.flags.subtype;
  return !(st && st.startsWith('uint'));
}

/** The JS `typeof`-style kind a value of `type` has. */
export function jsKindOf(type: LeafType): 'string' | 'number' | 'bigint' | 'boolean' | 'buffer' {
  switch (type) {
    case 'octets': case 'abinary': return 'buffer';
    case 'bool': return 'boolean';
    case 'uint64': case 'int64': case 'size': return 'bigint';
    case 'uint8': case 'uint16': case 'uint32': case 'int8': case 'int16': case 'int32':
    case 'float32': case 'float64': case 'date': case 'time_delta':
      return 'number';
    default:
      return 'string';
  }
}

/**
 * Best leaf type for a bare JS value (for literals built in code):
 * string → `string`, Buffer → `octets`, boolean → `bool`, bigint → `uint64`
 * (or `int64` when negative), integer number → `uint32`/`int32`/`int64`
 * by range, other numbers → `float64`.
 */
export function typeOfJsValue(v: Value): LeafType {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return v < 0n ? 'int64' : 'uint64';
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return 'float64';
    if (v >= 0 && v <= 0xffffffff) return 'uint32';
    if (v >= -0x80000000 && v < 0) return 'int32';
    return 'int64';
  }
  return 'octets';
}

/** True when `v` has the JS shape required for `type` (no range check). */
export function isValueOfType(v: Value, type: LeafType): boolean {
  const k = jsKindOf(type);
  return k === 'buffer' ? Buffer.isBuffer(v) : typeof v === k;
}
