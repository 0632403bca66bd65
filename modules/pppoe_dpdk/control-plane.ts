/**
 * The control-plane side, on the daemon's main thread: starts the lcore workers, pumps their request rings into
 * an async handler (the next step wires it to `Server.inject(site, request)`), writes the answers into the
 * response rings, keeps a heartbeat for the lcores, watches theirs and restarts a dead or stuck worker while the
 * others keep running, and aggregates their counters lock-free (`snapshot()`).
 *
 * The pump never blocks the event loop: it handles at most one burst per lcore per turn, continues with
 * `setImmediate` while there is work, and otherwise sleeps on its doorbell with `Atomics.waitAsync` (timeout
 * doubling up to `maxIdleMs`); an lcore that publishes requests rings the doorbell.
 *
 * Response-ring room is reserved before a request is taken: the pump dequeues a request only while
 * `free response slots − requests in flight > 0`, so an answer always finds a slot and is never dropped. When
 * the handler is slow the request ring fills up and the lcore refuses new submissions with a counter
 * (drop at the edge, never back-pressure inside the data plane).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../core';
import { RateLimitedLog } from '../../core';
import { HISTOGRAM_LENGTH, mergeInto, summarize, type LatencySummary } from './histogram';
import type { LcoreWorkerData } from './lcore-worker';
import { closeWakeFd, wake, wakeFd } from './native/index';
import { resolveOptions, type PppoeDpdkOptions } from './options';
import { decodeRequest, decodeResponse, Kind, RECORD_SIZE, REQ, Result, writeBareResponse, writeResponse, type AuthRequestView, type AuthResult } from './records';
import { RING_HEADER, SpscRing } from './ring';
import {
  C, Cmd, COUNTERS, CP_BELL, CP_BLOCK_BYTES, CP_F_BEAT, F_BEAT, F_COUNTERS, F_DRAIN_UNTIL, F_TIMEOUT, LCORE_STATE_NAMES, LcoreBlock, LcoreState, now,
  M_ACK, M_ARGS, M_OP, M_RESULT, M_SEQ, M_SID, MailResult, W_BELL, W_CMD, W_STATE, type CounterName,
} from './shared';

/** `Atomics.waitAsync` (Node ≥ 16; typed from lib es2024, which our ES2022 lib setting does not include). */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, index: number, value: number, timeoutMs: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

/** What a handler gets besides the request. */
export interface AuthCall {
  /** Aborted when the lcore has given up on the request (made on first use: AbortControllers are costly). */
  readonly signal: AbortSignal;
  /**
   * Answers the request (for a handler that returned `undefined`). May run before the handler returns (a site
   * that finished synchronously: no Promise, no microtask). A second answer is dropped and counted (late_answers).
   */
  answer(r: AuthResult): void;
  /** Answers ERROR for a failure (counted as handler_errors, logged at a limited rate). */
  fail(e: unknown): void;
}

/**
 * Answers one authentication request: with a Promise, with the result itself, or with `undefined` after it
 * called (or will call) `call.answer` / `call.fail`.
 */
export type AuthHandler = (req: AuthRequestView, call: AuthCall) => Promise<AuthResult> | AuthResult | undefined;

/** Starts a worker thread for an lcore (tests run the TypeScript sources through `testing.ts`). */
export type LcoreSpawner = (data: LcoreWorkerData & { readonly lcoreWorker: true }) => Worker;

/** Control-plane counters. */
export interface ControlPlaneCounters {
  /** Requests taken from the request rings (probes excluded). */
  requests: number;
  /** Answers written into the response rings. */
  answered: number;
  /** Handler promises that rejected (answered as ERROR). */
  handler_errors: number;
  /** Requests given up after timeoutMs + scanIntervalMs (the lcore has already timed them out); handler aborted. */
  abandoned: number;
  /** Answers that arrived after their request was abandoned or its worker replaced (dropped). */
  late_answers: number;
  /** Answers with no response slot (never expected: room is reserved before dequeuing). */
  response_ring_full: number;
  /** Worker restarts (deaths and stuck workers). */
  restarts: number;
  /** Of those: workers terminated because their heartbeat stopped. */
  stuck_kills: number;
  /** Sessions and pending requests a dead worker took with it. */
  lost_sessions: number;
  lost_pending: number;
  /** Accounting records run through the handler again after an answer other than accept (timeout, error). */
  acct_retries: number;
}

