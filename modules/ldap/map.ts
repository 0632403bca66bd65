/**
 * The `update { }` map of the ldap module: `<list>.<Attr> <op> 'ldapAttribute'`, applied to a
 * user or profile entry. The assignment operators follow the users-file rules
 * (`modules/shared/users-file.ts` `assignItem`). A bare list on the left parses each LDAP value
 * as a whole `Attr op value` item (as `valuepair_attribute` does). The LDAP attribute `dn`
 * stands for the entry's DN.
 */
import type { ConfItem, ConfLoc } from '../../core';
import type { DictAttr } from '../../core';
import type { Dictionary } from '../../core';
import type { Pair } from '../../core';
import { Pair as PairClass } from '../../core';
import { parsePairListWithOps } from '../../core';
import type { Request } from '../../core';
import { parseValue } from '../../core';
import type { LeafType } from '../../core';
import { assignItem, type UsersItem } from '../shared/users-file';
import type { Entry } from './connection';

type ListName = 'request' | 'reply' | 'control';
const LISTS: Readonly<Record<string, ListName>> = { request: 'request', reply: 'reply', control: 'control', config: 'control' };
const OPS = new Set([':=', '=', '+=', '-=', '^=']);

/** One compiled map item. */
export interface MapItem {
  readonly list: ListName;
  /** The attribute (undefined: a bare list, values are whole items). */
  readonly item?: UsersItem;
  readonly op: string;
  /** LDAP attribute, lower case. */
  readonly ldapAttr: string;
  readonly loc: ConfLoc;
}

/** The target of a left-hand side `[list.]Attr`, as a users-file item (for `assignItem`). */
function target(name: string, op: string, dict: Dictionary, loc: ConfLoc): { list: ListName; item?: UsersItem } {
  const lower = name.toLowerCase();
  if (LISTS[lower]) return { list: LISTS[lower] };
  let list: ListName = 'reply';
  let attr = name;
  const dot = name.indexOf('.');
  if (dot > 0 && LISTS[name.slice(0, dot).toLowerCase()] && !dict.resolve(name)) {
    list = LISTS[name.slice(0, dot).toLowerCase()];
    attr = name.slice(dot + 1);
  }
  const parsed = parsePairListWithOps(`${attr} =*`, dict);
  if (parsed.length !== 1) throw new Error('expected one attribute');
  const { pair, leaf } = parsed[0];
  const path: DictAttr[] = [];
  for (let cur: Pair = pair; cur !== leaf; cur = cur.children![cur.children!.length - 1]) path.push(cur.da);
  return { list, item: { text: `${name} ${op}`, list, op, path, da: leaf.da, loc } };
}

/** An LDAP attribute description: a name (with options, `userCertificate;binary`) or an OID. */
export function isLdapAttrName(s: string): boolean {
  return /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)(;[A-Za-z0-9-]+)*$/.test(s);
}

/**
 * Compiles the items of `update { }`; `fail` raises a located error at an item (the module's
 * `validate` passes its `at.item`).
 */
export function compileMap(items: readonly ConfItem[], dict: Dictionary, fail: (item: { readonly loc: ConfLoc }, message: string) => never): MapItem[] {
  const out: MapItem[] = [];
  for (const sec of items) {
    if (sec.kind !== 'section') continue;
    for (const it of sec.children) {
      if (it.kind !== 'pair') return fail(it, `unexpected section "${it.name1}"`);
      if (!OPS.has(it.op)) fail(it, `${it.attr}: operator "${it.op}" is not one of ${[...OPS].join(' ')}`);
      if (it.value === undefined || it.value === '') fail(it, `${it.attr}: an LDAP attribute name is required on the right`);
      if (!isLdapAttrName(it.value!)) fail(it, `${it.attr}: "${it.value}" is not an LDAP attribute name`);
      let t: { list: ListName; item?: UsersItem };
      try {
        t = target(it.attr, it.op, dict, it.loc);
      } catch (e) {
        return fail(it, `${it.attr}: ${(e as Error).message}`);
      }
      out.push({ list: t.list, item: t.item, op: it.op, ldapAttr: it.value!.toLowerCase(), loc: it.loc });
    }
  }
  return out;
}

