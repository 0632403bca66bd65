/**
 * One data-plane lcore: its sessions, its pending-request table, its two rings and its counters. It runs in a
 * worker thread (`lcore-worker.ts` drives `poll()` in a loop) and never awaits: every method returns at once.
 *
 * Everything here is preallocated typed arrays sized at construction (sessions, pending entries, the per-MAC
 * table, counters, histogram); `submitPap`/`submitChap`/`poll` allocate nothing.
 *
 * The future PPPoE engine (PADR, PAP/CHAP) lives in the same thread and uses `openSession`, `submitPap`,
 * `submitChap`, `closeSession` and the `LcoreApp.onResult` callback; until then the synthetic source plays
 * that role.
 */
import { createHash } from 'node:crypto';
import { bucketOf, H_COUNT, H_MAX, H_SUM, HISTOGRAM_LENGTH } from './histogram';
import type { PppoeDpdkOptions } from './options';
import { ACCT, AuthType, Kind, REQ, RESP, RespFlag, Result, writeBytes, writeCallingStationId, writeRequestFixed, writeRequestHeader } from './records';
import type { SpscRing } from './ring';
import { C, CP_BELL, CP_F_BEAT, Cmd, COUNTERS, F_BEAT, F_COUNTERS, F_DRAIN_UNTIL, F_HISTOGRAM, F_TIMEOUT, LcoreBlock, LcoreState, W_CMD, W_STATE } from './shared';

/** Outcome of a submission (0 = queued; negative = refused, and why). */
export const Submit = {
  OK: 0,
  RING_FULL: -1,
  SESSION_CAP: -2,
  MAC_CAP: -3,
  PENDING_FULL: -4,
  STALLED: -5,
  DRAINING: -6,
  TOO_LONG: -7,
  NO_SESSION: -8,
} as const;

/** Callbacks into the code that owns the sessions (the PPPoE engine, or the synthetic source). */
export interface LcoreApp {
  /**
   * A final answer for session `sid`: `Result.*`. For ACCEPT the session is already installed (its framed IP and
   * limits are readable with the `session*` getters); for the others it is closed right after this call.
   * `respOff` is the response record's offset in `lcore.responseRing` (-1 when the lcore made the result itself:
   * TIMEOUT), valid only during the call (Reply-Message, extra attributes).
   */
  onResult(sid: number, result: number, respOff: number): void;
  /** Session-Timeout of `sid` reached (the scan closes it right after this call). */
  onExpired?(sid: number): void;
}

const FREE = 0;
const OPEN = 1;
const ACTIVE = 2;
const EMPTY = -1;
const TOUCHED_MAX = 64;

/** A data-plane lcore. */
export class Lcore {
  /** First session id owned by this lcore (ids are partitioned: 1 + id × maxSessions …). */
  readonly sidBase: number;
  readonly maxSessions: number;
  readonly maxPending: number;
  private readonly dv: DataView;
  private readonly u8: Uint8Array;
  private readonly rdv: DataView;
  private readonly ru8: Uint8Array;
  // sessions
  private readonly sState: Uint8Array;
  private readonly sMac: Uint8Array;
  private readonly sSvlan: Uint16Array;
  private readonly sCvlan: Uint16Array;
  private readonly sPending: Uint8Array;
  private readonly sHead: Int32Array;
  private readonly sFramedIp: Uint32Array;
  private readonly sSessionTimeout: Uint32Array;
  private readonly sIdleTimeout: Uint32Array;
  private readonly sRateUp: Uint32Array;
  private readonly sRateDown: Uint32Array;
  private readonly sNat: Uint8Array;
  private readonly sExpireAt: Float64Array;
  private readonly sCloseAt: Float64Array;
  private readonly sFree: Int32Array;
  private sFreeTop: number;
  // pending requests
  private readonly pReqId: Float64Array;
  private readonly pSlot: Int32Array;
  private readonly pTime: Float64Array;
  private readonly pNext: Int32Array;
  private pFree: number;
  private pCount = 0;
  private seq = 1;
  // accounting backlog: records the full request ring refused, kept whole (a FIFO of record-sized slots) and moved
  // into the ring oldest first as it drains; copied as 32-bit words (no per-record objects)
  private readonly bCap: number;
  private readonly bU8: Uint8Array;
  private readonly bDv: DataView;
  private readonly bI32: Int32Array;
  private readonly rI32: Int32Array; // the request ring's buffer as words (slot offsets are multiples of 64)
  private readonly slotWords: number;
  private bHead = 0;
  private bCount = 0;
  // per-MAC pending counts: linear probing, backward-shift deletion
  private readonly macHi: Int32Array; // top 16 bits of the MAC, EMPTY = free
  private readonly macLo: Int32Array; // low 32 bits
  private readonly macCounts: Int32Array;
  private readonly macMask: number;
  // statistics: local copies, published under the seqlock by `publish()`
  private readonly c: Float64Array;
  private readonly h: Float64Array;
  private readonly touched: Int32Array;
  private nTouched = 0;
  private dirty = true;
  // state
  private staged = 0;
  private draining = false;
  private drainUntil = 0;
  private cpStalled = false;
  private probeAnswered = false;
  private nextScan = 0;
  private clock = 0;
  /** True once the lcore finished draining; the driver loop ends. */
  stopped = false;
  // synthetic source
  private synStart = 0;
  private synSent = 0;
  private readonly synUser: Uint8Array;
  private readonly synPass: Uint8Array;
  private readonly synMac = new Uint8Array(6);
  private readonly synChallenge: Uint8Array;
  private readonly synChapResponses: Uint8Array;
  private readonly nasPortId = new Uint8Array(REQ.NAS_PORT_ID_MAX);
  private readonly nasPortPrefixLen: number;
  private readonly synPrefixLen: number;
  private app: LcoreApp;

