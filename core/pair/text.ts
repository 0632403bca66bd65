/**
 * FreeRADIUS pair-list text: parse `Name = value, Name2 := { Child = v }` into
 * pairs, and print pairs back in the v4 form the codec vectors expect.
 *
 * Parsing rules (FreeRADIUS v4 behaviour):
 * - Items are separated by commas or newlines; `#` starts a comment outside quotes.
 * - Names are hierarchical (`Vendor-Specific.Cisco.AVPair`), numeric (`26.9.1`),
 *   aliases or v3 flat names (`Cisco-AVPair`), optionally prefixed by `&`.
 *   `raw.` makes the final attribute raw (octets); unknown numbers become raw
 *   unknown attributes. A v3 tag suffix (`Tunnel-Type:1`) sets `pair.tag`.
 * - Intermediate parents of a dotted name are reused when the list already
 *   holds them (`A.B.C = 1, A.B.D = 2` gives one `A = { B = { C, D } }`); the
 *   final attribute is always a new pair.
 * - Structural attributes take `{ … }`; names inside are relative to the parent
 *   (for `group` attributes: relative to the protocol root).
 * - Enumerated values may be written `::Name` or `Name`.
 */

import type { DictAttr } from '../dict/attr';
import type { Dictionary } from '../dict/dictionary';
import type { Value, LeafType } from '../types/data-types';
import { escapeString, unescapeString } from '../value/text';
import { parseValue } from '../value/parse';
import { suggest } from '../types/suggest';
import { castValue } from '../value/ops';
import { printValue } from '../value/print';
import { stringToBytes } from '../value/utf8';
import { Pair } from './pair';
import { findPair } from './list';
import { rawOf, unknownAttr, unknownStructuralType, vendorAttr } from './raw';
import { parseAttrRef } from './ref';

/** Assignment and comparison operators accepted in pair lists. */
export type PairOperator =
  | '=' | ':=' | '+=' | '-=' | '^=' | '|=' | '&='
  | '==' | '!=' | '<' | '>' | '<=' | '>=' | '=~' | '!~' | '=*' | '!*';

const OPERATORS: readonly PairOperator[] = [
  '=~', '!~', '=*', '!*', '==', '!=', '<=', '>=', ':=', '+=', '-=', '^=', '|=', '&=', '<', '>', '=',
];

/** Options for {@link parsePairList}. */
export interface ParsePairOptions {
  /** Resolve top-level names under this attribute instead of the protocol root. */
  parent?: DictAttr;
  /**
   * More dictionaries searched, in order, for top-level names the main one
   * lacks (for example the server-internal dictionary with `Tmp-String-0`).
   */
  fallback?: readonly Dictionary[];
  /**
   * Accept comparison operators (`==`, `<` …) and record each leaf's operator here
   * ({@link parsePairList} only; FreeRADIUS's `fr_pair_list_afrom_substr` with comparisons).
   * Without it, `parsePairList` accepts assignments only.
   */
  compare?: Map<Pair, PairOperator>;
}

/** One parsed item with its operator (see {@link parsePairListWithOps}). */
export interface PairWithOp {
  /** Top-level pair (nested parents included for hierarchical names). */
  pair: Pair;
  /** The pair the value was assigned to (equals `pair` for simple names). */
  leaf: Pair;
  op: PairOperator;
}

/** A pair-list syntax error; `offset` is the character position in the input. */
export class PairParseError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = 'PairParseError';
  }
}

// ---------------------------------------------------------------- scanner

type ValueToken =
  | { kind: 'bare'; text: string; at?: number }
  | { kind: 'quoted'; text: string; quote: '"' | "'" | '`' }
  | { kind: 'group'; items: RawItem[] };

