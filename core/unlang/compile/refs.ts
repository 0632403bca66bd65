/**
 * Attribute-reference resolution at compile time:
 * `[parent.|outer.]…[request.|reply.|control.|session-state.]Attr[idx].Child[idx]`,
 * list references (`control`, `request.[*]`, `reply.[#]`) and local variables.
 */

import { DictAttr } from '../../dict/attr';
import type { Dictionary } from '../../dict/dictionary';
import type { ConfLoc } from '../../config/ast';
import type { ListName } from '../../request/request';
import type { BoxType } from '../xlat/box';
import { CompileError } from './errors';
import { rawOf, unknownAttr, unknownStructuralType } from '../../pair/raw';
import { Idx, type AttrRef, type Expr, type Index, type RefSeg } from './types';

const LISTS: Record<string, ListName> = {
  request: 'request', reply: 'reply', control: 'control', 'session-state': 'session-state',
  config: 'control',
};

/** A lexical scope of local variables (a block's declarations, a foreach variable). */
export class Scope {
  private readonly vars = new Map<string, DictAttr>();

  constructor(readonly parent?: Scope) {}

  /** Declares a local variable; a compile error if the name is already declared in this scope. */
  declare(name: string, da: DictAttr, loc: ConfLoc): void {
    const k = name.toLowerCase();
    if (this.vars.has(k)) throw new CompileError(loc, `Local variable "${name}" is already declared in this scope`);
    this.vars.set(k, da);
  }

  /** The variable with this name, here or in an enclosing scope. */
  lookup(name: string): DictAttr | undefined {
    const k = name.toLowerCase();
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const v = s.vars.get(k);
      if (v) return v;
    }
    return undefined;
  }
}

/** Makes the definition of a local variable (`uint32 foo`, `group g`). */
export function localAttr(name: string, type: BoxType): DictAttr {
  return new DictAttr(name, 0, type, null, { internal: true });
}

interface RawSeg { name: string; idx?: string }

/** Splits `a.b[1].c` into segments, keeping bracket contents intact. */
function splitSegs(text: string, loc: ConfLoc): RawSeg[] {
  const out: RawSeg[] = [];
  let i = 0;
  let name = '';
  while (i <= text.length) {
    const c = text[i];
    if (c === undefined || c === '.') {
      out.push({ name });
      name = '';
      i++;
      continue;
    }
    if (c === '[') {
      let depth = 0;
      const start = i;
      for (; i < text.length; i++) {
        if (text[i] === '[') depth++;
        else if (text[i] === ']' && --depth === 0) break;
      }
      if (depth !== 0) throw new CompileError(loc, `Missing "]" in "${text}"`);
      const seg: RawSeg = { name, idx: text.slice(start + 1, i).trim() };
      i++;
      out.push(seg);
      name = '';
      if (text[i] === '.') i++;
      else if (i < text.length) throw new CompileError(loc, `Unexpected text after "]" in "${text}"`);
      if (i >= text.length) return out;
      continue;
    }
    name += c;
    i++;
  }
  return out;
}

/** Result of resolving reference text. */
export interface ResolvedRef {
  ref: AttrRef;
  /** Type of the selected value(s): leaf type, `group` for structural/list, `uint32` for `[#]`. */
  t?: BoxType;
  /** The final attribute (undefined for a list). */
  da?: DictAttr;
}

/**
 * Resolves reference text. Returns undefined when the first name is not an
 * attribute, list or local variable (the caller may treat the word as a
 * literal); throws CompileError when a later part is unknown or malformed.
 * `parseIndex` compiles an index expression (`[%{i - 1}]`, `[i]`).
 */
