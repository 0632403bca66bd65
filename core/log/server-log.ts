/**
 * The server's log: a {@link Logger} backed by pino's destination stream (sonic-boom), writing
 * to a file, stderr or stdout.
 *
 * - `format: 'text'` (default) writes FreeRADIUS-style lines,
 *   `Sat Nov 21 03:46:00 2026 : Info: files: message`; without timestamps (the `-X` style)
 *   debug and info lines are bare and warnings/errors keep their label (`Error: files: …`);
 *   `format: 'json'` writes pino JSON lines (`{"level":"info","time":"…","msg":"files: message"}`).
 * - Levels `debug < info < warn < error`; `setLevel` changes it at run time (`radiusd -X`).
 * - `child(prefix)` prefixes lines with `prefix: ` (module instances, listeners).
 * - A file destination is watched for rotation by inode (see `rotation.ts`): every
 *   `checkInterval` ms (default 60 000) the name is compared with the open file and
 *   reopened when it was renamed or deleted.
 * - {@link ServerLog.requestSink} adapts it to the per-request log's `LogSink`.
 *
 * Callers MUST NOT pass secret values; print pairs with `printPairRedacted` (`redact.ts`).
 */
import * as path from 'node:path';
import pino from 'pino';
import type { LogLevel, LogSink } from '../request/request-log';
import type { Logger } from './logger';
import { LEVEL_ORDER, type LogLevelName } from './memory';
import { escapeControls } from '../value/text';
import { DEFAULT_ROTATION_CHECK_MS, RotationWatcher, type RotationCheck } from './rotation';

/** Where the log goes (`null`: nowhere). */
export type LogDestination = 'stderr' | 'stdout' | 'null' | { readonly file: string };

/** Options of {@link ServerLog.open}. */
export interface ServerLogOptions {
  /** Default `stderr`. A file is opened for append and created (with its directory) when missing. */
  readonly destination?: LogDestination;
  /** Lowest level written (default `info`). */
  readonly level?: LogLevelName;
  /** `text` (default) or `json`. */
  readonly format?: 'text' | 'json';
  /** Prefix text lines with a ctime-style timestamp (default: yes for files, no for streams). */
  readonly timestamps?: boolean;
  /** Rotation check period for a file destination, in ms (default 60 000; 0 disables). */
  readonly checkInterval?: number;
  /** Write synchronously (default true: nothing is lost on a crash; log volume is small unless debugging). */
  readonly sync?: boolean;
  /** Clock for timestamps (tests). */
  readonly now?: () => Date;
}