/** Data type names a value may be cast to in a pair list (`(ipaddr) 192.0.2.1`). */
const CAST_TYPES = new Map<string, LeafType>([
  ['string', 'string'], ['octets', 'octets'], ['ipaddr', 'ipaddr'], ['ipv4addr', 'ipaddr'], ['ipv6addr', 'ipv6addr'],
  ['ipv4prefix', 'ipv4prefix'], ['ipv6prefix', 'ipv6prefix'], ['combo-ip', 'combo-ip'], ['combo-prefix', 'combo-prefix'],
  ['ifid', 'ifid'], ['ether', 'ether'], ['bool', 'bool'], ['uint8', 'uint8'], ['uint16', 'uint16'], ['uint32', 'uint32'],
  ['uint64', 'uint64'], ['int8', 'int8'], ['int16', 'int16'], ['int32', 'int32'], ['int64', 'int64'], ['float32', 'float32'],
  ['float64', 'float64'], ['date', 'date'], ['time_delta', 'time_delta'], ['size', 'size'],
  ['byte', 'uint8'], ['short', 'uint16'], ['integer', 'uint32'], ['integer64', 'uint64'], ['signed', 'int32'],
]);

interface RawItem {
  /** Data type of a cast written before the value. */
  cast?: string;
  name: string;
  tag?: number;
  op: PairOperator;
  value: ValueToken | undefined;
  offset: number;
}

class Scanner {
  pos = 0;
  constructor(readonly s: string) {}

  fail(msg: string, at = this.pos): never {
    throw new PairParseError(msg, at);
  }

  /** Skips spaces, tabs and comments; with `newlines`, also line breaks. */
  skipWs(newlines: boolean): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === ' ' || c === '\t' || c === '\r') this.pos++;
      else if (c === '\n' && newlines) this.pos++;
      else if (c === '#') {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
      } else break;
    }
  }

  /** Items until end of input (`close` undefined) or the closing brace. */
  items(close: boolean): RawItem[] {
    const out: RawItem[] = [];
    for (;;) {
      // Separators: commas and newlines, in any number.
      for (;;) {
        this.skipWs(true);
        if (this.s[this.pos] === ',') this.pos++;
        else break;
      }
      if (this.pos >= this.s.length) {
        if (close) this.fail("Missing closing '}'");
        return out;
      }
      if (this.s[this.pos] === '}') {
        if (!close) this.fail("Unexpected '}'");
        this.pos++;
        return out;
      }
      out.push(this.item());
      // After an item: a separator, a closing brace or the end.
      this.skipWs(false);
      const c = this.s[this.pos];
      if (this.pos < this.s.length && c !== ',' && c !== '\n' && c !== '}') {
        this.fail(`Unexpected text after value: "${this.s.slice(this.pos, this.pos + 20)}"`);
      }
    }
  }

  item(): RawItem {
    const s = this.s;
    const start = this.pos;
    if (s[this.pos] === '&') this.pos++;
    const nameStart = this.pos;
    while (this.pos < s.length && /[A-Za-z0-9_.\-]/.test(s[this.pos])) this.pos++;
    let name = s.slice(nameStart, this.pos);
    if (!name) this.fail(`Expected an attribute name, got "${s.slice(this.pos, this.pos + 20)}"`);
    name = name.replace(/\.+$/, (m) => { this.pos -= m.length; return ''; });
    let tag: number | undefined;
    if (s[this.pos] === ':' && /[0-9]/.test(s[this.pos + 1] ?? '')) {
      const m = /^:([0-9]+)/.exec(s.slice(this.pos))!;
      tag = Number(m[1]);
      this.pos += m[0].length;
    }
    this.skipWs(false);
    let op: PairOperator | undefined;
    for (const o of OPERATORS) {
      if (s.startsWith(o, this.pos)) {
        op = o;
        break;
      }
    }
    if (!op) this.fail(`Expected an operator after "${name}"`);
    this.pos += op.length;
    this.skipWs(false);
    let value: ValueToken | undefined;
    // A cast before the value: `Framed-IP-Address = (ipaddr) 192.0.2.1`.
    let cast: string | undefined;
    const cm = /^\(\s*([a-z][a-z0-9_-]*)\s*\)\s*/i.exec(s.slice(this.pos, this.pos + 40));
    if (cm && CAST_TYPES.has(cm[1].toLowerCase())) {
      cast = cm[1].toLowerCase();
      this.pos += cm[0].length;
    }
    const c = s[this.pos];
    if (this.pos >= s.length || c === ',' || c === '\n' || c === '}') {
      if (op !== '=*' && op !== '!*') {
        // An empty bare value (`Name = `) is an empty string.
        value = { kind: 'bare', text: '' };
      }
    } else if (c === '{') {
      this.pos++;
      value = { kind: 'group', items: this.items(true) };
    } else if (c === '"' || c === "'" || c === '`') {
      value = { kind: 'quoted', quote: c, text: this.quoted(c) };
    } else {
      const vs = this.pos;
      while (this.pos < s.length) {
        const d = s[this.pos];
        if (d === ',' || d === '}' || d === '\n' || d === ' ' || d === '\t' || d === '\r') break;
        this.pos++;
      }
      value = { kind: 'bare', text: s.slice(vs, this.pos), at: vs };
    }
    return { name, tag, op, value, offset: start, cast };
  }

  /** A quoted string body (escapes undone), the scanner left after the closing quote. */
  quoted(q: '"' | "'" | '`'): string {
    const s = this.s;
    const start = ++this.pos;
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === '\\') {
        this.pos += 2;
        continue;
      }
      if (c === q) {
        const body = s.slice(start, this.pos);
        this.pos++;
        return unescapeString(body, q);
      }
      this.pos++;
    }
    this.fail('Unterminated quoted string', start - 1);
  }
}

