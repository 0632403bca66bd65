/**
 * Shared-memory control and statistics blocks.
 *
 * One **lcore block** per data-plane worker, created by the control plane and kept across restarts of that
 * worker (so counters stay monotonic):
 *
 * | byte | Int32 word | writer | what |
 * |---|---|---|---|
 * | 0    | 0   | lcore         | `STATE` (`LcoreState`) |
 * | 4    | 1   | control plane | `CMD` (`Cmd`) |
 * | 64   | 16  | both          | `BELL`: the lcore's doorbell (1 = sleeping, see ring.ts) |
 * | 128  | 32  | lcore         | `SEQ`: seqlock version of the statistics (odd while the lcore writes) |
 * | 192  | f64 24 | lcore      | `BEAT`: heartbeat, ms since the epoch |
 * | 200  | f64 25 | control plane | `DRAIN_UNTIL`: drain deadline for `Cmd.STOP` |
 * | 208  | f64 26 | control plane | `TIMEOUT`: the pending timeout in ms (0 = `timeoutMs` of the options); changed by a reload |
 * | 256  | f64 32… | lcore     | counters (`COUNTERS`), then the latency histogram |
 *
 * One **control-plane block**, shared by all lcores: word 0 is the control plane's doorbell, f64 at byte 64
 * its heartbeat.
 *
 * Statistics are plain Float64 numbers (exact to 2^53; no BigInt allocation) written only by the owning lcore
 * inside a seqlock section (SEQ made odd, writes, SEQ made even again; one section per loop iteration that
 * changed something). A reader copies the block and retries when SEQ was odd or changed meanwhile, so it
 * never sees a half-updated set, and neither side ever waits for the other.
 */
import { HISTOGRAM_LENGTH } from './histogram';

/** Lcore states. */
export const LcoreState = { STARTING: 0, PROBING: 1, READY: 2, DRAINING: 3, STOPPED: 4 } as const;
export const LCORE_STATE_NAMES = ['starting', 'probing', 'ready', 'draining', 'stopped'] as const;
/** Commands from the control plane. `CRASH` and `HANG` are honoured only with `testHooks`. */
export const Cmd = { NONE: 0, STOP: 1, CRASH: 90, HANG: 91 } as const;

/**
 * Session mailbox (words 2–10 of the lcore block; one command at a time, the control plane serializes): the
 * control plane writes op, session id and arguments, then stores a new `M_SEQ`; the lcore runs it in its loop and
 * stores the result, then `M_ACK = M_SEQ`. Used for Disconnect and CoA (RFC 5176) and the operator. LIST and
 * DESCRIBE (the operator's session list) answer with a message to the control plane, `{ pppoeMail: seq, sessions }`,
 * posted before the ack (the loop never reads messages; posting does not need it to).
 */
export const M_SEQ = 2;
export const M_OP = 3;
export const M_SID = 4;
export const M_ARGS = 5; // 4 words: rate up, rate down (bits/s), session timeout, idle timeout (s); -1 = unchanged
export const M_RESULT = 9;
export const M_ACK = 10;
/** Mailbox operations and results. */
export const MailOp = { DISCONNECT: 1, CHANGE: 2, LIST: 3, DESCRIBE: 4 } as const;
export const MailResult = { OK: 1, NO_SESSION: 2, NO_WIRE: 3 } as const;

export const W_STATE = 0;
export const W_CMD = 1;
export const W_BELL = 16;
export const W_SEQ = 32;
export const F_BEAT = 24;
export const F_DRAIN_UNTIL = 25;
export const F_TIMEOUT = 26;
/** First Float64 element of the counters. */
export const F_COUNTERS = 32;

