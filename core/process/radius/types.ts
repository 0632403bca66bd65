/**
 * Types of the RADIUS process state machine (FreeRADIUS v4 `process_radius`).
 *
 * The server compiles each `server NAME { namespace = radius … }` into a
 * `CompiledSite` (the namespace contract, ../namespace.ts); `createRadiusProcess(site, opts)`
 * (process.ts) turns it into the `PacketSink` that listeners feed.
 */
import type { Clock } from '../../clock/clock';
import type { Logger } from '../../log/logger';
import type { LogSink } from '../../request/request-log';

/** Options of `createRadiusProcess`. */
export interface ProcessOptions {
  /** Server log (errors such as encode failures). */
  log?: Logger;
  /** Turn on the per-request debug trace (`-X`). */
  debug?: boolean;
  /** Where request log lines go (default: the server log when given). */
  requestLogSink?: LogSink;
  /** The server clock (request receive times, reject_delay, max_request_time); default: the system clock. */
  clock?: Clock;
}