// ---------------------------------------------------------------- name resolution

interface Resolver {
  dict: Dictionary;
  fallback: readonly Dictionary[];
  compare?: Map<Pair, PairOperator>;
  /** The text being parsed (error messages quote what follows a value). */
  src?: string;
  /** Only assignment operators are allowed (`parsePairList` without `compare`). */
  assignOnly?: boolean;
}

function isNumber(s: string): boolean {
  return /^[0-9]+$/.test(s);
}

/** Where names inside `{ … }` of `da` are looked up. */
function scopeOf(da: DictAttr, r: Resolver): DictAttr {
  if (da.type !== 'group') return da;
  if (da.flags.ref) {
    const target = r.dict.resolve(da.flags.ref);
    if (target) return target;
  }
  return r.dict.root;
}

/** Child of `scope` by name or number (internal ones too), looking through `union` members. */
function childOf(scope: DictAttr, comp: string, r: Resolver): DictAttr | undefined {
  const num = isNumber(comp) ? Number(comp) : -1;
  const direct = num >= 0 ? r.dict.childAny(scope, num) : scope.childByName(comp);
  if (direct) return direct;
  // Union members are transparent: `Test-Struct2 = { Sub-Struct = … }`.
  const kids = scope.members ?? [...scope.children.values()];
  for (const k of kids) {
    if (k.type !== 'union') continue;
    const c = num >= 0 ? k.child(num) : k.childByName(comp);
    if (c) return c;
  }
  // A vendor the dictionary declares but has no attributes for under this VSA (e.g. 241.26.6527).
  if (scope.type === 'vsa') {
    const def = r.dict.vendorDef(num >= 0 ? num : comp);
    if (def) return vendorAttr(scope, def.name, def.id, def.format);
  }
  return undefined;
}

/** The chain of definitions from just below `scope` down to `da` (full path from the root when `da` is elsewhere). */
function chainTo(scope: DictAttr, da: DictAttr): DictAttr[] {
  const chain: DictAttr[] = [];
  for (let a: DictAttr | null = da; a && a !== scope && a.type !== 'root'; a = a.parent) chain.unshift(a);
  return chain;
}

