/**
 * Edits (`attr op value`, `list op { … }`, `attr op { v1, v2 }`): the left side
 * is resolved, the right side is typed by it (a literal that does not parse is
 * a compile error). Also used by the v3 `update { }` keyword.
 */

import type { DictAttr } from '../../dict/attr';
import type { ConfItem, ConfLoc, ConfPair, ConfSection } from '../../config/ast';
import { type BoxType, box, parseBox } from '../xlat/box';
import type { Compiler } from './compiler';
import { type Ctx, quoteValue } from './context';
import { CompileError } from './errors';
import { isRetypable } from './expr-parser';
import { hintOf, rawStep, type ResolvedRef } from './refs';
import { Idx, type EditRhs, type Expr, type Instr, type PairTemplate } from './types';

export const EDIT_OPS: ReadonlySet<string> = new Set([':=', '=', '+=', '-=', '*=', '/=', '|=', '&=', '^=', '<<=', '>>=', '<=', '>=', '%=']);

/** The left side of an edit: an attribute, list or local variable (not `[*]`/`[#]`). */
export function lhsRef(c: Compiler, text: string, loc: ConfLoc, ctx: Ctx): ResolvedRef {
  const r = c.resolve(text.trim(), loc, ctx);
  if (!r) throw new CompileError(loc, `Unknown attribute "${text.trim()}" (expected an attribute, list or local variable on the left of an edit)`, () => hintOf(c.dict.suggestName(text.trim())));
  const last = r.ref.listIdx ?? (r.ref.segs.length ? r.ref.segs[r.ref.segs.length - 1].idx : undefined);
  if (last === Idx.ALL || last === Idx.COUNT) throw new CompileError(loc, `Cannot assign to "${text.trim()}": [*] and [#] are not allowed on the left of an edit`);
  return r;
}

/** `attr op value` / `list op value`. */
export function compileEdit(c: Compiler, p: ConfPair, ctx: Ctx): Instr {
  const lhs = lhsRef(c, p.attr, p.loc, ctx);
  const lhsList = lhs.ref.segs.length === 0 || lhs.t === 'group';
  const vtext = quoteValue(p);
  let rhs: EditRhs;
  if (lhsList) {
    if (p.quote === 'double' && /%/.test(p.value ?? '')) {
      // A dynamic string: parsed as a pair list when the edit runs.
      rhs = { k: 'text', e: c.parseExpr(vtext, p.loc, ctx, false) };
    } else if (p.quote === 'double' || p.quote === 'single') rhs = { k: 'pairs', items: pairsFromText(c, p.value ?? '', p.loc, lhs, ctx) };
    else {
      const e = c.parseExpr(vtext, p.loc, ctx, false);
      if (e.k === 'lit') throw new CompileError(p.loc, `Expected an attribute, list or { … } on the right of "${p.op}" for a list, got "${vtext}"`);
      rhs = { k: 'expr', e };
    }
  } else {
    let e = parseValueFor(c, vtext, p.loc, ctx, lhs.da);
    if (e.k === 'ref' && e.ref.segs.length && e.ref.segs[e.ref.segs.length - 1].idx === Idx.COUNT) {
      throw new CompileError(p.loc, `"${vtext}": [#] cannot be used as a value here (use %{${vtext}})`);
    }
    e = typeFor(c, e, lhs, p.loc, p.op);
    rhs = { k: 'expr', e };
  }
  return { k: 'edit', lhs: lhs.ref, lhsList, lhsType: lhs.t, op: p.op, rhs, name: p.text, loc: p.loc, actions: ctx.defaults };
}

/** Parses an edit value; a bare word that is not an attribute may still be an enum name of `da`. */
export function parseValueFor(c: Compiler, text: string, loc: ConfLoc, ctx: Ctx, da: DictAttr | undefined): Expr {
  try {
    return c.parseExpr(text, loc, ctx, false);
  } catch (err) {
    if (err instanceof CompileError && /Unknown attribute "/.test(err.base) && da?.values && /^[^\s"'%()]+$/.test(text)) {
      return { k: 'lit', box: box('string', text), raw: text };
    }
    throw err;
  }
}

