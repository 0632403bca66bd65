/**
 * Compile-time context shared by the compiler and the keyword compilers
 * (`keywords/*.ts`): what is in scope at one point of a section.
 */

import type { ConfPair } from '../../config/ast';
import type { SectionName } from '../module-call';
import { A, type Actions } from '../rcode';
import type { Scope } from './refs';

/** Where a statement is being compiled. Immutable: nested blocks get a copy. */
export interface Ctx {
  readonly section: SectionName;
  /** Default action table of the enclosing section (or `try`/`transaction` body). */
  readonly defaults: Actions;
  readonly scope: Scope;
  /** Number of enclosing foreach loops (within the current policy). */
  readonly loops: number;
  /** Number of enclosing break points (foreach, switch). */
  readonly breaks: number;
  /** Policies being compiled (a policy calling its own name calls the module). */
  readonly policies: readonly string[];
  /**
   * Set while compiling the children of `redundant` / `redundant-load-balance` (`block`, whose
   * statements take {@link ACTIONS_REDUNDANT} as `defaults`): blocks nested inside those children
   * go back to the enclosing `defaults`, as in FreeRADIUS.
   */
  readonly redundant?: { readonly block: readonly unknown[]; readonly defaults: Actions };
  /** Number of enclosing `subrequest` sections (`detach` needs one). */
  readonly subrequests?: number;
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The priority action `n` (1-64). */
export const priority = (n: number): number => A.PRIORITY | n;

/** The value of a pair as expression text, with its original quotes. */
export function quoteValue(p: ConfPair): string {
  const v = p.value ?? '';
  switch (p.quote) {
    case 'single': return `'${v}'`;
    case 'double': return `"${v}"`;
    case 'back': return '`' + v + '`';
    default: return v;
  }
}