function safeResolve(dict: Dictionary, name: string, from?: DictAttr): DictAttr | undefined {
  try {
    return dict.resolve(name, from);
  } catch {
    return undefined;
  }
}

/**
 * Resolves `name` under `scope`. Returns the chain of definitions to create
 * (parents first). `structural` says the value is `{ … }`, which decides the
 * type of an unknown final component.
 */
function resolvePath(name: string, scope: DictAttr, r: Resolver, raw: boolean, structural: boolean, topLevel: boolean): DictAttr[] {
  const comps = name.split('.');
  const chain: DictAttr[] = [];
  let cur = scope;
  const lookupFallback = (n: string): DictAttr | undefined => {
    for (const fb of r.fallback) {
      const f = safeResolve(fb, n);
      if (f) return f;
    }
    return undefined;
  };
  for (let i = 0; i < comps.length; i++) {
    const comp = comps[i];
    const last = i === comps.length - 1;
    let da = childOf(cur, comp, r);
    if (!da && i === 0 && !isNumber(comp) && cur.type !== 'root') {
      // Inside a protocol TLV, a server-internal attribute may be named (`Extended-Attribute-1 = { Tmp-Integer-0 = 1 }`).
      const f = lookupFallback(comp);
      if (f && f.flags.internal) {
        chain.push(f);
        cur = f;
        continue;
      }
    }
    if (!da && !isNumber(comp)) {
      // Aliases, v3 flat names and vendor names: let the dictionary try the rest as a whole.
      const rest = comps.slice(i).join('.');
      const from = cur.type === 'root' ? undefined : cur;
      const whole = safeResolve(r.dict, rest, from) ?? (i === 0 && topLevel ? lookupFallback(rest) : undefined);
      if (whole) {
        chain.push(...chainTo(cur, whole));
        cur = whole;
        break;
      }
      da = safeResolve(r.dict, comp, from) ?? (i === 0 && topLevel ? lookupFallback(comp) : undefined);
      if (!da) {
        if (cur.flags.internal && cur.type !== 'group' && safeResolve(r.dict, comp)) {
          throw new Error(`Internal attribute '${cur.name}' of data type '${cur.type}' cannot contain protocol attributes`);
        }
        const hint = r.dict.suggestName(cur.type === 'root' ? rest : comp, cur.type === 'root' ? undefined : cur);
        throw new Error(`Unknown attribute "${rest}"${cur.type === 'root' ? '' : ` for parent "${cur.name}"`}${hint ? `; did you mean "${hint}"?` : ''}`);
      }
    }
    if (!da) {
      // Unknown number: raw unknown attribute.
      da = unknownAttr(cur, Number(comp), last && !structural ? 'octets' : unknownStructuralType(cur));
    }
    if (da.parent === cur) chain.push(da);
    else chain.push(...chainTo(cur, da));
    cur = da.type === 'group' && !last ? scopeOf(da, r) : da;
  }
  if (chain.length === 0) throw new Error(`Unknown attribute "${name}"`);
  if (raw) {
    const leaf = chain[chain.length - 1];
    if (!(structural && leaf.flags.raw)) chain[chain.length - 1] = rawOf(leaf);
  }
  return chain;
}

// ---------------------------------------------------------------- values