export function resolveRef(
  text: string, dict: Dictionary, scope: Scope | undefined, loc: ConfLoc,
  parseIndex: (src: string) => Expr,
): ResolvedRef | undefined {
  // v3-style `&Attr` and `&request:Attr` references are accepted.
  if (text.startsWith('&')) text = text.slice(1).replace(/^(request|reply|control|session-state|config):(?=[A-Za-z])/i, '$1.');
  if (!/^[A-Za-z0-9_@.-]/.test(text) || /^\d+$/.test(text)) return undefined;
  const segs = splitSegs(text, loc);
  let i = 0;
  let up = 0;
  let list: ListName | undefined;
  while (i < segs.length - 1 && (segs[i].name === 'parent' || segs[i].name === 'outer') && segs[i].idx === undefined) { up++; i++; }
  const maybeList = LISTS[segs[i]?.name.toLowerCase() ?? ''];
  if (maybeList && segs[i].idx === undefined) { list = maybeList; i++; }
  else if (up > 0 && segs[i] && LISTS[segs[i].name.toLowerCase()] === undefined) {
    // `parent.Attr` means the parent's request list.
    list = 'request';
  }
  const qualified = list !== undefined || up > 0;
  const idxOf = (raw: string | undefined): Index => {
    if (raw === undefined) return Idx.NONE;
    if (raw === '*') return Idx.ALL;
    if (raw === '#') return Idx.COUNT;
    if (raw === 'n') return Idx.LAST;
    if (/^\d+$/.test(raw)) return Number(raw);
    if (raw === '') throw new CompileError(loc, `Empty index in "${text}"`);
    return parseIndex(raw);
  };
  if (i >= segs.length) {
    if (!list) return undefined;
    return { ref: { list, up, segs: [], text, qualified: true }, t: 'group' };
  }
  if (list && segs[i].name === '') {
    if (i !== segs.length - 1) throw new CompileError(loc, `Unexpected text after list index in "${text}"`);
    const listIdx = idxOf(segs[i].idx);
    return { ref: { list, up, segs: [], listIdx, text, qualified: true }, t: listIdx === Idx.COUNT ? 'uint32' : undefined };
  }
  if (segs[i].name.toLowerCase() === 'raw' && segs[i].idx === undefined && i < segs.length - 1 && !(scope?.lookup('raw'))) {
    // `raw.26`, `raw.User-Name`, `raw.26.9.1`: the attribute as octets (numbers may be unknown).
    const rpath: RefSeg[] = [];
    let cur = dict.root;
    for (let j = i + 1; j < segs.length; j++) {
      const s = segs[j];
      const d = rawStep(dict, cur, s.name, j === segs.length - 1, loc, text);
      pushPath(rpath, d, idxOf(s.idx), cur === dict.root ? undefined : cur);
      cur = d;
    }
    return { ref: { list: list ?? 'request', up, segs: rpath, text, qualified }, t: 'octets', da: cur };
  }
  const path: RefSeg[] = [];
  let da: DictAttr | undefined;
  const first = segs[i];
  if (first.name === '') throw new CompileError(loc, `Invalid attribute reference "${text}"`);
  if (!list && up === 0 && scope) {
    const local = scope.lookup(first.name);
    if (local) {
      list = 'local';
      da = local;
      path.push({ da, idx: idxOf(first.idx) });
    }
  }
  if (!da) {
    da = dict.resolve(first.name);
    // A nested attribute's own name is not a top-level name (`Capability` is only reachable
    // as `Vendor-Specific.WiMAX.Capability`); aliases such as `Cisco-AVPair` are.
    // Dictionary ALIASes (`WiMAX` → `Vendor-Specific.WiMAX`) live in the root's name table.
    if (da && da.parent && da.parent.type !== 'root' && !first.name.includes('.') && first.name.toLowerCase() === da.name.toLowerCase()
      && dict.root.childByName(first.name) !== da) da = undefined;
    if (!da) {
      if (!list && up === 0 && i === 0) return undefined;
      throw new CompileError(loc, `Unknown attribute "${first.name}" in "${text}"`, () => hintOf(dict.suggestName(first.name)));
    }
    pushPath(path, da, idxOf(first.idx), undefined);
    list ??= 'request';
  }
  let kids: Index | undefined;
  for (i++; i < segs.length; i++) {
    const s = segs[i];
    if (s.name === '' && i === segs.length - 1 && da.isStructural && s.idx !== undefined) {
      // `Tmp-Group-0.[*]`: the children of a structural attribute.
      kids = idxOf(s.idx);
      break;
    }
    if (s.name === '') throw new CompileError(loc, `Invalid attribute reference "${text}"`);
    let child: DictAttr | undefined;
    if (da.type === 'group' || da.type === 'root') {
      // A foreach variable over a structural attribute knows that attribute's children.
      const own = da.childByName(s.name);
      if (own) { pushPath(path, own, idxOf(s.idx), own.parent ?? undefined); da = own; continue; }
      child = dict.resolve(s.name);
      if (child) { pushPath(path, child, idxOf(s.idx), undefined); da = child; continue; }
    } else {
      child = da.childByName(s.name) ?? dict.resolve(s.name, da);
    }
    if (!child) { const parent = da; throw new CompileError(loc, `Unknown attribute "${s.name}" (not a child of "${da.fullName || da.name}") in "${text}"`, () => hintOf(dict.suggestName(s.name, parent))); }
    pushPath(path, child, idxOf(s.idx), da);
    da = child;
  }
  if (kids !== undefined) {
    return { ref: { list: list!, up, segs: path, listIdx: kids, text, qualified: qualified || list === 'local' }, t: kids === Idx.COUNT ? 'uint32' : undefined };
  }
  const lastIdx = path[path.length - 1].idx;
  const t: BoxType | undefined = lastIdx === Idx.COUNT ? 'uint32' : da.isStructural ? 'group' : (da.type as BoxType);
  return { ref: { list: list!, up, segs: path, text, qualified: qualified || list === 'local' }, t, da };
}

/**
 * One step of a `raw.` path under `cur`: a child by number (an unknown number gives an unknown
 * attribute) or by name; the last step is the attribute's raw (octets) twin.
 */
export function rawStep(dict: Dictionary, cur: DictAttr, name: string, last: boolean, loc: ConfLoc, text: string): DictAttr {
  const num = /^\d+$/.test(name) ? Number(name) : undefined;
  let d = num !== undefined ? cur.child(num) : cur.childByName(name) ?? (cur === dict.root ? dict.resolve(name) : undefined);
  if (!d) {
    if (num === undefined) throw new CompileError(loc, `Unknown attribute "${name}" in "${text}"`);
    d = unknownAttr(cur, num, last ? 'octets' : unknownStructuralType(cur));
  }
  return last ? rawOf(d) : d;
}

/** Appends `da` to the path, with any ancestors between `from` (exclusive) and `da`. */
function pushPath(path: RefSeg[], da: DictAttr, idx: Index, from: DictAttr | undefined): void {
  const chain: DictAttr[] = [];
  for (let a: DictAttr | null = da.parent; a && a !== from && a.type !== 'root'; a = a.parent) chain.unshift(a);
  for (const a of chain) path.push({ da: a, idx: Idx.NONE });
  path.push({ da, idx });
}

/** `; did you mean "X"?` for a suggested name, or ''. */
export function hintOf(name: string | undefined): string {
  return name ? `; did you mean "${name}"?` : '';
}
