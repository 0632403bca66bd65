/**
 * The FreeRADIUS "users" file format, shared by `files` (users) and `attr_filter`
 * (filter rules use the same layout):
 *
 * ```
 * # comment
 * bob     Password.Cleartext := "hello", NAS-IP-Address == 192.0.2.1
 *         Framed-IP-Address := 192.0.2.10,
 *         Reply-Message = "Hello %{User-Name}",
 *         Fall-Through = yes
 * DEFAULT Auth-Type := Reject
 * $INCLUDE other-file
 * ```
 *
 * - An entry starts on a line that begins in column 1 with its name (quoted when it has
 *   spaces; `DEFAULT` matches every key), followed by its check items.
 * - Indented lines after it hold the reply items, separated by commas: every reply line but
 *   the last ends with `,`. An indented line after a line without a trailing comma is an error,
 *   as in FreeRADIUS.
 * - Names may be v4 (`Password.Cleartext`) or v3 (`Cleartext-Password`), optionally prefixed
 *   with a list (`request.`, `control.`, `reply.`; `config.` = control) or `&`.
 * - A double-quoted value containing `%` is a template, expanded when the entry matches.
 * - `$INCLUDE path` reads another file (relative to the including file).
 *
 * Errors are {@link ConfError}s located `file[line]`.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfError } from '../../core';
import type { ConfLoc } from '../../core';
import type { DictAttr } from '../../core';
import type { Dictionary } from '../../core';
import type { LeafType } from '../../core';
import { Pair } from '../../core';
import { copyPair, findOrAppendStructural } from '../../core';
import { parsePairListWithOps } from '../../core';
import type { ListName, Request } from '../../core';
import { makeRegex } from '../../core';
import { compareOp, valuesEqual, type CompareOperator } from '../../core';
import { parseValue } from '../../core';
import { printValueUnquoted } from '../../core';
import type { Value } from '../../core';
import type { XlatRegistry } from '../../core';
import { compileTemplate, type Template } from '../../core';

/** Operators that assign to a list. */
const ASSIGN = new Set(['=', ':=', '+=', '-=', '^=']);
/** Reply operators that bound the existing values: each one failing `existing OP value` becomes the value; none → added. */
const CLAMP = new Set(['<=', '>=', '<', '>']);
const OPS = ['=~', '!~', '=*', '!*', '==', '!=', '<=', '>=', ':=', '+=', '-=', '^=', '<', '>', '='];
const LISTS: Readonly<Record<string, ListName>> = { request: 'request', reply: 'reply', control: 'control', config: 'control', 'session-state': 'session-state' };

/** One item of an entry (check or reply), compiled. */
export interface UsersItem {
  /** The item as written, for messages. */
  readonly text: string;
  /** The list it assigns to or compares against. */
  readonly list: ListName;
  readonly op: string;
  /** Structural parents of the attribute, outermost first (e.g. `Password` for `Password.Cleartext`). */
  readonly path: readonly DictAttr[];
  /** The attribute. */
  readonly da: DictAttr;
  /** A static value (a pair ready to copy), when the value is known at load time. */
  readonly leaf?: Pair;
  /** A value expanded per request. */
  readonly tmpl?: Template;
  /** A static regular expression (`=~`, `!~`). */
  readonly regex?: RegExp;
  /** Type of `leaf.value` when it differs from the attribute's (a prefix compared with an address). */
  readonly valueType?: LeafType;
  /** The regex flags for a dynamic regex. */
  readonly regexFlags?: string;
  /** `Name[n]`: a check item that compares only the n-th instance (0-based). */
  readonly index?: number;
  readonly loc: ConfLoc;
}

