/**
 * Locating config items for messages: {@link makeAt} builds the `at` a definition's `validate`
 * gets. Errors read `file[line]: <module> <instance> { sub { item } }: message`, located at the
 * item when it is written, else at the closest enclosing section.
 */
import { sectionLabel, type ConfItem, type ConfLoc, type ConfPair, type ConfSection } from '../config/ast';
import { ConfError } from '../config/errors';
import type { ConfigAt } from './define';

/** The written item `itemPath` (`a` or `sub.a`) of `cs` and its closest enclosing section. */
function findItem(cs: ConfSection, itemPath: string): { item?: ConfItem; sec?: ConfSection; last: ConfSection } {
  let sec: ConfSection | undefined = cs;
  let last = cs;
  const parts = itemPath.split('.');
  const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
  for (let i = 0; sec && i < parts.length - 1; i++) {
    last = sec;
    sec = sec.children.find((c): c is ConfSection => c.kind === 'section' && same(c.name1, parts[i]));
  }
  const item = sec?.children.find((c) => same(c.kind === 'pair' ? c.attr : c.name1, parts[parts.length - 1]));
  return { item, sec, last };
}

/** The location of config item `itemPath` (`a` or `sub.a`) in `cs`, else its closest enclosing section's. */
export function itemLoc(cs: ConfSection, itemPath: string): ConfLoc {
  if (itemPath === '') return cs.loc;
  const { item, sec, last } = findItem(cs, itemPath);
  return item?.loc ?? sec?.loc ?? last.loc;
}

/** The config pair `itemPath` as written in `cs` (its quoting, its location), or undefined. */
export function itemPair(cs: ConfSection, itemPath: string): ConfPair | undefined {
  const { item } = findItem(cs, itemPath);
  return item?.kind === 'pair' ? item : undefined;
}

/** `ldap corp` + `pool.start` → `ldap corp { pool { start } }`. */
export function ownerLabel(cs: ConfSection, itemPath: string): string {
  let s = '';
  for (const part of itemPath.split('.').filter((x) => x !== '').reverse()) s = s === '' ? part : `${part} { ${s} }`;
  return s === '' ? sectionLabel(cs) : `${sectionLabel(cs)} { ${s} }`;
}

/** The {@link ConfigAt} of an instance section: located `ERR_CONF_VALUE` errors. */
export function makeAt(cs: ConfSection): ConfigAt {
  const at = ((itemPath: string, message: string): never => {
    throw new ConfError('ERR_CONF_VALUE', itemLoc(cs, itemPath), `${ownerLabel(cs, itemPath)}: ${message}`);
  }) as ConfigAt;
  at.item = (item, itemPath, message) => {
    throw new ConfError('ERR_CONF_VALUE', item.loc, `${ownerLabel(cs, itemPath)}: ${message}`);
  };
  at.loc = (itemPath) => itemLoc(cs, itemPath);
  return at;
}

