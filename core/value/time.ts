/**
 * `date` and `time_delta` text forms.
 *
 * Both are JS numbers of seconds (fractional allowed, see `types.ts`). The
 * attribute's `precision` (default seconds) sets the unit of bare integers
 * on input and the number of sub-second digits on output.
 */

import type { TimePrecision } from '../types/data-types';
import { ValueError } from './errors';

/** Units per second for each precision. */
export const PRECISION_SCALE: Readonly<Record<TimePrecision, number>> = Object.freeze({
  seconds: 1,
  milliseconds: 1e3,
  microseconds: 1e6,
  nanoseconds: 1e9,
  centiseconds: 100,
  minutes: 1 / 60,
  hours: 1 / 3600,
  days: 1 / 86400,
  weeks: 1 / 604800,
  months: 1 / 2629746,
  years: 1 / 31556952,
});

/** Sub-second digits printed for dates. */
const FRACTION_DIGITS: Readonly<Record<TimePrecision, number>> = {
  seconds: 0, milliseconds: 3, microseconds: 6, nanoseconds: 9, centiseconds: 2,
  minutes: 0, hours: 0, days: 0, weeks: 0, months: 0, years: 0,
};

const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, sec: 1, m: 60, min: 60, h: 3600, d: 86400, w: 604800,
};

/**
 * Parses a time delta: `10`, `1.5`, `-2`, with an optional unit suffix
 * (`ns`, `us`, `ms`, `s`, `m`/`min`, `h`, `d`, `w`), or `[H:]M:S`. A number without
 * unit is in `precision` units (default seconds). Returns seconds.
 */
export function parseTimeDelta(text: string, precision: TimePrecision = 'seconds'): number {
  const t = text.trim();
  let m = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)\s*([a-zµ]*)$/i.exec(t);
  if (m) {
    const num = +m[2];
    const unitText = m[3].toLowerCase();
    let factor: number;
    if (unitText === '') factor = 1 / PRECISION_SCALE[precision];
    else if (unitText in UNIT_SECONDS) factor = UNIT_SECONDS[unitText];
    else throw new ValueError(`Invalid time_delta unit "${m[3]}"`);
    const v = num * factor;
    return m[1] === '-' ? (v === 0 ? 0 : -v) : v;
  }
  m = /^([+-]?)(\d+):(\d+)(?::(\d+))?$/.exec(t);
  if (m) {
    let h = 0;
    let min: number;
    let s: number;
    if (m[4] !== undefined) {
      h = +m[2];
      min = +m[3];
      s = +m[4];
    } else {
      min = +m[2];
      s = +m[3];
    }
    if (min > 60) throw new ValueError('minutes component of time_delta is too large');
    if (s > 60) throw new ValueError('seconds component of time_delta is too large');
    const v = h * 3600 + min * 60 + s;
    return m[1] === '-' ? -v : v;
  }
  throw new ValueError(`Failed to parse time_delta "${text}"`);
}