/** One entry of a users file. */
export interface UsersEntry {
  readonly name: string;
  readonly isDefault: boolean;
  /** Position in file order (across includes). */
  readonly order: number;
  /** Check items that compare. */
  readonly check: readonly UsersItem[];
  /** Check items that assign (to control unless qualified). */
  readonly checkAssign: readonly UsersItem[];
  /** Reply items (to reply unless qualified); `Fall-Through` is not among them. */
  readonly reply: readonly UsersItem[];
  /** `Fall-Through = yes` was among the reply items. */
  readonly fallThrough: boolean;
  /** `Next-Shortest-Prefix = yes` was among the reply items (prefix keys: go on with the next shorter prefix). */
  readonly nextShortest?: boolean;
  readonly loc: ConfLoc;
}

/** Options of {@link parseUsersFile}. */
export interface UsersFileOptions {
  readonly dict: Dictionary;
  readonly xlats?: XlatRegistry;
  /** Treat reply items as filter rules (attr_filter): compare operators allowed, no Fall-Through removal. */
  readonly filterRules?: boolean;
}

/** Where a relative item (`.Name`) of a users-file entry is looked up: the last structural attribute. */
export interface RelativeState {
  parent?: DictAttr;
}

/** A raw `name op value` token of an item list. */
export interface RawItem {
  name: string;
  op: string;
  /** Value text as written (quotes included), '' when none. */
  raw: string;
  quote: '"' | "'" | '`' | '/' | '';
  /** Value with quotes removed (escapes kept). */
  body: string;
}

/** Splits an item list (`A := 1, B == "x"`) into raw items. Throws a plain Error on syntax errors. */
export function splitItems(s: string): RawItem[] {
  const out: RawItem[] = [];
  let i = 0;
  const n = s.length;
  const ws = () => { while (i < n && (s[i] === ' ' || s[i] === '\t' || s[i] === '\r')) i++; };
  for (;;) {
    while (i < n && (s[i] === ' ' || s[i] === '\t' || s[i] === '\r' || s[i] === ',')) i++;
    if (i >= n || s[i] === '#') return out;
    const start = i;
    while (i < n && /[A-Za-z0-9_.\-&:@[\]]/.test(s[i]) && !(s[i] === ':' && s[i + 1] === '=') && !(s[i] === '-' && s[i + 1] === '=')) i++;
    if (s.startsWith('[*]', i - 1)) i += 2;
    let name = s.slice(start, i);
    if (!name) throw new Error(`Expected an attribute name, got "${s.slice(i, i + 20)}"`);
    ws();
    const op = OPS.find((o) => s.startsWith(o, i));
    if (!op) throw new Error(`Expected an operator after "${name}", got "${s.slice(i, i + 20)}"`);
    i += op.length;
    ws();
    let raw = '';
    let body = '';
    let quote: RawItem['quote'] = '';
    const c = s[i];
    if (c === '"' || c === "'" || c === '`' || (c === '/' && (op === '=~' || op === '!~'))) {
      const q = c;
      let j = i + 1;
      while (j < n && s[j] !== q) j += s[j] === '\\' ? 2 : 1;
      if (j >= n) throw new Error(`Unterminated ${q === '/' ? 'regular expression' : 'string'} in value of "${name}"`);
      body = s.slice(i + 1, j);
      j++;
      if (q === '/') while (j < n && /[a-z]/.test(s[j])) j++;
      raw = s.slice(i, j);
      quote = q as RawItem['quote'];
      i = j;
    } else if (c === '{') {
      let depth = 0;
      let j = i;
      for (; j < n; j++) {
        if (s[j] === '"') { j++; while (j < n && s[j] !== '"') j += s[j] === '\\' ? 2 : 1; continue; }
        if (s[j] === '{') depth++;
        else if (s[j] === '}' && --depth === 0) { j++; break; }
      }
      if (depth !== 0) throw new Error(`Missing "}" in value of "${name}"`);
      raw = body = s.slice(i, j);
      i = j;
    } else {
      const j0 = i;
      while (i < n && s[i] !== ',' && s[i] !== '#' && s[i] !== ' ' && s[i] !== '\t') i++;
      raw = body = s.slice(j0, i);
    }
    ws();
    if (i < n && s[i] !== ',' && s[i] !== '#') throw new Error(`Unexpected text after the value of "${name}": "${s.slice(i, i + 20)}"`);
    name = name.replace(/^&/, '');
    out.push({ name, op, raw, quote, body });
  }
}

