/**
 * Server logging: the {@link Logger} contract, the pino-backed {@link ServerLog} (file with
 * inode-based rotation detection, or stderr), {@link RateLimitedLog} for floods and
 * in-memory loggers for tests. Secret redaction for pair values is core/pair/redact.ts.
 */
export type { Logger } from './logger';
export { ServerLog, ctime, type ServerLogOptions, type LogDestination } from './server-log';
export { RotationWatcher, DEFAULT_ROTATION_CHECK_MS, type RotationTarget, type RotationCheck } from './rotation';
export { RateLimitedLog, type RateLimitOptions } from './rate-limit';
export { nullLogger, MemoryLogger, LEVEL_ORDER, type LogLevelName, type MemoryLine } from './memory';
