/**
 * A request being processed: its packet identity, its pair lists and its log.
 *
 * Pair lists are plain `Pair[]` arrays (see `core/pair/list.ts`). The four
 * protocol lists are `request`, `reply`, `control` and `session-state`; unlang
 * local variables live in a separate `local` list that is never encoded.
 */

import type { Pair } from '../pair/pair';
import type { Dictionary } from '../dict/dictionary';
import { RequestLogger, type LogSink } from './request-log';
import { systemClock, type Clock } from '../clock/clock';

/** Names of the pair lists a policy can address. */
export type ListName = 'request' | 'reply' | 'control' | 'session-state' | 'local';

/** Options for {@link Request} construction. */
export interface RequestOptions {
  /** Packet code (e.g. 1 for Access-Request). */
  code?: number;
  /** Packet identifier. */
  id?: number;
  /** Turn on the `-X` style debug trace. */
  debug?: boolean;
  /** Where log lines go. */
  sink?: LogSink;
  /** Parent request (for `parent.` references and child requests). */
  parent?: Request;
  /** The protocol dictionary (used by xlat functions that resolve names at run time). */
  dict?: Dictionary;
  /** Request number; by default a process-wide counter. */
  number?: number;
  /** The server clock (default: the system clock). */
  clock?: Clock;
  /** Receive time in the clock's monotonic milliseconds (default: now). */
  receivedAt?: number;
}

let nextNumber = 0;

/** One request: identity, pair lists, log and interpreter bookkeeping. */
export class Request {
  /** Sequence number shown as `(N)` in logs. */
  readonly number: number;
  /** Packet code of the request (1 = Access-Request). */
  code: number;
  /** Packet identifier. */
  id: number;
  /** Pairs received. */
  request: Pair[] = [];
  /** Pairs to send. */
  reply: Pair[] = [];
  /** Server-side control pairs. */
  control: Pair[] = [];
  /** Pairs kept across rounds of a multi-packet exchange. */
  sessionState: Pair[] = [];
  /** Unlang local variables (typed declarations, foreach loop variables). */
  local: Pair[] = [];
  /** The parent request, for `parent.` references (cleared when a subrequest `detach`es). */
  parent?: Request;
  /** The protocol dictionary, when known. */
  readonly dict?: Dictionary;
  /** The request's log. */
  readonly log: RequestLogger;
  /** The server clock (interpreter timers: `timeout`, `retry`, max_request_time). */
  readonly clock: Clock;
  /**
   * When the request was received, in the server clock's monotonic milliseconds (deadlines,
   * `reject_delay`); {@link received} is the same instant as wall time.
   */
  readonly receivedAt: number;
  /**
   * When the request was received (seconds since the epoch, fractional), from the same reading as {@link receivedAt}.
   * Derived on first use (most requests never ask: no second clock read per request).
   */
  get received(): number {
    return (this.receivedWall ??= this.clock.wall(this.receivedAt) / 1000);
  }
  /** Overrides the wall time of receipt (a replayed or injected request that carries its own time). */
  set received(seconds: number) {
    this.receivedWall = seconds;
  }
  private receivedWall: number | undefined;
  /**
   * Last rcode set by a module-like instruction (`if (ok)` tests this); `undefined`
   * before anything ran.
   */
  rcode: import('./rcode').Rcode | undefined;
  /** Regex captures of the last successful `=~` (index 0 is the whole match). */
  captures: string[] | undefined;
  /** Named regex captures (`(?<name>…)`) of the last successful `=~`. */
  namedCaptures: Record<string, string> | undefined;
  /** Set once `%pairs.immutable()` marked a pair: edits then check for immutable pairs. */
  hasImmutable = false;
  /** Set when the request was cancelled (max_request_time, shutdown). */
  cancelled = false;
  /**
   * The Request Authenticator of the packet (set by the process layer; the CHAP challenge
   * when there is no CHAP-Challenge attribute). `undefined` for requests not from the wire.
   */
  authenticator: Buffer | undefined = undefined;

  constructor(opts: RequestOptions = {}) {
    this.number = opts.number ?? nextNumber++;
    this.code = opts.code ?? 0;
    this.id = opts.id ?? 0;
    this.parent = opts.parent;
    this.dict = opts.dict ?? opts.parent?.dict;
    this.log = new RequestLogger(this.number, opts.debug ?? false, opts.sink);
    const clock = (this.clock = opts.clock ?? opts.parent?.clock ?? systemClock);
    this.receivedAt = opts.receivedAt ?? clock.now();
  }

  /** The pair list with this name. */
  list(name: ListName): Pair[] {
    switch (name) {
      case 'request': return this.request;
      case 'reply': return this.reply;
      case 'control': return this.control;
      case 'session-state': return this.sessionState;
      case 'local': return this.local;
    }
  }

  /** Replaces the contents of a list in place (keeps the array identity). */
  setList(name: ListName, pairs: Pair[]): void {
    const l = this.list(name);
    l.length = 0;
    for (const p of pairs) l.push(p);
  }

  /** True when debug tracing is on (check before building trace strings). */
  get debug(): boolean {
    return this.log.debugEnabled;
  }
}
