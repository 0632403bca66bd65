/**
 * Numeric rcodes, action values and the default per-section action tables.
 *
 * Rcodes are small integers so that action tables are plain arrays indexed by
 * rcode (FreeRADIUS `unlang_mod_actions_t`). `NOT_SET` (0) means "no result".
 */

import type { Rcode } from '../request/rcode';

/** Numeric rcode: 0 = not set, then FreeRADIUS order. */
export const enum R {
  NOT_SET = 0, REJECT = 1, FAIL = 2, OK = 3, HANDLED = 4, INVALID = 5,
  DISALLOW = 6, NOTFOUND = 7, NOOP = 8, UPDATED = 9, TIMEOUT = 10,
}

/** Number of rcodes including NOT_SET (size of an action table). */
export const RCODE_COUNT = 11;

/** Names by numeric rcode (`''` for NOT_SET). */
export const RCODE_NAMES: readonly string[] = Object.freeze([
  '', 'reject', 'fail', 'ok', 'handled', 'invalid', 'disallow', 'notfound', 'noop', 'updated', 'timeout',
]);

/** Numeric rcode of a name, or undefined. */
export function rcodeFromName(name: string): number | undefined {
  return BY_NAME[name];
}

const BY_NAME: Record<string, number | undefined> = Object.assign(Object.create(null) as Record<string, number>, {
  reject: 1, fail: 2, ok: 3, handled: 4, invalid: 5, disallow: 6, notfound: 7, noop: 8, updated: 9, timeout: 10,
});

/** Name of a numeric rcode (undefined for NOT_SET). */
export function rcodeName(r: number): Rcode | undefined {
  return r > 0 ? (RCODE_NAMES[r] as Rcode) : undefined;
}

/** Action values. Priorities are `0x80 | n` (n = 1..64), so any priority > every special action. */
export const enum A {
  NOT_SET = 0, RETRY = 1, REJECT = 2, RETURN = 3, PRIORITY = 0x80,
}

/** An action table: one action per numeric rcode (index 0 unused). */
export type Actions = readonly number[];

/** Retry configuration of an `actions { retry { … } }` block. */
export interface RetryConfig {
  /** Maximum number of executions (0 = unlimited). */
  readonly maxRtxCount: number;
  /** Maximum total duration in seconds (0 = unlimited). */
  readonly maxRtxDuration: number;
  /** Initial retransmission time, seconds (informational). */
  readonly initialRtxTime: number;
  /** Maximum retransmission time, seconds (informational). */
  readonly maxRtxTime: number;
}

const P = (n: number) => A.PRIORITY | n;
const RET = A.RETURN;

/** Default table for `recv`, `send`, accounting and post-auth sections (FreeRADIUS authorize table). */
export const ACTIONS_AUTHORIZE: Actions = Object.freeze([
  0, RET, RET, P(3), RET, RET, RET, P(1), P(2), P(4), RET,
]);

/** Default table for `authenticate` sections: like authorize, but `ok` has priority 4. */
export const ACTIONS_AUTHENTICATE: Actions = Object.freeze([
  0, RET, RET, P(4), RET, RET, RET, P(1), P(2), P(4), RET,
]);

/**
 * Default table of the children of `redundant` and `redundant-load-balance`: `fail` and `timeout`
 * go on to the next child (priority 1), everything else ends the block. A child's own action
 * override (`ldap { notfound = 1 }`) makes that rcode go on too.
 */
export const ACTIONS_REDUNDANT: Actions = Object.freeze([0, RET, P(1), RET, RET, RET, RET, RET, RET, RET, P(1)]);

/** Every rcode returns (the top "empty group", `case` bodies). */
export const ACTIONS_ALL_RETURN: Actions = Object.freeze([0, RET, RET, RET, RET, RET, RET, RET, RET, RET, RET]);

/** The default action table for a processing section `name1 name2`. */
export function defaultActionsFor(name1: string): Actions {
  return name1 === 'authenticate' ? ACTIONS_AUTHENTICATE : ACTIONS_AUTHORIZE;
}

/** Human form of an action for the debug trace and error messages. */
export function actionName(a: number): string {
  switch (a) {
    case A.NOT_SET: return 'not-set';
    case A.RETRY: return 'retry';
    case A.REJECT: return 'reject';
    case A.RETURN: return 'return';
    default: return String(a & 0x7f);
  }
}
