/**
 * The config schema DSL, re-exported as `conf` from `core/config/schema.ts`:
 *
 * ```ts
 * import { conf } from '../../core/config/schema';
 * export const LdapConfig = conf.section({
 *   server: conf.string({ required: true, doc: 'LDAP URI.' }),
 *   password: conf.string({ secret: true }),
 *   port: conf.integer({ default: 389, min: 1, max: 65535 }),
 *   timeout: conf.duration({ default: '30s', min: '1s' }),
 *   mode: conf.enum(['a', 'b'] as const, { default: 'a' }),
 *   servers: conf.list(conf.ipaddr()),
 *   pool: conf.subsection(conf.section({ start: conf.integer({ default: 5 }) })),
 * });
 * export type LdapConfig = conf.Infer<typeof LdapConfig>;
 * ```
 *
 * A scalar field without `default` and without `required: true` infers `T | undefined`.
 */
import * as net from 'node:net';
import { unescapeValue, type ConfItem, type QuoteKind } from './ast';

/** Reports a conversion failure; the caller adds the location and owner. */
export type Fail = (message: string) => never;

/** Common options of every field. */
export interface FieldOpts {
  /** One-line documentation, used by `describeSchema`. */
  doc?: string;
}

/** A scalar field: one pair `name = value`. `T` is the converted type. */
export interface ScalarField<T> {
  readonly kind: 'scalar';
  /** Type name for docs (`string`, `integer`, `duration`, `enum (a, b)` …). */
  readonly typeName: string;
  readonly doc?: string;
  readonly required: boolean;
  readonly secret: boolean;
  /** The default as written (for docs), undefined when none. */
  readonly defaultText?: string;
  /** Convert a written value; `quote` tells how it was written. */
  convert(value: string, quote: QuoteKind, fail: Fail): T;
  /** The converted default, or undefined. */
  readonly defaultValue?: T;
  /** Phantom for type inference. */
  readonly __type?: { t: T };
}

/** A repeated pair (or repeated subsection): every occurrence is one element. */
export interface ListField<T> {
  readonly kind: 'list';
  readonly item: ScalarField<T> | SubsectionField<T>;
  readonly doc?: string;
  readonly min?: number;
  readonly __type?: { t: T[] };
}

/** A nested section `name { … }` parsed with its own schema. */
export interface SubsectionField<T> {
  readonly kind: 'subsection';
  readonly schema: SectionSchema<Fields>;
  readonly doc?: string;
  /** When true an absent subsection gives `undefined`; otherwise it is parsed as empty (defaults apply). */
  readonly optional: boolean;
  readonly __type?: { t: T };
}

/** Keeps the raw tree items of that name (pairs and sections), e.g. an unlang body. */
export interface RawField {
  readonly kind: 'raw';
  readonly doc?: string;
  readonly __type?: { t: ConfItem[] };
}

/** Any field. */
export type Field<T = unknown> = ScalarField<T> | ListField<T> | SubsectionField<T> | RawField;

/** Field table of a section. */
export type Fields = Record<string, Field<any>>;

/** A section schema: its fields, and whether items not in the table are tolerated. */
export interface SectionSchema<F extends Fields> {
  readonly kind: 'section';
  readonly fields: F;
  readonly allowUnknown: boolean;
  readonly doc?: string;
}

/** The converted type of a field. */
export type FieldValue<F> = F extends { readonly __type?: { t: infer T } } ? T : never;

/** The parsed type of a section schema (or of a single field). */
export type Infer<S> = S extends SectionSchema<infer F>
  ? { [K in keyof F]: FieldValue<F[K]> }
  : FieldValue<S>;

type Out<O, T> = O extends { default: unknown } ? T : O extends { required: true } ? T : T | undefined;

function scalar<T>(
  typeName: string,
  o: { doc?: string; required?: boolean; secret?: boolean; default?: unknown } | undefined,
  convert: (value: string, quote: QuoteKind, fail: Fail) => T,
): ScalarField<T> {
  let defaultValue: T | undefined;
  let defaultText: string | undefined;
  if (o?.default !== undefined) {
    defaultText = typeof o.default === 'string' ? o.default : String(o.default);
    defaultValue = typeof o.default === 'string'
      ? convert(o.default, 'bare', (m) => { throw new Error(`invalid schema default "${o.default}": ${m}`); })
      : (o.default as T);
  }
  return {
    kind: 'scalar', typeName, doc: o?.doc, required: o?.required === true, secret: o?.secret === true,
    defaultText, defaultValue, convert,
  };
}

/** The text of a value, escapes processed; back-quoted (exec) values are refused. */
function text(value: string, quote: QuoteKind, fail: Fail): string {
  if (quote === 'back') fail('back-quoted (command) values are not supported');
  return unescapeValue(value, quote);
}