  constructor(
    readonly id: number,
    private readonly opts: PppoeDpdkOptions,
    private readonly block: LcoreBlock,
    private readonly cp: { readonly i32: Int32Array; readonly f64: Float64Array },
    /** This lcore's side of the request ring (producer). */
    readonly requestRing: SpscRing,
    /** This lcore's side of the response ring (consumer). */
    readonly responseRing: SpscRing,
    app?: LcoreApp,
  ) {
    const n = (this.maxSessions = opts.maxSessions);
    const p = (this.maxPending = opts.maxPending);
    this.sidBase = 1 + id * n;
    this.dv = requestRing.dv;
    this.u8 = requestRing.u8;
    this.rdv = responseRing.dv;
    this.ru8 = responseRing.u8;
    requestRing.setDoorbell(cp.i32, CP_BELL);
    this.sState = new Uint8Array(n);
    this.sMac = new Uint8Array(n * 6);
    this.sSvlan = new Uint16Array(n);
    this.sCvlan = new Uint16Array(n);
    this.sPending = new Uint8Array(n);
    this.sHead = new Int32Array(n).fill(EMPTY);
    this.sFramedIp = new Uint32Array(n);
    this.sSessionTimeout = new Uint32Array(n);
    this.sIdleTimeout = new Uint32Array(n);
    this.sRateUp = new Uint32Array(n);
    this.sRateDown = new Uint32Array(n);
    this.sNat = new Uint8Array(n);
    this.sExpireAt = new Float64Array(n);
    this.sCloseAt = new Float64Array(opts.synthetic ? n : 0); // the synthetic source's hold only
    this.sFree = new Int32Array(n);
    for (let i = 0; i < n; i++) this.sFree[i] = n - 1 - i; // pop gives slot 0 first
    this.sFreeTop = n;
    this.pReqId = new Float64Array(p);
    this.pSlot = new Int32Array(p).fill(EMPTY);
    this.pTime = new Float64Array(p);
    this.pNext = new Int32Array(p);
    for (let i = 0; i < p; i++) this.pNext[i] = i + 1 < p ? i + 1 : EMPTY;
    this.pFree = p > 0 ? 0 : EMPTY;
    this.bCap = opts.acctBacklog;
    const slotSize = requestRing.slotSize;
    this.slotWords = slotSize >> 2;
    this.bU8 = new Uint8Array(this.bCap * slotSize);
    this.bDv = new DataView(this.bU8.buffer);
    this.bI32 = new Int32Array(this.bU8.buffer);
    this.rI32 = new Int32Array(this.u8.buffer, this.u8.byteOffset, this.u8.byteLength >> 2);
    let mc = 16;
    while (mc < 2 * p) mc *= 2;
    this.macHi = new Int32Array(mc).fill(EMPTY);
    this.macLo = new Int32Array(mc);
    this.macCounts = new Int32Array(mc);
    this.macMask = mc - 1;
    // Counters continue from the shared block (it survives worker restarts); gauges start at 0.
    const shared = block.readStats();
    this.c = shared.counters;
    this.h = shared.histogram;
    this.c[C.pending] = 0;
    this.c[C.sessions_active] = 0;
    this.c[C.acct_backlog] = 0;
    this.touched = new Int32Array(TOUCHED_MAX);
    this.nTouched = TOUCHED_MAX + 1; // first publish copies everything
    const s = opts.synthetic;
    this.synUser = new Uint8Array(REQ.USER_MAX);
    const prefix = Buffer.from(s?.userPrefix ?? 'user', 'utf8');
    this.synPrefixLen = Math.min(prefix.length, REQ.USER_MAX - 20);
    this.synUser.set(prefix.subarray(0, this.synPrefixLen));
    const np = Buffer.from(`pppoe${id}:`, 'latin1');
    this.nasPortId.set(np);
    this.nasPortPrefixLen = np.length;
    this.synPass = new Uint8Array(Buffer.from(s?.password ?? '', 'utf8'));
    // Synthetic CHAP: one fixed 16-byte challenge and the 256 responses MD5(id ‖ secret ‖ challenge), computed once.
    this.synChallenge = new Uint8Array(16).map((_, i) => (i * 37 + 11) & 255);
    this.synChapResponses = new Uint8Array(256 * 16);
    if (s) {
      for (let chapId = 0; chapId < 256; chapId++) {
        const md5 = createHash('md5').update(Buffer.from([chapId])).update(this.synPass).update(this.synChallenge).digest();
        this.synChapResponses.set(md5, chapId * 16);
      }
    }
    this.app = app ?? { onResult: () => undefined };
  }

