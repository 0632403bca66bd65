/**
 * Applying edit instructions (`:=`, `=`, `+=`, `-=` …) to pair lists.
 *
 * Leaf edits work on the instances of one attribute; list edits work on the
 * children of a list or structural attribute. Each edit is computed first and
 * then applied, so a failing edit leaves the lists unchanged.
 */

import type { DictAttr } from '../../dict/attr';
import { Pair } from '../../pair/pair';
import { copyPair } from '../../pair/list';
import { Idx, type AttrRef, type EditRhs, type Expr, type Instr, type PairTemplate } from '../compile/types';
import { type ArithOp, type Box, type BoxType, BoxError, arith, boxAsText, castBox, compareBoxes } from '../xlat/box';
import { parsePairList } from '../../pair/text';
import { type EvalContext, evalExpr, pairBox, refRoot, resolvePairs } from '../xlat/eval';

type EditInstr = Extract<Instr, { k: 'edit' }>;

/** Pairs that must not be deleted right now (the instances a `foreach` is walking). */
export type LockSet = Set<Pair>;

const ARITH: Record<string, ArithOp> = {
  '+=': '+', '-=': '-', '*=': '*', '/=': '/', '%=': '%', '|=': '|', '&=': '&', '^=': '^', '<<=': '<<', '>>=': '>>',
};

function idxNum(i: import('../compile/types').Index, ctx: EvalContext): number {
  if (typeof i === 'number') return i;
  const v = evalExpr(i, ctx);
  return v.length ? Number(castBox(v[0], 'int64').value) : -100;
}

/**
 * The list holding the last step of `ref` (creating intermediate structural
 * pairs when `create`), or undefined.
 */
export function containerFor(ref: AttrRef, ctx: EvalContext, create: boolean): Pair[] | undefined {
  let list = refRoot(ref, ctx.request);
  if (!list) return undefined;
  for (let s = 0; s < ref.segs.length - 1; s++) {
    const seg = ref.segs[s];
    const idx = idxNum(seg.idx, ctx);
    const cands: Pair[] = list.filter((p: Pair) => p.da === seg.da);
    let p: Pair | undefined;
    if (idx === Idx.NONE || idx === Idx.ALL) p = cands[0];
    else if (idx === Idx.LAST) p = cands[cands.length - 1];
    else p = cands[idx];
    if (!p) {
      if (!create) return undefined;
      p = new Pair(seg.da);
      p.children = [];
      list.push(p);
    }
    if (!p.children) p.children = [];
    list = p.children;
  }
  return list;
}

function valueOf(b: Box, da: DictAttr): Box {
  return castBox(b, da.isStructural ? 'group' : (da.type as BoxType), da);
}

/** A pair holding a box's value (and its safe-for mark, when it has one). */
function leafPair(da: DictAttr, b: Box): Pair {
  const p = new Pair(da, b.value);
  if (b.safeFor !== undefined) p.safeFor = b.safeFor;
  return p;
}

/** Sets a pair's value from a box (its safe-for mark included; the value setter drops the old one). */
function setLeaf(p: Pair, b: Box): void {
  p.value = b.value;
  if (b.safeFor !== undefined) p.safeFor = b.safeFor;
}

function newLeaf(da: DictAttr, b: Box): Pair {
  return leafPair(da, valueOf(b, da));
}

/** Wraps a pair in new intermediate structural pairs (`Vendor-Specific` → `Cisco` → pair). */
function wrap(path: readonly DictAttr[], p: Pair): Pair {
  let cur = p;
  for (let i = path.length - 1; i >= 0; i--) {
    const parent = new Pair(path[i]);
    parent.children = [cur];
    cur = parent;
  }
  return cur;
}

function rhsValues(rhs: EditRhs, ctx: EvalContext): Box[] {
  switch (rhs.k) {
    case 'expr': return evalExpr(rhs.e, ctx);
    case 'values': {
      const out: Box[] = [];
      for (const e of rhs.items) for (const b of evalExpr(e, ctx)) out.push(b);
      return out;
    }
    case 'empty': return [];
    default: throw new BoxError('A list of pairs cannot be assigned to a leaf attribute');
  }
}

