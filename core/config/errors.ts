import type { ConfLoc } from './ast';

/** Stable codes carried by every {@link ConfError}. */
export type ConfErrorCode =
  | 'ERR_CONF_SYNTAX'
  | 'ERR_CONF_UNBALANCED'
  | 'ERR_CONF_INCLUDE'
  | 'ERR_CONF_REF'
  | 'ERR_CONF_UNKNOWN_ITEM'
  | 'ERR_CONF_DUPLICATE'
  | 'ERR_CONF_MISSING'
  | 'ERR_CONF_VALUE'
  | 'ERR_CONF_RANGE';

/**
 * A located configuration error. `message` reads `file[line]: detail`, FreeRADIUS style;
 * `detail` is the text after the location, `code` a stable identifier for tests and tooling.
 */
export class ConfError extends Error {
  readonly file: string;
  readonly line: number;

  constructor(
    readonly code: ConfErrorCode,
    loc: ConfLoc,
    readonly detail: string,
  ) {
    super(`${loc.file}[${loc.line}]: ${detail}`);
    this.name = 'ConfError';
    this.file = loc.file;
    this.line = loc.line;
  }
}