  /** Replaces the result callback (the PPPoE engine installs itself here). */
  setApp(app: LcoreApp): void {
    this.app = app;
  }

  /** Starts: sends the probe record through both rings; the lcore is READY once it comes back. */
  start(t: number): void {
    this.clock = t;
    this.nextScan = t + this.opts.scanIntervalMs;
    Atomics.store(this.block.i32, W_STATE, LcoreState.PROBING);
    const off = this.requestRing.writeOffset(0);
    if (this.requestRing.reserve(1) === 1) {
      this.u8.fill(0, off, off + REQ.USER);
      writeRequestHeader(this.dv, this.u8, off, 0, 0, this.id, Kind.PROBE, 0, 0, this.synMac, 0, 0, 0, t);
      this.requestRing.commit(1);
    }
    this.publish(t);
  }

  /** True when the lcore has anything to react to without waiting for time to pass. */
  hasIncoming(): boolean {
    return this.responseRing.hasData() || Atomics.load(this.block.i32, W_CMD) !== Cmd.NONE;
  }

  /** The next moment a timer-driven task (scan, synthetic source) is due. */
  nextDue(t: number): number {
    let due = this.nextScan;
    const s = this.opts.synthetic;
    // A closed-loop source facing a full request ring waits for room, not for time: the control plane's answers
    // for what it took ring the lcore's doorbell (without this, a source at a high rate kept the lcore spinning).
    if (s && !this.draining && this.probeAnswered && (s.count === 0 || this.synSent < s.count)
      && (s.openLoop || this.requestRing.reserve(this.staged + 1) > this.staged)) {
      const next = this.synStart + ((this.synSent + 1) * 1000) / s.rate;
      if (next < due) due = next;
    }
    return due < t ? t : due;
  }

  /** Records time spent sleeping (idle back-off). */
  noteSleep(ms: number): void {
    this.c[C.idle_sleeps]++;
    this.c[C.idle_ms] += ms;
    this.dirty = true;
  }

  /**
   * One loop iteration at time `t` (ms since the epoch): commands, one burst of responses, the synthetic source,
   * the periodic scan, then publish the staged requests (one burst) and the statistics. Returns the amount of work
   * done (0 = idle).
   */
  poll(t: number): number {
    this.clock = t;
    this.block.f64[F_BEAT] = t;
    this.c[C.loops]++;
    let work = 0;
    const cmd = Atomics.load(this.block.i32, W_CMD);
    if (cmd !== Cmd.NONE) work += this.command(cmd, t);
    this.cpStalled = t - this.cp.f64[CP_F_BEAT] > this.opts.cpStallMs;
    work += this.pollResponses(t);
    if (this.bCount > 0) work += this.drainBacklog();
    if (this.opts.synthetic && this.probeAnswered && !this.draining) work += this.synthetic(t);
    if (t >= this.nextScan) {
      this.nextScan = t + this.opts.scanIntervalMs;
      work += this.scan(t);
    }
    this.flush();
    if (this.draining && ((this.pCount === 0 && this.bCount === 0) || t >= this.drainUntil)) {
      work += this.expireAll();
      if (this.bCount > 0) {
        // the drain deadline passed with accounting still backlogged: it is lost, and counted as such
        this.c[C.acct_backlog_drops] += this.bCount;
        this.bCount = 0;
        this.c[C.acct_backlog] = 0;
      }
      Atomics.store(this.block.i32, W_STATE, LcoreState.STOPPED);
      this.stopped = true;
      this.dirty = true;
    }
    if (work > 0 || this.dirty) this.publish(t);
    return work;
  }

  private command(cmd: number, t: number): number {
    if (cmd === Cmd.STOP && !this.draining) {
      this.draining = true;
      this.drainUntil = Math.max(t, this.block.f64[F_DRAIN_UNTIL]);
      Atomics.store(this.block.i32, W_STATE, LcoreState.DRAINING);
      return 1;
    }
    if (this.opts.testHooks && cmd === Cmd.CRASH) process.exit(70);
    if (this.opts.testHooks && cmd === Cmd.HANG) for (;;) { /* a stuck lcore, for the watchdog test */ }
    return 0;
  }

  // ---- sessions ----

  /** Allocates a session for a client (PADR); returns its id, or 0 when the table is full. */
  openSession(mac: Uint8Array, macOff: number, svlan: number, cvlan: number): number {
    if (this.sFreeTop === 0) {
      this.bump(C.no_session_drops);
      return 0;
    }
    const slot = this.sFree[--this.sFreeTop];
    this.sState[slot] = OPEN;
    for (let i = 0; i < 6; i++) this.sMac[slot * 6 + i] = mac[macOff + i];
    this.sSvlan[slot] = svlan;
    this.sCvlan[slot] = cvlan;
    this.sPending[slot] = 0;
    this.sHead[slot] = EMPTY;
    this.sFramedIp[slot] = 0;
    this.sExpireAt[slot] = 0;
    if (this.sCloseAt.length) this.sCloseAt[slot] = 0;
    return this.sidBase + slot;
  }