/** One lcore in a snapshot. */
export interface LcoreSnapshot {
  readonly id: number;
  readonly state: (typeof LCORE_STATE_NAMES)[number] | 'restarting';
  readonly generation: number;
  readonly inflight: number;
  readonly heartbeatAgeMs: number;
  readonly counters: Readonly<Record<CounterName, number>>;
}

/** Everything `snapshot()` returns (the metrics registry consumes this). */
export interface PppoeDpdkSnapshot {
  readonly lcores: readonly LcoreSnapshot[];
  /** Sum over lcores (gauges summed too). */
  readonly total: Readonly<Record<CounterName, number>>;
  /** Submit → result latency over all lcores, microseconds (TIMEOUT results included). */
  readonly latency: LatencySummary;
  readonly controlPlane: Readonly<ControlPlaneCounters>;
}

/** One ring in the ring monitor (`ControlPlane.rings()`). */
export interface RingStatus {
  readonly capacity: number;
  /** Slots ever published and ever released (32-bit, wrapping). */
  readonly head: number;
  readonly tail: number;
  /** Slots in use, and as a share of the capacity. */
  readonly used: number;
  readonly fill: number;
  /** How long the ring has held records without its consumer taking one (ms; 0 when empty or moving). */
  readonly stalledMs: number;
  /** `stalledMs` above `lcoreStallMs`: its consumer (request ring: the control plane; response ring: the lcore) is not reading. */
  readonly stuck: boolean;
}

/** One lcore in the ring monitor. */
export interface LcoreRings {
  readonly id: number;
  readonly state: LcoreSnapshot['state'];
  readonly heartbeatAgeMs: number;
  /** Lcore → control plane, control plane → lcore. Absent while the worker restarts. */
  readonly request?: RingStatus;
  readonly response?: RingStatus;
}

/** A pending request as the dumper shows it (never a credential). */
export interface PendingEntry {
  readonly requestId: number;
  readonly sessionId: number;
  readonly username?: string;
  readonly mac?: string;
  readonly nasPortId?: string;
  /** ms since the lcore submitted it (`answered`: since the answer was written). */
  readonly ageMs: number;
  /** For `answered`: the result on its way back. */
  readonly result?: string;
}

/** The pending-request dump of one lcore, by stage; each list is capped (`truncated` then counts what was left out). */
export interface LcorePending {
  readonly id: number;
  /** Still in the request ring: the control plane has not taken them yet. */
  readonly queued: PendingEntry[];
  /** Taken, the site is working on them. */
  readonly atSite: PendingEntry[];
  /** Answered, in the response ring (or about to be published): the lcore has not read them yet. */
  readonly answered: PendingEntry[];
  readonly truncated: number;
}

/** Where an `Inflight` delivers its answer (the control plane). */
interface AnswerSink {
  answer(l: LcoreHandle, f: Inflight, r: AuthResult): void;
  failed(l: LcoreHandle, f: Inflight, e: unknown): void;
}

/** A request in flight on the control plane (also the handler's `AuthCall`). */
class Inflight implements AuthCall {
  private ac?: AbortController;
  private aborted = false;
  constructor(
    private readonly cp: AnswerSink, private readonly l: LcoreHandle,
    readonly gen: number, readonly requestId: number, readonly sessionId: number, public started: number, readonly view: AuthRequestView,
  ) {}

  /** Times the handler ran for this request (accounting is run again after a failure, up to `acctAttempts`). */
  attempts = 1;

  answer(r: AuthResult): void {
    this.cp.answer(this.l, this, r);
  }

  fail(e: unknown): void {
    this.cp.failed(this.l, this, e);
  }

  get signal(): AbortSignal {
    if (!this.ac) {
      this.ac = new AbortController();
      if (this.aborted) this.ac.abort();
    }
    return this.ac.signal;
  }

  abort(): void {
    this.aborted = true;
    this.ac?.abort();
  }
}

interface LcoreHandle {
  readonly id: number;
  readonly block: LcoreBlock;
  gen: number;
  worker?: Worker;
  req?: SpscRing;
  resp?: SpscRing;
  readonly inflight: Map<number, Inflight>;
  /** Answers written into the response ring but not yet published (published together by `flush`). */
  uncommitted: number;
  deaths: number[];
  restartTimer?: ReturnType<typeof setTimeout>;
  /** Ring monitor: the last tails seen and since when they have not moved while the ring held records. */
  reqTail: number;
  reqSince: number;
  respTail: number;
  respSince: number;
  /** The lcore's `acct_backlog_drops` at the last watchdog tick (a rise is logged, rate-limited). */
  acctDropsSeen: number;
  exited: Promise<void>;
  markExited: () => void;
}

