/**
 * The result code of a module call or policy section. It lives here, below the module-call
 * contract (core/unlang/module-call.ts) and the module system, because a request carries its
 * current rcode: `request` imports neither `unlang` nor `module`. Numeric rcodes and action
 * tables: core/unlang/rcode.ts.
 */

/** A module's result code, as in FreeRADIUS `rlm_rcode_t` (without NOT_SET). */
export type Rcode =
  | 'reject' | 'fail' | 'ok' | 'handled' | 'invalid'
  | 'disallow' | 'notfound' | 'noop' | 'updated' | 'timeout';

/** Every rcode, in FreeRADIUS numeric order (index + 1 is the numeric code). */
export const RCODES: readonly Rcode[] = Object.freeze([
  'reject', 'fail', 'ok', 'handled', 'invalid', 'disallow', 'notfound', 'noop', 'updated', 'timeout',
] as Rcode[]);