/** Seconds → decimal text in `precision` units, trailing zeros trimmed (`1.5`, `65`). */
export function printTimeDelta(v: number, precision: TimePrecision = 'seconds'): string {
  const scale = PRECISION_SCALE[precision];
  const units = v * scale;
  if (Number.isInteger(units)) return String(units);
  const digits = scale >= 1 ? 9 - Math.round(Math.log10(scale)) : 9;
  let s = units.toFixed(digits);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function fail(text: string, why?: string): never {
  throw new ValueError(`Failed to parse date "${text}"${why ? ': ' + why : ''}`);
}

/**
 * Parses a date. Accepted forms:
 * - an unsigned integer: a Unix time in `precision` units;
 * - RFC 3339: `2019-08-21T07:40:31.123-04:00`, `…Z`, also with a space
 *   instead of `T`, and a bare `2019-08-21`;
 * - the FreeRADIUS v3 style `Aug 21 2019 07:40:31 UTC` (optional weekday,
 *   `21 Aug 2019` order, optional time, zone `UTC`/`GMT`/`Z`/`±HH[:]MM`).
 *
 * Times without a zone are taken as UTC (this library never reads the local
 * zone). Returns seconds since the epoch.
 */
export function parseDate(text: string, precision: TimePrecision = 'seconds'): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) return +t / PRECISION_SCALE[precision];
  let m = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|z|[+-]\d{2}:?\d{2})?)?$/.exec(t);
  if (m) {
    const [, y, mo, d, hh = '0', mi = '0', ss = '0', frac, tz] = m;
    if (+mo < 1 || +mo > 12) fail(text, 'Invalid month');
    if (+d < 1 || +d > 31) fail(text, 'Invalid day');
    if (+hh > 23) fail(text, 'Invalid hour');
    if (+mi > 59) fail(text, 'Invalid minute');
    if (+ss > 60) fail(text, 'Invalid seconds');
    let secs = Date.UTC(+y, +mo - 1, +d, +hh, +mi, +ss) / 1000;
    if (frac) secs += +('0.' + frac);
    secs -= tzOffset(tz);
    return secs;
  }
  m = /^(?:[a-z]{3,9},?\s+)?(?:([a-z]{3,9})\s+(\d{1,2})|(\d{1,2})\s+([a-z]{3,9})),?\s+(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?(?:\s+([a-z]+|[+-]\d{2}:?\d{2}))?$/i.exec(t);
  if (m) {
    const monName = (m[1] ?? m[4]).slice(0, 3).toLowerCase();
    const mon = MONTHS.indexOf(monName);
    if (mon < 0) fail(text, 'Invalid month');
    const day = +(m[2] ?? m[3]);
    if (day < 1 || day > 31) fail(text, 'Invalid day');
    const hh = +(m[6] ?? 0);
    const mi = +(m[7] ?? 0);
    const ss = +(m[8] ?? 0);
    if (hh > 23 || mi > 59 || ss > 60) fail(text, 'Invalid time');
    return Date.UTC(+m[5], mon, day, hh, mi, ss) / 1000 - tzOffset(m[9]);
  }
  fail(text);
}

/** Offset east of UTC in seconds for `Z`, `UTC`, `GMT`, `+05:30`, `-0400`; other zone names count as UTC. */
function tzOffset(tz: string | undefined): number {
  if (!tz) return 0;
  const u = tz.toUpperCase();
  if (u === 'Z' || u === 'UTC' || u === 'GMT' || u === 'UT') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(tz);
  // Other zone names (`EDT`, `WIB`): FreeRADIUS reads the time and ignores the name, and so do we
  // (an abbreviation does not say which zone it is: `IST` is three of them).
  if (!m && /^[A-Z]{2,6}$/.test(u)) return 0;
  if (!m) throw new ValueError(`Unknown time zone "${tz}"`);
  if (+m[2] > 23 || +m[3] > 59) throw new ValueError(`Invalid time zone "${tz}"`);
  const off = +m[2] * 3600 + +m[3] * 60;
  return m[1] === '-' ? -off : off;
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/**
 * Seconds since the epoch → RFC 3339 UTC text, with as many sub-second digits
 * as `precision` asks for (none for seconds): `2019-08-21T11:40:31.123Z`.
 * Dates outside years 0–9999 print as an integer in precision units.
 */
export function printDate(v: number, precision: TimePrecision = 'seconds'): string {
  const digits = FRACTION_DIGITS[precision];
  let whole = Math.floor(v);
  let frac = 0;
  if (digits > 0) {
    const scale = 10 ** digits;
    frac = Math.round((v - whole) * scale);
    if (frac >= scale) {
      whole += 1;
      frac -= scale;
    }
  }
  const d = new Date(whole * 1000);
  const year = d.getUTCFullYear();
  if (Number.isNaN(d.getTime()) || year < 0 || year > 9999) {
    // Outside RFC 3339: print the integer in precision units, which parses back.
    const units = v * PRECISION_SCALE[precision];
    return Number.isFinite(units) ? BigInt(Math.round(units)).toString() : String(v);
  }
  let s = pad(d.getUTCFullYear(), 4) + '-' + pad(d.getUTCMonth() + 1, 2) + '-' + pad(d.getUTCDate(), 2) + 'T' +
    pad(d.getUTCHours(), 2) + ':' + pad(d.getUTCMinutes(), 2) + ':' + pad(d.getUTCSeconds(), 2);
  if (digits > 0) s += '.' + pad(frac, digits);
  return s + 'Z';
}