/** LDAP attributes to request for a map (plus extras), without duplicates. */
export function mapAttributes(map: readonly MapItem[], extra: readonly (string | undefined)[]): string[] {
  const set = new Set<string>();
  for (const m of map) if (m.ldapAttr !== 'dn') set.add(m.ldapAttr);
  for (const e of extra) if (e) set.add(e.toLowerCase());
  return [...set];
}

/** Values of an attribute of an entry, as text (`dn` is the entry's DN). */
export function entryValues(e: Entry, attr: string): string[] {
  if (attr === 'dn') return [e.dn];
  // The map's names are lower case already: look them up as they are first.
  return (e.attrs.get(attr) ?? e.attrs.get(attr.toLowerCase()) ?? []).map((b) => b.toString('utf8'));
}

function listOf(request: Request, l: ListName): Pair[] {
  return l === 'request' ? request.request : l === 'reply' ? request.reply : request.control;
}

/** Parses one `[list.]Attr op value` item from the directory; undefined (and a warning) when it does not parse. */
function valuepair(text: string, defaultList: ListName, dict: Dictionary, loc: ConfLoc): { list: ListName; item: UsersItem; leaf: Pair } | undefined {
  const m = /^\s*([A-Za-z][\w.-]*)\s*(:=|\+=|-=|\^=|=)\s*(.*)$/s.exec(text);
  if (!m) return undefined;
  const t = target(m[1], m[2], dict, loc);
  if (!t.item) return undefined;
  const qualified = /^(request|reply|control|config)\./i.test(m[1]) && !dict.resolve(m[1]);
  const list = qualified ? t.list : defaultList;
  const bare = qualified ? m[1].slice(m[1].indexOf('.') + 1) : m[1];
  const parsed = parsePairListWithOps(`${bare} ${m[2]} ${m[3]}`, dict);
  if (parsed.length !== 1) return undefined;
  return { list, item: t.item, leaf: parsed[0].leaf };
}

/**
 * Applies the map to an entry. Returns the number of attributes added. Bad values from the
 * directory are skipped with a warning on the request log (the directory is data, not config).
 */
export function applyMap(request: Request, map: readonly MapItem[], entry: Entry, dict: Dictionary, valuepairAttr?: string): number {
  let n = 0;
  const warn = (m: string) => request.log.warn(m);
  for (const m of map) {
    const values = entryValues(entry, m.ldapAttr);
    if (values.length === 0) continue;
    if (!m.item) {
      for (const v of values) n += applyValuepair(request, v, m.list, dict, m.loc, warn);
      continue;
    }
    let first = true;
    for (const v of values) {
      let pair: Pair;
      try {
        pair = new PairClass(m.item.da, parseValue(m.item.da.type as LeafType, v, m.item.da));
      } catch (e) {
        warn(`${m.item.da.name}: ignoring the value of LDAP attribute ${m.ldapAttr} from ${entry.dn}: ${(e as Error).message}`);
        continue;
      }
      // `:=` with several values: the first replaces, the others are added.
      const item = m.op === ':=' && !first ? { ...m.item, op: '+=' } : m.item;
      assignItem(item, listOf(request, m.list), pair);
      first = false;
      n++;
    }
  }
  if (valuepairAttr) for (const v of entryValues(entry, valuepairAttr)) n += applyValuepair(request, v, 'reply', dict, map[0]?.loc ?? { file: 'ldap', line: 0 }, warn);
  return n;
}

function applyValuepair(request: Request, text: string, list: ListName, dict: Dictionary, loc: ConfLoc, warn: (m: string) => void): number {
  let vp;
  try {
    vp = valuepair(text, list, dict, loc);
  } catch (e) {
    warn(`ignoring "${text}" from the directory: ${(e as Error).message}`);
    return 0;
  }
  if (!vp) {
    warn(`ignoring "${text}" from the directory: not an "Attr op value" item`);
    return 0;
  }
  assignItem(vp.item, listOf(request, vp.list), vp.leaf);
  return 1;
}
