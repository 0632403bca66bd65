/** `timeout <time_delta | expr> { }` and `limit <n> { }`: a body guarded by a run-time value. */

import { type BoxType, parseBox } from '../../xlat/box';
import { CompileError } from '../errors';
import { isRetypable } from '../expr-parser';
import type { Expr } from '../types';
import type { Keyword } from './keyword';

export const timeoutKeyword: Keyword = {
  names: ['timeout', 'limit'],
  section(cs, ctx, c) {
    const h = cs.headerText.trim();
    if (!h) throw new CompileError(cs.loc, `"${cs.name1}" needs a value`);
    let e = c.parseExpr(h, cs.loc, ctx, false);
    const t: BoxType = cs.name1 === 'timeout' ? 'time_delta' : 'uint32';
    if (isRetypable(e)) {
      try {
        e = { k: 'lit', box: parseBox(t, (e as Extract<Expr, { k: 'lit' }>).raw!) };
      } catch (err) {
        throw new CompileError(cs.loc, `Invalid ${cs.name1} value "${h}": ${(err as Error).message}`);
      }
    }
    const { block, actions, retry } = c.compileBlock(cs.children, ctx, true);
    const b = { name: `${cs.name1} ${h}`, loc: cs.loc, actions: actions ?? ctx.defaults, retry };
    if (cs.name1 === 'timeout') return { k: 'timeout', dur: e, body: block, ...b };
    return { k: 'limit', max: e, body: block, state: { active: 0 }, ...b };
  },
};
