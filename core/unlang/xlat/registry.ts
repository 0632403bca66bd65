/**
 * The xlat function registry: `%name(args…)` in expansions calls a function
 * registered here. Modules add their own with {@link registerXlat} (or on a
 * private {@link XlatRegistry} passed to the compiler).
 *
 * A function receives its arguments already evaluated, one `Box[]` per
 * argument (an argument such as `%{Filter-Id[*]}` can hold several values),
 * and returns the result list synchronously, or a Promise when it has to wait
 * (the request then yields, exactly like a module call).
 */

import type { Dictionary } from '../../dict/dictionary';
import type { Request } from '../../request/request';
import type { Box, BoxType } from './box';

/** What an xlat function can see of the running request. */
export interface XlatContext {
  readonly request: Request;
  /** The protocol dictionary, when known. */
  readonly dict?: Dictionary;
  /** Aborted when the request (or an enclosing `timeout`) is cancelled. */
  readonly signal?: AbortSignal;
  /** Interpreter introspection (`%interpreter.*`), when running under the interpreter. */
  readonly interp?: XlatInterpreterView;
}

/** A read-only view of the interpreter for introspection functions. */
export interface XlatInterpreterView {
  /** Index of the child chosen by the innermost running `load-balance`, or undefined. */
  loadBalanceChild(): number | undefined;
  /** File and line of the instruction being run (with `caller`, of the call of the innermost policy). */
  location(caller?: boolean): { file: string; line: number } | undefined;
}

/** An xlat function. */
export type XlatFunc = (ctx: XlatContext, args: Box[][], exprs?: readonly XlatArgExpr[]) => Box[] | Promise<Box[]>;

/**
 * The compiled form of an argument, for functions that work on attributes rather than values
 * (`%pairs.print(control.[*])`): `k === 'ref'` with `ref` the attribute reference.
 */
export interface XlatArgExpr { readonly k: string; readonly ref?: unknown }

/** Registration options. */
export interface XlatOptions {
  /** Static result type, when fixed (lets the compiler type comparisons and edits). */
  returnType?: BoxType;
  /** Minimum and maximum number of arguments (checked at compile time). */
  minArgs?: number;
  maxArgs?: number;
  /** True when the function has no side effects and depends only on its arguments (may be folded). */
  pure?: boolean;
  /**
   * True when a bare word as a whole argument is text, not an attribute reference
   * (`%inst.stats(state)` means the key "state", not the State attribute).
   */
  wordArgs?: boolean;
  /**
   * The type each argument must have, by position (checked at compile time for constants: an
   * unquoted word that reads as another type, such as `8h` for a string, or a constant that does
   * not parse as the type is a located error; a constant that parses is passed typed).
   */
  args?: readonly BoxType[];
}

/** A registered function. */
export interface XlatDef extends XlatOptions {
  readonly name: string;
  readonly fn: XlatFunc;
}

/** A set of xlat functions, looked up case-insensitively. */
export class XlatRegistry {
  private readonly defs = new Map<string, XlatDef>();

  constructor(private readonly parent?: XlatRegistry) {}

  /** Adds or replaces a function. */
  register(name: string, fn: XlatFunc, opts: XlatOptions = {}): void {
    this.defs.set(name.toLowerCase(), { name, fn, ...opts });
  }

  /** The function with this name, here or in the parent registry. */
  get(name: string): XlatDef | undefined {
    return this.defs.get(name.toLowerCase()) ?? this.parent?.get(name);
  }

  /** Every function name seen from here (this registry's and its parent's). */
  names(): string[] {
    const out = new Set(this.parent?.names() ?? []);
    for (const d of this.defs.values()) out.add(d.name);
    return [...out];
  }

  /** A registry that sees this one's functions and can add its own. */
  child(): XlatRegistry {
    return new XlatRegistry(this);
  }
}

/** The process-wide registry holding the built-in library. */
export const globalXlats = new XlatRegistry();

/** Registers a function in the process-wide registry (for modules). */
export function registerXlat(name: string, fn: XlatFunc, opts?: XlatOptions): void {
  globalXlats.register(name, fn, opts);
}
