/**
 * Located errors of the module system. They extend the config system's `ConfError`, so
 * `radiusd -C` and the reload path report them like any other config error:
 * `radiusd.conf[12]: modules { fils }: unknown module "fils"; did you mean "files"?`.
 */
import { ConfError, type ConfErrorCode } from '../config/errors';
import type { ConfLoc } from '../config/ast';

/** Stable codes of {@link ModuleError}. */
export type ModuleErrorCode =
  /** No built-in module of that name and no `module = "…"` item. */
  | 'ERR_MODULE_NOT_FOUND'
  /** A `module = "…"` file is missing, fails to load, or exports no definition. */
  | 'ERR_MODULE_LOAD'
  /** A definition is malformed (method table names a missing method, bad key …). */
  | 'ERR_MODULE_DEFINITION'
  /** Two instances (or an instance and a virtual module) share a name. */
  | 'ERR_MODULE_DUPLICATE'
  /** Constructing the implementation in its child container failed. */
  | 'ERR_MODULE_CONSTRUCT'
  /** A `bootstrap` hook threw. */
  | 'ERR_MODULE_BOOTSTRAP'
  /** An `instantiate` hook threw or rejected. */
  | 'ERR_MODULE_INSTANTIATE'
  /** A `deps` entry names no instance, an instance of another module, or the dependencies form a cycle. */
  | 'ERR_MODULE_DEPENDENCY'
  /** The module needs an attribute the dictionary does not define. */
  | 'ERR_DICT_ATTR_MISSING';

/**
 * A located module-system error: `message` is `file[line]: detail`. `code` holds a
 * {@link ModuleErrorCode} (typed as the base class's code for compatibility; use `moduleCode`
 * for the narrow type). `cause` carries the original error of a failing hook.
 */
export class ModuleError extends ConfError {
  /** The same value as `code`, with its precise type. */
  readonly moduleCode: ModuleErrorCode;

  constructor(code: ModuleErrorCode, loc: ConfLoc, detail: string, options?: { cause?: unknown }) {
    super(code as unknown as ConfErrorCode, loc, detail);
    this.name = 'ModuleError';
    this.moduleCode = code;
    if (options && 'cause' in options) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** The message of anything thrown, for error texts. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
