/** `parallel [clone|empty|detach] { }`: each child runs in a child request; results merged by priority. */

import { CompileError } from '../errors';
import type { Keyword } from './keyword';

export const parallelKeyword: Keyword = {
  names: ['parallel'],
  section(cs, ctx, c) {
    const h = cs.headerText.trim();
    let mode: 'clone' | 'empty' | 'detach' = 'clone';
    if (h === 'empty' || h === 'detach' || h === 'clone') mode = h;
    else if (h) throw new CompileError(cs.loc, `Unexpected text "${h}" after "parallel" (expected empty, detach or clone)`);
    const { block } = c.compileBlock(cs.children, ctx, false);
    return { k: 'parallel', children: block.children, mode, name: 'parallel' + (h ? ' ' + h : ''), loc: cs.loc, actions: ctx.defaults };
  },
};
