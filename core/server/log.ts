/**
 * The daemon's log destination: a thin adapter choosing stdout, stderr, a file or nothing.
 *
 * When core/log provides a file logger with inode-based rotation detection it is used for
 * `destination = files`; otherwise this module's {@link LineLogger} writes plain lines
 * (`Sat Nov 21 03:43:10 2026 : Info: message`, FreeRADIUS style) and reopens its file when
 * the inode under the path changed (checked every `rotateCheck` seconds).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../log/logger';
import type { LogSink } from '../request/request-log';

type Level = 'debug' | 'info' | 'warn' | 'error';
const LABEL: Record<Level, string> = { debug: 'Debug', info: 'Info', warn: 'Warning', error: 'Error' };

/** Where lines go. */
export interface LineTarget {
  write(line: string): void;
  close?(): void;
}

/** A file target that reopens the file when it was rotated away (inode change) or removed. */
export class RotatingFile implements LineTarget {
  private fd: number;
  private ino = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly file: string, rotateCheck: number) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = this.open();
    if (rotateCheck > 0) {
      this.timer = setInterval(() => this.check(), rotateCheck * 1000);
      this.timer.unref();
    }
  }

  private open(): number {
    const fd = fs.openSync(this.file, 'a', 0o640);
    this.ino = fs.fstatSync(fd).ino;
    return fd;
  }

  /** Reopens the file when the path now names another inode (or nothing). */
  check(): void {
    let ino = -1;
    try {
      ino = fs.statSync(this.file).ino;
    } catch { /* removed: reopen creates it */ }
    if (ino === this.ino) return;
    try {
      const fd = this.open();
      const old = this.fd;
      this.fd = fd;
      fs.closeSync(old);
    } catch { /* keep writing to the old descriptor */ }
  }

  write(line: string): void {
    try {
      fs.writeSync(this.fd, line + '\n');
    } catch { /* a full disk must not stop the server */ }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    try {
      fs.closeSync(this.fd);
    } catch { /* already closed */ }
  }
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
    const text = this.prefix ? `${this.prefix}: ${msg}` : msg;
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
      this.target.write(line);
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
  rotateCheck: number;
  /** FreeRADIUS -X prints without timestamps. */
  timestamps?: boolean;
}

/** Builds the daemon logger. */
export function createDaemonLogger(o: DaemonLogOptions): LineLogger {
  let target: LineTarget;
  switch (o.destination) {
    case 'stdout': target = streamTarget(process.stdout); break;
    case 'stderr': target = streamTarget(process.stderr); break;
    case 'null': target = { write: () => undefined }; break;
    case 'files': target = new RotatingFile(o.file!, o.rotateCheck); break;
  }
  return new LineLogger(target, o.debug, '', o.timestamps ?? true);
}
