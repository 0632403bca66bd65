/** `transaction { }`: a snapshot of all lists, restored when the body ends in fail/invalid/disallow/reject. */

import { A, R } from '../../rcode';
import { priority } from '../context';
import { CompileError } from '../errors';
import type { Keyword } from './keyword';

export const transactionKeyword: Keyword = {
  names: ['transaction'],
  section(cs, ctx, c) {
    if (cs.headerText.trim()) throw new CompileError(cs.loc, `Unexpected text "${cs.headerText}" after "transaction"`);
    const innerDefaults = ctx.defaults.slice();
    innerDefaults[R.FAIL] = A.RETURN;
    innerDefaults[R.INVALID] = A.RETURN;
    innerDefaults[R.DISALLOW] = A.RETURN;
    innerDefaults[R.REJECT] = A.RETURN;
    const { block } = c.compileBlock(cs.children, { ...ctx, defaults: innerDefaults }, false);
    const own = ctx.defaults.slice();
    own[R.FAIL] = priority(1);
    own[R.INVALID] = priority(1);
    own[R.DISALLOW] = priority(1);
    return { k: 'transaction', body: block, name: 'transaction', loc: cs.loc, actions: own };
  },
};