/** Builds the pairs a list of templates describes (values evaluated now). */
export function buildPairs(items: readonly PairTemplate[], ctx: EvalContext): Pair[] {
  const out: Pair[] = [];
  for (const t of items) {
    if (t.da.isStructural) {
      const p = new Pair(t.da);
      if (t.rhs.k === 'pairs') p.children = buildPairs(t.rhs.items, ctx);
      else if (t.rhs.k === 'expr') p.children = sourcePairs(t.rhs.e, ctx, true);
      else p.children = [];
      out.push(wrap(t.path, p));
      continue;
    }
    for (const b of rhsValues(t.rhs, ctx)) out.push(wrap(t.path, newLeaf(t.da, b)));
  }
  return out;
}

/** Copies of the pairs an expression selects (a list's children for list or structural references). */
function sourcePairs(e: Expr, ctx: EvalContext, unwrapStructural: boolean): Pair[] {
  if (e.k !== 'ref') throw new BoxError('Expected an attribute or list reference');
  const ref = e.ref;
  if (ref.segs.length === 0 && ref.listIdx === undefined) {
    const root = refRoot(ref, ctx.request);
    return root ? root.map(copyPair) : [];
  }
  const pairs = resolvePairs(ref, ctx);
  if (unwrapStructural && pairs.length === 1 && pairs[0].children && ref.segs.length && ref.segs[ref.segs.length - 1].idx !== Idx.ALL) {
    return pairs[0].children.map(copyPair);
  }
  return pairs.map(copyPair);
}

function sameValue(a: Pair, b: Pair): boolean {
  if (a.da !== b.da) return false;
  if (a.children || b.children) return true;
  try {
    return compareBoxes(pairBox(a), '==', pairBox(b));
  } catch {
    return false;
  }
}

function removeWhere(list: Pair[], locks: LockSet | undefined, pred: (p: Pair) => boolean): void {
  let w = 0;
  for (let r = 0; r < list.length; r++) {
    const p = list[r];
    if (pred(p) && !locks?.has(p) && !p.immutable) continue;
    list[w++] = p;
  }
  list.length = w;
}