  /** Ends a session (PADT, reject, timeout); its pending requests are dropped and their late answers become orphans. */
  closeSession(sid: number): boolean {
    const slot = sid - this.sidBase;
    if (slot < 0 || slot >= this.maxSessions || this.sState[slot] === FREE) return false;
    for (let e = this.sHead[slot]; e !== EMPTY;) {
      const next = this.pNext[e];
      this.freePending(e, slot);
      e = next;
    }
    this.sHead[slot] = EMPTY;
    this.sPending[slot] = 0;
    if (this.sState[slot] === ACTIVE) this.c[C.sessions_active]--;
    this.sState[slot] = FREE;
    this.sFree[this.sFreeTop++] = slot;
    this.bump(C.sessions_closed);
    return true;
  }

  /** The installed framed IP of an active session (u32, 0 = none). */
  sessionFramedIp(sid: number): number {
    const slot = sid - this.sidBase;
    return slot >= 0 && slot < this.maxSessions && this.sState[slot] === ACTIVE ? this.sFramedIp[slot] : 0;
  }

  /** True when `sid` is installed (accepted and not closed). */
  sessionActive(sid: number): boolean {
    const slot = sid - this.sidBase;
    return slot >= 0 && slot < this.maxSessions && this.sState[slot] === ACTIVE;
  }

  /** Pending requests right now. */
  get pending(): number {
    return this.pCount;
  }

  // ---- submission ----

  /** Queues a PAP authentication for session `sid`. See `Submit` for the outcomes. */
  submitPap(sid: number, user: Uint8Array, userOff: number, userLen: number, pass: Uint8Array, passOff: number, passLen: number): number {
    const off = this.admit(sid);
    if (off < 0) return off;
    const u8 = this.u8;
    if (!writeBytes(u8, off, REQ.USER, REQ.USER_MAX, REQ.USER_LEN, user, userOff, userLen)
      || !writeBytes(u8, off, REQ.PASS, REQ.PASS_MAX, REQ.PASS_LEN, pass, passOff, passLen)) {
      this.bump(C.too_long_drops);
      return Submit.TOO_LONG;
    }
    u8[off + REQ.CHALLENGE_LEN] = 0;
    return this.finish(sid, off, AuthType.PAP, 0);
  }

  /** Queues a CHAP authentication (identifier, challenge, 16-byte response). */
  submitChap(sid: number, user: Uint8Array, userOff: number, userLen: number, chapId: number,
    challenge: Uint8Array, chOff: number, chLen: number, response: Uint8Array, respOff: number): number {
    const off = this.admit(sid);
    if (off < 0) return off;
    const u8 = this.u8;
    if (!writeBytes(u8, off, REQ.USER, REQ.USER_MAX, REQ.USER_LEN, user, userOff, userLen)
      || !writeBytes(u8, off, REQ.CHALLENGE, REQ.CHALLENGE_MAX, REQ.CHALLENGE_LEN, challenge, chOff, chLen)
      || !writeBytes(u8, off, REQ.PASS, REQ.PASS_MAX, REQ.PASS_LEN, response, respOff, 16)) {
      this.bump(C.too_long_drops);
      return Submit.TOO_LONG;
    }
    return this.finish(sid, off, AuthType.CHAP, chapId & 255);
  }