/** Types a literal right-hand side by the left-hand side (a compile error when it cannot parse). */
export function typeFor(c: Compiler, e: Expr, lhs: ResolvedRef, loc: ConfLoc, op: string): Expr {
  if (!isRetypable(e) || !lhs.t || lhs.t === 'group') return e;
  const lit = e as Extract<Expr, { k: 'lit' }>;
  // A string shifted by a count: `Filter-Id <<= 2` drops the first 2 bytes.
  if (lhs.t === 'string' && (op === '<<=' || op === '>>=') && /^\d+$/.test(lit.raw ?? '')) {
    return { k: 'lit', box: box('uint32', Number(lit.raw)) };
  }
  // String edits with a string literal keep the text as is.
  if (lhs.t === 'string') return { k: 'lit', box: box('string', lit.raw!) };
  if ((op === '<<=' || op === '>>=' || op === '*=' || op === '/=' || op === '%=') && lit.box.type !== 'string') return e;
  try {
    return { k: 'lit', box: parseBox(lhs.t, lit.raw!, lhs.da) };
  } catch (err) {
    if (lit.box.type !== 'string') {
      try {
        return { k: 'lit', box: c.castConst(lit.box, lhs.t, loc) };
      } catch { /* report the parse error below */ }
    }
    const da = lit.box.type === 'string' ? lhs.da : undefined;
    throw new CompileError(loc, `Failed parsing "${lit.raw}" as type '${lhs.t}': ${(err as Error).message}`, da?.values ? () => hintOf(c.dict.suggestValue(da, lit.raw!)) : undefined);
  }
}

/** `attr op { … }` / `list op { … }`. */
export function compileEditBlock(c: Compiler, cs: ConfSection, ctx: Ctx): Instr {
  const op = cs.op!;
  if (!EDIT_OPS.has(op)) throw new CompileError(cs.loc, `Invalid operator "${op}" before "{"`);
  const lhs = lhsRef(c, cs.name1, cs.loc, ctx);
  const lhsList = lhs.ref.segs.length === 0 || lhs.t === 'group';
  let rhs: EditRhs;
  if (cs.children.length === 0) {
    if (!lhsList && op !== ':=' && op !== '=') throw new CompileError(cs.loc, `"${cs.name1} ${op} {}" is not allowed: an empty list can only be assigned with := (delete) or =`);
    rhs = { k: 'empty' };
  }
  else if (lhsList) {
    const items = pairTemplates(c, cs.children, lhs, ctx);
    if (op === '-=') {
      for (const t of items) {
        if (t.path.length) throw new CompileError(t.loc, `Removing nested attributes ("${t.path.map((d) => d.name).join('.')}.${t.da.name}") from a list is not supported; edit the parent attribute instead`);
      }
    }
    rhs = { k: 'pairs', items };
  }
  else {
    const items: Expr[] = [];
    for (const it of cs.children) {
      if (it.kind !== 'pair' || it.op !== '') throw new CompileError(it.loc, `Expected a value in the list for "${cs.name1}", got "${it.kind === 'pair' ? it.text : it.name1}"`);
      items.push(typeFor(c, parseValueFor(c, it.text, it.loc, ctx, lhs.da), lhs, it.loc, op));
    }
    rhs = { k: 'values', items };
  }
  return { k: 'edit', lhs: lhs.ref, lhsList, lhsType: lhs.t, op, rhs, name: `${cs.name1} ${op} { … }`, loc: cs.loc, actions: ctx.defaults };
}

