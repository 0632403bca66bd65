/** `return`, `break`, `continue`: unwind to the nearest return, break or continue point. */

import { CompileError } from '../errors';
import type { Keyword } from './keyword';

export const flowKeyword: Keyword = {
  names: ['return', 'break', 'continue'],
  section(cs) {
    throw new CompileError(cs.loc, `"${cs.name1}" cannot have a section body`);
  },
  word(p, ctx, c) {
    const w = p.text.trim();
    if (w === 'break' && ctx.breaks === 0) throw new CompileError(p.loc, '"break" can only be used inside "foreach" or "switch"');
    if (w === 'continue' && ctx.loops === 0) throw new CompileError(p.loc, '"continue" can only be used inside "foreach"');
    return { k: w as 'return' | 'break' | 'continue', ...c.base(w, p.loc, ctx) };
  },
};
