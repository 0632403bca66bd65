/**
 * Values of the FreeRADIUS `attribute` data type: a reference to an attribute definition, written
 * `::Name`, `::26.9.1`, `@RADIUS.Name` or `::@RADIUS.Name` and printed `::Full.Name` (numbers the
 * dictionary does not know stay numbers: `::Vendor-Specific.12345.1`).
 */

import type { DictAttr } from '../dict/attr';
import type { Dictionary } from '../dict/dictionary';
import { unknownAttr, unknownStructuralType } from './raw';

/**
 * Parses an attribute reference in `dict`'s protocol. Known names and numbers resolve to their
 * definitions; from the first unknown number on, unknown definitions are made (`raw`).
 * @throws Error for another protocol (`@DHCPv4.…`) or an unknown name.
 */
export function parseAttrRef(dict: Dictionary, text: string): DictAttr {
  let s = text.trim();
  if (s.startsWith('::')) s = s.slice(2);
  if (s.startsWith('@') && !s.startsWith('@.')) {
    const dot = s.indexOf('.');
    const proto = s.slice(1, dot < 0 ? undefined : dot);
    if (proto.toLowerCase() !== dict.protocol.toLowerCase()) throw new Error("Type 'attribute' cannot reference a different protocol");
    s = dot < 0 ? '' : s.slice(dot + 1);
  } else if (s.startsWith('@.')) {
    s = s.slice(2);
  }
  if (!s) throw new Error('Missing attribute name');
  const whole = dict.resolve(s);
  if (whole) return whole;
  const comps = s.split('.');
  let cur: DictAttr = dict.root;
  for (let i = 0; i < comps.length; i++) {
    const c = comps[i];
    const last = i === comps.length - 1;
    const next = /^[0-9]+$/.test(c) ? dict.childAny(cur, Number(c)) : dict.resolve(c, cur === dict.root ? undefined : cur);
    if (next) {
      cur = next;
      continue;
    }
    if (!/^[0-9]+$/.test(c)) throw new Error(`Unknown attribute "${c}"${cur === dict.root ? '' : ` for parent "${cur.name}"`}`);
    cur = unknownAttr(cur, Number(c), last ? 'octets' : unknownStructuralType(cur));
  }
  return cur;
}

/** Prints an attribute reference: `::` and its name from the protocol root. */
export function printAttrRef(da: DictAttr): string {
  return '::' + da.fullName;
}
