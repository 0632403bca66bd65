/**
 * Query templates of the `sql` module: escaping of expanded values, and the accounting /
 * post-auth query lists (compiled by the loader through `env`, arranged here) read from the config (FreeRADIUS v4 layout `accounting { start { query
 * = … } }` and `send { access-accept { query = … } }`, or the 3.2 layout `accounting { type {
 * start { query = … } } }` and `post-auth { query = … }`).
 */
import { formatLoc, type CompiledTemplate, type ConfItem, type ConfSection, unescapeValue } from '../../core';
import { ConfError, type SafeFor, type ValueEscape } from '../../core';

/** Escapes a value for a single-quoted SQL string literal. */
export type Escaper = (s: string) => string;

/**
 * The safe-for mark of a driver's escaping (`%<instance>.safe()`, `%<instance>.escape()`): as in
 * FreeRADIUS it names the driver, not the instance, so a value one instance made safe is safe
 * for every instance on the same driver.
 */
export const sqlSafeFor = (driver: string): SafeFor => `sql.${driver}`;

/** `escape` for expanded values, leaving values marked `safeFor` as they are. */
export function honouringSafeFor(safeFor: SafeFor, escape: Escaper): ValueEscape {
  return (s, mark) => (mark === safeFor ? s : escape(s));
}

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

/** A list of alternative queries (the first that changes a row wins). */
export interface QueryList {
  /** Lower-case name (`start`, `interim-update`, `access-accept`, `*` for a v3 post-auth list). */
  readonly name: string;
  readonly queries: readonly CompiledTemplate[];
  /** Where the list was defined. */
  readonly where: string;
  /** Per-list log file (v4 `logfile` inside the list section). */
  readonly logfile?: string;
}

/**
 * The templates the loader compiled for the list sections (module `env` with `lists`), by
 * lower-case dotted path of the item (`accounting.start.query`), every `query` in order.
 */
export type CompiledLists = ReadonlyMap<string, readonly CompiledTemplate[]>;

function listFrom(cs: ConfSection, path: string, compiled: CompiledLists): QueryList {
  let logfile: string | undefined;
  for (const item of cs.children) {
    if (item.kind !== 'pair') continue;
    if (item.attr === 'query' && item.value === undefined) throw new ConfError('ERR_CONF_VALUE', item.loc, `${cs.name1} { query }: expected "query = …"`);
    if (item.attr === 'logfile') logfile = unescapeValue(item.value ?? '', item.quote);
  }
  const queries = compiled.get(`${path}.query`.toLowerCase()) ?? [];
  return { name: cs.name1.toLowerCase(), queries, where: formatLoc(cs.loc), logfile };
}

/**
 * The lists under an `accounting` section (v4: its subsections; v3: the subsections of `type`),
 * keyed by lower-case name. `accounting-off` falls back to `accounting-on` when absent.
 */
export function accountingLists(items: readonly ConfItem[], compiled: CompiledLists): Map<string, QueryList> {
  const out = new Map<string, QueryList>();
  for (const top of items) {
    if (top.kind !== 'section') continue;
    const type = top.children.find((c): c is ConfSection => c.kind === 'section' && c.name1 === 'type');
    const prefix = type ? `${top.name1}.type` : top.name1;
    for (const cs of (type ?? top).children) {
      if (cs.kind !== 'section') continue;
      out.set(cs.name1.toLowerCase(), listFrom(cs, `${prefix}.${cs.name1}`, compiled));
    }
  }
  if (!out.has('accounting-off') && out.has('accounting-on')) out.set('accounting-off', out.get('accounting-on')!);
  return out;
}

/**
 * The post-auth lists: v4 `send { access-accept { query } access-reject { query } }` by packet
 * name, and a v3 `post-auth { query = … }` list under `*` (used for every packet type).
 */
export function postAuthLists(send: readonly ConfItem[], postAuth: readonly ConfItem[], compiled: CompiledLists): Map<string, QueryList> {
  const out = new Map<string, QueryList>();
  for (const top of send) {
    if (top.kind !== 'section') continue;
    for (const cs of top.children) if (cs.kind === 'section') out.set(cs.name1.toLowerCase(), listFrom(cs, `${top.name1}.${cs.name1}`, compiled));
  }
  for (const top of postAuth) {
    if (top.kind !== 'section') continue;
    const l = listFrom(top, top.name1, compiled);
    if (l.queries.length) out.set('*', { ...l, name: '*' });
  }
  return out;
}
