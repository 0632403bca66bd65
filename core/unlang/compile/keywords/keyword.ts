/**
 * The contract of one unlang keyword on the compile side. Each keyword lives in
 * one file of this folder and is listed in `index.ts`; the compiler looks a
 * statement's first word up there before trying edits, rcodes, policies and
 * modules.
 */

import type { ConfItem, ConfPair, ConfSection } from '../../../config/ast';
import type { Compiler } from '../compiler';
import type { Ctx } from '../context';
import type { Instr } from '../types';

/** The block being compiled: the remaining items and the instructions produced so far. */
export interface BlockCursor {
  readonly items: readonly ConfItem[];
  /** Index of the current item; a keyword that consumes followers (`try` … `catch`) advances it. */
  index: number;
  /** Instructions already compiled in this block (`elsif`/`else` extend the last `if`). */
  readonly children: Instr[];
}

export interface Keyword {
  /** Words this keyword answers to (`redundant`, `load-balance` …). */
  readonly names: readonly string[];
  /**
   * `kw [header] { … }`. Returns the instruction, or null when nothing is added to the
   * block (an `else` attached to the previous `if`). Absent: the keyword has no section form.
   */
  section?(cs: ConfSection, ctx: Ctx, c: Compiler, block: BlockCursor): Instr | null;
  /** The bare word `kw` (no `{ }`). Absent: "needs a section body". */
  word?(p: ConfPair, ctx: Ctx, c: Compiler): Instr | null;
}
