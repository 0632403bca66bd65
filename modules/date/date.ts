/**
 * The `date` instance: FreeRADIUS v4 rlm_date. `%<instance>(<arg>)`:
 * - `now` / `request`: the current time / the request's time, printed with `format`;
 * - a date or integer value (an attribute such as Event-Timestamp, or digits): that time, printed;
 * - any other string: read with `format` (strptime(3)), giving a `date`.
 * `utc` chooses UTC or local time for both directions.
 */
import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { MODULE_CONFIG, MODULE_NAME, box } from '../../core';
import type { BootstrapContext, Box, ConfigAt } from '../../core';
import type { DateConfig } from './config';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const p = (n: number, w = 2, c = '0') => String(n).padStart(w, c);

/** The broken-down fields of a time, in UTC or local time. */
function fields(t: number, utc: boolean) {
  const d = new Date(t * 1000);
  const g = utc
    ? { Y: d.getUTCFullYear(), m: d.getUTCMonth(), d: d.getUTCDate(), H: d.getUTCHours(), M: d.getUTCMinutes(), S: d.getUTCSeconds(), w: d.getUTCDay() }
    : { Y: d.getFullYear(), m: d.getMonth(), d: d.getDate(), H: d.getHours(), M: d.getMinutes(), S: d.getSeconds(), w: d.getDay() };
  const off = utc ? 0 : -d.getTimezoneOffset();
  const zone = utc ? 'UTC' : (Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? '');
  const yday = Math.floor((Date.UTC(g.Y, g.m, g.d) - Date.UTC(g.Y, 0, 1)) / 86400000) + 1;
  return { ...g, off, zone, yday };
}

/** strftime(3) for the conversions FreeRADIUS configurations use. */
export function strftime(format: string, t: number, utc: boolean): string {
  const f = fields(Math.floor(t), utc);
  const conv: Record<string, () => string> = {
    Y: () => String(f.Y), y: () => p(f.Y % 100), C: () => p(Math.floor(f.Y / 100)),
    m: () => p(f.m + 1), d: () => p(f.d), e: () => p(f.d, 2, ' '), j: () => p(f.yday, 3),
    H: () => p(f.H), k: () => p(f.H, 2, ' '), I: () => p(((f.H + 11) % 12) + 1), l: () => p(((f.H + 11) % 12) + 1, 2, ' '),
    M: () => p(f.M), S: () => p(f.S), p: () => (f.H < 12 ? 'AM' : 'PM'),
    a: () => DAYS[f.w].slice(0, 3), A: () => DAYS[f.w], b: () => MONTHS[f.m].slice(0, 3), h: () => MONTHS[f.m].slice(0, 3), B: () => MONTHS[f.m],
    u: () => String(f.w === 0 ? 7 : f.w), w: () => String(f.w), s: () => String(Math.floor(t)),
    z: () => `${f.off < 0 ? '-' : '+'}${p(Math.floor(Math.abs(f.off) / 60))}${p(Math.abs(f.off) % 60)}`, Z: () => f.zone,
    F: () => `${f.Y}-${p(f.m + 1)}-${p(f.d)}`, T: () => `${p(f.H)}:${p(f.M)}:${p(f.S)}`, R: () => `${p(f.H)}:${p(f.M)}`,
    D: () => `${p(f.m + 1)}/${p(f.d)}/${p(f.Y % 100)}`, n: () => '\n', t: () => '\t', '%': () => '%',
  };
  return format.replace(/%([a-zA-Z%])/g, (m, c: string) => conv[c]?.() ?? m);
}

