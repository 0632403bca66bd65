import type { ConfLoc } from '../../config/ast';

/**
 * A located unlang compile error. `message` reads `file[line]: detail`, as
 * FreeRADIUS prints it; `detail` names what was expected.
 *
 * A did-you-mean `hint` is computed only when the message is read: some compile paths catch an
 * "Unknown attribute" error and try the word as something else (an enumeration name), and a
 * scan of the dictionary for every such word would slow compilation down. Such callers test
 * `base`, which never computes the hint.
 */
export class CompileError extends Error {
  /** Stable error code. */
  readonly code = 'ERR_UNLANG_COMPILE';
  readonly file: string;
  readonly line: number;
  /** The detail without the hint. */
  readonly base: string;
  private hintFn?: () => string;
  private full?: string;

  constructor(loc: ConfLoc, detail: string, hint?: () => string) {
    super(`${loc.file}[${loc.line}]: ${detail}`);
    this.name = 'CompileError';
    this.file = loc.file;
    this.line = loc.line;
    this.base = detail;
    if (hint) {
      this.hintFn = hint;
      Object.defineProperty(this, 'message', { get: () => `${loc.file}[${loc.line}]: ${this.detail}`, configurable: true, enumerable: false });
    }
  }

  /** What went wrong, with the did-you-mean hint when there is one. */
  get detail(): string {
    if (!this.hintFn) return this.base;
    return (this.full ??= this.base + this.hintFn());
  }
}

/** `; did you mean "X"?` for a suggested name, or ''. */
export function hintText(name: string | undefined): string {
  return name ? `; did you mean "${name}"?` : '';
}
