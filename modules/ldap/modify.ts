/**
 * The LDAP modifications of FreeRADIUS v4's rlm_ldap: `send { <packet> { update { … } } }` (after
 * authentication, `send Access-Accept`) and `accounting { <status> { update { … } } }` (on accounting,
 * `accounting Start`). Each `update` line `<ldapAttr> <op> <value>` becomes one change of a modify
 * request on the user's object: `:=` replaces the attribute's values, `+=` adds values, `-=` deletes
 * values, `++` increments it (RFC 4525). A value is a template (`"%{User-Name} at %S"`, strftime
 * escapes from the request time) or a bare attribute reference (`Class`), whose raw value is used; a
 * reference to an absent attribute skips the line (nothing is written for it).
 */
import type { ConfPair, ConfSection, DictAttr, Dictionary, ListName } from '../../core';
import { isLdapAttrName } from './map';
import type { Modification } from './wire';

/** The sections this module reads modifications from. */
export type ModifyRoot = 'send' | 'accounting';

/** One `update` line. */
export interface ModifyItem {
  readonly attr: string;
  readonly op: Modification['op'];
  /** The env map key of its template (`send.access-accept.update.description`) and which occurrence it is. */
  readonly key: string;
  readonly index: number;
  /** A bare attribute reference: its list and attribute. */
  readonly ref?: { readonly list: ListName; readonly da: DictAttr };
}

/** `send` / `accounting` → subsection name (lower case: `access-accept`, `start`) → its lines. */
export type ModifySections = Readonly<Record<ModifyRoot, ReadonlyMap<string, readonly ModifyItem[]>>>;

const OPS: Readonly<Record<string, Modification['op']>> = { ':=': 'replace', '+=': 'add', '-=': 'delete', '++': 'increment' };
const LISTS: readonly ListName[] = ['request', 'reply', 'control', 'session-state'];

/** Compiles the `send { }` and `accounting { }` sections of an instance; `fail` throws a located error. */
export function compileModify(cs: ConfSection | undefined, dict: Dictionary, fail: (item: ConfPair, message: string) => never): ModifySections {
  const out = { send: new Map<string, ModifyItem[]>(), accounting: new Map<string, ModifyItem[]>() };
  for (const root of ['send', 'accounting'] as const) {
    for (const top of cs?.children ?? []) {
      if (top.kind !== 'section' || top.name1 !== root) continue;
      for (const sub of top.children) {
        if (sub.kind !== 'section') continue;
        const items: ModifyItem[] = [];
        const seen = new Map<string, number>();
        for (const upd of sub.children) {
          if (upd.kind !== 'section' || upd.name1 !== 'update') continue;
          for (const it of upd.children) {
            if (it.kind !== 'pair') continue;
            if (!isLdapAttrName(it.attr)) fail(it, `"${it.attr}" is not an LDAP attribute name`);
            const op = OPS[it.op];
            if (!op) fail(it, `operator "${it.op}" cannot modify an LDAP attribute (use :=, +=, -= or ++)`);
            const key = `${root}.${sub.name1}.update.${it.attr}`.toLowerCase();
            const index = seen.get(key) ?? 0;
            seen.set(key, index + 1);
            items.push({ attr: it.attr, op, key, index, ref: it.quote === 'bare' && it.value ? attrRef(it.value, dict) : undefined });
          }
        }
        out[root].set(sub.name1.toLowerCase(), items);
      }
    }
  }
  return out;
}

/** A bare value naming an attribute (`Class`, `reply.Class`), or undefined (then it is text). */
function attrRef(text: string, dict: Dictionary): ModifyItem['ref'] {
  const t = text.replace(/^&/, '');
  const dot = t.indexOf('.');
  const first = dot > 0 ? t.slice(0, dot).toLowerCase() : '';
  const list = LISTS.find((l) => l === first);
  const da = dict.resolve(list ? t.slice(dot + 1) : t);
  return da && !da.isStructural ? { list: list ?? 'request', da } : undefined;
}