/** Turns one value token into a typed value for leaf `da`. Throws on bad input. */
function leafValue(da: DictAttr, tok: ValueToken, src?: string, dict?: Dictionary): Value {
  if (tok.kind === 'group') {
    throw new Error(`Attribute ${da.name} is not a structural type, and cannot take a '{' list`);
  }
  const type = da.type as LeafType;
  // A value naming an attribute: resolved, and kept as its full name.
  if (type === 'attribute' && dict) return parseAttrRef(dict, tok.text).fullName;
  if (tok.kind === 'quoted' && (type === 'octets' || type === 'abinary' && da.flags.raw)) return stringToBytes(tok.text);
  try {
    return parseValue(type, tok.text, da.flags.raw ? undefined : da);
  } catch (err) {
    // An integer followed by other text (`NAS-Port = 192.168.0.1`): FreeRADIUS reads the number
    // and complains about what follows it.
    const m = /^[+-]?[0-9]+/.exec(tok.text);
    if (tok.kind === 'bare' && src !== undefined && tok.at !== undefined && m && /^u?int(8|16|32|64)$/.test(type) && !/^0x/i.test(tok.text)) {
      const rest = src.slice(tok.at + m[0].length);
      throw new Error(`Unexpected text '${rest.slice(0, 20)} ...' after value`);
    }
    // A misspelt enumeration name: say which one was meant.
    const name = tok.kind !== 'quoted' && da.values ? suggest(tok.text.toLowerCase(), da.values.keys()) : undefined;
    if (name === undefined || !(err instanceof Error)) throw err;
    err.message += `; did you mean "${da.nameOfValue(da.values!.get(name)!) ?? name}"?`;
    throw err;
  }
}

// ---------------------------------------------------------------- building pairs

const COMPARISONS = new Set<PairOperator>(['==', '!=', '<', '>', '<=', '>=', '=~', '!~', '=*', '!*']);

function build(items: RawItem[], scope: DictAttr, r: Resolver, out: Pair[], ops: PairWithOp[] | undefined, topLevel: boolean, owner?: DictAttr): void {
  for (const it of items) {
    if (r.assignOnly && COMPARISONS.has(it.op) && it.op.length === 2) {
      throw new PairParseError(`Invalid character '${it.op[1]}' after operator '${it.op[0]}'`, it.offset);
    }
    let name = it.name;
    let raw = false;
    if (/^raw\./i.test(name)) {
      raw = true;
      name = name.slice(4);
    }
    const structural = it.value?.kind === 'group';
    if (name.startsWith('.')) {
      if (!owner) throw new PairParseError("The '.Attribute' syntax cannot be used at the root of a dictionary", it.offset);
      if (owner.type === 'group') throw new PairParseError(`The '.Attribute' syntax cannot be used with parent ${owner.name} of data type '${owner.type}'`, it.offset);
      if (it.op !== '=' && it.op !== ':=' && !COMPARISONS.has(it.op)) throw new PairParseError(`The '.Attribute' syntax cannot be used along with the '${it.op}' operator`, it.offset);
      name = name.slice(1);
    }
    const chain = resolvePath(name, scope, r, raw, structural, topLevel);
    // Parents: reuse existing ones in this list when there are none in `ops` mode.
    let list = out;
    let top: Pair | undefined;
    for (let i = 0; i < chain.length - 1; i++) {
      const pda = chain[i];
      let p = ops ? undefined : findPair(list, pda);
      if (!p || !p.children) {
        p = new Pair(pda);
        p.children = [];
        list.push(p);
      }
      top ??= p;
      list = p.children!;
    }
    const da = chain[chain.length - 1];
    const leaf = new Pair(da);
    if (it.tag !== undefined) leaf.tag = it.tag;
    if (da.isStructural && (it.op === '=*' || it.op === '!*') && (!it.value || it.value.kind !== 'group')) {
      // Presence tests take no value, for structural attributes too (`Digest-Attributes =* ANY`).
      leaf.children = [];
    } else if (da.isStructural && it.value?.kind === 'quoted' && it.value.quote !== '`') {
      // A group given as a string holding a pair list (`Digest-Attributes := 'Nonce = "x", Method = "y"'`).
      leaf.children = [];
      build(new Scanner(it.value.text).items(false), scopeOf(da, r), r, leaf.children, undefined, false, da);
    } else if (da.isStructural) {
      if (!it.value || it.value.kind !== 'group') {
        throw new Error(`Group list for ${da.name} MUST start with '{'`);
      }
      leaf.children = [];
      build(it.value.items, scopeOf(da, r), r, leaf.children, undefined, false, da);
    } else if (it.value !== undefined && it.op !== '=*' && it.op !== '!*') {
      const castTo = it.cast !== undefined ? CAST_TYPES.get(it.cast)! : undefined;
      if (castTo !== undefined && castTo !== da.type && it.value.kind !== 'group') {
        if (raw) {
          const known = resolvePath(name, scope, r, false, false, topLevel);
          throw new Error(`Cannot create raw attribute ${da.name} which changes data type from ${known[known.length - 1].type} to ${castTo}`);
        }
        leaf.value = castValue(parseValue(castTo, it.value.text), castTo, da.type as LeafType);
      } else {
        leaf.value = leafValue(da, it.value, r.src, r.dict);
      }
    }
    list.push(leaf);
    if (ops) ops.push({ pair: top ?? leaf, leaf, op: it.op });
    if (r.compare) {
      if (da.isStructural && it.op !== '=' && it.op !== '==') {
        throw new Error(`Structural attribute '${da.name}' must use '=' or '==' for comparisons`);
      }
      r.compare.set(leaf, it.op);
    }
  }
}

