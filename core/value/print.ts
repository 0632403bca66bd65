/**
 * Value → FreeRADIUS v4 presentation text.
 */

import type { LeafType, TimePrecision, Value } from '../types/data-types';
import type { DictAttr } from '../dict/attr';
import { printDate, printTimeDelta } from './time';
import { quoteString } from './text';
import { printAscendFilter } from './ascend';

/** Options of {@link printValue}. */
export interface PrintOptions {
  /** Quote (and escape) strings and dates. Default true. */
  quote?: boolean;
  /** Print enumerated values as `::Name`. Default true. */
  enums?: boolean;
}

function precisionOf(da: DictAttr | LeafType): TimePrecision {
  return typeof da === 'string' ? 'seconds' : da.flags.precision ?? 'seconds';
}

/** Enumerated name of `v`, also across number/bigint (shared `ENUM`s). */
export function enumName(da: DictAttr, v: Value): string | undefined {
  if (!da.valueNames) return undefined;
  const name = da.nameOfValue(v);
  if (name !== undefined) return name;
  if (typeof v === 'number' && Number.isInteger(v)) return da.nameOfValue(BigInt(v));
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return da.nameOfValue(Number(v));
  return undefined;
}

function ifidText(v: string): string {
  return v.split(':').map((w) => parseInt(w, 16).toString(16)).join(':');
}

/** Hex text of bytes with a `0x` prefix (lower case). */
export function hexText(b: Buffer): string {
  return '0x' + b.toString('hex');
}

function baseText(type: LeafType, v: Value, precision: TimePrecision): string {
  switch (type) {
    case 'octets':
      return hexText(v as Buffer);
    case 'abinary':
      return printAscendFilter(v as Buffer) ?? hexText(v as Buffer);
    case 'bool':
      return v ? 'yes' : 'no';
    case 'date':
      return printDate(v as number, precision);
    case 'time_delta':
      return printTimeDelta(v as number, precision);
    case 'ifid':
      return ifidText(v as string);
    case 'string':
      return v as string;
    case 'attribute':
      return '::' + String(v);
    case 'float32':
      // FreeRADIUS prints float32 with C's "%f" (six decimals).
      return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(6) : String(v);
    default:
      if (Buffer.isBuffer(v)) return hexText(v);
      return String(v);
  }
}

/**
 * Prints a value as FreeRADIUS v4 does in `Name = value` lists.
 *
 * - strings: double-quoted, escaped by `escapeString` (`quote: false` gives the bare text);
 * - octets/abinary: `0x` + lower-case hex;
 * - enumerated values: `::Name` (unless `enums: false`);
 * - date: quoted RFC 3339 UTC, sub-second digits per precision (`"1970-01-11T00:00:00Z"`);
 * - time_delta: decimal in the attribute's precision units (`5` for 5 ms at millisecond precision);
 * - bool: `yes`/`no`; ifid: `%x:%x:%x:%x`; addresses and prefixes: their canonical text.
 *
 * `da` may be an attribute (for enums and precision) or just a leaf type.
 */
export function printValue(da: DictAttr | LeafType, v: Value, opts?: PrintOptions): string {
  const type = (typeof da === 'string' ? da : da.type) as LeafType;
  if (typeof da !== 'string' && da.valueNames && opts?.enums !== false) {
    const name = enumName(da, v);
    if (name !== undefined) return '::' + name;
  }
  const quote = opts?.quote !== false;
  if (type === 'string') {
    const s = typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('latin1') : String(v);
    return quote ? quoteString(s, '"') : s;
  }
  if (type === 'abinary') {
    const f = printAscendFilter(v as Buffer);
    if (f === undefined) return hexText(v as Buffer);
    return quote ? quoteString(f, '"') : f;
  }
  if (type === 'time_delta' && typeof da !== 'string' && da.flags.subtype?.startsWith('uint') && (v as number) < 0) {
    return '0'; // unsigned wire type: negative deltas print as zero, as FreeRADIUS does
  }
  const text = baseText(type, v, precisionOf(da));
  return quote && type === 'date' ? '"' + text + '"' : text;
}

/**
 * Prints a value for string expansion (xlat): no quotes, no escaping, and
 * enumerated values by bare name (no `::`).
 */
export function printValueUnquoted(da: DictAttr | LeafType, v: Value): string {
  const type = (typeof da === 'string' ? da : da.type) as LeafType;
  if (typeof da !== 'string' && da.valueNames) {
    const name = enumName(da, v);
    if (name !== undefined) return name;
  }
  return baseText(type, v, precisionOf(da));
}
