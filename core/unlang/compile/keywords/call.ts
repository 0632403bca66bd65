/**
 * `call <server> { }`: runs the current request through another virtual server (for RADIUS:
 * its recv, authenticate and send sections), then the statements of the body. The rcode is
 * the body's when it sets one, else the called server's final rcode.
 */

import { CompileError } from '../errors';
import { didYouMean } from '../../../types/suggest';
import type { Keyword } from './keyword';

export const callKeyword: Keyword = {
  names: ['call'],
  section(cs, ctx, c) {
    const name = cs.headerText.trim();
    if (!name || /\s/.test(name)) throw new CompileError(cs.loc, '"call" needs one virtual server name ("call <server> { … }")');
    const servers = c.options.servers;
    if (!servers) throw new CompileError(cs.loc, `"call ${name}": virtual servers are not available here`);
    if (!servers.has(name)) throw new CompileError(cs.loc, `"call ${name}": unknown virtual server "${name}"${didYouMean(name, servers.list?.() ?? [])}`);
    const { block } = c.compileBlock(cs.children, ctx, false);
    return { k: 'call', server: name, servers, body: block, name: `call ${name}`, loc: cs.loc, actions: ctx.defaults };
  },
};
