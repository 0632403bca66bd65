/**
 * Loggers that do not write anywhere: {@link nullLogger} (drops everything) and
 * {@link MemoryLogger} (keeps lines in memory; for tests and for `radiusd -C` summaries).
 */
import type { Logger } from './logger';

/** Severity names used by the logger implementations, lowest first. */
export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

/** Numeric order of {@link LogLevelName}s (higher is more severe). */
export const LEVEL_ORDER: Readonly<Record<LogLevelName, number>> = Object.freeze({ debug: 10, info: 20, warn: 30, error: 40 });

/** A logger that drops every line. */
export const nullLogger: Logger = Object.freeze({
  debug(): void {},
  info(): void {},
  warn(): void {},
  error(): void {},
  child(): Logger { return nullLogger; },
  debugEnabled: false,
});

/** One captured line of a {@link MemoryLogger}. */
export interface MemoryLine {
  readonly level: LogLevelName;
  /** The message with its `prefix: ` chain applied. */
  readonly msg: string;
}

/** MemoryLogger keeps every line (children share the parent's list). */
export class MemoryLogger implements Logger {
  /** Captured lines, oldest first (shared with children). */
  readonly lines: MemoryLine[];

  constructor(readonly debugEnabled = true, private readonly prefix = '', lines?: MemoryLine[]) {
    this.lines = lines ?? [];
  }

  private add(level: LogLevelName, msg: string): void {
    if (level === 'debug' && !this.debugEnabled) return;
    this.lines.push({ level, msg: this.prefix + msg });
  }

  debug(msg: string): void { this.add('debug', msg); }
  info(msg: string): void { this.add('info', msg); }
  warn(msg: string): void { this.add('warn', msg); }
  error(msg: string): void { this.add('error', msg); }

  child(prefix: string): Logger {
    return new MemoryLogger(this.debugEnabled, `${this.prefix}${prefix}: `, this.lines);
  }

  /** Messages only (`level: msg` when `withLevel`). */
  text(withLevel = false): string[] {
    return this.lines.map((l) => (withLevel ? `${l.level}: ${l.msg}` : l.msg));
  }
}