/**
 * A wire lcore's wake-up eventfd, or undefined when the addon cannot load: the worker then fails to open its wire
 * with the reason, which is logged like any worker death (as before the eventfd existed).
 */
function wakeBell(): { fd: number } | undefined {
  try {
    return { fd: wakeFd() };
  } catch {
    return undefined;
  }
}

/** Path of the compiled worker entry beside this file. */
export const LCORE_WORKER_FILE = path.join(__dirname, 'lcore-worker.js');

/** Default spawner: the compiled `lcore-worker.js` beside this module. */
export const defaultSpawner: LcoreSpawner = (data) => {
  if (!fs.existsSync(LCORE_WORKER_FILE)) {
    throw new Error(`pppoe_dpdk: ${LCORE_WORKER_FILE} does not exist (build with tsc; from TypeScript sources use testing.ts tsLcoreSpawner)`);
  }
  return new Worker(LCORE_WORKER_FILE, { workerData: data });
};

/** The control plane of the PPPoE data plane. */
export class ControlPlane {
  readonly options: PppoeDpdkOptions;
  private readonly cpSab = new SharedArrayBuffer(CP_BLOCK_BYTES);
  private readonly cpI32 = new Int32Array(this.cpSab);
  private readonly cpF64 = new Float64Array(this.cpSab);
  private readonly lcores: LcoreHandle[] = [];
  private readonly c: ControlPlaneCounters = {
    requests: 0, answered: 0, handler_errors: 0, abandoned: 0, late_answers: 0, response_ring_full: 0,
    restarts: 0, stuck_kills: 0, lost_sessions: 0, lost_pending: 0, acct_retries: 0,
  };
  private readonly spawn: LcoreSpawner;
  private readonly log?: Logger;
  private readonly limited?: RateLimitedLog;
  private watchdog?: ReturnType<typeof setInterval>;
  private pumpScheduled = false;
  private sleeping = false;
  private sleepMs = 0.1;
  private stopping = false;
  private closed = false;
  private started = false;
  /** The pending timeout in force (changed by `setTimeoutMs`). */
  private timeoutMs: number;

  constructor(private readonly handler: AuthHandler, options: Parameters<typeof resolveOptions>[0] = {}, deps: { log?: Logger; spawn?: LcoreSpawner } = {}) {
    this.options = resolveOptions(options);
    this.spawn = deps.spawn ?? defaultSpawner;
    this.log = deps.log;
    this.limited = deps.log ? new RateLimitedLog(deps.log, { timer: false }) : undefined;
    this.timeoutMs = this.options.timeoutMs;
    for (let id = 0; id < this.options.lcores; id++) {
      let markExited!: () => void;
      const exited = new Promise<void>((r) => (markExited = r));
      const block = LcoreBlock.create();
      block.f64[F_TIMEOUT] = this.timeoutMs;
      this.lcores.push({
        id, block, gen: 0, inflight: new Map(), uncommitted: 0, deaths: [], exited, markExited, reqTail: 0, reqSince: 0, respTail: 0, respSince: 0, acctDropsSeen: 0,
      });
    }
  }

  /**
   * Changes the pending timeout of every lcore in place (a reload): the lcores read it at their next scan,
   * and the control plane gives up on requests after the new `timeout + scanInterval`.
   */
  setTimeoutMs(ms: number): void {
    if (!Number.isInteger(ms) || ms < 100 || ms > 60000) throw new RangeError(`pppoe_dpdk: timeout must be 100…60000 ms, got ${ms}`);
    this.timeoutMs = ms;
    for (const l of this.lcores) l.block.f64[F_TIMEOUT] = ms;
  }