  /**
   * Queues an accounting record for session `sid` (Start, Interim-Update, Stop: `AcctStatus`). It takes no
   * pending entry and no cap (a Stop must go out even for a session being closed). When the request ring is full,
   * or older records already wait, the record goes to the end of the accounting backlog and still counts as
   * queued (OK): `poll` (and every later submission) moves the backlog into the ring oldest first. Only a full
   * backlog refuses it (RING_FULL, counted in `acct_backlog_drops`). Call it before `closeSession` (the MAC and
   * VLANs are read from the session).
   */
  submitAcct(sid: number, user: Uint8Array, userOff: number, userLen: number, status: number, cause: number, framedIp: number,
    inOctets: number, outOctets: number, inPackets: number, outPackets: number, sessionTime: number, startedAt: number): number {
    const slot = sid - this.sidBase;
    if (slot < 0 || slot >= this.maxSessions || this.sState[slot] === FREE) return this.refuse(C.no_session_drops, Submit.NO_SESSION);
    if (this.bCount > 0) this.drainBacklog();
    let toRing = false;
    if (this.bCount === 0) {
      if (this.staged === this.opts.burst) this.flush();
      toRing = this.requestRing.reserve(this.staged + 1) > this.staged;
    }
    if (!toRing && this.bCount === this.bCap) return this.refuse(C.acct_backlog_drops, Submit.RING_FULL);
    const off = toRing ? this.requestRing.writeOffset(this.staged) : ((this.bHead + this.bCount) % this.bCap) * this.requestRing.slotSize;
    const dv = toRing ? this.dv : this.bDv;
    const u8 = toRing ? this.u8 : this.bU8;
    if (!writeBytes(u8, off, REQ.USER, REQ.USER_MAX, REQ.USER_LEN, user, userOff, userLen)) u8[off + REQ.USER_LEN] = 0;
    u8[off + REQ.PASS_LEN] = 0;
    u8[off + REQ.CHALLENGE_LEN] = 0;
    dv.setFloat64(off + REQ.REQUEST_ID, this.seq++ * 256 + this.id, true);
    dv.setFloat64(off + REQ.TIMESTAMP, this.clock, true);
    writeRequestFixed(dv, u8, off, sid, this.id, Kind.ACCT, status, cause, this.sMac, slot * 6, this.sSvlan[slot], this.sCvlan[slot]);
    writeCallingStationId(u8, off, this.sMac, slot * 6);
    const npLen = this.nasPortIdFor(slot);
    writeBytes(u8, off, REQ.NAS_PORT_ID, REQ.NAS_PORT_ID_MAX, REQ.NAS_PORT_ID_LEN, this.nasPortId, 0, npLen);
    dv.setUint32(off + ACCT.FRAMED_IP, framedIp, true);
    dv.setUint32(off + ACCT.SESSION_TIME, sessionTime, true);
    dv.setFloat64(off + ACCT.IN_OCTETS, inOctets, true);
    dv.setFloat64(off + ACCT.OUT_OCTETS, outOctets, true);
    dv.setFloat64(off + ACCT.IN_PACKETS, inPackets, true);
    dv.setFloat64(off + ACCT.OUT_PACKETS, outPackets, true);
    dv.setFloat64(off + ACCT.STARTED_AT, startedAt, true);
    if (toRing) {
      this.staged++;
      this.bump(C.acct_submitted);
    } else {
      this.bCount++;
      this.c[C.acct_backlog] = this.bCount;
      this.bump(C.acct_backlogged);
    }
    return Submit.OK;
  }

  /** Accounting records waiting in the backlog right now. */
  get acctBacklog(): number {
    return this.bCount;
  }

  /**
   * Moves backlogged accounting records into the request ring, oldest first, while it has room; returns how many.
   * Their request id and timestamp stay those of the original submission (Acct-Delay-Time counts the wait).
   */
  private drainBacklog(): number {
    let moved = 0;
    const words = this.slotWords;
    const src = this.bI32;
    const dst = this.rI32;
    while (this.bCount > 0) {
      if (this.staged === this.opts.burst) this.flush();
      if (this.requestRing.reserve(this.staged + 1) <= this.staged) break;
      const d = this.requestRing.writeOffset(this.staged) >> 2;
      const s = this.bHead * words;
      for (let i = 0; i < words; i++) dst[d + i] = src[s + i];
      this.bHead = this.bHead + 1 === this.bCap ? 0 : this.bHead + 1;
      this.bCount--;
      this.staged++;
      moved++;
    }
    if (moved > 0) {
      this.c[C.acct_retried] += moved;
      this.c[C.acct_submitted] += moved;
      this.c[C.acct_backlog] = this.bCount;
      this.dirty = true;
    }
    return moved;
  }

  /** Replaces an active session's Session-Timeout (seconds from now; 0 = none). CoA. */
  setSessionTimeout(sid: number, seconds: number): boolean {
    const slot = sid - this.sidBase;
    if (slot < 0 || slot >= this.maxSessions || this.sState[slot] !== ACTIVE) return false;
    this.sSessionTimeout[slot] = seconds;
    this.sExpireAt[slot] = seconds > 0 ? this.clock + seconds * 1000 : 0;
    return true;
  }

  /** When an active session's Session-Timeout ends it (ms on the lcore clock; 0 = none or not active). Operator view. */
  sessionExpiry(sid: number): number {
    const slot = sid - this.sidBase;
    return slot < 0 || slot >= this.maxSessions || this.sState[slot] !== ACTIVE ? 0 : this.sExpireAt[slot];
  }

  /** Adds `n` to a counter (the PPPoE engine's counters live in the same block). */
  count(counter: number, n = 1): void {
    this.c[counter] += n;
    this.dirty = true;
  }

  /** Checks every cap; returns the slot offset to fill, or a negative `Submit` code. */
  private admit(sid: number): number {
    if (this.draining) return this.refuse(C.draining_drops, Submit.DRAINING);
    if (this.cpStalled) return this.refuse(C.stalled_drops, Submit.STALLED);
    const slot = sid - this.sidBase;
    if (slot < 0 || slot >= this.maxSessions || this.sState[slot] === FREE) return this.refuse(C.no_session_drops, Submit.NO_SESSION);
    if (this.sPending[slot] >= this.opts.sessionPendingCap) return this.refuse(C.session_cap_drops, Submit.SESSION_CAP);
    if (this.macCount(this.macHiOf(slot), this.macLoOf(slot)) >= this.opts.macPendingCap) return this.refuse(C.mac_cap_drops, Submit.MAC_CAP);
    if (this.pFree === EMPTY) return this.refuse(C.pending_full_drops, Submit.PENDING_FULL);
    if (this.bCount > 0) this.drainBacklog(); // backlogged accounting goes first (oldest first)
    if (this.staged === this.opts.burst) this.flush();
    if (this.requestRing.reserve(this.staged + 1) <= this.staged) return this.refuse(C.ring_full_drops, Submit.RING_FULL);
    return this.requestRing.writeOffset(this.staged);
  }

