/**
 * The module-call contract: what the unlang interpreter calls a module through. It lives here,
 * beside the interpreter that defines it (as `servers.ts` does for `call <server>`), and
 * `core/module` implements it (`binding.ts`: `BoundModule` is a {@link ModuleHandle}), so
 * `core/unlang` never imports `core/module`. Module authors get it from `core/index.ts`.
 * Rules:
 *
 * - A {@link ModuleMethod} MUST return an {@link Rcode} synchronously when it can (the
 *   fast path: no Promise is created), or a `Promise<Rcode>` when it has to wait. A
 *   returned Promise makes the request yield; the interpreter resumes it when the
 *   Promise settles. A rejected Promise counts as `fail`.
 * - A method that yields SHOULD watch `ctx.signal` (aborted on `cancel`) and MAY register
 *   `ctx.onSignal(fn)` to hear `dup` (client retransmission) and `cancel`.
 * - After `cancel` the interpreter ignores the method's eventual result.
 */

import type { Request } from '../request/request';
import type { RequestLog } from '../request/request-log';
import type { Rcode } from '../request/rcode';
import type { ValueEscape } from './xlat/box';

/** Signals delivered to a yielded call: `dup` (NAS retransmitted) or `cancel` (stop now). */
export type CallSignal = 'dup' | 'cancel';

/** The processing section a call runs in, e.g. `{ name1: 'recv', name2: 'Access-Request' }`. */
export interface SectionName {
  readonly name1: string;
  readonly name2?: string;
}

/** One call of a module method, built by the interpreter for each module frame. */
export interface CallContext<Env = unknown> {
  /** Policy-visible instance name (`ldap_corp`). */
  readonly instance: string;
  /** Method name when the call named one (`ldap.authorize` → `authorize`). */
  readonly method?: string;
  /** The section being processed. */
  readonly section: SectionName;
  /** Per-call arguments already expanded (FreeRADIUS call_env); `undefined` when none. */
  readonly env: Env;
  /** Aborted when the call is cancelled (timeout block, limit, max_request_time). */
  readonly signal: AbortSignal;
  /** The request's log, prefixed with the instance name. */
  readonly log: RequestLog;
  /** Registers a handler for `dup` and `cancel` while the call is yielded. */
  onSignal(fn: (s: CallSignal) => void): void;
}

/** A module method: synchronous rcode (fast path) or a Promise (the request yields). */
export type ModuleMethod<Env = unknown> =
  (request: Request, ctx: CallContext<Env>) => Rcode | Promise<Rcode>;

/**
 * What the unlang compiler needs to know about a module instance: how to find the
 * method for a section (or an explicit `instance.method`).
 */
export interface ModuleHandle {
  /** Instance name as written in policy. */
  readonly name: string;
  /**
   * The method for a call. `method` is set for `name.method` calls; otherwise the
   * binding is chosen from `section` (exact, then `name1 *`, then `* *`). Returns
   * undefined when the module has no such method.
   */
  method(section: SectionName, method?: string): ModuleMethod | undefined;
  /** The module's `map` method, when it has one (`map <instance> "query" { attr op 'field' … }`). */
  readonly map?: ModuleMapMethod;
  /**
   * Escapes values expanded into the map query (`%{User-Name}` inside `map sql "…"`); the
   * literal text of the query is left as written; a value marked safe for the escape passes
   * unchanged ({@link ValueEscape}). Absent: values are used as they are.
   */
  readonly mapEscape?: ValueEscape;
}

/**
 * The result of a map query: `fields` maps a field name (SQL column, LDAP attribute, CSV
 * column …) to its values as text, or an rcode without fields (`notfound`: no row, `fail`).
 */
export type MapResult = {
  readonly fields: ReadonlyMap<string, readonly string[]>;
  /**
   * A line naming a field the result lacks is skipped (FreeRADIUS's client and ldap maps), rather
   * than failing the whole map; when every line is skipped the map returns `ok`.
   */
  readonly skipMissing?: boolean;
} | MapRows | Rcode;

/**
 * A map result of rows (SQL): the interpreter applies the lines to each row in turn, so each
 * operator sees the rows one after another (`:=` keeps the last row's value, `=` the first's,
 * `+=` adds one per row). Columns are matched by name, case-insensitively; a `null` value (SQL
 * NULL) leaves the line's attribute alone. Lines naming no column are skipped; none matching is
 * `noop`, no row `notfound`.
 */
export interface MapRows {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | null)[])[];
}

/**
 * A module's `map` method (FreeRADIUS `map_proc`): runs `query` (the expanded text after the
 * instance name, '' when none) and returns the fields or the rows; the interpreter applies the section's
 * `attr op 'field'` lines, all or nothing. A Promise makes the request yield, as for methods.
 */
export type ModuleMapMethod = (request: Request, ctx: CallContext, query: string) => MapResult | Promise<MapResult>;
