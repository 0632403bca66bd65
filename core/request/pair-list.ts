/**
 * Pair-list operations on a request's lists, for modules and the server core.
 *
 * These work on top-level pairs of one list (`request`, `reply`, `control`,
 * `session-state`); nested attributes (TLV members, VSAs) are reached through
 * their structural parents (see `core/pair/list.ts` for the generic helpers).
 */

import type { DictAttr } from '../dict/attr';
import { Pair } from '../pair/pair';
import type { Value } from '../value/types';
import type { ListName, Request } from './request';

/** The first pair of `da` in a list, or undefined. */
export function getPair(req: Request, list: ListName, da: DictAttr): Pair | undefined {
  const l = req.list(list);
  for (let i = 0; i < l.length; i++) if (l[i].da === da) return l[i];
  return undefined;
}

/** The value of the first pair of `da` in a list, or undefined. */
export function getValue(req: Request, list: ListName, da: DictAttr): Value | undefined {
  return getPair(req, list, da)?.value;
}

/** Every pair of `da` in a list, in order. */
export function getAll(req: Request, list: ListName, da: DictAttr): Pair[] {
  return req.list(list).filter((p) => p.da === da);
}

/** Replaces every instance of `da` with one pair holding `value` (unlang `:=`). Returns the new pair. */
export function setValue(req: Request, list: ListName, da: DictAttr, value: Value): Pair {
  deleteAll(req, list, da);
  const p = new Pair(da, value);
  req.list(list).push(p);
  return p;
}

/** Adds `value` only when `da` is absent (unlang `=`). Returns the existing or new pair. */
export function setDefault(req: Request, list: ListName, da: DictAttr, value: Value): Pair {
  return getPair(req, list, da) ?? addValue(req, list, da, value);
}

/** Appends a pair of `da` holding `value` (unlang list `+=`). */
export function addValue(req: Request, list: ListName, da: DictAttr, value: Value): Pair {
  const p = new Pair(da, value);
  req.list(list).push(p);
  return p;
}

/** Removes every pair of `da` from a list. Returns how many were removed. */
export function deleteAll(req: Request, list: ListName, da: DictAttr): number {
  const l = req.list(list);
  let w = 0;
  for (let r = 0; r < l.length; r++) if (l[r].da !== da) l[w++] = l[r];
  const n = l.length - w;
  l.length = w;
  return n;
}