  private refuse(counter: number, code: number): number {
    this.bump(counter);
    return code;
  }

  private finish(sid: number, off: number, authType: number, chapId: number): number {
    const slot = sid - this.sidBase;
    const reqId = this.seq++ * 256 + this.id;
    // The two doubles are written here, not passed on (see writeRequestFixed).
    this.dv.setFloat64(off + REQ.REQUEST_ID, reqId, true);
    this.dv.setFloat64(off + REQ.TIMESTAMP, this.clock, true);
    writeRequestFixed(this.dv, this.u8, off, sid, this.id, Kind.AUTH, authType, chapId, this.sMac, slot * 6, this.sSvlan[slot], this.sCvlan[slot]);
    writeCallingStationId(this.u8, off, this.sMac, slot * 6);
    const npLen = this.nasPortIdFor(slot);
    writeBytes(this.u8, off, REQ.NAS_PORT_ID, REQ.NAS_PORT_ID_MAX, REQ.NAS_PORT_ID_LEN, this.nasPortId, 0, npLen);
    // pending entry (preallocated pool, chained per session)
    const e = this.pFree;
    this.pFree = this.pNext[e];
    this.pReqId[e] = reqId;
    this.pSlot[e] = slot;
    this.pTime[e] = this.clock;
    this.pNext[e] = this.sHead[slot];
    this.sHead[slot] = e;
    this.sPending[slot]++;
    this.macAdd(this.macHiOf(slot), this.macLoOf(slot), 1);
    this.pCount++;
    this.c[C.pending] = this.pCount;
    this.staged++;
    this.bump(C.submitted);
    return Submit.OK;
  }

  /** NAS-Port-Id `pppoe<lcore>:<svlan>.<cvlan>` written into the scratch buffer without allocating. */
  private nasPortIdFor(slot: number): number {
    const b = this.nasPortId;
    let n = writeDecimal(b, this.nasPortPrefixLen, this.sSvlan[slot]);
    b[n++] = 0x2e; // '.'
    return writeDecimal(b, n, this.sCvlan[slot]);
  }

  /** Publishes the requests staged in this iteration as one burst. */
  flush(): void {
    if (this.staged > 0) {
      this.requestRing.commit(this.staged);
      this.staged = 0;
    }
  }

  // ---- responses ----

  private pollResponses(t: number): number {
    const ring = this.responseRing;
    const n = ring.peek(this.opts.burst);
    const dv = this.rdv;
    const u8 = this.ru8;
    for (let i = 0; i < n; i++) {
      const off = ring.readOffset(i);
      if (u8[off + RESP.KIND] === Kind.PROBE) {
        if (!this.probeAnswered) {
          this.probeAnswered = true;
          this.synStart = t;
          if (!this.draining) Atomics.store(this.block.i32, W_STATE, LcoreState.READY);
        }
        continue;
      }
      if (u8[off + RESP.KIND] === Kind.ACCT) {
        // accounting has no pending entry: the control plane owns retransmission; the lcore only counts
        this.c[u8[off + RESP.RESULT] === Result.ACCEPT ? C.acct_answered : C.acct_failed]++;
        continue;
      }
      const reqId = dv.getFloat64(off + RESP.REQUEST_ID, true);
      const slot = dv.getUint32(off + RESP.SESSION_ID, true) - this.sidBase;
      let e = EMPTY;
      if (slot >= 0 && slot < this.maxSessions) {
        for (e = this.sHead[slot]; e !== EMPTY && this.pReqId[e] !== reqId;) e = this.pNext[e];
      }
      if (e === EMPTY) {
        this.c[C.orphans]++;
        continue;
      }
      this.latency(Math.round((t - this.pTime[e]) * 1000) | 0);
      this.unlinkPending(e, slot);
      this.c[C.received]++;
      this.deliver(slot, u8[off + RESP.RESULT], off);
    }
    ring.release(n);
    return n;
  }