/** Per-lcore counters, in shared-memory order. Gauges are marked in the README. */
export const COUNTERS = [
  'submitted', // requests enqueued to the control plane
  'received', // responses dequeued from the control plane (probes excluded)
  'accept',
  'reject',
  'timeout', // synthetic TIMEOUT results made by the lcore's scan or at drain
  'error', // ERROR results from the control plane
  'ring_full_drops', // submissions refused: request ring full
  'orphans', // responses whose request was no longer pending (timed out, session closed)
  'pending', // gauge: requests waiting for an answer
  'session_cap_drops', // submissions refused: the session already has its maximum of pending requests
  'mac_cap_drops', // submissions refused: the client MAC already has its maximum of pending requests
  'pending_full_drops', // submissions refused: the pending table is full
  'stalled_drops', // submissions refused: control plane stalled
  'draining_drops', // submissions refused: shutting down
  'too_long_drops', // submissions refused: a credential does not fit its record field
  'no_session_drops', // session table full (synthetic source) or unknown session
  'sessions_active', // gauge
  'sessions_created', // sessions installed after an accept
  'sessions_closed', // sessions ended (reject, timeout, error, close, session-timeout)
  'sessions_expired', // of those: Session-Timeout reached
  'idle_sleeps', // back-off sleeps taken
  'idle_ms', // time spent in back-off sleeps
  'loops', // poll iterations
  // accounting records (the wire's Start / Interim-Update / Stop)
  'acct_submitted', 'acct_answered', 'acct_failed',
  // the accounting backlog: records the full request ring could not take, kept and retried (oldest first)
  'acct_backlogged', // records put into the backlog
  'acct_retried', // of those: moved into the request ring later
  'acct_backlog_drops', // records lost: the backlog itself was full (or still held at the end of a drain)
  'acct_backlog', // gauge: records in the backlog
  // the wire (pppoe.ts): frames, discovery, PPP, data, teardown
  'wire_rx_frames', 'wire_tx_frames', 'wire_rx_errors', 'wire_tx_drops',
  'wire_padi', 'wire_pado', 'wire_padr', 'wire_pads', 'wire_padt_in', 'wire_padt_out',
  'wire_discovery_limited', 'wire_cookie_invalid', 'wire_service_name_errors', 'wire_ac_system_errors',
  'wire_unknown_session', 'wire_mac_mismatch', 'wire_lcp_up', 'wire_auth_failed', 'wire_ipcp_up', 'wire_no_address',
  'wire_protocol_rejects', 'wire_echo_timeouts', 'wire_idle_timeouts', 'wire_rate_drops', 'wire_spoofed',
  'wire_icmp_replies', 'wire_ipv4_dropped', 'wire_acct_sent', 'wire_acct_refused',
  'wire_fwd_up', 'wire_fwd_down', 'wire_fwd_no_gateway', 'wire_arp_replies', 'wire_ipv6cp_up',
] as const;
export type CounterName = (typeof COUNTERS)[number];
/** Counter index by name. */
if (COUNTERS.length > 64) throw new Error('pppoe_dpdk: more than 64 lcore counters do not fit the lcore block');
export const C = Object.fromEntries(COUNTERS.map((n, i) => [n, i])) as { readonly [K in CounterName]: number };
/** First Float64 element of the histogram (room for 64 counters). */
export const F_HISTOGRAM = F_COUNTERS + 64;
/** Bytes of one lcore block. */
export const LCORE_BLOCK_BYTES = (F_HISTOGRAM + HISTOGRAM_LENGTH) * 8;

/** Control-plane block: doorbell word and heartbeat. */
export const CP_BELL = 0;
export const CP_F_BEAT = 8;
export const CP_BLOCK_BYTES = 128;

/** Wall-clock milliseconds comparable across threads (each thread has its own `performance.timeOrigin`). */
export function now(): number {
  return TIME_ORIGIN + performance.now();
}
/** This thread's `performance.timeOrigin`, read once (the getter is slow and `now()` runs every poll). */
const TIME_ORIGIN = performance.timeOrigin;

/** Typed views on an lcore block. */
export class LcoreBlock {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  constructor(readonly sab: SharedArrayBuffer) {
    this.i32 = new Int32Array(sab);
    this.f64 = new Float64Array(sab);
  }

  static create(): LcoreBlock {
    return new LcoreBlock(new SharedArrayBuffer(LCORE_BLOCK_BYTES));
  }

  /** Writer: opens a seqlock section (SEQ becomes odd). */
  beginWrite(): void {
    Atomics.store(this.i32, W_SEQ, (Atomics.load(this.i32, W_SEQ) + 1) | 1);
  }

  /** Writer: closes the section (SEQ becomes even). */
  endWrite(): void {
    Atomics.store(this.i32, W_SEQ, (Atomics.load(this.i32, W_SEQ) + 1) & ~1);
  }

  /** Reader: counters and histogram copied consistently (bounded retries; a writer that died mid-section is
   * detected by the control plane and the block reset before the next worker starts). */
  readStats(): { counters: Float64Array; histogram: Float64Array; consistent: boolean } {
    const counters = new Float64Array(COUNTERS.length);
    const histogram = new Float64Array(HISTOGRAM_LENGTH);
    for (let attempt = 0; attempt < 100; attempt++) {
      const v1 = Atomics.load(this.i32, W_SEQ);
      if (v1 & 1) continue;
      counters.set(this.f64.subarray(F_COUNTERS, F_COUNTERS + COUNTERS.length));
      histogram.set(this.f64.subarray(F_HISTOGRAM, F_HISTOGRAM + HISTOGRAM_LENGTH));
      if (Atomics.load(this.i32, W_SEQ) === v1) return { counters, histogram, consistent: true };
    }
    counters.set(this.f64.subarray(F_COUNTERS, F_COUNTERS + COUNTERS.length));
    histogram.set(this.f64.subarray(F_HISTOGRAM, F_HISTOGRAM + HISTOGRAM_LENGTH));
    return { counters, histogram, consistent: false };
  }

  /** Control plane, before (re)starting the worker: state, command and doorbell cleared, SEQ even, gauges 0. */
  resetForStart(): void {
    Atomics.store(this.i32, W_STATE, LcoreState.STARTING);
    Atomics.store(this.i32, W_CMD, Cmd.NONE);
    Atomics.store(this.i32, W_BELL, 0);
    Atomics.store(this.i32, W_SEQ, (Atomics.load(this.i32, W_SEQ) + 1) & ~1);
    this.f64[F_COUNTERS + C.pending] = 0;
    this.f64[F_COUNTERS + C.sessions_active] = 0;
    this.f64[F_COUNTERS + C.acct_backlog] = 0;
    this.f64[F_BEAT] = now();
  }
}
