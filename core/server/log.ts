/**
 * The daemon's log: {@link createDaemonLogger} maps the `log { }` settings onto core/log's
 * `ServerLog` (pino destination, FreeRADIUS-style lines, inode-based rotation detection).
 * {@link LineLogger} is a minimal logger over any line target (used for `radiusd -C` output).
 */
import type { Logger } from '../log/logger';
import type { LogSink } from '../request/request-log';
import { ServerLog, type LogDestination } from '../log/server-log';
import { escapeControls } from '../value/text';

type Level = 'debug' | 'info' | 'warn' | 'error';
const LABEL: Record<Level, string> = { debug: 'Debug', info: 'Info', warn: 'Warning', error: 'Error' };

/** Where lines go. */
export interface LineTarget {
  write(line: string): void;
  close?(): void;
}

/** A target over a process stream. */
export function streamTarget(stream: NodeJS.WritableStream): LineTarget {
  return { write: (line) => void stream.write(line + '\n') };
}

/** Plain-line logger over a {@link LineTarget}. */
export class LineLogger implements Logger {
  constructor(
    private readonly target: LineTarget,
    readonly debugEnabled: boolean,
    private readonly prefix = '',
    private readonly timestamps = true,
  ) {}

  private line(level: Level, msg: string): void {
    const text = escapeControls(this.prefix ? `${this.prefix}: ${msg}` : msg);
    if (!this.timestamps) {
      this.target.write(level === 'info' || level === 'debug' ? text : `${LABEL[level]}: ${text}`);
      return;
    }
    this.target.write(`${new Date().toString().slice(0, 24)} : ${LABEL[level]}: ${text}`);
  }

  debug(msg: string): void {
    if (this.debugEnabled) this.line('debug', msg);
  }
  info(msg: string): void { this.line('info', msg); }
  warn(msg: string): void { this.line('warn', msg); }
  error(msg: string): void { this.line('error', msg); }

  child(prefix: string): Logger {
    return new LineLogger(this.target, this.debugEnabled, this.prefix ? `${this.prefix}: ${prefix}` : prefix, this.timestamps);
  }

  /** A request-log sink writing into this logger's target (for the `-X` interpreter trace). */
  requestSink(): LogSink {
    return (level, line) => {
      if (level === 'debug' && !this.debugEnabled) return;
      this.target.write(escapeControls(line));
    };
  }

  /** Closes the target (file). */
  close(): void {
    this.target.close?.();
  }
}

/** Options of {@link createDaemonLogger}. */
export interface DaemonLogOptions {
  destination: 'files' | 'stdout' | 'stderr' | 'null';
  file?: string;
  debug: boolean;
  /** Seconds between rotation checks of a log file (0 = never). */
  rotateCheck: number;
  /** FreeRADIUS -X prints without timestamps. */
  timestamps?: boolean;
}

/** The daemon log: the pino-backed ServerLog of core/log (inode-based rotation detection for files). */
export function createDaemonLogger(o: DaemonLogOptions): ServerLog {
  const destination: LogDestination = o.destination === 'files' ? { file: o.file! } : o.destination;
  return ServerLog.open({
    destination,
    level: o.debug ? 'debug' : 'info',
    timestamps: o.timestamps ?? true,
    checkInterval: Math.round(o.rotateCheck * 1000),
  });
}