  /** Installs (ACCEPT) or closes (anything else) the session and tells the app. */
  private deliver(slot: number, result: number, off: number): void {
    const sid = this.sidBase + slot;
    const t = this.clock;
    if (result === Result.ACCEPT) {
      this.c[C.accept]++;
      if (this.sState[slot] === OPEN) {
        const dv = this.rdv;
        this.sState[slot] = ACTIVE;
        this.sFramedIp[slot] = dv.getUint32(off + RESP.FRAMED_IP, true);
        const st = dv.getUint32(off + RESP.SESSION_TIMEOUT, true);
        this.sSessionTimeout[slot] = st;
        this.sIdleTimeout[slot] = dv.getUint32(off + RESP.IDLE_TIMEOUT, true);
        this.sRateUp[slot] = dv.getUint32(off + RESP.RATE_UP, true);
        this.sRateDown[slot] = dv.getUint32(off + RESP.RATE_DOWN, true);
        this.sNat[slot] = this.ru8[off + RESP.FLAGS] & RespFlag.NAT;
        this.sExpireAt[slot] = st > 0 ? t + st * 1000 : 0;
        this.c[C.sessions_created]++;
        this.c[C.sessions_active]++;
      }
      this.app.onResult(sid, result, off);
      this.syntheticAccepted(slot);
      return;
    }
    if (result === Result.REJECT) this.c[C.reject]++;
    else if (result === Result.TIMEOUT) this.c[C.timeout]++;
    else this.c[C.error]++;
    this.app.onResult(sid, result, off);
    this.closeSession(sid);
  }

  private unlinkPending(e: number, slot: number): void {
    let prev = EMPTY;
    for (let x = this.sHead[slot]; x !== EMPTY && x !== e; x = this.pNext[x]) prev = x;
    const next = this.pNext[e];
    if (prev === EMPTY) this.sHead[slot] = next;
    else this.pNext[prev] = next;
    this.sPending[slot]--;
    this.freePending(e, slot);
  }

  /** Returns entry `e` to the pool (the caller fixes the session chain). */
  private freePending(e: number, slot: number): void {
    this.macAdd(this.macHiOf(slot), this.macLoOf(slot), -1);
    this.pSlot[e] = EMPTY;
    this.pNext[e] = this.pFree;
    this.pFree = e;
    this.pCount--;
    this.c[C.pending] = this.pCount;
    this.dirty = true;
  }

  // ---- timeouts and session timers (no timers: a scan against the clock) ----

  private scan(t: number): number {
    let work = 0;
    // The control plane may change the timeout on a reload (shared word; 0 = the start-up option).
    const limit = t - (this.block.f64[F_TIMEOUT] || this.opts.timeoutMs);
    for (let e = 0; e < this.maxPending; e++) {
      const slot = this.pSlot[e];
      if (slot !== EMPTY && this.pTime[e] <= limit) {
        this.timeoutEntry(e, slot);
        work++;
      }
    }
    for (let slot = 0; slot < this.maxSessions; slot++) {
      if (this.sState[slot] !== ACTIVE) continue;
      const exp = this.sExpireAt[slot];
      if (exp !== 0 && exp <= t) {
        this.c[C.sessions_expired]++;
        this.app.onExpired?.(this.sidBase + slot);
        this.closeSession(this.sidBase + slot);
        work++;
      } else if (this.sCloseAt.length && this.sCloseAt[slot] !== 0 && this.sCloseAt[slot] <= t) {
        this.closeSession(this.sidBase + slot);
        work++;
      }
    }
    this.dirty = true;
    return work;
  }

  /** Synthetic TIMEOUT for one pending entry: the session gets the result and is closed. */
  private timeoutEntry(e: number, slot: number): void {
    this.latency(Math.round((this.clock - this.pTime[e]) * 1000) | 0);
    this.unlinkPending(e, slot);
    this.deliver(slot, Result.TIMEOUT, -1);
  }

  /** Drain deadline reached: every remaining pending request becomes a TIMEOUT. */
  private expireAll(): number {
    let n = 0;
    for (let e = 0; e < this.maxPending; e++) {
      const slot = this.pSlot[e];
      if (slot !== EMPTY) {
        this.timeoutEntry(e, slot);
        n++;
      }
    }
    return n;
  }

  // ---- synthetic source ----

  private synthetic(t: number): number {
    const s = this.opts.synthetic!;
    let due = Math.floor(((t - this.synStart) * s.rate) / 1000) - this.synSent;
    if (s.count > 0 && due > s.count - this.synSent) due = s.count - this.synSent;
    if (due <= 0) return 0;
    if (due > this.requestRing.capacity) {
      // Behind by more than a ring (a stall): skip the backlog instead of bursting it all at once.
      this.synStart = t - ((this.synSent + this.opts.burst) * 1000) / s.rate;
      due = this.opts.burst;
    }
    if (due > this.opts.burst) due = this.opts.burst;
    if (!s.openLoop) due = this.requestRing.reserve(this.staged + due) - this.staged;
    for (let i = 0; i < due; i++) this.syntheticOne(s.chapRatio, s.macs);
    return due;
  }

  private syntheticOne(chapRatio: number, macs: number): void {
    const n = this.synSent++;
    const m = n % macs;
    const mac = this.synMac;
    mac[0] = 0x02; // locally administered
    mac[1] = 0x00;
    mac[2] = this.id;
    mac[3] = (m >>> 16) & 255;
    mac[4] = (m >>> 8) & 255;
    mac[5] = m & 255;
    const sid = this.openSession(mac, 0, 0, 0);
    if (sid === 0) return;
    const prefixLen = this.synPrefixLen;
    const userLen = writeDecimal(this.synUser, prefixLen, n);
    let rc: number;
    // CHAP for a deterministic, evenly spread share of the requests.
    if (Math.floor((n + 1) * chapRatio) > Math.floor(n * chapRatio)) {
      const chapId = n & 255;
      rc = this.submitChap(sid, this.synUser, 0, userLen, chapId, this.synChallenge, 0, 16, this.synChapResponses, chapId * 16);
    } else {
      rc = this.submitPap(sid, this.synUser, 0, userLen, this.synPass, 0, this.synPass.length);
    }
    this.synUser.fill(0, prefixLen, userLen);
    if (rc !== Submit.OK) this.closeSession(sid);
  }