  /**
   * Runs a session command on the lcore that owns `sid` (Disconnect, CoA): resolves with `MailResult.*`, or
   * `MailResult.NO_SESSION` when no lcore owns the id, or 0 when the lcore did not answer within `waitMs`.
   * Commands to one lcore run one at a time.
   */
  sessionCommand(sid: number, op: number, args: readonly [number, number, number, number] = [-1, -1, -1, -1], waitMs = 2000): Promise<number> {
    const idx = Math.floor((sid - 1) / this.options.maxSessions);
    const l = this.lcores[idx];
    if (!l || sid < 1) return Promise.resolve(MailResult.NO_SESSION);
    const run = async (): Promise<number> => {
      const i32 = l.block.i32;
      const seq = (Atomics.load(i32, M_SEQ) + 1) | 0;
      Atomics.store(i32, M_OP, op);
      Atomics.store(i32, M_SID, sid);
      for (let k = 0; k < 4; k++) Atomics.store(i32, M_ARGS + k, args[k]);
      Atomics.store(i32, M_SEQ, seq);
      Atomics.notify(i32, W_BELL);
      for (const deadline = Date.now() + waitMs; Date.now() < deadline;) {
        if (Atomics.load(i32, M_ACK) === seq) return Atomics.load(i32, M_RESULT);
        await new Promise((r) => setTimeout(r, 2));
      }
      return 0;
    };
    const p = (this.mailQueue.get(idx) ?? Promise.resolve(0)).then(run, run);
    this.mailQueue.set(idx, p);
    return p;
  }

  private readonly mailQueue = new Map<number, Promise<number>>();

  /**
   * The operator's session view from one lcore (`MailOp.LIST` with a limit, or `MailOp.DESCRIBE` of `sid`): the
   * lcore answers with a message before its ack. Resolves with the entries ([] when the lcore has no wire, no
   * such session, or did not answer within `waitMs`). Serialized with the other mailbox commands of that lcore.
   */
  async sessionQuery(idx: number, op: number, sid = 0, limit = 0, waitMs = 2000): Promise<Record<string, unknown>[]> {
    const l = this.lcores[idx];
    const w = l?.worker;
    if (!l || !w) return [];
    let got: Record<string, unknown>[] | undefined;
    let want = Number.NaN;
    const onMessage = (m: unknown): void => {
      const x = m as { pppoeMail?: number; sessions?: Record<string, unknown>[] } | null;
      if (x && x.pppoeMail === want && Array.isArray(x.sessions)) got = x.sessions;
    };
    w.on('message', onMessage);
    try {
      const run = async (): Promise<number> => {
        const i32 = l.block.i32;
        const seq = (Atomics.load(i32, M_SEQ) + 1) | 0;
        want = seq;
        Atomics.store(i32, M_OP, op);
        Atomics.store(i32, M_SID, sid);
        Atomics.store(i32, M_ARGS, limit);
        Atomics.store(i32, M_SEQ, seq);
        Atomics.notify(i32, W_BELL);
        // the answer is a message (delivered on this thread's loop); an lcore without a wire only acks NO_WIRE
        for (const deadline = Date.now() + waitMs; Date.now() < deadline && got === undefined;) {
          if (Atomics.load(i32, M_ACK) === seq && Atomics.load(i32, M_RESULT) === MailResult.NO_WIRE) break;
          await new Promise((r) => setTimeout(r, 2));
        }
        return 0;
      };
      const p = (this.mailQueue.get(idx) ?? Promise.resolve(0)).then(run, run);
      this.mailQueue.set(idx, p);
      await p;
      return got ?? [];
    } finally {
      w.off('message', onMessage);
    }
  }


  /** The pending timeout in force (ms). */
  get timeout(): number {
    return this.timeoutMs;
  }