const LABEL: Readonly<Record<LogLevelName, string>> = { debug: 'Debug', info: 'Info', warn: 'Warning', error: 'Error' };
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Sat Nov 21 03:46:00 2026` in local time, as C `ctime()` prints it (without the newline). */
export function ctime(d: Date): string {
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
}

type Dest = ReturnType<typeof pino.destination>;

/** Shared state of a server log and its children. */
class LogCore {
  min: number;
  readonly dest: Dest | undefined;
  readonly json: pino.Logger | undefined;
  readonly watcher: RotationWatcher | undefined;
  readonly file: string | undefined;
  closed = false;
  writeErrors = 0;
  lastError: Error | undefined;

  constructor(readonly opts: ServerLogOptions) {
    const d = opts.destination ?? 'stderr';
    const sync = opts.sync ?? true;
    if (d === 'null') {
      this.dest = undefined;
    } else if (d === 'stderr' || d === 'stdout') {
      this.dest = pino.destination({ fd: d === 'stderr' ? 2 : 1, sync });
    } else {
      this.file = path.resolve(d.file);
      this.dest = pino.destination({ dest: this.file, sync, mkdir: true, append: true });
    }
    // A failed write (disk full, closed stderr) must never take the server down: count it.
    this.dest?.on('error', (err: Error) => {
      this.writeErrors++;
      this.lastError = err;
    });
    this.min = LEVEL_ORDER[opts.level ?? 'info'];
    this.json = opts.format === 'json' && this.dest
      ? pino({
        level: 'debug',
        base: null,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      }, this.dest)
      : undefined;
    if (this.file) {
      const dest = this.dest as Dest & { fd: number; reopen(file?: string): void };
      this.watcher = new RotationWatcher(
        { path: this.file, fd: () => dest.fd, reopen: () => dest.reopen() },
        opts.checkInterval ?? DEFAULT_ROTATION_CHECK_MS,
        (err) => process.emitWarning(`log ${this.file}: ${err instanceof Error ? err.message : String(err)}`),
      ).start();
    }
  }

  /**
   * `request`: a per-request line (`(N) …`); without timestamps its warning/error label goes
   * after the `(N) ` prefix, so every line of a request starts with its number (`(3) Error: pap: …`).
   */
  write(level: LogLevelName, msg: string, request = false): void {
    if (LEVEL_ORDER[level] < this.min || this.closed || !this.dest) return;
    if (this.json) {
      try {
        this.json[level](msg);
      } catch (err) {
        this.writeErrors++;
        this.lastError = err as Error;
      }
      return;
    }
    // One call, one line: a value with CR/LF (a User-Name from the wire) cannot forge a line.
    msg = escapeControls(msg);
    const stamp = this.opts.timestamps ?? this.file !== undefined;
    const num = request && !stamp ? /^\(\d+\) */.exec(msg)?.[0] : undefined;
    const line = stamp ? `${ctime(this.opts.now?.() ?? new Date())} : ${LABEL[level]}: ${msg}\n`
      : level === 'debug' || level === 'info' ? `${msg}\n`
        : num ? `${num}${LABEL[level]}: ${msg.slice(num.length)}\n` : `${LABEL[level]}: ${msg}\n`;
    try {
      this.dest.write(line);
    } catch (err) {
      this.writeErrors++;
      this.lastError = err as Error;
    }
  }
}

class PrefixedLog implements Logger {
  constructor(protected readonly core: LogCore, private readonly prefix: string) {}

  get debugEnabled(): boolean {
    return this.core.min <= LEVEL_ORDER.debug;
  }

  debug(msg: string): void { if (this.core.min <= LEVEL_ORDER.debug) this.core.write('debug', this.prefix + msg); }
  info(msg: string): void { this.core.write('info', this.prefix + msg); }
  warn(msg: string): void { this.core.write('warn', this.prefix + msg); }
  error(msg: string): void { this.core.write('error', this.prefix + msg); }

  child(prefix: string): Logger {
    return new PrefixedLog(this.core, `${this.prefix}${prefix}: `);
  }
}

/** The root server log: a {@link Logger} plus level, rotation and shutdown control. */
export class ServerLog extends PrefixedLog {
  private constructor(core: LogCore) {
    super(core, '');
  }

  /** Opens a log (file destinations are created, with their directory, when missing). Throws on an unwritable file. */
  static open(opts: ServerLogOptions = {}): ServerLog {
    return new ServerLog(new LogCore(opts));
  }

  /** The file written, or undefined for stderr/stdout. */
  get file(): string | undefined {
    return this.core.file;
  }

  /** Failed writes so far (they are dropped, never thrown), and the last error. */
  get writeErrors(): { count: number; last?: Error } {
    return { count: this.core.writeErrors, last: this.core.lastError };
  }

  /** The current lowest level. */
  get level(): LogLevelName {
    return (Object.keys(LEVEL_ORDER) as LogLevelName[]).find((k) => LEVEL_ORDER[k] === this.core.min) ?? 'info';
  }

  /** Changes the lowest level written. */
  setLevel(level: LogLevelName): void {
    this.core.min = LEVEL_ORDER[level];
  }

  /** Checks for rotation now (the timer does this every `checkInterval`). */
  checkRotation(): RotationCheck {
    return this.core.watcher?.check() ?? 'same';
  }

  /** Reopens the file now (e.g. on SIGHUP); no-op for streams. */
  reopen(): void {
    if (this.core.file) (this.core.dest as Dest & { reopen(): void }).reopen();
  }

  /** A `LogSink` for per-request logs (`RequestLogger`): lines go here at their level. */
  requestSink(): LogSink {
    return (level: LogLevel, line: string) => this.core.write(level, line, true);
  }

  /** Writes buffered lines (asynchronous mode) before returning. */
  flush(): void {
    try {
      (this.core.dest as Dest & { flushSync(): void }).flushSync();
    } catch {
      // nothing buffered, or the descriptor is not open yet
    }
  }

  /** Stops the rotation timer, flushes and closes the destination (streams stay open). */
  close(): void {
    if (this.core.closed) return;
    this.core.watcher?.stop();
    this.flush();
    this.core.closed = true;
    if (this.core.file) this.core.dest?.end();
  }
}