/** Options of {@link string}. */
export interface StringOpts extends FieldOpts {
  default?: string;
  required?: boolean;
  /** Never shown in errors, logs or docs. */
  secret?: boolean;
}

/** A string; quoted values have their escapes processed. */
export function string<O extends StringOpts>(o?: O): ScalarField<Out<O, string>> {
  return scalar('string', o, (v, q, fail) => text(v, q, fail)) as ScalarField<Out<O, string>>;
}

/** Options of {@link integer}. */
export interface IntegerOpts extends FieldOpts {
  default?: number;
  required?: boolean;
  min?: number;
  max?: number;
}

/** A safe integer, decimal or `0x` hex, range-checked. */
export function integer<O extends IntegerOpts>(o?: O): ScalarField<Out<O, number>> {
  const range = o?.min !== undefined || o?.max !== undefined ? ` (${o?.min ?? '…'}..${o?.max ?? '…'})` : '';
  return scalar(`integer${range}`, o, (v, q, fail) => {
    const s = text(v, q, fail).trim();
    let n: number;
    if (/^[+-]?\d+$/.test(s)) n = Number(s);
    else if (/^0x[0-9a-f]+$/i.test(s)) n = parseInt(s.slice(2), 16);
    else return fail(`expected an integer, got "${s}"`);
    if (!Number.isSafeInteger(n)) fail(`integer "${s}" is too large`);
    if (o?.min !== undefined && n < o.min) fail(`${n} is below the minimum ${o.min}`);
    if (o?.max !== undefined && n > o.max) fail(`${n} is above the maximum ${o.max}`);
    return n;
  }) as ScalarField<Out<O, number>>;
}

/** Options of {@link boolean}. */
export interface BooleanOpts extends FieldOpts {
  default?: boolean;
  required?: boolean;
}

/** `yes`/`no`, `true`/`false`, `on`/`off`, `1`/`0` (any case). */
export function boolean<O extends BooleanOpts>(o?: O): ScalarField<Out<O, boolean>> {
  return scalar('boolean', o, (v, q, fail) => {
    const s = text(v, q, fail).trim().toLowerCase();
    if (s === 'yes' || s === 'true' || s === 'on' || s === '1') return true;
    if (s === 'no' || s === 'false' || s === 'off' || s === '0') return false;
    return fail(`expected yes or no, got "${s}"`);
  }) as ScalarField<Out<O, boolean>>;
}

const UNIT: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Parse a duration to seconds: a plain number is seconds (`1.5`); units `ns us ms s m h d`
 * may be combined (`1h30m`, `100ms`). Returns undefined when malformed.
 */
export function parseDuration(s: string): number | undefined {
  const t = s.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t)) !== null) {
    total += Number(m[1]) * UNIT[m[2]];
    pos = re.lastIndex;
  }
  return pos === t.length && pos > 0 ? total : undefined;
}

/** Options of {@link duration}: bounds may be written like values (`'1s'`) or as seconds. */
export interface DurationOpts extends FieldOpts {
  default?: string | number;
  required?: boolean;
  min?: string | number;
  max?: string | number;
}

/** A time delta, converted to seconds (number). */
export function duration<O extends DurationOpts>(o?: O): ScalarField<Out<O, number>> {
  const bound = (b: string | number | undefined): number | undefined => {
    if (b === undefined || typeof b === 'number') return b;
    const v = parseDuration(b);
    if (v === undefined) throw new Error(`invalid schema duration bound "${b}"`);
    return v;
  };
  const min = bound(o?.min);
  const max = bound(o?.max);
  return scalar('duration', o, (v, q, fail) => {
    const s = text(v, q, fail);
    const n = parseDuration(s);
    if (n === undefined) return fail(`expected a duration such as 30s, 1.5 or 100ms, got "${s.trim()}"`);
    if (min !== undefined && n < min) fail(`${s.trim()} is below the minimum ${o?.min}`);
    if (max !== undefined && n > max) fail(`${s.trim()} is above the maximum ${o?.max}`);
    return n;
  }) as ScalarField<Out<O, number>>;
}

/** Options of {@link ipaddr}. */
export interface IpaddrOpts extends FieldOpts {
  default?: string;
  required?: boolean;
  /** Restrict to one family. */
  version?: 4 | 6;
  /** Accept a prefix (`192.0.2.0/24`). */
  prefix?: boolean;
}