/** Applies a list edit (`request += { … }`, `control := {}`, `request -= Filter-Id[*]` …). */
function listEdit(ins: EditInstr, ctx: EvalContext, locks?: LockSet): void {
  const op = ins.op;
  let target: Pair[] | undefined;
  const creating = op !== '-=' && op !== '&=';
  if (ins.lhs.segs.length === 0) target = refRoot(ins.lhs, ctx.request);
  else {
    const parent = containerFor(ins.lhs, ctx, creating);
    if (!parent) return;
    const seg = ins.lhs.segs[ins.lhs.segs.length - 1];
    const cands = parent.filter((p) => p.da === seg.da);
    const idx = idxNum(seg.idx, ctx);
    let p = idx === Idx.NONE ? cands[0] : idx === Idx.LAST ? cands[cands.length - 1] : cands[idx];
    if (!p) {
      if (!creating) return;
      p = new Pair(seg.da);
      p.children = [];
      parent.push(p);
    }
    if (!p.children) p.children = [];
    target = p.children;
  }
  if (!target) throw new BoxError(`No such list "${ins.lhs.text}"`);

  if (op === '-=') {
    const rhs = ins.rhs;
    if (rhs.k === 'pairs') {
      for (const t of rhs.items) {
        const cmp = t.op === '=' || t.op === ':=' ? '==' : t.op;
        const want = t.rhs.k === 'empty' ? undefined : rhsValues(t.rhs, ctx);
        removeWhere(target, locks, (p) => {
          if (p.da !== t.da) return false;
          if (!want || want.length === 0) return true;
          const pb = pairBox(p);
          return want.some((w) => compareBoxes(pb, cmp as never, valueOf(w, t.da)));
        });
      }
      return;
    }
    if (rhs.k === 'empty') return;
    if (rhs.k === 'text') {
      const want = textPairs(rhs.e, ctx, target);
      removeWhere(target, locks, (p) => want.some((w) => sameValue(p, w)));
      return;
    }
    if (rhs.k !== 'expr' || rhs.e.k !== 'ref') throw new BoxError('Expected pairs or a reference to remove');
    const ref = rhs.e.ref;
    let victims: Pair[];
    if (ref.segs.length === 0 && ref.listIdx === undefined) {
      const other = refRoot(ref, ctx.request) ?? [];
      removeWhere(target, locks, (p) => other.some((o) => sameValue(p, o)));
      return;
    }
    if (!ref.qualified) {
      // Unqualified: relative to the list being edited.
      victims = resolvePairs({ ...ref, list: 'local', up: 0 }, { ...ctx, request: fakeRequest(target) });
    } else victims = resolvePairs(ref, ctx);
    const set = new Set(victims);
    // At any depth: `reply -= Vendor-Specific.Microsoft.MPPE-Send-Key` names a pair two containers down.
    const drop = (list: Pair[]): void => {
      removeWhere(list, locks, (p) => set.has(p));
      for (const p of list) if (p.children) drop(p.children);
    };
    drop(target);
    return;
  }

  let src: Pair[];
  switch (ins.rhs.k) {
    case 'pairs': src = buildPairs(ins.rhs.items, ctx); break;
    case 'empty': src = []; break;
    case 'expr': src = sourcePairs(ins.rhs.e, ctx, true); break;
    case 'text': src = textPairs(ins.rhs.e, ctx, target); break;
    default: throw new BoxError('Unsupported right-hand side for a list edit');
  }
  switch (op) {
    case ':=':
      removeWhere(target, locks, () => true);
      for (const p of src) target.push(p);
      return;
    case '=':
      if (target.length === 0) for (const p of src) target.push(p);
      return;
    case '+=':
      for (const p of src) target.push(p);
      return;
    case '^=':
      target.unshift(...src);
      return;
    case '>=':
      for (const p of src) if (!target.some((t) => t.da === p.da)) target.push(p);
      return;
    case '<=':
      for (const p of src) {
        removeWhere(target, locks, (t) => t.da === p.da);
      }
      for (const p of src) target.push(p);
      return;
    case '|=':
      for (const p of src) if (!target.some((t) => sameValue(t, p))) target.push(p);
      return;
    case '&=':
      removeWhere(target, locks, (t) => !src.some((p) => sameValue(t, p)));
      return;
    default:
      throw new BoxError(`Operator ${op} is not supported for lists`);
  }
}

/** Pairs parsed at run time from a string (`request += "%{text}"`). */
function textPairs(e: Expr, ctx: EvalContext, _target: Pair[]): Pair[] {
  const dict = ctx.dict ?? ctx.request.dict;
  if (!dict) throw new BoxError('No dictionary to parse pairs with');
  let text = '';
  for (const b of evalExpr(e, ctx)) text += boxAsText(b);
  try {
    return parsePairList(text, dict);
  } catch (err) {
    throw new BoxError(`Invalid pair list "${text}": ${(err as Error).message}`);
  }
}

function fakeRequest(list: Pair[]): import('../../request/request').Request {
  return { list: () => list, parent: undefined } as unknown as import('../../request/request').Request;
}

