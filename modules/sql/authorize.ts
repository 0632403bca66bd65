/**
 * Check and reply rows → users-file items. A row is `id, name, attribute, value, op` (the
 * FreeRADIUS column order). Values are literal text unless quoted: a value in double quotes
 * containing `%` is expanded per request, as rlm_sql does; a value opening a quote it does not
 * close fails the row (and the module call). Items follow the users-file rules
 * exactly (`modules/shared/users-file.ts`): comparisons against the request, assignments to
 * control (check rows) or reply (reply rows), `Fall-Through` taken out of reply rows.
 */
import type { ConfLoc } from '../../core';
import type { Dictionary } from '../../core';
import type { Request } from '../../core';
import type { XlatRegistry } from '../../core';
import { assignItem, checkItem, compileItem, itemValue, type RawItem, type RelativeState, type UsersItem } from '../shared/users-file';

const ASSIGN = new Set(['=', ':=', '+=', '-=', '^=']);

/** Compiled rows of one check or reply query. */
export interface RowItems {
  readonly compare: UsersItem[];
  readonly assign: UsersItem[];
  /** `Fall-Through` among reply rows: true/false; undefined when absent. */
  fallThrough?: boolean;
}

/** The row's value as a users-file raw item. */
function rawItem(attribute: string, op: string, value: string): RawItem {
  const q = value.length >= 2 ? value[0] : '';
  if ((q === '"' || q === "'" || q === '`') && value[value.length - 1] === q) {
    return { name: attribute, op, raw: value, quote: q as RawItem['quote'], body: value.slice(1, -1) };
  }
  // A value that opens a quote must close it (FreeRADIUS v4 parses the value as a quoted string and
  // fails the row): `"whoops` is an error, not the text `"whoops`.
  if (value[0] === '"' || value[0] === "'" || value[0] === '`') {
    throw new Error(`${attribute} ${op} ${value}: unterminated ${value[0]}-quoted string`);
  }
  const body = value.replace(/[\\']/g, (c) => `\\${c}`);
  return { name: attribute, op, raw: `'${body}'`, quote: "'", body };
}

/**
 * Compiles `rows` (`id, name, attribute, value, op`). `kind` check: comparisons and control
 * assignments; reply: reply assignments (and `Fall-Through`). Throws with `where` on a bad row.
 */
export function compileRows(
  rows: readonly (readonly (string | null)[])[], kind: 'check' | 'reply', where: string,
  opts: { dict: Dictionary; xlats?: XlatRegistry },
): RowItems {
  const out: RowItems = { compare: [], assign: [] };
  const rel: RelativeState = {};
  for (const row of rows) {
    if (row.length < 5) throw new Error(`${where}: a row must have 5 columns (id, name, attribute, value, op), got ${row.length}`);
    const attribute = (row[2] ?? '').trim();
    const value = row[3] ?? '';
    const op = (row[4] ?? '').trim() || '=';
    const loc: ConfLoc = { file: where, line: Number(row[0]) || 0 };
    const isAssign = ASSIGN.has(op);
    if (kind === 'reply' && !isAssign) throw new Error(`${where}: row ${row[0]}: ${attribute} ${op}: reply rows must assign (=, :=, +=, -=, ^=)`);
    let item: UsersItem;
    try {
      item = compileItem(rawItem(attribute, op, value), kind === 'reply' ? 'reply' : isAssign ? 'control' : 'request', loc, opts, rel);
    } catch (e) {
      throw new Error(`${where}: row ${row[0]}: ${(e as Error).message.replace(/^.*?\]: /, '')}`);
    }
    if (kind === 'reply' && item.list === 'reply' && item.da.name === 'Fall-Through') {
      const v = item.leaf?.value;
      out.fallThrough = v === true || v === 1 || (typeof v === 'string' && /^(yes|true|1|on)$/i.test(v));
      continue;
    }
    (isAssign ? out.assign : out.compare).push(item);
  }
  return out;
}

/** True when every comparison item holds for the request. */
export async function checksPass(items: readonly UsersItem[], request: Request): Promise<boolean> {
  for (const item of items) {
    if (!checkItem(item, request, await itemValue(item, request))) return false;
  }
  return true;
}

/** Applies assignment items (users-file operator rules). */
export async function applyItems(items: readonly UsersItem[], request: Request): Promise<void> {
  for (const item of items) assignItem(item, request.list(item.list), await itemValue(item, request));
}
