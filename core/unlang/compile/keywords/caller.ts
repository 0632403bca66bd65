/** `caller <protocol> { }`: runs the body only when the request has a parent of that protocol. */

import { CompileError } from '../errors';
import type { Keyword } from './keyword';

export const callerKeyword: Keyword = {
  names: ['caller'],
  section(cs, ctx, c) {
    const proto = cs.headerText.trim().toLowerCase();
    if (!proto || /\s/.test(proto)) throw new CompileError(cs.loc, '"caller" needs a protocol name ("caller radius { … }")');
    if (proto !== c.dict.protocol.toLowerCase()) throw new CompileError(cs.loc, `caller: unknown protocol "${proto}" (only ${c.dict.protocol.toLowerCase()} is loaded)`);
    const { block } = c.compileBlock(cs.children, ctx, false);
    return { k: 'caller', protocol: proto, body: block, name: `caller ${proto}`, loc: cs.loc, actions: ctx.defaults };
  },
};
