/**
 * Per-request log with the FreeRADIUS-style `(N)` prefix.
 *
 * Lines go to a {@link LogSink}. The default sink drops everything except
 * errors, which are kept in memory so callers can report them. Debug lines are
 * only produced when the caller checks `log.debugEnabled` first, so a request
 * with debug off builds no strings.
 */

/** Severity of a log line. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Receives finished log lines (prefix already applied). */
export type LogSink = (level: LogLevel, line: string) => void;

/** The logging surface given to modules and the interpreter for one request. */
export interface RequestLog {
  /** True when debug lines are wanted; check it before building a debug string. */
  readonly debugEnabled: boolean;
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** A log whose lines carry an extra `name: ` prefix (for module calls). */
  child(name: string): RequestLog;
}

/** The request log implementation: `(N) [indent]message`. */
export class RequestLogger implements RequestLog {
  /** Current trace indentation (used by the interpreter's debug trace). */
  indent = 0;
  /** Error lines seen so far (kept for reporting). */
  readonly errors: string[] = [];

  constructor(
    readonly number: number,
    public debugEnabled: boolean,
    private readonly sink?: LogSink,
    private readonly prefix = '',
  ) {}

  private emit(level: LogLevel, msg: string): void {
    const line = `(${this.number}) ${'  '.repeat(this.indent)}${this.prefix}${msg}`;
    if (level === 'error') this.errors.push(line);
    if (this.sink) this.sink(level, line);
  }

  debug(msg: string): void { if (this.debugEnabled) this.emit('debug', msg); }
  info(msg: string): void { this.emit('info', msg); }
  warn(msg: string): void { this.emit('warn', msg); }
  error(msg: string): void { this.emit('error', msg); }

  child(name: string): RequestLog {
    const parent = this;
    return {
      get debugEnabled() { return parent.debugEnabled; },
      debug: (m: string) => parent.debug(`${name}: ${m}`),
      info: (m: string) => parent.info(`${name}: ${m}`),
      warn: (m: string) => parent.warn(`${name}: ${m}`),
      error: (m: string) => parent.error(`${name}: ${m}`),
      child: (n: string) => parent.child(`${name}: ${n}`),
    };
  }
}

/** A sink that prints every line to stderr (for `-X` style runs). */
export const stderrSink: LogSink = (_level, line) => { process.stderr.write(line + '\n'); };