function resolver(dict: Dictionary, opts?: ParsePairOptions): Resolver {
  return { dict, fallback: opts?.fallback ?? [], compare: opts?.compare };
}

/**
 * Parses FreeRADIUS pair-list text into pairs (operators are checked but
 * dropped). Throws an `Error` whose message is the FreeRADIUS-style reason
 * (the conformance runner prints it after `ERROR: `).
 */
export function parsePairList(text: string, dict: Dictionary, opts?: ParsePairOptions): Pair[] {
  const sc = new Scanner(text);
  const items = sc.items(false);
  const out: Pair[] = [];
  build(items, opts?.parent ?? dict.root, { ...resolver(dict, opts), src: text, assignOnly: !opts?.compare }, out, undefined, true);
  return out;
}

/**
 * Like {@link parsePairList} but keeps each item's operator. Hierarchical
 * names are not merged: every item gets its own top-level pair, so each
 * `{ pair, op }` can be applied on its own (users files, `.attrs` filters).
 */
export function parsePairListWithOps(text: string, dict: Dictionary, opts?: ParsePairOptions): PairWithOp[] {
  const sc = new Scanner(text);
  const items = sc.items(false);
  const ops: PairWithOp[] = [];
  build(items, opts?.parent ?? dict.root, resolver(dict, opts), [], ops, true);
  return ops;
}

// ---------------------------------------------------------------- printing

/** Options for {@link printPairList}. */
export interface PrintPairOptions {
  /** Separator between items (default `", "`). */
  separator?: string;
  /** Operators of leaf pairs (from `ParsePairOptions.compare`); `=` for the others. */
  ops?: ReadonlyMap<Pair, PairOperator>;
}

/** Name of `da` relative to `parent` (an ancestor or null for top level); union levels are skipped. */
function relativeName(da: DictAttr, parent: DictAttr | null): string {
  if (da.parent === parent || !da.parent || da.parent.type === 'root') return da.name;
  const parts: string[] = [];
  let a: DictAttr | null = da;
  for (; a && a !== parent && a.type !== 'root'; a = a.parent) {
    if (a === da || a.type !== 'union') parts.unshift(a.name);
  }
  // When `parent` is not an ancestor (group contents) this is the full name from the root.
  return parts.join('.');
}

function printLeafValue(p: Pair): string {
  const da = p.da;
  const v = p.value;
  if (v === undefined) return '""';
  if (da.flags.raw) return printValue('octets', v);
  return printValue(da, v);
}