/** Reads one line's items, located. */
function itemsAt(text: string, loc: ConfLoc): RawItem[] {
  try {
    return splitItems(text);
  } catch (e) {
    throw new ConfError('ERR_CONF_SYNTAX', loc, (e as Error).message);
  }
}

/** Compiles one raw item. `defaultList` applies when the name has no list qualifier. */
export function compileItem(r: RawItem, defaultList: ListName, loc: ConfLoc, opts: UsersFileOptions, rel?: RelativeState): UsersItem {
  const fail = (msg: string): never => { throw new ConfError('ERR_CONF_VALUE', loc, msg); };
  let name = r.name;
  let list = defaultList;
  // `.Name` is relative to the structural attribute of the item before (`Vendor-Specific = {}, .Cisco = {}`);
  // each further dot goes up one level (`..HP`).
  let base: DictAttr | undefined;
  if (name.startsWith('.')) {
    const dots = /^\.+/.exec(name)![0].length;
    base = rel?.parent;
    for (let k = 1; k < dots && base; k++) base = base.parent ?? undefined;
    if (!base || base.type === 'root') fail(`${r.name}: a relative attribute needs a structural attribute before it`);
    name = name.slice(dots);
  }
  // An instance filter on a check item: `Realm[*] == "two"` (any instance, which is how check
  // items compare anyway) or `Realm[1]` (only that instance).
  let index: number | undefined;
  const filter = /\[(\*|[0-9]+)\]$/.exec(name);
  if (filter) {
    if (ASSIGN.has(r.op)) fail(`${r.name} ${r.op}: an instance filter ([${filter[1]}]) is only allowed on check items`);
    if (filter[1] !== '*') index = Number(filter[1]);
    name = name.slice(0, filter.index);
  }
  const dot = name.indexOf('.');
  if (dot > 0 && LISTS[name.slice(0, dot).toLowerCase()] && !opts.dict.resolve(name)) {
    list = LISTS[name.slice(0, dot).toLowerCase()];
    name = name.slice(dot + 1);
  }
  const text = `${r.name} ${r.op}${r.raw ? ' ' + r.raw : ''}`;
  const dynamic = r.quote === '"' && r.body.includes('%');
  const isRegex = r.op === '=~' || r.op === '!~';
  const structOnly = dynamic || isRegex || r.op === '=*' || r.op === '!*';
  let parsed;
  let prefix: { type: LeafType; value: Value } | undefined;
  try {
    parsed = parsePairListWithOps(structOnly ? `${name} =*` : `${name} ${r.op} ${r.raw}`, opts.dict, base ? { parent: base } : undefined);
  } catch (e) {
    // `Framed-IP-Address < 10.0.0.0/8`: an address compared with a prefix.
    const t = prefixType(r, opts.dict.resolve(name));
    if (!t) return fail(`${text}: ${(e as Error).message}`);
    try {
      prefix = { type: t, value: parseValue(t, r.body.trim()) };
      parsed = parsePairListWithOps(`${name} =*`, opts.dict);
    } catch (e2) {
      return fail(`${text}: ${(e2 as Error).message}`);
    }
  }
  if (parsed.length !== 1) return fail(`${text}: expected one attribute`);
  const { pair, leaf } = parsed[0];
  const p: DictAttr[] = [];
  for (let a: DictAttr | null | undefined = base; a && a.type !== 'root'; a = a.parent) p.unshift(a);
  for (let cur: Pair = pair; cur !== leaf; cur = cur.children![cur.children!.length - 1]) p.push(cur.da);
  if (rel) rel.parent = leaf.da.isStructural ? leaf.da : leaf.da.parent ?? undefined;
  const item: { -readonly [K in keyof UsersItem]: UsersItem[K] } = { text, list, op: r.op, path: p, da: leaf.da, loc };
  if (index !== undefined) item.index = index;
  if (isRegex) {
    const m = r.quote === '/' ? /^\/(.*)\/([a-z]*)$/s.exec(r.raw) : undefined;
    // In quotes, `\\` and `\"` are string escapes; other backslashes belong to the regex (`"^10\."`).
    const src = m ? m[1] : r.quote === '"' || r.quote === "'" ? r.body.replace(/\\([\\"'])/g, '$1') : r.body;
    const flags = m ? m[2] : '';
    if (src.includes('%{') || /%[a-z]+\(/i.test(src)) {
      item.tmpl = compileTemplate(src, { dict: opts.dict, xlats: opts.xlats, loc });
      item.regexFlags = flags;
    } else {
      try {
        item.regex = makeRegex(src, flags);
      } catch (e) {
        return fail(`${text}: invalid regular expression: ${(e as Error).message}`);
      }
    }
  } else if (dynamic) {
    try {
      item.tmpl = compileTemplate(r.body, { dict: opts.dict, xlats: opts.xlats, loc });
    } catch (e) {
      return fail(`${text}: ${(e as Error).message.replace(/^.*?\]: /, '')}`);
    }
  } else if (prefix) {
    item.leaf = new Pair(leaf.da, prefix.value);
    item.valueType = prefix.type;
  } else if (r.op !== '=*' && r.op !== '!*') {
    item.leaf = leaf;
  }
  return item;
}

/** The prefix type for a comparison of an address attribute with `addr/len`, else undefined. */
function prefixType(r: RawItem, da: DictAttr | undefined): LeafType | undefined {
  if (!da || ASSIGN.has(r.op) || !r.body.includes('/')) return undefined;
  switch (da.type) {
    case 'ipaddr': return 'ipv4prefix';
    case 'ipv6addr': return 'ipv6prefix';
    case 'combo-ip': return 'combo-prefix';
    default: return undefined;
  }
}

function isYes(item: UsersItem): boolean {
  const v = item.leaf?.value;
  return v === true || (typeof v === 'string' && /^(yes|true|1|on)$/i.test(v)) || v === 1;
}

/** Parsed users file: entries indexed by name plus the ordered DEFAULT entries. */
export class UsersFile {
  /** Entries by exact name, each list in file order. */
  readonly byName = new Map<string, UsersEntry[]>();
  /** DEFAULT entries in file order. */
  readonly defaults: UsersEntry[] = [];
  /** Every entry in file order. */
  readonly entries: UsersEntry[] = [];
  /** Files read (for reload watching). */
  readonly files: string[] = [];

  /** Adds an entry. */
  add(e: UsersEntry): void {
    this.entries.push(e);
    if (e.isDefault) this.defaults.push(e);
    else {
      const l = this.byName.get(e.name);
      if (l) l.push(e);
      else this.byName.set(e.name, [e]);
    }
  }

  /**
   * {@link candidates} as an array; without DEFAULT entries (or without named ones) no array
   * is built: the stored list is returned.
   */
  candidateList(key: string): readonly UsersEntry[] {
    const named = this.byName.get(key);
    if (!named) return this.defaults;
    if (this.defaults.length === 0) return named;
    return [...this.candidates(key)];
  }

  /** Entry names that are prefixes of `key` (string prefix lookup), longest first. */
  prefixNames(key: string): string[] {
    const out: string[] = [];
    for (const n of this.byName.keys()) if (key.startsWith(n)) out.push(n);
    return out.sort((a, b) => b.length - a.length);
  }

  /**
   * The entries that may match `key`, in file order: the named entries for `key` merged
   * with the DEFAULT entries. Cost is proportional to those entries, not to the file.
   */
  *candidates(key: string): Generator<UsersEntry> {
    const named = this.byName.get(key) ?? [];
    const defs = this.defaults;
    let i = 0;
    let j = 0;
    while (i < named.length || j < defs.length) {
      if (j >= defs.length || (i < named.length && named[i].order < defs[j].order)) yield named[i++];
      else yield defs[j++];
    }
  }
}

/**
 * Parses a users file (and its `$INCLUDE`s). Throws {@link ConfError} located at
 * `file[line]` for syntax errors, unknown attributes and bad values.
 */
export function parseUsersFile(file: string, opts: UsersFileOptions): UsersFile {
  const out = new UsersFile();
  readInto(out, file, opts, 0, []);
  return out;
}

/** Parses users-file text (`file` names it in errors; includes are relative to its directory). */
export function parseUsersText(text: string, file: string, opts: UsersFileOptions): UsersFile {
  const out = new UsersFile();
  parseText(out, text, file, opts, 0, []);
  return out;
}

function readInto(out: UsersFile, file: string, opts: UsersFileOptions, depth: number, stack: string[], from?: ConfLoc): void {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const msg = `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    if (from) throw new ConfError('ERR_CONF_INCLUDE', from, msg);
    throw new ConfError('ERR_CONF_INCLUDE', { file, line: 0 }, msg);
  }
  out.files.push(file);
  parseText(out, text, file, opts, depth, stack);
}

function parseText(out: UsersFile, text: string, file: string, opts: UsersFileOptions, depth: number, stack: string[]): void {
  if (stack.includes(file)) throw new ConfError('ERR_CONF_INCLUDE', { file, line: 1 }, `include loop: ${[...stack, file].join(' → ')}`);
  if (depth > 32) throw new ConfError('ERR_CONF_INCLUDE', { file, line: 1 }, 'includes nested too deeply');
  const lines = text.split('\n');
  type Building = {
    name: string; loc: ConfLoc; check: UsersItem[]; checkAssign: UsersItem[]; reply: UsersItem[]; fall: boolean; next: boolean; open: boolean; any: boolean; rel: RelativeState;
  };
  let cur: Building | undefined;
  const finish = (): void => {
    if (!cur) return;
    out.add({
      name: cur.name, isDefault: cur.name === 'DEFAULT', order: out.entries.length,
      check: cur.check, checkAssign: cur.checkAssign, reply: cur.reply, fallThrough: cur.fall, nextShortest: cur.next, loc: cur.loc,
    });
    cur = undefined;
  };
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln].replace(/\r$/, '');
    const loc: ConfLoc = { file, line: ln + 1 };
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    // Any leading white space (not only space and tab: also CR, VT, FF) makes a continuation line.
    const indented = /^\s/.test(line);
    if (!indented) {
      finish();
      const inc = /^\$(-?)INCLUDE(-?)\s+(.+)$/.exec(trimmed);
      if (inc) {
        const target = inc[3].trim().replace(/^["']|["']$/g, '');
        const p = path.resolve(path.dirname(file), target);
        if ((inc[1] || inc[2]) && !fs.existsSync(p)) continue;
        readInto(out, p, opts, depth + 1, [...stack, file], loc);
        continue;
      }
      if (trimmed.startsWith('$')) throw new ConfError('ERR_CONF_SYNTAX', loc, `unknown directive "${trimmed.split(/\s/)[0]}"`);
      let name: string;
      let rest: string;
      if (line[0] === '"') {
        const end = line.indexOf('"', 1);
        if (end < 0) throw new ConfError('ERR_CONF_SYNTAX', loc, 'unterminated quoted entry name');
        name = line.slice(1, end);
        rest = line.slice(end + 1);
      } else {
        const m = /^(\S+)([\s\S]*)$/.exec(line)!;
        // `::Ethernet`: an enumerated value of the key attribute, which expands to its bare name.
        name = m[1].startsWith('::') && m[1].length > 2 ? m[1].slice(2) : m[1];
        rest = m[2];
      }
      cur = { name, loc, check: [], checkAssign: [], reply: [], fall: false, next: false, open: true, any: false, rel: {} };
      const checkRel: RelativeState = {};
      for (const r of itemsAt(rest, loc)) {
        const isAssign = ASSIGN.has(r.op);
        const item = compileItem(r, isAssign ? 'control' : 'request', loc, opts, checkRel);
        if (isAssign) cur.checkAssign.push(item);
        else cur.check.push(item);
      }
      continue;
    }
    if (!cur) throw new ConfError('ERR_CONF_SYNTAX', loc, 'reply items without an entry (an entry name must start in the first column)');
    if (!cur.open) {
      throw new ConfError('ERR_CONF_SYNTAX', loc, 'unexpected reply item: the previous line does not end with ","');
    }
    const items = itemsAt(line, loc);
    for (const r of items) {
      const item = compileItem(r, 'reply', loc, opts, cur.rel);
      if (!opts.filterRules && item.da.name === 'Fall-Through' && item.list === 'reply') {
        cur.fall = isYes(item);
        continue;
      }
      if (!opts.filterRules && item.da.name === 'Next-Shortest-Prefix' && item.list === 'reply') {
        cur.next = isYes(item);
        continue;
      }
      if (!opts.filterRules && !ASSIGN.has(item.op) && !CLAMP.has(item.op)) {
        throw new ConfError('ERR_CONF_VALUE', loc, `${item.text}: reply items must use an assignment operator (=, :=, +=, -=, ^=, <=, >=, <, >)`);
      }
      cur.reply.push(item);
    }
    // A line continues the entry when it ends with a comma (comments aside).
    cur.open = /,\s*(#.*)?$/.test(stripComment(line));
  }
  finish();
}

/** The line without a trailing `#` comment (outside quotes). */
function stripComment(line: string): string {
  let q = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === '\\') i++;
      else if (c === q) q = '';
    } else if (c === '"' || c === "'") q = c;
    else if (c === '#') return line.slice(0, i).trimEnd();
  }
  return line.trimEnd();
}

// ---------------------------------------------------------------- run time

/**
 * The value of an item for this request: the static pair, or the expansion parsed as the
 * attribute's type. A Promise only when an expansion yields. Throws on a bad value.
 */
export function itemValue(item: UsersItem, request: Request): Pair | undefined | Promise<Pair | undefined> {
  if (item.leaf) return item.leaf;
  if (!item.tmpl) return undefined;
  const s = item.tmpl.expand(request);
  if (typeof s !== 'string') return s.then((t) => expandedPair(item, t));
  return expandedPair(item, s);
}

/** The pair for an expanded value; a dynamic regex keeps its source text as a string value. */
function expandedPair(item: UsersItem, s: string): Pair {
  if (item.op === '=~' || item.op === '!~') return new Pair(item.da, s);
  return new Pair(item.da, parseValue(item.da.type as LeafType, s, item.da));
}

/** The pairs of `item.da` in `list` (following the item's structural path). */
export function pairsFor(item: UsersItem, list: readonly Pair[]): Pair[] {
  let containers: (readonly Pair[])[] = [list];
  for (const pda of item.path) {
    const next: Pair[][] = [];
    for (const c of containers) for (const p of c) if (p.da === pda && p.children) next.push(p.children);
    if (next.length === 0) {
      // Flat lists: the attribute may sit at the top without its parents.
      containers = [list];
      break;
    }
    containers = next;
  }
  const out: Pair[] = [];
  for (const c of containers) for (const p of c) if (p.da === item.da) out.push(p);
  return out;
}

/** Text of a value for regex matching. */
export function valueText(p: Pair): string {
  const v = p.value;
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  return printValueUnquoted(p.da, v);
}

/**
 * The regex of a `=~` / `!~` item: the one compiled when the file was read, else one made from
 * the item's expanded `value`; undefined when that is not a valid regex.
 */
export function itemRegex(item: UsersItem, value: Pair | undefined): RegExp | undefined {
  if (item.regex) return item.regex;
  try {
    return makeRegex(String(value?.value ?? ''), item.regexFlags ?? '');
  } catch {
    return undefined;
  }
}

/**
 * Evaluates a comparison item against `request`. `value` is the item's value pair (already
 * expanded). Any instance of the attribute satisfying the operator passes; an absent
 * attribute fails every operator except `!*`.
 */
export function checkItem(item: UsersItem, request: Request, value: Pair | undefined): boolean {
  let have = pairsFor(item, request.list(item.list));
  if (item.index !== undefined) have = have.slice(item.index, item.index + 1);
  if (have.length === 0 && item.list === 'request' && item.da.name === 'Packet-Type' && item.da.parent?.type === 'root') {
    have.push(new Pair(item.da, request.code));
  }
  switch (item.op) {
    case '=*': return have.length > 0;
    case '!*': return have.length === 0;
    case '=~': case '!~': {
      const re = itemRegex(item, value);
      if (!re) return false;
      for (const p of have) {
        const m = re.exec(valueText(p));
        if (item.op === '=~' && m) {
          request.captures = Array.from(m, (x) => x ?? '');
          return true;
        }
        if (item.op === '!~' && !m) return true;
      }
      return false;
    }
    default: {
      if (!value || value.value === undefined) return false;
      for (const p of have) {
        if (p.value === undefined) continue;
        try {
          if (compareOp(item.op as CompareOperator, p.value, p.da.type as LeafType, value.value, item.valueType ?? (value.da.type as LeafType))) return true;
        } catch {
          // Values that cannot be compared do not match.
        }
      }
      return false;
    }
  }
}

/** Applies an assignment item (with its value pair) to `list`, following the users-file operator rules. */
export function assignItem(item: UsersItem, list: Pair[], value: Pair | undefined): void {
  let c = list;
  if (item.op === '-=') {
    const found = pairsFor(item, list);
    if (!value || value.value === undefined) return;
    for (const p of found) {
      if (p.value !== undefined && valuesEqual(p.value, value.value, item.da.type as LeafType)) {
        removeDeep(list, p);
      }
    }
    return;
  }
  for (const pda of item.path) c = findOrAppendStructural(c, pda).children!;
  const v = value ? copyPair(value) : new Pair(item.da);
  switch (item.op) {
    case '=':
      if (!c.some((p) => p.da === item.da)) c.push(v);
      return;
    case ':=':
      for (let i = c.length - 1; i >= 0; i--) if (c[i].da === item.da) c.splice(i, 1);
      c.push(v);
      return;
    case '^=': {
      const i = c.findIndex((p) => p.da === item.da);
      c.splice(i < 0 ? c.length : i, 0, v);
      return;
    }
    case '<=': case '>=': case '<': case '>': {
      const type = item.da.type as LeafType;
      let any = false;
      for (let i = 0; i < c.length; i++) {
        const p = c[i];
        if (p.da !== item.da) continue;
        any = true;
        if (p.value === undefined || v.value === undefined) continue;
        if (!compareOp(item.op as CompareOperator, p.value, type, v.value, type)) c[i] = copyPair(v);
      }
      if (!any) c.push(v);
      return;
    }
    default:
      c.push(v);
  }
}

function removeDeep(list: Pair[], target: Pair): boolean {
  const i = list.indexOf(target);
  if (i >= 0) { list.splice(i, 1); return true; }
  for (const p of list) if (p.children && removeDeep(p.children, target)) return true;
  return false;
}

/** Value of a static item, for filters and tests. */
export function staticValue(item: UsersItem): Value | undefined {
  return item.leaf?.value;
}