  /** Starts every lcore and resolves once all of them answered their ring probe (READY); throws after `timeoutMs`. */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.started) throw new Error('pppoe_dpdk: already started');
    this.started = true;
    this.cpF64[CP_F_BEAT] = now();
    try {
      for (const l of this.lcores) this.launch(l);
    } catch (e) {
      await this.stop(); // the workers already started
      throw e;
    }
    this.watchdog = setInterval(() => this.tick(), this.options.watchdogIntervalMs);
    this.schedule();
    const deadline = now() + timeoutMs;
    while (!this.lcores.every((l) => Atomics.load(l.block.i32, W_STATE) === LcoreState.READY)) {
      if (now() > deadline) {
        await this.stop();
        throw new Error(`pppoe_dpdk: lcores not ready after ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Starts (or restarts) the worker of `l` with fresh rings. */
  private launch(l: LcoreHandle): void {
    l.gen++;
    l.uncommitted = 0;
    const ringSize = this.options.ringSize;
    l.req = SpscRing.create(ringSize, RECORD_SIZE);
    // A wire lcore sleeps in poll(2) on its socket, not on the doorbell word: an eventfd ends that sleep when
    // answers are published. Ours to close, once this worker has exited (`fd = -1` first: no write after that).
    const bell = this.options.wire ? wakeBell() : undefined;
    l.resp = SpscRing.create(ringSize, RECORD_SIZE).setDoorbell(l.block.i32, W_BELL, bell && (() => { if (bell.fd >= 0) wake(bell.fd); }));
    l.block.resetForStart();
    let markExited!: () => void;
    l.exited = new Promise<void>((r) => (markExited = r));
    l.markExited = markExited;
    const w = this.spawn({
      lcoreWorker: true, id: l.id, options: this.options, block: l.block.sab, cpBlock: this.cpSab,
      requestRing: l.req.sab, responseRing: l.resp.sab, wakeFd: bell?.fd,
    });
    l.worker = w;
    const gen = l.gen;
    w.on('error', (e) => this.warn(`lcore${l.id}`, `lcore ${l.id} failed: ${e instanceof Error ? e.message : String(e)}`));
    w.on('exit', (code) => {
      if (bell) {
        closeWakeFd(bell.fd);
        bell.fd = -1;
      }
      this.exited(l, gen, code);
    });
  }

  private exited(l: LcoreHandle, gen: number, code: number): void {
    if (gen !== l.gen) return;
    l.worker = undefined;
    l.markExited();
    for (const f of l.inflight.values()) f.abort();
    l.inflight.clear();
    if (this.stopping) return;
    // A death: the worker's sessions and pending requests are gone with it.
    const { counters } = l.block.readStats();
    this.c.lost_sessions += counters[C.sessions_active];
    this.c.lost_pending += counters[C.pending];
    const t = now();
    l.deaths = l.deaths.filter((d) => t - d < 60_000);
    l.deaths.push(t);
    const delay = Math.min(5000, this.options.restartDelayMs * 2 ** (l.deaths.length - 1));
    this.warn(`lcore${l.id}`, `lcore ${l.id} exited with code ${code}; restarting in ${delay} ms`);
    l.req = undefined;
    l.resp = undefined;
    l.restartTimer = setTimeout(() => {
      l.restartTimer = undefined;
      if (this.stopping) return;
      this.c.restarts++;
      this.launch(l);
      this.schedule();
    }, delay);
  }

  /** Watchdog: heartbeat for the lcores, stuck-worker detection, abandoning requests the lcores gave up on. */
  private tick(): void {
    const t = now();
    this.cpF64[CP_F_BEAT] = t;
    const giveUp = this.timeoutMs + this.options.scanIntervalMs;
    for (const l of this.lcores) {
      this.watchRings(l, t);
      // A worker still loading its code (STARTING) gets startTimeoutMs before its first heartbeat counts.
      const starting = Atomics.load(l.block.i32, W_STATE) === LcoreState.STARTING;
      const limit = starting ? this.options.startTimeoutMs : this.options.lcoreStallMs;
      if (l.worker && t - l.block.f64[F_BEAT] > limit) {
        this.c.stuck_kills++;
        this.warn(`lcore${l.id}`, `lcore ${l.id} heartbeat is ${(t - l.block.f64[F_BEAT]).toFixed(0)} ms old; terminating it`);
        l.block.f64[F_BEAT] = t; // one kill per stall
        void l.worker.terminate();
      }
      this.watchAcctDrops(l);
      for (const f of l.inflight.values()) {
        if (t - f.started > giveUp) {
          l.inflight.delete(f.requestId);
          f.abort();
          this.c.abandoned++;
        }
      }
    }
    if (this.lcores.some((l) => this.takeable(l))) this.schedule();
  }

  /** Accounting lost by an lcore (its backlog was full): one rate-limited warning per rise of the counter. */
  private watchAcctDrops(l: LcoreHandle): void {
    const drops = l.block.f64[F_COUNTERS + C.acct_backlog_drops]; // one word, read without the seqlock: a log only
    if (drops > l.acctDropsSeen) {
      this.warn(`lcore${l.id}:acct`, `lcore ${l.id}: ${drops - l.acctDropsSeen} accounting record(s) lost (${drops} in all): `
        + `the request ring and the accounting backlog (acct_backlog = ${this.options.acctBacklog}) were full`);
    }
    l.acctDropsSeen = drops;
  }

  /** Ring monitor bookkeeping: when did each ring's consumer last take something while it held records. */
  private watchRings(l: LcoreHandle, t: number): void {
    if (l.req) {
      const { tail } = l.req.indices();
      if (tail !== l.reqTail || l.req.used() === 0) l.reqSince = t;
      l.reqTail = tail;
    }
    if (l.resp) {
      const { tail } = l.resp.indices();
      if (tail !== l.respTail || l.resp.used() === 0) l.respSince = t;
      l.respTail = tail;
    }
  }

  /** Ring monitor: fill level, head/tail and stuck detection of every lcore's two rings. */
  rings(): LcoreRings[] {
    const t = now();
    const status = (r: SpscRing, since: number): RingStatus => {
      const { head, tail } = r.indices();
      const used = r.used();
      const stalledMs = used > 0 && since > 0 ? Math.max(0, t - since) : 0;
      return { capacity: r.capacity, head, tail, used, fill: used / r.capacity, stalledMs, stuck: stalledMs > this.options.lcoreStallMs };
    };
    return this.lcores.map((l) => ({
      id: l.id,
      state: this.stateOf(l),
      heartbeatAgeMs: t - l.block.f64[F_BEAT],
      request: l.req ? status(l.req, l.reqSince) : undefined,
      response: l.resp ? status(l.resp, l.respSince) : undefined,
    }));
  }

  /**
   * Pending-request dump: every request an lcore is waiting for, by where it is (request ring, site, response
   * ring), oldest first, at most `limit` per stage and lcore. Requests the control plane abandoned (the lcore
   * times them out at its next scan) are not shown. Passwords and CHAP responses are never included.
   */
  pending(limit = 100): LcorePending[] {
    const t = now();
    const entry = (v: AuthRequestView): PendingEntry => ({
      requestId: v.requestId, sessionId: v.sessionId, username: v.username, mac: v.mac, nasPortId: v.nasPortId, ageMs: Math.round(t - v.timestamp),
    });
    return this.lcores.map((l) => {
      let truncated = 0;
      const queued: PendingEntry[] = [];
      const atSite: PendingEntry[] = [];
      const answered: PendingEntry[] = [];
      const slots = (r: SpscRing, extra: number, each: (off: number) => void): void => {
        const { tail } = r.indices();
        const n = r.used() + extra;
        for (let i = 0; i < n; i++) each(RING_HEADER + ((tail + i) & r.mask) * r.slotSize);
      };
      if (l.req) {
        slots(l.req, 0, (off) => {
          if (l.req!.u8[off + REQ.KIND] !== Kind.AUTH) return;
          if (queued.length < limit) queued.push(entry(decodeRequest(l.req!.dv, l.req!.u8, off)));
          else truncated++;
        });
      }
      for (const f of [...l.inflight.values()].sort((a, b) => a.started - b.started)) {
        if (atSite.length < limit) atSite.push(entry(f.view));
        else truncated++;
      }
      if (l.resp) {
        slots(l.resp, l.uncommitted, (off) => {
          const v = decodeResponse(l.resp!.dv, l.resp!.u8, off);
          if (v.kind !== Kind.AUTH) return;
          if (answered.length < limit) answered.push({ requestId: v.requestId, sessionId: v.sessionId, ageMs: Math.round(t - v.answeredAt), result: v.result });
          else truncated++;
        });
      }
      return { id: l.id, queued, atSite, answered, truncated };
    });
  }

  private stateOf(l: LcoreHandle): LcoreSnapshot['state'] {
    return l.worker || this.stopping ? LCORE_STATE_NAMES[Atomics.load(l.block.i32, W_STATE)] ?? 'starting' : 'restarting';
  }

  /** Response slots not yet promised to a request in flight or an unpublished answer. */
  private room(l: LcoreHandle): number {
    return l.resp ? l.resp.freeSlots() - l.inflight.size - l.uncommitted : 0;
  }

  /** True when `l` has requests waiting and room to answer them. */
  private takeable(l: LcoreHandle): boolean {
    return l.req !== undefined && l.req.hasData() && this.room(l) > 0;
  }

  /** Runs the pump soon (wakes it when it sleeps). */
  private schedule(): void {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    if (this.sleeping) {
      Atomics.store(this.cpI32, CP_BELL, 0);
      Atomics.notify(this.cpI32, CP_BELL);
    } else {
      setImmediate(this.pump);
    }
  }

  private readonly pump = (): void => {
    this.pumpScheduled = false;
    if (this.closed) return;
    const t = now();
    this.cpF64[CP_F_BEAT] = t;
    let work = 0;
    for (const l of this.lcores) if (l.req && l.resp) work += this.take(l, t);
    if (work > 0) {
      this.sleepMs = 0.1;
      this.pumpScheduled = true;
      setImmediate(this.pump);
      return;
    }
    this.sleep();
  };

  private sleep(): void {
    Atomics.store(this.cpI32, CP_BELL, 1);
    if (this.lcores.some((l) => this.takeable(l))) {
      Atomics.store(this.cpI32, CP_BELL, 0);
      this.schedule();
      return;
    }
    const r = waitAsync(this.cpI32, CP_BELL, 1, this.sleepMs);
    this.sleepMs = Math.min(this.sleepMs * 2, this.options.maxIdleMs);
    if (!r.async) {
      Atomics.store(this.cpI32, CP_BELL, 0);
      this.schedule();
      return;
    }
    this.sleeping = true;
    void r.value.then(() => {
      this.sleeping = false;
      Atomics.store(this.cpI32, CP_BELL, 0);
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** One burst from `l`'s request ring, as far as response room is reserved. */
  private take(l: LcoreHandle, t: number): number {
    const req = l.req!;
    const resp = l.resp!;
    const room = this.room(l);
    if (room <= 0) return 0;
    const n = req.peek(Math.min(this.options.burst, room));
    let probes = 0;
    this.burstNow = t; // answers written during this burst (sites that do not yield) use its clock reading
    for (let i = 0; i < n; i++) {
      const off = req.readOffset(i);
      if (req.u8[off + REQ.KIND] === Kind.PROBE) {
        if (resp.reserve(l.uncommitted + 1) > l.uncommitted) {
          writeBareResponse(resp.dv, resp.u8, resp.writeOffset(l.uncommitted), 0, 0, Kind.PROBE, Result.ACCEPT, t);
          this.uncommit(l);
        }
        probes++;
        continue;
      }
      const view = decodeRequest(req.dv, req.u8, off);
      this.dispatch(l, view, t);
    }
    this.burstNow = -1;
    req.release(n);
    this.c.requests += n - probes;
    return n;
  }

  /** The clock reading of the burst being taken (-1 outside `take`). */
  private burstNow = -1;

  private dispatch(l: LcoreHandle, view: AuthRequestView, t: number): void {
    const f = new Inflight(this.sink, l, l.gen, view.requestId, view.sessionId, t, view);
    l.inflight.set(f.requestId, f);
    this.run(l, f);
  }

  /** Runs the handler for `f` (again, for an accounting retry). */
  private run(l: LcoreHandle, f: Inflight): void {
    const view = f.view;
    let r: Promise<AuthResult> | AuthResult | undefined;
    try {
      r = this.handler(view, f);
    } catch (e) {
      this.failed(l, f, e);
      return;
    }
    if (r === undefined) return; // the handler answers through `f`
    if (typeof (r as Partial<PromiseLike<AuthResult>>).then === 'function') {
      Promise.resolve(r).then((x) => this.answer(l, f, x), (e: unknown) => this.failed(l, f, e));
    } else this.answer(l, f, r as AuthResult);
  }

  /** What the `Inflight`s answer through. */
  private readonly sink: AnswerSink = { answer: (l, f, r) => this.answer(l, f, r), failed: (l, f, e) => this.failed(l, f, e) };

  private failed(l: LcoreHandle, f: Inflight, e: unknown): void {
    this.c.handler_errors++;
    this.warn('handler', `handler failed for session ${f.sessionId}: ${e instanceof Error ? e.message : String(e)}`);
    this.answer(l, f, { result: 'error', replyMessage: 'internal error' });
  }

  private answer(l: LcoreHandle, f: Inflight, r: AuthResult): void {
    if (l.gen !== f.gen || l.inflight.get(f.requestId) !== f) {
      this.c.late_answers++;
      return;
    }
    if (f.view.kind === Kind.ACCT && r.result !== 'accept' && f.attempts < this.options.acctAttempts && !this.stopping) {
      // Accounting is never forgotten on the first failure (a proxy timeout, a database down): the same record
      // goes through the site again, with a fresh give-up clock; Acct-Delay-Time grows with the wait.
      f.attempts++;
      f.started = now();
      this.c.acct_retries++;
      this.run(l, f);
      return;
    }
    l.inflight.delete(f.requestId);
    const resp = l.resp!;
    if (resp.reserve(l.uncommitted + 1) <= l.uncommitted) {
      this.c.response_ring_full++;
      return;
    }
    writeResponse(resp.dv, resp.u8, resp.writeOffset(l.uncommitted), f.requestId, f.sessionId, f.view.kind, r, this.burstNow >= 0 ? this.burstNow : now());
    this.uncommit(l);
    this.c.answered++;
  }

  /**
   * Counts one written, unpublished answer. Answers settling in the same microtask checkpoint are published
   * together by one `commit` (one atomic store, at most one doorbell) queued behind them.
   */
  private uncommit(l: LcoreHandle): void {
    if (l.uncommitted++ === 0) {
      const gen = l.gen;
      queueMicrotask(() => {
        if (l.gen !== gen || !l.resp) return;
        l.resp.commit(l.uncommitted);
        l.uncommitted = 0;
        if (l.req?.hasData()) this.schedule();
      });
    }
  }

  /** Counters, per lcore and aggregated (reads each lcore's block under its seqlock; takes no lock). */
  snapshot(): PppoeDpdkSnapshot {
    const t = now();
    const total = Object.fromEntries(COUNTERS.map((n) => [n, 0])) as Record<CounterName, number>;
    const hist = new Float64Array(HISTOGRAM_LENGTH);
    const lcores = this.lcores.map((l): LcoreSnapshot => {
      const { counters, histogram } = l.block.readStats();
      mergeInto(hist, 0, histogram, 0);
      const rec = {} as Record<CounterName, number>;
      COUNTERS.forEach((n, i) => {
        rec[n] = counters[i];
        total[n] += counters[i];
      });
      return {
        id: l.id,
        state: this.stateOf(l),
        generation: l.gen,
        inflight: l.inflight.size,
        heartbeatAgeMs: t - l.block.f64[F_BEAT],
        counters: rec,
      };
    });
    return { lcores, total, latency: summarize(hist), controlPlane: { ...this.c } };
  }

  /** Test hooks (need `testHooks`): make lcore `id` call process.exit, or spin forever. */
  inject(id: number, what: 'crash' | 'hang'): void {
    if (!this.options.testHooks) throw new Error('pppoe_dpdk: testHooks is off');
    const l = this.lcores[id];
    Atomics.store(l.block.i32, W_CMD, what === 'crash' ? Cmd.CRASH : Cmd.HANG);
    Atomics.store(l.block.i32, W_BELL, 0);
    Atomics.notify(l.block.i32, W_BELL);
  }

  /**
   * Graceful stop: lcores stop taking new requests and wait up to `drainMs` for answers to the pending ones (the
   * pump keeps serving them); what is still pending then becomes TIMEOUT. Workers that have not exited by
   * `drainMs + 2 s` are terminated.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const t = now();
    for (const l of this.lcores) {
      if (l.restartTimer) clearTimeout(l.restartTimer);
      if (!l.worker) {
        l.markExited();
        continue;
      }
      l.block.f64[F_DRAIN_UNTIL] = t + this.options.drainMs;
      Atomics.store(l.block.i32, W_CMD, Cmd.STOP);
      Atomics.store(l.block.i32, W_BELL, 0);
      Atomics.notify(l.block.i32, W_BELL);
    }
    const all = Promise.all(this.lcores.map((l) => l.exited));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), this.options.drainMs + 2000)));
    if ((await Promise.race([all, late])) === 'late') {
      for (const l of this.lcores) if (l.worker) await l.worker.terminate();
      await all;
    }
    clearTimeout(timer);
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    for (const l of this.lcores) {
      for (const f of l.inflight.values()) f.abort();
      l.inflight.clear();
    }
    Atomics.store(this.cpI32, CP_BELL, 0);
    Atomics.notify(this.cpI32, CP_BELL);
  }

  private warn(key: string, msg: string): void {
    if (this.limited) this.limited.write('warn', key, msg);
  }
}
