/**
 * Public API of the unlang policy language.
 *
 * - Compile: {@link Compiler} (`compileSection(configSection)`) or {@link compileUnlang} for text.
 * - Run: {@link runSection} (rcode, or a Promise when something yielded) or {@link Execution}
 *   (for signals: `signal('dup' | 'cancel')`).
 * - Extend: {@link registerXlat} / {@link XlatRegistry} for `%name(…)` functions.
 */

import { parseConfigString } from '../config/parser';
import type { SectionName } from './module-call';
import { Compiler, type CompileOptions } from './compile/compiler';
import type { CompiledSection } from './compile/types';

export { Compiler, type CompileOptions } from './compile/compiler';
export { CompileError } from './compile/errors';
export type { CompiledSection, Instr, Expr, AttrRef, Block } from './compile/types';
export { Execution, runSection, type ExecutionOptions } from './interpret/interpreter';
export { XlatRegistry, globalXlats, registerXlat, type XlatFunc, type XlatContext, type XlatOptions } from './xlat/registry';
export { type Box, type BoxType, type SafeFor, type ValueEscape, box, castBox, boxToString, escapeBoxes } from './xlat/box';
export { R, A, RCODE_NAMES, ACTIONS_AUTHORIZE, ACTIONS_AUTHENTICATE, defaultActionsFor } from './rcode';

/**
 * Compiles unlang text as the body of a processing section (default
 * `recv Access-Request`). Line numbers in errors are those of `text` in `file`.
 * Throws `CompileError` or `ConfError` (both located).
 */
export function compileUnlang(text: string, opts: CompileOptions & { section?: SectionName; file?: string }): CompiledSection {
  const section = opts.section ?? { name1: 'recv', name2: 'Access-Request' };
  const file = opts.file ?? '<unlang>';
  // The header shares the first line, so the text keeps its line numbers.
  const src = `${section.name1} ${section.name2 ?? ''} { ${text}\n}\n`;
  const root = parseConfigString(src, file);
  const cs = root.children.find((c) => c.kind === 'section');
  if (!cs || cs.kind !== 'section') throw new Error('internal: section missing');
  return new Compiler(opts).compileSection(cs, section);
}
