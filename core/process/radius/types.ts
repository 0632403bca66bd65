/**
 * Types of the RADIUS process state machine (FreeRADIUS v4 `process_radius`).
 *
 * The server compiles each `server NAME { namespace = radius … }` into a
 * {@link CompiledSite}; `createRadiusProcess(site, opts)` (process.ts) turns it
 * into the `PacketSink` that listeners feed.
 */
import type { Clock } from '../../clock/clock';
import type { Dictionary } from '../../dict/dictionary';
import type { CompiledSection } from '../../unlang/compile/types';
import type { Logger } from '../../log/logger';
import type { LogSink } from '../../request/request-log';

/**
 * Key of a processing section: `name1 name2` with one space, e.g.
 * `recv Access-Request`, `authenticate pap`, `accounting Start`,
 * `send Access-Accept`, `send Do-Not-Respond`.
 */
export type SectionKey = string;

/** Per-site processing settings. */
export interface SiteConfig {
  /** Seconds to delay Access-Reject replies (default 1; 0 disables). Other requests are not blocked. */
  rejectDelay: number;
  /** Seconds after which a request is cancelled and gets no reply (default 30; 0 disables). */
  maxRequestTime: number;
}

/** Default {@link SiteConfig}. */
export const DEFAULT_SITE_CONFIG: Readonly<SiteConfig> = Object.freeze({ rejectDelay: 1, maxRequestTime: 30 });

/** A compiled virtual server, the input of the process state machine. */
export interface CompiledSite {
  /** Server name (`default`). */
  readonly name: string;
  /** Compiled processing sections by {@link SectionKey}. A missing section runs as `noop` (see README). */
  readonly sections: ReadonlyMap<SectionKey, CompiledSection>;
  readonly config: SiteConfig;
  /** The protocol dictionary (RADIUS). */
  readonly dict: Dictionary;
}

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
