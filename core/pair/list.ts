/**
 * Small helpers over pair lists (`Pair[]`): find, filter, delete and append.
 *
 * Lists are plain arrays; nested pairs keep their children in `children`.
 * The helpers compare definitions by identity (`pair.da === da`).
 */

import type { DictAttr } from '../dict/attr';
import { Pair } from './pair';

/** First pair in `list` whose definition is `da`, or undefined. */
export function findPair(list: readonly Pair[], da: DictAttr): Pair | undefined {
  for (const p of list) if (p.da === da) return p;
  return undefined;
}

/** All pairs in `list` whose definition is `da`, in order. */
export function findAllPairs(list: readonly Pair[], da: DictAttr): Pair[] {
  const out: Pair[] = [];
  for (const p of list) if (p.da === da) out.push(p);
  return out;
}

/**
 * First pair anywhere under `list` (depth first, parents before children)
 * whose definition is `da`, or undefined.
 */
export function findPairDeep(list: readonly Pair[], da: DictAttr): Pair | undefined {
  for (const p of list) {
    if (p.da === da) return p;
    if (p.children) {
      const c = findPairDeep(p.children, da);
      if (c) return c;
    }
  }
  return undefined;
}

/**
 * Follows `da`'s ancestry from the top of `list` down to `da` and returns the
 * first matching pair, e.g. `Vendor-Specific` → `Cisco` → `AVPair`. Works
 * for both nested lists and lists that hold `da` directly (flat).
 */
export function findByPath(list: readonly Pair[], da: DictAttr): Pair | undefined {
  const direct = findPair(list, da);
  if (direct) return direct;
  const parent = da.parent;
  // A top-level attribute not found directly is not there (no chain to follow, nothing allocated).
  if (!parent || parent.type === 'root') return undefined;
  return pathPair(list, da);
}

/** The pair of `da` reached from the top of `list` through its ancestors, first match at every level. */
function pathPair(list: readonly Pair[], da: DictAttr): Pair | undefined {
  const parent = da.parent;
  if (!parent || parent.type === 'root') return findPair(list, da);
  const up = pathPair(list, parent);
  return up?.children ? findPair(up.children, da) : undefined;
}

/** Removes every pair whose definition is `da` from `list` (in place). Returns how many were removed. */
export function deletePairs(list: Pair[], da: DictAttr): number {
  let w = 0;
  for (let r = 0; r < list.length; r++) {
    if (list[r].da !== da) list[w++] = list[r];
  }
  const removed = list.length - w;
  list.length = w;
  return removed;
}

/** Removes one pair (by identity) from `list`. Returns true when it was there. */
export function removePair(list: Pair[], pair: Pair): boolean {
  const i = list.indexOf(pair);
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}

/** Appends `pair` to `list` and returns it. */
export function appendPair(list: Pair[], pair: Pair): Pair {
  list.push(pair);
  return pair;
}

/**
 * Finds the child of `parent` (or the top-level `list` when `parent` is
 * undefined) with definition `da`, creating an empty structural pair when
 * there is none. Used to build nested lists from hierarchical names.
 */
export function findOrAppendStructural(list: Pair[], da: DictAttr): Pair {
  const found = findPair(list, da);
  if (found) {
    if (!found.children) found.children = [];
    return found;
  }
  const p = new Pair(da);
  p.children = [];
  list.push(p);
  return p;
}

/** Deep copy of a pair (values are copied; Buffers are duplicated). */
export function copyPair(p: Pair): Pair {
  const v = p.children ? undefined : p.value;
  const c = new Pair(p.da, Buffer.isBuffer(v) ? Buffer.from(v) : v);
  if (p.tag !== undefined) c.tag = p.tag;
  if (p.safeFor !== undefined) c.safeFor = p.safeFor;
  if (p.children) c.children = p.children.map(copyPair);
  return c;
}

/** Number of leaf pairs under `list` (structural pairs are not counted themselves). */
export function countLeaves(list: readonly Pair[]): number {
  let n = 0;
  for (const p of list) n += p.children ? countLeaves(p.children) : 1;
  return n;
}

/**
 * Calls `fn` for every leaf pair under `list`, depth first, with the chain of
 * structural ancestors (outermost first).
 */
export function forEachLeaf(list: readonly Pair[], fn: (leaf: Pair, parents: readonly Pair[]) => void, parents: Pair[] = []): void {
  for (const p of list) {
    if (p.children) {
      parents.push(p);
      forEachLeaf(p.children, fn, parents);
      parents.pop();
    } else {
      fn(p, parents);
    }
  }
}