  private syntheticAccepted(slot: number): void {
    const s = this.opts.synthetic;
    if (!s || this.sState[slot] !== ACTIVE) return;
    if (s.holdMs === 0) this.closeSession(this.sidBase + slot);
    else this.sCloseAt[slot] = this.clock + s.holdMs;
  }

  // ---- per-MAC pending counts ----

  // Keys are two int32 halves (no doubles: nothing to box on the hot path).
  private macHiOf(slot: number): number {
    return (this.sMac[slot * 6] << 8) | this.sMac[slot * 6 + 1];
  }

  private macLoOf(slot: number): number {
    const m = this.sMac;
    const b = slot * 6;
    return (m[b + 2] << 24) | (m[b + 3] << 16) | (m[b + 4] << 8) | m[b + 5];
  }

  private macIndex(hi: number, lo: number): number {
    let h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
    h ^= h >>> 15;
    return h & this.macMask;
  }

  private macCount(hi: number, lo: number): number {
    for (let i = this.macIndex(hi, lo); ; i = (i + 1) & this.macMask) {
      const k = this.macHi[i];
      if (k === EMPTY) return 0;
      if (k === hi && this.macLo[i] === lo) return this.macCounts[i];
    }
  }

  private macAdd(hi: number, lo: number, delta: number): void {
    const mask = this.macMask;
    let i = this.macIndex(hi, lo);
    for (; ; i = (i + 1) & mask) {
      const k = this.macHi[i];
      if (k === hi && this.macLo[i] === lo) break;
      if (k === EMPTY) {
        if (delta < 0) return;
        this.macHi[i] = hi;
        this.macLo[i] = lo;
        this.macCounts[i] = 0;
        break;
      }
    }
    const c = (this.macCounts[i] += delta);
    if (c > 0) return;
    // Remove with backward shift so probe chains stay unbroken (no tombstones).
    let hole = i;
    for (let j = (hole + 1) & mask; this.macHi[j] !== EMPTY; j = (j + 1) & mask) {
      const home = this.macIndex(this.macHi[j], this.macLo[j]);
      // move j into the hole when its home is not in (hole, j] cyclically
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        this.macHi[hole] = this.macHi[j];
        this.macLo[hole] = this.macLo[j];
        this.macCounts[hole] = this.macCounts[j];
        hole = j;
      }
    }
    this.macHi[hole] = EMPTY;
    this.macCounts[hole] = 0;
  }

  // ---- statistics ----

  private bump(counter: number): void {
    this.c[counter]++;
    this.dirty = true;
  }

  /** Records one latency in integer µs (an int argument: no boxing). */
  private latency(us: number): void {
    if (us < 0) us = 0;
    const b = bucketOf(us);
    const h = this.h;
    h[b]++;
    h[H_COUNT]++;
    h[H_SUM] += us;
    if (us > h[H_MAX]) h[H_MAX] = us;
    if (this.nTouched < TOUCHED_MAX) this.touched[this.nTouched++] = b;
    else this.nTouched = TOUCHED_MAX + 1;
  }

  /** Copies counters and the changed histogram buckets into the shared block under the seqlock. */
  publish(t: number): void {
    const f = this.block.f64;
    this.block.beginWrite();
    for (let i = 0; i < COUNTERS.length; i++) f[F_COUNTERS + i] = this.c[i];
    const h = this.h;
    if (this.nTouched > TOUCHED_MAX) {
      for (let i = 0; i < HISTOGRAM_LENGTH; i++) f[F_HISTOGRAM + i] = h[i];
    } else {
      for (let i = 0; i < this.nTouched; i++) f[F_HISTOGRAM + this.touched[i]] = h[this.touched[i]];
      f[F_HISTOGRAM + H_COUNT] = h[H_COUNT];
      f[F_HISTOGRAM + H_SUM] = h[H_SUM];
      f[F_HISTOGRAM + H_MAX] = h[H_MAX];
    }
    this.block.endWrite();
    this.nTouched = 0;
    this.dirty = false;
    f[F_BEAT] = t;
  }
}

/** Writes `v` (a non-negative integer) in decimal at `b[at]`; returns the new end. No allocation. */
export function writeDecimal(b: Uint8Array, at: number, v: number): number {
  let n = Math.floor(v);
  if (n === 0) {
    b[at] = 0x30;
    return at + 1;
  }
  let digits = 0;
  for (let x = n; x > 0; x = Math.floor(x / 10)) digits++;
  if (at + digits > b.length) return at;
  for (let i = digits - 1; i >= 0; i--) {
    b[at + i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return at + digits;
}
