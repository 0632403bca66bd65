/**
 * `redundant { }`, `load-balance [key] { }`, `redundant-load-balance [key] { }`
 * (also the virtual modules declared in `modules { }`, which compile through
 * {@link compileBalance} under their own name).
 */

import type { ConfSection } from '../../../config/ast';
import type { Compiler } from '../compiler';
import type { Ctx } from '../context';
import { CompileError } from '../errors';
import type { Instr } from '../types';
import { ACTIONS_REDUNDANT } from '../../rcode';
import type { Keyword } from './keyword';

export function compileBalance(cs: ConfSection, ctx: Ctx, c: Compiler, kw: string, keyText: string, name: string): Instr {
  // The children of the redundant forms get their own defaults (FreeRADIUS's redundant group
  // table): which rcodes go on to the next child is each child's action table.
  const redundant = kw === 'redundant' || kw === 'redundant-load-balance';
  const { block } = c.compileBlock(cs.children, redundant ? { ...ctx, defaults: ACTIONS_REDUNDANT, redundant: { block: cs.children, defaults: ctx.defaults } } : ctx, false);
  if (kw === 'redundant') {
    if (keyText.trim() && keyText.trim() !== name) throw new CompileError(cs.loc, `Unexpected text "${keyText}" after "redundant"`);
    return { k: 'redundant', children: block.children, locals: block.locals, name, loc: cs.loc, actions: ctx.defaults };
  }
  const key = keyText.trim() ? c.parseExpr(keyText.trim(), cs.loc, ctx, false) : undefined;
  return { k: 'load-balance', key, children: block.children, redundant: kw === 'redundant-load-balance', name: kw === name ? kw + (keyText ? ' ' + keyText : '') : name, loc: cs.loc, actions: ctx.defaults };
}

export const balanceKeyword: Keyword = {
  names: ['redundant', 'load-balance', 'redundant-load-balance'],
  section: (cs, ctx, c) => compileBalance(cs, ctx, c, cs.name1, cs.headerText, cs.name1),
};