function printOne(p: Pair, parent: DictAttr | null, ops?: ReadonlyMap<Pair, PairOperator>): string {
  const op = ops?.get(p) ?? '=';
  const name = (p.da.flags.raw ? 'raw.' : '') + relativeName(p.da, parent);
  // v4 carries tags as `Tag-N = { … }` groups; print the v3 `:N` suffix only outside one.
  const tag = p.tag !== undefined && !(parent && parent.type === 'group' && parent.name === `Tag-${p.tag}`) ? ':' + p.tag : '';
  if (p.children || p.da.isStructural) {
    if (p.da.flags.flat && p.da.type === 'group' && p.children && p.children.length > 0) return printFlat(p, name, ops);
    if (!p.children || p.children.length === 0) return `${name}${tag} ${op} { }`;
    return `${name}${tag} ${op} { ${printChildren(p.children, p.da, ', ', ops)} }`;
  }
  return `${name}${tag} ${op} ${printLeafValue(p)}`;
}

/**
 * A group flagged `flat` prints its leaves as dotted names under it
 * (`Tmp-Flat-Group.Vendor-Specific.Cisco.AVPair = "foo"`); a leaf that the protocol root also
 * knows by its own name (an alias such as `Long-Name`) prints by that short name.
 */
function printFlat(p: Pair, name: string, ops?: ReadonlyMap<Pair, PairOperator>): string {
  const parts: string[] = [];
  const walk = (list: readonly Pair[], path: string): void => {
    for (const c of list) {
      const here = path ? `${path}.${c.da.name}` : c.da.name;
      if (c.children) {
        walk(c.children, here);
        continue;
      }
      let root: DictAttr | null = c.da;
      while (root && root.type !== 'root') root = root.parent;
      const short = root && root.byName.get(c.da.name.toLowerCase()) === c.da ? c.da.name : here;
      parts.push(`${name}.${(c.da.flags.raw ? 'raw.' : '') + short} ${ops?.get(c) ?? '='} ${printLeafValue(c)}`);
    }
  };
  walk(p.children ?? [], '');
  return parts.join(', ');
}

/** Union pairs whose contents are all known are printed transparently. */
function printChildren(children: readonly Pair[], parent: DictAttr, sep = ', ', ops?: ReadonlyMap<Pair, PairOperator>): string {
  const parts: string[] = [];
  for (const c of children) {
    if (c.da.type === 'union' && c.children && !c.da.flags.raw && c.children.every((k) => !k.da.flags.raw)) {
      if (c.children.length) parts.push(printChildren(c.children, c.da, sep, ops));
      continue;
    }
    parts.push(printOne(c, parent.type === 'union' ? parent.parent : parent, ops));
  }
  return parts.join(sep);
}

/**
 * Prints pairs as FreeRADIUS v4 text: `Name = value, Parent = { Child = v }`.
 * Strings are double-quoted and escaped, octets are `0x…`, enumerated values
 * `::Name`, raw attributes `raw.Name` / `raw.NUMBER`.
 */
export function printPairList(pairs: readonly Pair[], opts?: PrintPairOptions): string {
  const sep = opts?.separator ?? ', ';
  const parts: string[] = [];
  for (const p of pairs) parts.push(printOne(p, null, opts?.ops));
  return parts.join(sep);
}

/** Prints a single pair (with its children) in v4 form. */
export function printPair(p: Pair): string {
  return printOne(p, null);
}

/** Options for {@link printPairLines}. */
export interface PrintLinesOptions {
  /** Prefix of each line (default a tab). */
  indent?: string;
}

/** Per protocol root: attribute → lower-case alias names declared at the root for it. */
const rootAliases = new WeakMap<DictAttr, Map<DictAttr, string[]>>();

function aliasesOf(root: DictAttr, da: DictAttr): string[] | undefined {
  let m = rootAliases.get(root);
  if (!m) {
    m = new Map();
    for (const [key, target] of root.byName) {
      if (target.parent === root) continue;
      const list = m.get(target);
      if (list) list.push(key);
      else m.set(target, [key]);
    }
    rootAliases.set(root, m);
  }
  return m.get(da);
}