/** Applies a leaf edit. */
function leafEdit(ins: EditInstr, ctx: EvalContext, locks?: LockSet): void {
  const ref = ins.lhs;
  const seg = ref.segs[ref.segs.length - 1];
  const da = seg.da;
  // Fast path: `list.Attr := literal` (the literal was typed by the compiler).
  if (ins.op === ':=' && ref.segs.length === 1 && !ctx.request.hasImmutable && seg.idx === Idx.NONE && ref.up === 0 && ins.rhs.k === 'expr' && ins.rhs.e.k === 'lit' && ins.rhs.e.box.type === da.type) {
    const list = ctx.request.list(ref.list);
    let w = 0;
    for (let r = 0; r < list.length; r++) {
      const p = list[r];
      if (p.da !== da || locks?.has(p)) list[w++] = p;
    }
    if (w !== list.length) list.length = w;
    list.push(new Pair(da, ins.rhs.e.box.value));
    return;
  }
  if (ins.op !== '=' && ctx.request.hasImmutable) {
    const l = containerFor(ref, ctx, false);
    if (l) for (const p of l) if (p.da === da && p.immutable) throw new BoxError(`Cannot modify immutable value of ${da.name}`);
  }
  const raw = rhsValues(ins.rhs, ctx);
  let values = raw;
  // A shift count is a number, not a value of the attribute (`Filter-Id <<= 2` drops 2 bytes).
  const byCount = ins.op === '<<=' || ins.op === '>>=';
  if (!byCount) for (let i = 0; i < raw.length; i++) {
    if (raw[i].type !== da.type || (raw[i].da !== undefined && raw[i].da !== da && raw[i].type === 'string')) { values = raw.map((b) => valueOf(b, da)); break; }
  }
  const op = ins.op;
  const create = values.length > 0 && op !== '-=';
  const list = containerFor(ref, ctx, create);
  if (!list) return;
  const idx = idxNum(seg.idx, ctx);
  const indexed = idx !== Idx.NONE;
  let target: Pair | undefined;
  let count = 0;
  if (!indexed || idx >= 0) {
    const want = indexed ? idx : 0;
    for (let i = 0; i < list.length; i++) {
      if (list[i].da !== da) continue;
      if (count === want) { target = list[i]; count++; break; }
      count++;
    }
  } else if (idx === Idx.LAST) {
    for (let i = list.length - 1; i >= 0; i--) if (list[i].da === da) { target = list[i]; count++; break; }
  }
  const all = { length: count };

  switch (op) {
    case ':=': {
      if (indexed) {
        if (target) {
          if (values.length === 0) { removeWhere(list, locks, (p) => p === target); return; }
          setLeaf(target, values[0]);
          let at = list.indexOf(target);
          for (let i = 1; i < values.length; i++) list.splice(++at, 0, leafPair(da, values[i]));
          return;
        }
        for (const v of values) list.push(leafPair(da, v));
        return;
      }
      removeWhere(list, locks, (p) => p.da === da);
      // A local variable holds one value.
      if (ref.list === 'local' && ref.segs.length === 1) { if (values.length) list.push(leafPair(da, values[0])); return; }
      for (const v of values) list.push(leafPair(da, v));
      return;
    }
    case '=':
      if (target || all.length) return;
      for (const v of values) list.push(leafPair(da, v));
      return;
    case '<=': case '>=': {
      if (values.length === 0) return;
      if (!target) { list.push(new Pair(da, values[0].value)); return; }
      const cur = pairBox(target);
      const bound = values[0];
      const ok = compareBoxes(cur, op, bound);
      if (!ok) target.value = bound.value;
      return;
    }
    default: {
      const aop = ARITH[op];
      if (!aop) throw new BoxError(`Operator ${op} is not supported for attributes`);
      if (values.length === 0) return;
      let acc: Box;
      let start = 0;
      if (target) acc = pairBox(target);
      else {
        if (op === '-=') return;
        acc = values[0];
        start = 1;
      }
      const t = da.type as BoxType;
      for (let i = start; i < values.length; i++) acc = arith(acc, aop, values[i], t);
      acc = castBox(acc, t, da);
      if (target) target.value = acc.value;
      else list.push(new Pair(da, acc.value));
    }
  }
}

/** Applies one edit instruction. Throws BoxError on failure (the caller turns it into `fail`). */
export function applyEdit(ins: EditInstr, ctx: EvalContext, locks?: LockSet): void {
  if (ins.lhsList) listEdit(ins, ctx, locks);
  else leafEdit(ins, ctx, locks);
}