/** Children of a list edit block: `Attr op value` lines and nested `Attr op { … }` blocks. */
export function pairTemplates(c: Compiler, items: readonly ConfItem[], parent: ResolvedRef, ctx: Ctx): PairTemplate[] {
  const out: PairTemplate[] = [];
  const base = parent.da && parent.da.type !== 'group' ? parent.da : undefined;
  for (const it of items) {
    const name = it.kind === 'section' ? it.name1 : it.attr;
    const op = it.op;
    if (!op) throw new CompileError(it.loc, `Expected "attribute op value" in an edit list, got "${it.kind === 'pair' ? it.text : it.name1}"`);
    const { da, path } = templateAttr(c, name, base, it.loc);
    let rhs: EditRhs;
    if (it.kind === 'section') {
      if (!da.isStructural) {
        const items2: Expr[] = [];
        for (const v of it.children) {
          if (v.kind !== 'pair' || v.op !== '') throw new CompileError(v.loc, 'Expected a value');
          items2.push(typeFor(c, parseValueFor(c, v.text, v.loc, ctx, da), { ref: parent.ref, t: da.type as BoxType, da }, v.loc, op));
        }
        rhs = { k: 'values', items: items2 };
      } else {
        rhs = it.children.length ? { k: 'pairs', items: pairTemplates(c, it.children, { ref: parent.ref, t: 'group', da }, ctx) } : { k: 'empty' };
      }
    } else {
      const e = parseValueFor(c, quoteValue(it), it.loc, ctx, da);
      rhs = { k: 'expr', e: da.isStructural ? e : typeFor(c, e, { ref: parent.ref, t: da.type as BoxType, da }, it.loc, op) };
    }
    out.push({ da, path, op, rhs, loc: it.loc });
  }
  return out;
}

function templateAttr(c: Compiler, name: string, base: DictAttr | undefined, loc: ConfLoc): { da: DictAttr; path: DictAttr[] } {
  let n = name.trim();
  if (n.startsWith('&')) n = n.slice(1);
  for (const l of ['request.', 'reply.', 'control.', 'session-state.', 'parent.', 'outer.']) {
    if (n.toLowerCase().startsWith(l)) throw new CompileError(loc, `"${name}": a list qualifier is not allowed inside an edit list (names are relative to the list being edited)`);
  }
  if (/^raw\./i.test(n)) {
    const parts = n.slice(4).split('.');
    let cur = base ?? c.dict.root;
    for (let i = 0; i < parts.length; i++) cur = rawStep(c.dict, cur, parts[i], i === parts.length - 1, loc, name);
    const rpath: DictAttr[] = [];
    for (let a: DictAttr | null = cur.parent; a && a !== base && a.type !== 'root'; a = a.parent) rpath.unshift(a);
    return { da: cur, path: rpath };
  }
  const da = (base ? base.childByName(n) ?? c.dict.resolve(n, base) : undefined) ?? c.dict.resolve(n);
  if (!da) throw new CompileError(loc, `Unknown attribute "${name}"`, () => hintOf((base ? c.dict.suggestName(n, base) : undefined) ?? c.dict.suggestName(n)));
  const path: DictAttr[] = [];
  for (let a: DictAttr | null = da.parent; a && a !== base && a.type !== 'root'; a = a.parent) path.unshift(a);
  return { da, path };
}

/** `request -= "Filter-Id == 'foo'"`: a constant string holding a pair list. */
function pairsFromText(c: Compiler, text: string, loc: ConfLoc, parent: ResolvedRef, ctx: Ctx): PairTemplate[] {
  const items: ConfPair[] = [];
  for (const part of text.split(/[,\n]/)) {
    const s = part.trim();
    if (!s) continue;
    const m = /^([A-Za-z0-9_.\-[\]#*]+?)\s*(==|!=|:=|\+=|-=|<=|>=|=|<|>)\s*(.*)$/.exec(s);
    if (!m) throw new CompileError(loc, `Invalid pair "${s}" in string`);
    let value = m[3];
    let quote: ConfPair['quote'] = 'bare';
    if (/^'.*'$/.test(value)) { quote = 'single'; value = value.slice(1, -1); }
    else if (/^".*"$/.test(value)) { quote = 'double'; value = value.slice(1, -1); }
    items.push({ kind: 'pair', attr: m[1], op: m[2], value, quote, text: s, loc });
  }
  return pairTemplates(c, items, parent, ctx);
}