/** Restores the case of a lower-case alias that ends with the attribute's own name (`ms-chap-challenge` → `MS-CHAP-Challenge`). */
function aliasCase(alias: string, da: DictAttr, vendor: DictAttr | undefined): string | undefined {
  const local = da.name;
  if (!alias.endsWith(local.toLowerCase())) return undefined;
  const prefix = alias.slice(0, alias.length - local.length);
  if (prefix === '') return local;
  if (!prefix.endsWith('-')) return undefined;
  const word = prefix.slice(0, -1);
  if (vendor && vendor.name.toLowerCase() === word) return `${vendor.name}-${local}`;
  if (word.length <= 4) return `${word.toUpperCase()}-${local}`;
  return `${word[0].toUpperCase()}${word.slice(1)}-${local}`;
}

/**
 * v3-style flat name for a leaf, as FreeRADIUS 3 prints it: the local name
 * when the root has it as an alias (`Actual-Data-Rate-Upstream`), a root
 * alias ending in the local name (`MS-CHAP-Challenge`), else
 * `<Vendor>-<name>` for vendor attributes (`Cisco-AVPair`, `WiMAX-Release`),
 * else the full v4 name.
 */
function flatName(da: DictAttr): string {
  if (da.flags.raw) return 'raw.' + da.fullName;
  let root: DictAttr = da;
  while (root.parent) root = root.parent;
  if (da.parent === root) return da.name;
  if (root.childByName(da.name) === da) return da.name;
  let vendor: DictAttr | undefined;
  for (let a = da.parent; a && a !== root; a = a.parent) {
    if (a.type === 'vendor') {
      vendor = a;
      break;
    }
  }
  for (const alias of aliasesOf(root, da) ?? []) {
    const n = aliasCase(alias, da, vendor);
    if (n) return n;
  }
  if (vendor && !vendor.flags.raw) {
    return da.name.toLowerCase().startsWith(vendor.name.toLowerCase() + '-') ? da.name : `${vendor.name}-${da.name}`;
  }
  return da.fullName;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A value as FreeRADIUS 3 prints it: bare enum names, no `\%` escape, dates as `"Jan 11 1970 00:00:00 UTC"`. */
function printV3Value(da: DictAttr, v: Value): string {
  if (da.flags.raw) return printValue('octets', v);
  const en = da.nameOfValue(v);
  if (en !== undefined) return en;
  if (da.type === 'date' && typeof v === 'number') {
    const d = new Date(Math.floor(v) * 1000);
    const p2 = (n: number): string => String(n).padStart(2, '0');
    return `"${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} UTC"`;
  }
  if (da.type === 'string' && typeof v === 'string') return '"' + escapeString(v, '"').replace(/\\%/g, '%') + '"';
  return printValue(da, v, { enums: false });
}

/**
 * Prints pairs one per line, as radclient and FreeRADIUS 3 print replies:
 * `\tName = value`. Nested pairs are flattened to their leaves; vendor
 * attributes use their v3 flat name when the dictionary has one
 * (`Actual-Data-Rate-Upstream`, `Cisco-AVPair`). Enumerated values print bare
 * (`Service-Type = Framed-User`) and tags as `Name:1`.
 */
export function printPairLines(pairs: readonly Pair[], opts?: PrintLinesOptions): string {
  const indent = opts?.indent ?? '\t';
  const lines: string[] = [];
  const walk = (list: readonly Pair[], tag: number | undefined): void => {
    for (const p of list) {
      const m = /^Tag-([0-9]+)$/.exec(p.da.name);
      if (p.children) {
        walk(p.children, m && p.da.type === 'group' ? Number(m[1]) : tag);
        continue;
      }
      const t = p.tag ?? tag;
      const val = p.value === undefined ? '""' : printV3Value(p.da, p.value);
      lines.push(`${indent}${flatName(p.da)}${t !== undefined ? ':' + t : ''} = ${val}`);
    }
  };
  walk(pairs, undefined);
  return lines.join('\n');
}

/** Quotes a JS string the way pair lists print strings (double quotes, escaped). */
export function quotePairString(s: string): string {
  return '"' + escapeString(s, '"') + '"';
}