/** strptime(3) for the same conversions; undefined when `text` does not match `format`. */
export function strptime(format: string, text: string, utc: boolean): number | undefined {
  const v = { Y: 1970, m: 0, d: 1, H: 0, M: 0, S: 0, pm: undefined as boolean | undefined, off: undefined as number | undefined, epoch: undefined as number | undefined };
  let i = 0;
  const num = (max: number): number | undefined => {
    while (text[i] === ' ') i++;
    const m = new RegExp(`^[+-]?\\d{1,${max}}`).exec(text.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    return Number(m[0]);
  };
  const word = (list: string[]): number | undefined => {
    const rest = text.slice(i).toLowerCase();
    for (const [k, n] of list.entries()) {
      for (const cand of [n.toLowerCase(), n.slice(0, 3).toLowerCase()]) {
        if (rest.startsWith(cand)) { i += cand.length; return k; }
      }
    }
    return undefined;
  };
  const expanded = format.replace(/%F/g, '%Y-%m-%d').replace(/%T/g, '%H:%M:%S').replace(/%R/g, '%H:%M').replace(/%D/g, '%m/%d/%y');
  for (let k = 0; k < expanded.length; k++) {
    const c = expanded[k];
    if (c === ' ') { while (text[i] === ' ') i++; continue; }
    if (c !== '%') { if (text[i] !== c) return undefined; i++; continue; }
    const x = expanded[++k];
    let n: number | undefined;
    switch (x) {
      case 'Y': n = num(4); if (n === undefined) return undefined; v.Y = n; break;
      case 'y': n = num(2); if (n === undefined) return undefined; v.Y = n < 69 ? 2000 + n : 1900 + n; break;
      case 'm': n = num(2); if (n === undefined) return undefined; v.m = n - 1; break;
      case 'd': case 'e': n = num(2); if (n === undefined) return undefined; v.d = n; break;
      case 'H': case 'k': case 'I': case 'l': n = num(2); if (n === undefined) return undefined; v.H = n; break;
      case 'M': n = num(2); if (n === undefined) return undefined; v.M = n; break;
      case 'S': n = num(2); if (n === undefined) return undefined; v.S = n; break;
      case 's': n = num(12); if (n === undefined) return undefined; v.epoch = n; break;
      case 'j': n = num(3); if (n === undefined) return undefined; v.m = 0; v.d = n; break;
      case 'b': case 'B': case 'h': n = word(MONTHS); if (n === undefined) return undefined; v.m = n; break;
      case 'a': case 'A': if (word(DAYS) === undefined) return undefined; break;
      case 'p': { const r = text.slice(i, i + 2).toUpperCase(); if (r !== 'AM' && r !== 'PM') return undefined; v.pm = r === 'PM'; i += 2; break; }
      case 'z': {
        const m = /^([+-])(\d\d):?(\d\d)/.exec(text.slice(i));
        if (m) { v.off = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])); i += m[0].length; } else if (text[i] === 'Z') { v.off = 0; i++; } else return undefined;
        break;
      }
      case 'Z': { const m = /^[A-Za-z]+/.exec(text.slice(i)); if (m) { if (/^(UTC|GMT|Z)$/i.test(m[0])) v.off = 0; i += m[0].length; } break; }
      case 'n': case 't': while (/\s/.test(text[i] ?? '')) i++; break;
      case '%': if (text[i] !== '%') return undefined; i++; break;
      default: return undefined;
    }
  }
  if (i !== text.length) return undefined;
  if (v.epoch !== undefined) return v.epoch;
  if (v.pm !== undefined) v.H = (v.H % 12) + (v.pm ? 12 : 0);
  if (v.off !== undefined) return Date.UTC(v.Y, v.m, v.d, v.H, v.M, v.S) / 1000 - v.off * 60;
  return (utc ? Date.UTC(v.Y, v.m, v.d, v.H, v.M, v.S) : new Date(v.Y, v.m, v.d, v.H, v.M, v.S).getTime()) / 1000;
}

/** The definition's `validate`: a format with at least one conversion. */
export function validateDate(c: DateConfig, at: ConfigAt): void {
  if (!/%[a-zA-Z]/.test(c.format)) at('format', `"${c.format}" has no strftime conversion (such as %Y)`);
}

/** The `date` module instance. */
@injectable()
export class DateModule {
  constructor(
    @inject(MODULE_CONFIG) private readonly config: DateConfig,
    @inject(MODULE_NAME) private readonly name: string,
  ) {}

  bootstrap(ctx: BootstrapContext): void {
    ctx.registerXlat(this.name, (x, args) => this.xlat(x.request.received, args[0] ?? []), { minArgs: 1, maxArgs: 1 });
  }

  private xlat(received: number, arg: Box[]): Box[] {
    const { format, utc } = this.config;
    if (arg.length !== 1) throw new Error(`${this.name}: expected one value`);
    const b = arg[0];
    if (b.type === 'date' || b.type === 'time_delta' || /^u?int\d+$/.test(b.type)) return [box('string', strftime(format, Number(b.value), utc))];
    const t = String(b.value);
    if (t === 'now') return [box('string', strftime(format, Date.now() / 1000, utc))];
    if (t === 'request') return [box('string', strftime(format, received, utc))];
    if (/^\d+$/.test(t)) return [box('string', strftime(format, Number(t), utc))];
    const s = strptime(format, t, utc);
    if (s === undefined) throw new Error(`${this.name}: "${t}" does not match the format "${format}"`);
    return [box('date', s)];
  }
}
