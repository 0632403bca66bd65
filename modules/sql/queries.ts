/**
 * Query templates of the `sql` module: escaping of expanded values, and the accounting /
 * post-auth query lists read from the config (FreeRADIUS v4 layout `accounting { start { query
 * = … } }` and `send { access-accept { query = … } }`, or the 3.2 layout `accounting { type {
 * start { query = … } } }` and `post-auth { query = … }`).
 */
import { formatLoc, type ConfItem, type ConfPair, type ConfSection, unescapeValue } from '../../core';
import { ConfError } from '../../core';
import type { Dictionary } from '../../core';
import type { XlatRegistry } from '../../core';
import { compileTemplate, type Template } from '../../core';

/** Escapes a value for a single-quoted SQL string literal. */
export type Escaper = (s: string) => string;

/**
 * The FreeRADIUS generic escaper (drivers without a native one, SQLite among them): characters
 * in `safe` and non-ASCII characters stay; every other byte becomes `=XX` (upper-case hex).
 */
export function genericEscaper(safe: string): Escaper {
  const ok = new Set(safe);
  return (s) => {
    let out = '';
    for (const c of s) {
      if (ok.has(c) || c.charCodeAt(0) > 127) out += c;
      else out += '=' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
    }
    return out;
  };
}

/** PostgreSQL escaping with standard_conforming_strings (PQescapeStringConn): `'` doubled, NUL dropped. */
export const pgEscaper: Escaper = (s) => s.replace(/\0/g, '').replace(/'/g, "''");

/** Options for compiling query templates. */
export interface QueryCompileOptions {
  readonly dict: Dictionary;
  readonly xlats?: XlatRegistry;
  readonly escape?: Escaper;
}

/** Compiles one query template (double-quoted syntax, escapes unprocessed); errors are located. */
export function compileQuery(text: string, loc: { file: string; line: number }, o: QueryCompileOptions): Template {
  return compileTemplate(text, { dict: o.dict, xlats: o.xlats, loc, escape: o.escape });
}

/** A list of alternative queries (the first that changes a row wins). */
export interface QueryList {
  /** Lower-case name (`start`, `interim-update`, `access-accept`, `*` for a v3 post-auth list). */
  readonly name: string;
  readonly queries: readonly Template[];
  /** Where the list was defined. */
  readonly where: string;
  /** Per-list log file (v4 `logfile` inside the list section). */
  readonly logfile?: string;
}

function textOf(p: ConfPair): string {
  // Single-quoted text is literal: make it expand to itself.
  if (p.quote === 'single') return unescapeValue(p.value ?? '', 'single').replace(/[\\"%]/g, (c) => `\\${c}`);
  return p.value ?? '';
}

function listFrom(cs: ConfSection, o: QueryCompileOptions): QueryList {
  const queries: Template[] = [];
  let logfile: string | undefined;
  for (const item of cs.children) {
    if (item.kind !== 'pair') continue;
    if (item.attr === 'query') {
      if (item.value === undefined) throw new ConfError('ERR_CONF_VALUE', item.loc, `${cs.name1} { query }: expected "query = …"`);
      queries.push(compileQuery(textOf(item), item.loc, o));
    } else if (item.attr === 'logfile') logfile = unescapeValue(item.value ?? '', item.quote);
  }
  return { name: cs.name1.toLowerCase(), queries, where: formatLoc(cs.loc), logfile };
}

/**
 * The lists under an `accounting` section (v4: its subsections; v3: the subsections of `type`),
 * keyed by lower-case name. `accounting-off` falls back to `accounting-on` when absent.
 */
export function accountingLists(items: readonly ConfItem[], o: QueryCompileOptions): Map<string, QueryList> {
  const out = new Map<string, QueryList>();
  for (const top of items) {
    if (top.kind !== 'section') continue;
    const type = top.children.find((c): c is ConfSection => c.kind === 'section' && c.name1 === 'type');
    for (const cs of (type ?? top).children) {
      if (cs.kind !== 'section') continue;
      out.set(cs.name1.toLowerCase(), listFrom(cs, o));
    }
  }
  if (!out.has('accounting-off') && out.has('accounting-on')) out.set('accounting-off', out.get('accounting-on')!);
  return out;
}

/**
 * The post-auth lists: v4 `send { access-accept { query } access-reject { query } }` by packet
 * name, and a v3 `post-auth { query = … }` list under `*` (used for every packet type).
 */
export function postAuthLists(send: readonly ConfItem[], postAuth: readonly ConfItem[], o: QueryCompileOptions): Map<string, QueryList> {
  const out = new Map<string, QueryList>();
  for (const top of send) {
    if (top.kind !== 'section') continue;
    for (const cs of top.children) if (cs.kind === 'section') out.set(cs.name1.toLowerCase(), listFrom(cs, o));
  }
  for (const top of postAuth) {
    if (top.kind !== 'section') continue;
    const l = listFrom(top, o);
    if (l.queries.length) out.set('*', { ...l, name: '*' });
  }
  return out;
}
