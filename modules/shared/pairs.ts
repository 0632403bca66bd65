/**
 * Pair-list helpers shared by the core modules: nested lookups and edits by
 * definition, with parents created as needed (`Password.Cleartext` lives under the
 * `Password` TLV), and the users-file assignment operators.
 */

import type { DictAttr } from '../../core/dict/attr';
import type { Dictionary } from '../../core/dict/dictionary';
import { Pair } from '../../core/pair/pair';
import { copyPair, findByPath, findOrAppendStructural } from '../../core/pair/list';
import type { Value } from '../../core/value/types';
import { valuesEqual } from '../../core/value/ops';
import type { LeafType } from '../../core/dict/types';

/** Resolves an attribute name or throws `Unknown attribute "X"`. */
export function attr(dict: Dictionary, name: string): DictAttr {
  const da = dict.resolve(name);
  if (!da) throw new Error(`Unknown attribute "${name}"`);
  return da;
}

/** The ancestors of `da` below the protocol root, outermost first, `da` excluded. */
function parentsOf(da: DictAttr): DictAttr[] {
  const out: DictAttr[] = [];
  for (let a = da.parent; a && a.type !== 'root'; a = a.parent) out.unshift(a);
  return out;
}

/** The list that holds (or would hold) pairs of `da` under `list`; parents are created when `create`. */
export function containerOf(list: Pair[], da: DictAttr, create: true): Pair[];
export function containerOf(list: Pair[], da: DictAttr, create: boolean): Pair[] | undefined;
export function containerOf(list: Pair[], da: DictAttr, create: boolean): Pair[] | undefined {
  let cur = list;
  for (const p of parentsOf(da)) {
    if (create) cur = findOrAppendStructural(cur, p).children!;
    else {
      const hit = cur.find((x) => x.da === p);
      if (!hit?.children) return undefined;
      cur = hit.children;
    }
  }
  return cur;
}

/** The first pair of `da` under `list` (nested or flat), or undefined. */
export function getPair(list: readonly Pair[], da: DictAttr): Pair | undefined {
  return findByPath(list, da);
}

/** The value of the first pair of `da` under `list`. */
export function getValue(list: readonly Pair[], da: DictAttr): Value | undefined {
  return findByPath(list, da)?.value;
}

/** Replaces every pair of `da` with one holding `value` (`:=`). */
export function setValue(list: Pair[], da: DictAttr, value: Value): Pair {
  const c = containerOf(list, da, true);
  for (let i = c.length - 1; i >= 0; i--) if (c[i].da === da) c.splice(i, 1);
  const p = new Pair(da, value);
  c.push(p);
  return p;
}

/** Appends a pair of `da` with `value` (`+=`). */
export function addValue(list: Pair[], da: DictAttr, value: Value): Pair {
  const p = new Pair(da, value);
  containerOf(list, da, true).push(p);
  return p;
}

/** Removes every pair of `da` under `list`; returns how many went. */
export function removeAll(list: Pair[], da: DictAttr): number {
  const c = containerOf(list, da, false);
  if (!c) return 0;
  let n = 0;
  for (let i = c.length - 1; i >= 0; i--) if (c[i].da === da) { c.splice(i, 1); n++; }
  return n;
}

/** Operators that assign (as opposed to compare). */
export const ASSIGN_OPS: ReadonlySet<string> = new Set(['=', ':=', '+=', '-=', '^=']);

/**
 * Applies one assignment to `list`, as the users file does (v3 `radius_pairmove`):
 * `=` adds when no pair of that attribute exists, `:=` replaces all, `+=` appends,
 * `^=` prepends, `-=` removes pairs with an equal value. `leaf` is copied.
 */
export function applyAssign(list: Pair[], leaf: Pair, op: string): void {
  const da = leaf.da;
  const c = containerOf(list, da, op !== '-=');
  if (!c) return;
  switch (op) {
    case '=':
      if (!c.some((p) => p.da === da)) c.push(copyPair(leaf));
      return;
    case ':=':
      for (let i = c.length - 1; i >= 0; i--) if (c[i].da === da) c.splice(i, 1);
      c.push(copyPair(leaf));
      return;
    case '+=':
      c.push(copyPair(leaf));
      return;
    case '^=': {
      const i = c.findIndex((p) => p.da === da);
      c.splice(i < 0 ? c.length : i, 0, copyPair(leaf));
      return;
    }
    case '-=':
      for (let i = c.length - 1; i >= 0; i--) {
        const p = c[i];
        if (p.da === da && p.value !== undefined && leaf.value !== undefined && valuesEqual(p.value, leaf.value, da.type as LeafType)) c.splice(i, 1);
      }
      return;
  }
}

/** Adds `Module-Failure-Message` to the request list (when the dictionary has it). */
export function failureMessage(request: { request: Pair[]; dict?: Dictionary }, dict: Dictionary | undefined, msg: string): void {
  const d = dict ?? request.dict;
  const da = d?.resolve('Module-Failure-Message');
  if (da) addValue(request.request, da, msg);
}
