/**
 * Server logger contract. The implementation (pino-backed, file with inode-based
 * rotation detection, rate limiting) lives beside this file; modules only see
 * this interface.
 */
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** A logger whose lines start with `prefix: `. */
  child(prefix: string): Logger;
  /** True when debug lines are emitted (lets callers skip building strings). */
  readonly debugEnabled: boolean;
}
