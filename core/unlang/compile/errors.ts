import type { ConfLoc } from '../../config/ast';

/**
 * A located unlang compile error. `message` reads `file[line]: detail`, as
 * FreeRADIUS prints it; `detail` names what was expected.
 */
export class CompileError extends Error {
  /** Stable error code. */
  readonly code = 'ERR_UNLANG_COMPILE';
  readonly file: string;
  readonly line: number;

  constructor(loc: ConfLoc, readonly detail: string) {
    super(`${loc.file}[${loc.line}]: ${detail}`);
    this.name = 'CompileError';
    this.file = loc.file;
    this.line = loc.line;
  }
}