/** An IPv4 or IPv6 address (string). `*` means any address (`0.0.0.0`, or `::` for version 6). */
export function ipaddr<O extends IpaddrOpts>(o?: O): ScalarField<Out<O, string>> {
  const name = o?.prefix ? 'ipprefix' : o?.version === 6 ? 'ipv6addr' : o?.version === 4 ? 'ipv4addr' : 'ipaddr';
  return scalar(name, o, (v, q, fail) => {
    const s = text(v, q, fail).trim();
    if (s === '*') return o?.version === 6 ? '::' : '0.0.0.0';
    let addr = s;
    let bits: string | undefined;
    const slash = s.indexOf('/');
    if (slash >= 0) {
      if (!o?.prefix) fail(`expected an IP address without a prefix, got "${s}"`);
      addr = s.slice(0, slash);
      bits = s.slice(slash + 1);
    }
    const fam = net.isIP(addr);
    if (fam === 0) return fail(`expected an IP address, got "${s}"`);
    if (o?.version !== undefined && fam !== o.version) fail(`expected an IPv${o.version} address, got "${s}"`);
    if (bits !== undefined) {
      const n = /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
      if (!(n >= 0 && n <= (fam === 4 ? 32 : 128))) fail(`invalid prefix length in "${s}"`);
    }
    return fam === 6 ? s.toLowerCase() : s;
  }) as ScalarField<Out<O, string>>;
}

/** Options of {@link enumOf}. */
export interface EnumOpts<V extends string> extends FieldOpts {
  default?: V;
  required?: boolean;
}

/** One of a fixed set of words (matched case-insensitively, returned as listed). Exported as `conf.enum`. */
export function enumOf<const V extends readonly string[], O extends EnumOpts<V[number]> = EnumOpts<V[number]>>(
  values: V,
  o?: O,
): ScalarField<Out<O, V[number]>> {
  return scalar(`enum (${values.join(', ')})`, o, (v, q, fail) => {
    const s = text(v, q, fail).trim();
    const hit = values.find((x) => x.toLowerCase() === s.toLowerCase());
    if (hit === undefined) return fail(`expected one of ${values.join(', ')}, got "${s}"`);
    return hit;
  }) as ScalarField<Out<O, V[number]>>;
}
export { enumOf as enum };

/** Options of {@link tmpl}. */
export interface TmplOpts extends FieldOpts {
  default?: string;
  required?: boolean;
}

/**
 * A template kept as text for later expansion. The result is always in double-quoted-string
 * syntax with escapes unprocessed: double-quoted and bare values are returned as written; a
 * single-quoted (literal) value is converted so that it expands to itself (`\`, `"` and `%`
 * escaped with a backslash).
 */
export function tmpl<O extends TmplOpts>(o?: O): ScalarField<Out<O, string>> {
  return scalar('template', o, (v, q, fail) => {
    if (q === 'back') fail('back-quoted (command) values are not supported');
    if (q !== 'single') return v;
    return unescapeValue(v, 'single').replace(/[\\"%]/g, (c) => `\\${c}`);
  }) as ScalarField<Out<O, string>>;
}

/** A multi-valued item: the pair (or subsection) repeated; absent gives `[]`. */
export function list<T>(item: ScalarField<T> | SubsectionField<T>, o?: FieldOpts & { min?: number }): ListField<Exclude<T, undefined>> {
  return { kind: 'list', item: item as ListField<Exclude<T, undefined>>['item'], doc: o?.doc ?? item.doc, min: o?.min };
}

/** Options of {@link section}. */
export interface SectionOpts extends FieldOpts {
  /** Tolerate items that are not in the table (they are skipped, not errors). */
  allowUnknown?: boolean;
}

/** A section schema. */
export function section<const F extends Fields>(fields: F, o?: SectionOpts): SectionSchema<F> {
  return { kind: 'section', fields, allowUnknown: o?.allowUnknown === true, doc: o?.doc };
}

/** Options of {@link subsection}. */
export interface SubsectionOpts extends FieldOpts {
  /** An absent subsection gives `undefined` instead of an all-defaults object. */
  optional?: boolean;
}

/** A nested section parsed with `schema` (a `conf.section(...)` or a field table). */
export function subsection<F extends Fields, O extends SubsectionOpts = SubsectionOpts>(
  schema: SectionSchema<F> | F,
  o?: O,
): SubsectionField<O extends { optional: true } ? Infer<SectionSchema<F>> | undefined : Infer<SectionSchema<F>>> {
  const s = (schema as SectionSchema<F>).kind === 'section' && 'fields' in schema
    ? (schema as SectionSchema<F>)
    : section(schema as F);
  return { kind: 'subsection', schema: s, doc: o?.doc ?? s.doc, optional: o?.optional === true } as never;
}

/** Raw tree items of this name, uninterpreted (e.g. an unlang body or a free-form block). */
export function raw(o?: FieldOpts): RawField {
  return { kind: 'raw', doc: o?.doc };
}
