/** `if (cond) { }`, `elsif (cond) { }`, `else { }`: one `if` instruction per chain. */

import type { ConfSection } from '../../../config/ast';
import type { Compiler } from '../compiler';
import type { Ctx, Mutable } from '../context';
import { CompileError } from '../errors';
import type { Instr } from '../types';
import type { Keyword } from './keyword';

type IfInstr = Extract<Instr, { k: 'if' }>;

function compileIf(cs: ConfSection, ctx: Ctx, c: Compiler): IfInstr {
  const header = cs.headerText.trim();
  if (!header) throw new CompileError(cs.loc, `"${cs.name1}" needs a condition`);
  const cond = c.fold(c.parseExpr(header, cs.loc, ctx, true));
  const { block, actions, retry } = c.compileBlock(cs.children, ctx, true);
  return { k: 'if', cond, then: block, name: `${cs.name1} ${header}`, loc: cs.loc, actions: actions ?? ctx.defaults, retry };
}

export const ifKeyword: Keyword = {
  names: ['if', 'elsif', 'else'],
  section(cs, ctx, c, block) {
    if (cs.name1 === 'if') return compileIf(cs, ctx, c);
    // elsif / else: extend the chain of the previous instruction.
    const prev = block.children[block.children.length - 1];
    let tail = prev && prev.k === 'if' ? (prev as Mutable<IfInstr>) : undefined;
    while (tail && tail.else && tail.else.k === 'if') tail = tail.else as Mutable<IfInstr>;
    if (!tail || tail.else) throw new CompileError(cs.loc, `"${cs.name1}" must follow an "if" or "elsif"`);
    if (cs.name1 === 'elsif') tail.else = compileIf(cs, ctx, c);
    else {
      if (cs.headerText) throw new CompileError(cs.loc, '"else" does not take a condition (use "elsif")');
      tail.else = c.groupInstr(cs, ctx, 'else');
    }
    return null;
  },
};
