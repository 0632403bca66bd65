/**
 * Declarative module configuration: `conf.section({...})` describes a section, `parseSection`
 * turns a parsed `ConfSection` into a typed object with located errors, and `describeSchema`
 * renders the documentation table.
 *
 * Error messages name the owner and the item, e.g.
 * `radiusd.conf[12]: ldap corp { server2 }: unknown item; did you mean "server"?`.
 */
import { sectionLabel, type ConfItem, type ConfLoc, type ConfPair, type ConfSection } from './ast';
import { ConfError, type ConfErrorCode } from './errors';
import type { Field, Fields, Infer, ListField, ScalarField, SectionSchema, SubsectionField } from './schema-builders';

export * as conf from './schema-builders';
export type { Field, Fields, Infer, SectionSchema } from './schema-builders';
export { parseDuration } from './schema-builders';
import { suggest } from '../types/suggest';
export { suggest, editDistance, didYouMean } from '../types/suggest';

const SECTION_OF = new WeakMap<object, ConfSection>();

/** The tree section an object returned by {@link parseSection} was parsed from (its `name2`, `loc`). */
export function sectionOf(parsed: object): ConfSection | undefined {
  return SECTION_OF.get(parsed);
}

/** Name of a tree item as a schema key: a pair's `attr`, a section's `name1`. */
function itemName(item: ConfItem): string {
  return item.kind === 'pair' ? item.attr : item.name1;
}

class Ctx {
  constructor(readonly owner: string[]) {}
  where(item?: string): string {
    let s = item === undefined ? '' : item;
    for (let i = this.owner.length - 1; i >= 0; i--) s = s === '' ? this.owner[i] : `${this.owner[i]} { ${s} }`;
    return s;
  }
  fail(code: ConfErrorCode, loc: ConfLoc, item: string | undefined, msg: string): never {
    throw new ConfError(code, loc, `${this.where(item)}: ${msg}`);
  }
}

/**
 * Parse `cs` against `schema`. `ownerName` names the section in messages (default: its header,
 * e.g. `ldap corp`). Throws {@link ConfError} (`ERR_CONF_UNKNOWN_ITEM`, `ERR_CONF_VALUE`,
 * `ERR_CONF_RANGE`, `ERR_CONF_MISSING`, `ERR_CONF_DUPLICATE`). Item names match exactly, then
 * case-insensitively. Values of `secret` fields never appear in messages.
 */
export function parseSection<F extends Fields>(
  schema: SectionSchema<F>,
  cs: ConfSection,
  ownerName?: string,
): Infer<SectionSchema<F>> {
  return parseWith(schema, cs, new Ctx([ownerName ?? sectionLabel(cs)])) as Infer<SectionSchema<F>>;
}

function parseWith(schema: SectionSchema<Fields>, cs: ConfSection, ctx: Ctx): Record<string, unknown> {
  const keys = Object.keys(schema.fields);
  const lowerKeys = new Map(keys.map((k) => [k.toLowerCase(), k]));
  const byKey = new Map<string, ConfItem[]>();
  for (const item of cs.children) {
    const name = itemName(item);
    const key = Object.prototype.hasOwnProperty.call(schema.fields, name) ? name : lowerKeys.get(name.toLowerCase());
    if (key === undefined) {
      if (schema.allowUnknown) continue;
      const shown = item.kind === 'pair' && item.op === '' ? item.text : name;
      const hint = suggest(name, keys);
      ctx.fail('ERR_CONF_UNKNOWN_ITEM', item.loc, shown,
        `unknown ${item.kind === 'section' ? 'section' : 'item'}${hint ? `; did you mean "${hint}"?` : ''}`);
    }
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(item);
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const field = schema.fields[key] as Field<unknown>;
    const items = byKey.get(key) ?? [];
    out[key] = parseField(key, field, items, cs, ctx);
  }
  SECTION_OF.set(out, cs);
  return out;
}

