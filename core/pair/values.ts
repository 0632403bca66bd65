/**
 * Value-level pair-list helpers for modules and the server: nested lookups and edits by
 * definition, with parents created as needed (`Password.Cleartext` lives under the
 * `Password` TLV).
 */

import type { DictAttr } from '../dict/attr';
import type { Dictionary } from '../dict/dictionary';
import { Pair } from './pair';
import { findByPath, findOrAppendStructural } from './list';
import type { Value } from '../types/data-types';

/** The list that holds (or would hold) pairs of `da` under `list`; parents are created when `create`. */
export function containerOf(list: Pair[], da: DictAttr, create: true): Pair[];
export function containerOf(list: Pair[], da: DictAttr, create: boolean): Pair[] | undefined;
export function containerOf(list: Pair[], da: DictAttr, create: boolean): Pair[] | undefined {
  const parent = da.parent;
  if (!parent || parent.type === 'root') return list; // top level: no ancestors to walk (the common case)
  const up = containerOf(list, parent, create);
  if (!up) return undefined;
  if (create) return findOrAppendStructural(up, parent).children!;
  let hit: Pair | undefined;
  for (const x of up) if (x.da === parent) { hit = x; break; }
  return hit?.children;
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

/**
 * Adds `Module-Failure-Message` to the request list (when the dictionary has it). The new message goes to
 * the head of the list, as FreeRADIUS v4's request log prepends it, so the newest failure is the first
 * instance: `Module-Failure-Message == '…'` and `%{Module-Failure-Message}` see the latest one.
 */
export function failureMessage(request: { request: Pair[]; dict?: Dictionary }, dict: Dictionary | undefined, msg: string): void {
  const d = dict ?? request.dict;
  const da = d?.resolve('Module-Failure-Message');
  if (da) request.request.unshift(new Pair(da, msg));
}
