/**
 * `subrequest [<proto>.]<Packet-Type> { }` (or no type: the parent's packet type): the body
 * runs in a child request with empty lists of its own (`parent.` reaches the parent); its
 * rcode is the child's. `detach` (only inside a subrequest) lets the parent continue on its
 * own; the child then no longer sees the parent.
 */

import type { Ctx } from '../context';
import { CompileError } from '../errors';
import { Scope } from '../refs';
import type { Keyword } from './keyword';

export const subrequestKeyword: Keyword = {
  names: ['subrequest', 'detach'],
  section(cs, ctx, c) {
    if (cs.name1 === 'detach') throw new CompileError(cs.loc, '"detach" does not take a section body');
    const h = cs.headerText.trim();
    let code = 0;
    let packet: string | undefined;
    if (h) {
      if (/\s/.test(h)) throw new CompileError(cs.loc, `Unexpected text "${h}" after "subrequest" (expected a packet type such as Disconnect-Request)`);
      packet = h;
      const dot = h.indexOf('.');
      if (dot > 0) {
        const proto = h.slice(0, dot);
        if (proto.toLowerCase() !== c.dict.protocol.toLowerCase()) {
          throw new CompileError(cs.loc, `subrequest: protocol "${proto}" is not supported here (only ${c.dict.protocol.toLowerCase()})`);
        }
        packet = h.slice(dot + 1);
      }
      const n = c.dict.packetTypeCode(packet);
      if (n === undefined) throw new CompileError(cs.loc, `subrequest: unknown packet type "${packet}"`);
      code = n;
    }
    // The child has its own lists and locals: nothing of the enclosing scope is visible.
    const inner: Ctx = {
      section: packet ? { name1: ctx.section.name1, name2: c.dict.packetTypeName(code) ?? packet } : ctx.section,
      defaults: ctx.defaults, scope: new Scope(), loops: 0, breaks: 0, policies: ctx.policies,
      subrequests: (ctx.subrequests ?? 0) + 1,
    };
    const { block } = c.compileBlock(cs.children, inner, false);
    return { k: 'subrequest', code, body: block, name: `subrequest${h ? ' ' + h : ''}`, loc: cs.loc, actions: ctx.defaults };
  },
  word(p, ctx, c) {
    const w = p.text.trim();
    if (w === 'subrequest') throw new CompileError(p.loc, '"subrequest" needs a section body { … }');
    if (!ctx.subrequests) throw new CompileError(p.loc, '"detach" can only be used inside "subrequest"');
    return { k: 'detach', ...c.base('detach', p.loc, ctx) };
  },
};