function parseField(key: string, field: Field<unknown>, items: ConfItem[], cs: ConfSection, ctx: Ctx): unknown {
  switch (field.kind) {
    case 'raw':
      return items;
    case 'scalar': {
      if (items.length > 1) {
        ctx.fail('ERR_CONF_DUPLICATE', items[1].loc, key, `given more than once (first at ${items[0].loc.file}[${items[0].loc.line}])`);
      }
      if (items.length === 0) {
        if (field.required) ctx.fail('ERR_CONF_MISSING', cs.loc, undefined, `missing required item "${key}"`);
        return field.defaultValue;
      }
      return scalarValue(key, field, items[0], ctx);
    }
    case 'subsection': {
      if (items.length > 1) {
        ctx.fail('ERR_CONF_DUPLICATE', items[1].loc, key, `section given more than once (first at ${items[0].loc.file}[${items[0].loc.line}])`);
      }
      if (items.length === 0) {
        if (field.optional) return undefined;
        const empty: ConfSection = { kind: 'section', name1: key, headerText: '', children: [], loc: cs.loc };
        return parseWith(field.schema, empty, new Ctx([...ctx.owner, key]));
      }
      return subsectionValue(key, field, items[0], ctx);
    }
    case 'list': {
      const lf = field as ListField<unknown>;
      const values = items.map((it) =>
        lf.item.kind === 'scalar' ? scalarValue(key, lf.item, it, ctx) : subsectionValue(key, lf.item, it, ctx));
      if (lf.min !== undefined && values.length < lf.min) {
        ctx.fail('ERR_CONF_MISSING', cs.loc, undefined, `"${key}" must be given at least ${lf.min} time${lf.min === 1 ? '' : 's'}`);
      }
      return values;
    }
  }
}

function scalarValue(key: string, field: ScalarField<unknown>, item: ConfItem, ctx: Ctx): unknown {
  if (item.kind === 'section') ctx.fail('ERR_CONF_VALUE', item.loc, key, 'expected a value, not a section');
  const pair = item as ConfPair;
  if (pair.op === '' || pair.value === undefined) ctx.fail('ERR_CONF_VALUE', pair.loc, key, `expected "${key} = value"`);
  if (pair.op !== '=' && pair.op !== ':=') ctx.fail('ERR_CONF_VALUE', pair.loc, key, `expected "=", got "${pair.op}"`);
  return field.convert(pair.value!, pair.quote, (msg) => {
    const code: ConfErrorCode = / (below|above) the (minimum|maximum)/.test(msg) ? 'ERR_CONF_RANGE' : 'ERR_CONF_VALUE';
    return ctx.fail(code, pair.loc, key, field.secret ? `invalid ${field.typeName} value` : msg);
  });
}

function subsectionValue(key: string, field: SubsectionField<unknown>, item: ConfItem, ctx: Ctx): unknown {
  if (item.kind === 'pair') ctx.fail('ERR_CONF_VALUE', item.loc, key, `expected a section "${key} { … }"`);
  const cs = item as ConfSection;
  return parseWith(field.schema, cs, new Ctx([...ctx.owner, sectionLabel(cs)]));
}

/**
 * Markdown documentation of a schema: a header and one row per item (`| Item | Type | Default | Description |`).
 * Subsection items are listed as `sub.item`. Secret defaults are not shown.
 */
export function describeSchema(schema: SectionSchema<Fields>): string {
  const rows = ['| Item | Type | Default | Description |', '|---|---|---|---|'];
  const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const row = (name: string, type: string, def: string, doc: string): void => {
    rows.push(`| \`${name}\` | ${cell(type)} | ${def} | ${cell(doc)} |`);
  };
  const walk = (s: SectionSchema<Fields>, prefix: string): void => {
    for (const [name, f] of Object.entries(s.fields)) {
      const full = prefix + name;
      const doc = f.doc ?? '';
      if (f.kind === 'scalar') {
        const def = f.required ? 'required' : f.defaultText === undefined ? '' : f.secret ? '(secret)' : `\`${cell(f.defaultText)}\``;
        row(full, `${f.typeName}${f.secret ? ' (secret)' : ''}`, def, doc);
      } else if (f.kind === 'list') {
        row(full, `list of ${f.item.kind === 'scalar' ? f.item.typeName : 'sections'}`, '', doc);
        if (f.item.kind === 'subsection') walk(f.item.schema, `${full}.`);
      } else if (f.kind === 'subsection') {
        row(`${full} { }`, 'section', '', doc);
        walk(f.schema, `${full}.`);
      } else {
        row(full, 'raw', '', doc);
      }
    }
  };
  walk(schema, '');
  return rows.join('\n');
}

/** A copy of a parsed config with every `secret` field replaced by `'<secret>'`, safe to log. */
export function redact<F extends Fields>(schema: SectionSchema<F>, value: Infer<SectionSchema<F>>): Record<string, unknown> {
  const walk = (s: SectionSchema<Fields>, v: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const f = s.fields[k];
      if (f?.kind === 'scalar' && f.secret && x !== undefined) out[k] = '<secret>';
      else if (f?.kind === 'subsection' && x && typeof x === 'object') out[k] = walk(f.schema, x as Record<string, unknown>);
      else if (f?.kind === 'list' && Array.isArray(x)) {
        const item = f.item;
        out[k] = x.map((e) =>
          item.kind === 'scalar' && item.secret ? '<secret>'
            : item.kind === 'subsection' ? walk(item.schema, e as Record<string, unknown>) : e);
      } else out[k] = x;
    }
    return out;
  };
  return walk(schema, value as Record<string, unknown>);
}
