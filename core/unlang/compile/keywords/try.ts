/** `try { } catch rcode… { } catch { }`: the body's error rcodes return; one catch runs for the body's rcode. */

import type { ConfSection } from '../../../config/ast';
import { A, type Actions, R, RCODE_COUNT, RCODE_NAMES, rcodeFromName } from '../../rcode';
import type { Ctx } from '../context';
import { CompileError } from '../errors';
import type { Block } from '../types';
import type { Keyword } from './keyword';

function tryBodyActions(base: Actions): Actions {
  const a = base.slice();
  for (const r of [R.REJECT, R.FAIL, R.INVALID, R.DISALLOW, R.TIMEOUT]) a[r] = A.RETURN;
  return a;
}

export const tryKeyword: Keyword = {
  names: ['try', 'catch'],
  section(cs, ctx, c, cursor) {
    if (cs.name1 === 'catch') throw new CompileError(cs.loc, '"catch" must follow "try" or another "catch"');
    const catches: ConfSection[] = [];
    while (cursor.index + 1 < cursor.items.length) {
      const n = cursor.items[cursor.index + 1];
      if (n.kind === 'section' && n.name1 === 'catch') { catches.push(n); cursor.index++; }
      else break;
    }
    if (cs.headerText.trim()) throw new CompileError(cs.loc, `Unexpected text "${cs.headerText}" after "try"`);
    if (catches.length === 0) throw new CompileError(cs.loc, '"try" must be followed by at least one "catch"');
    const inner: Ctx = { ...ctx, defaults: tryBodyActions(ctx.defaults) };
    const { block } = c.compileBlock(cs.children, inner, false);
    const table: (Block | undefined)[] = new Array(RCODE_COUNT).fill(undefined);
    let catchAll: Block | undefined;
    for (const k of catches) {
      const { block: cb } = c.compileBlock(k.children, ctx, false);
      const names = k.headerText.trim() ? k.headerText.trim().split(/[\s,]+/) : [];
      if (names.length === 0) {
        if (catchAll) throw new CompileError(k.loc, 'Only one catch-all "catch" is allowed');
        catchAll = cb;
        continue;
      }
      for (const n of names) {
        const r = rcodeFromName(n);
        if (r === undefined) throw new CompileError(k.loc, `Unknown rcode "${n}" in "catch" (expected ${RCODE_NAMES.slice(1).join(', ')})`);
        if (table[r]) throw new CompileError(k.loc, `rcode "${n}" is already caught`);
        table[r] = cb;
      }
    }
    return { k: 'try', body: block, catches: table, catchAll, name: 'try', loc: cs.loc, actions: ctx.defaults };
  },
};
