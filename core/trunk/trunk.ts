/**
 * A connection trunk: a protocol-neutral pool of connections to one server, with per-connection
 * states, "most lively" selection, a bounded backlog, health checks through a hook, and fail-fast
 * while the server is unwell. The protocol (RADIUS, LDAP, SQL, Redis…) supplies the connection
 * (a subclass of {@link TrunkConnection}: socket, request/reply correlation) and the health
 * check; the trunk decides which connection takes a request, when to open, replace or give up.
 *
 * ```
 *   opening ──connected (no health check)────────────▶ active ◀──▶ full (at capacity)
 *      │    ──answersToAlive probe answers in a row──▶   │
 *      │                                                 │ requests outstanding for the window, no reply
 *      ▼                                                 ▼
 *    dead ◀──socket error / connect failure────────── zombie ──answersToAlive answers (or any reply without checks)──▶ active
 *      ▲       probes given up                           │
 *      └───────── zombiePeriod over (no health check) ───┘
 *   dead ──reconnectDelay (or reviveInterval after a zombiePeriod)──▶ a fresh connection in opening
 * ```
 */

/** Connection states. */
export type ConnState = 'opening' | 'active' | 'full' | 'zombie' | 'dead';

let nextNumber = 0;

/** What a connection reports to its trunk (set by the trunk when it creates the connection). */
export interface ConnEvents<C> {
  state(c: C, from: ConnState, to: ConnState, reason: string): void;
  /** Capacity became free (the backlog may move). */
  freed(c: C): void;
  /** An answer arrived: `probe` answers a health check; `late` answers a request nobody waits for any more. */
  answered(c: C, probe: boolean, late: boolean): void;
}

/**
 * One connection of a trunk. The protocol subclass owns the socket and the request/reply
 * correlation; this base class owns the state and the liveliness stamps.
 */
export abstract class TrunkConnection {
  /** Number shown in logs and stats. */
  readonly number = ++nextNumber;
  state: ConnState = 'opening';
  /** Reason of the last state change. */
  reason = 'opening';
  /** When an answer last arrived (ms; 0 = never). */
  lastReply = 0;
  /** When a request was last written (ms). */
  lastSent = 0;
  /** Consecutive probe answers while opening / zombie. */
  answersInRow = 0;
  /** Opened after a failure: calls fail fast until it is active. */
  reviving = false;
  /** Timers owned by the trunk (zombie period), cleared when the socket closes. */
  timers: ReturnType<typeof setTimeout>[] = [];
  /** Set by the trunk. */
  events!: ConnEvents<this>;

  /** Label for logs. */
  abstract readonly label: string;
  /** Requests in flight (not counting a probe). */
  abstract readonly outstanding: number;
  /** Opens the socket; `ready` runs once connected (else the connection fails). */
  abstract connect(ready: () => void): void;
  /** Closes the socket quietly (no state change); must clear {@link timers}. */
  abstract closeSocket(): void;
  /** Fails every request in flight (the connection died or the trunk is closing). */
  abstract failInflight(reason: string): void;

  /** Changes state and reports it (no-op when unchanged). */
  setState(to: ConnState, reason: string): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.reason = reason;
    this.events.state(this, from, to, reason);
  }

  /** Marks the connection dead, closing the socket. */
  fail(reason: string): void {
    if (this.state === 'dead') return;
    this.closeSocket();
    this.setState('dead', reason);
  }

  protected clearTimers(): void {
    for (const x of this.timers) clearTimeout(x);
    this.timers = [];
  }
}

/** A request waiting for a connection (no closures per request: the request object itself). */
export interface Waiter<C> {
  start(c: C): void;
  fail(why: string): void;
  /** The backlog timeout, while queued. */
  backlogTimer?: ReturnType<typeof setTimeout>;
  /** Waits in the backlog ahead of the waiters without it (after the urgent ones already there). */
  readonly urgent?: boolean;
}

/** Health checks (RADIUS Status-Server; an LDAP bind or `SELECT 1` for others). */
export interface HealthCheck<C> {
  /** Consecutive answers that make an opening or zombie connection active. */
  readonly answersToAlive: number;
  /** Sends a probe on `c` (opening or zombie); the protocol reports answers through `events.answered(c, true, …)`
   * and gives up with `c.fail(reason)`. `fresh`: a new probe schedule. */
  probe(c: C, fresh: boolean): void;
  /** Stops probing `c`. */
  stop(c: C): void;
}

/** What the protocol gives the trunk. */
export interface TrunkHooks<C extends TrunkConnection> {
  /** Creates (does not open) a connection; `reviving`: it replaces one that failed. */
  create(reviving: boolean): C;
  /** Optional health check; without it a zombie waits zombiePeriod for any reply. */
  health?: HealthCheck<C>;
  /** Capacity per connection (an opened connection at this many outstanding is `full`). */
  readonly perConnectionMax: number;
  /** Called after every state change (logging, counters). */
  onState?(c: C, from: ConnState, to: ConnState, reason: string): void;
  /** A connection just became a zombie: move its requests elsewhere (see {@link Trunk.pick}). */
  onZombie?(c: C): void;
}

/** Trunk limits and timers (ms). */
export interface TrunkOptions {
  start: number;
  min: number;
  max: number;
  maxBacklog: number;
  reconnectDelay: number;
  /** Without a health check: how long a zombie waits for a reply before it is closed. */
  zombiePeriod: number;
  /** Without a health check: after zombiePeriod, calls fail at once for this long. */
  reviveInterval: number;
}

/** Trunk-level counters. */
export interface TrunkCounters {
  fail_fast: number;
  backlogged: number;
  backlog_failed: number;
}

/** What a {@link DeadlineFifo} calls when its ticket is due. */
export interface DeadlineTarget {
  onDeadline(): void;
}

/** A pending {@link Trunk.fixedDeadline}; `target` is cleared when it is cancelled or has run. */
export interface DeadlineTicket {
  readonly at: number;
  target: DeadlineTarget | undefined;
  readonly fifo: { cancel(t: DeadlineTicket): void } | undefined;
}

/**
 * Deadlines of one fixed duration (e.g. every exchange's response window): since they fall due in
 * the order they were set, a FIFO served by one timer armed for its head replaces a `setTimeout`,
 * two closures and a set entry per request. Due tickets run like {@link Trunk.deadline}'s: one
 * `setImmediate` after the timer, so replies read in that poll phase come first. Times are
 * monotonic (`performance.now()`): a step of the wall clock neither delays nor hastens them.
 */
class DeadlineFifo {
  private q: (DeadlineTicket | undefined)[] = [];
  private head = 0;
  private cancelled = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private readonly fire = (): void => {
    this.timer = undefined;
    this.immediate = setImmediate(this.run);
  };
  private readonly run = (): void => {
    this.immediate = undefined;
    const now = performance.now();
    // this.q, not a local: a target may cancel others (compaction replaces the array).
    while (this.head < this.q.length) {
      const t = this.q[this.head]!;
      if (t.target !== undefined && t.at > now + 1) break;
      this.q[this.head++] = undefined;
      const target = t.target;
      if (target === undefined) { this.cancelled--; continue; }
      t.target = undefined;
      try { target.onDeadline(); } catch { /* targets guard themselves */ }
    }
    this.trim();
    this.arm();
  };

  constructor(private readonly ms: number) {}

  push(target: DeadlineTarget): DeadlineTicket {
    const t: DeadlineTicket = { at: performance.now() + this.ms, target, fifo: this };
    this.q.push(t);
    if (this.timer === undefined && this.immediate === undefined) this.arm();
    return t;
  }

  cancel(t: DeadlineTicket): void {
    if (t.target === undefined) return;
    t.target = undefined;
    if (++this.cancelled > 256 && this.cancelled * 2 > this.q.length - this.head) this.compact();
  }

  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = this.immediate = undefined;
    for (let i = this.head; i < this.q.length; i++) this.q[i]!.target = undefined;
    this.q = [];
    this.head = this.cancelled = 0;
  }

  private compact(): void {
    const live: DeadlineTicket[] = [];
    for (let i = this.head; i < this.q.length; i++) if (this.q[i]!.target !== undefined) live.push(this.q[i]!);
    this.q = live;
    this.head = this.cancelled = 0;
  }

  private trim(): void {
    if (this.head === this.q.length) { this.q = []; this.head = 0; }
    else if (this.head > 1024 && this.head * 2 > this.q.length) { this.q = this.q.slice(this.head); this.head = 0; }
  }

  /** Arms the timer for the head (cancelled tickets at the head are dropped first). */
  private arm(): void {
    while (this.head < this.q.length && this.q[this.head]!.target === undefined) { this.q[this.head++] = undefined; this.cancelled--; }
    this.trim();
    if (this.head >= this.q.length || this.timer !== undefined) return;
    this.timer = setTimeout(this.fire, Math.max(0, this.q[this.head]!.at - performance.now()));
  }
}

/** A pool of connections to one server. */
export class Trunk<C extends TrunkConnection> {
  readonly conns: C[] = [];
  readonly backlog: Waiter<C>[] = [];
  readonly counters: TrunkCounters = { fail_fast: 0, backlogged: 0, backlog_failed: 0 };
  private closed = false;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  /** {@link fixedDeadline} queues, by duration (ms). */
  private readonly fifos = new Map<number, DeadlineFifo>();
  /** Until when (ms) calls fail at once after a zombie period without health checks. */
  private holdUntil = 0;
  private readonly events: ConnEvents<C> = {
    state: (c, from, to, reason) => this.onState(c, from, to, reason),
    freed: () => this.drain(),
    answered: (c, probe, late) => this.onAnswer(c, probe, late),
  };

  constructor(private readonly opts: TrunkOptions, private readonly hooks: TrunkHooks<C>) {}

  /** Opens the `start` connections (at least `min`, at most `max`). */
  open(): void {
    const n = Math.min(Math.max(this.opts.start, this.opts.min), this.opts.max);
    for (let i = 0; i < n; i++) this.openConn(false);
  }

  /** Closes every connection and fails whatever waits or is in flight. Safe to call twice. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const f of this.fifos.values()) f.clear();
    for (const w of this.backlog.splice(0)) { this.counters.backlog_failed++; w.fail('shutting down'); }
    for (const c of this.conns) { c.closeSocket(); c.failInflight('shutting down'); }
    this.conns.length = 0;
  }

  /** A timer that dies with the trunk. */
  later(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => { this.timers.delete(t); if (!this.closed) fn(); }, Math.max(0, ms));
    this.timers.add(t);
    return t;
  }

  /**
   * A timer whose verdict is about the peer's silence (a response window, a retry, a health check
   * given up, a zombie period): like {@link later}, but `fn` runs only after the I/O that arrived
   * while the timer was due has been read (one `setImmediate` after the timer, so the event loop's
   * poll phase comes first). After a stall of our own process (CPU starvation, a long synchronous
   * task) the expired timers run before the sockets are read; without this, replies already sitting
   * in the socket buffer would count as missing and a live server would be declared zombie or dead.
   * Cancelled with {@link cancel}, also between the timer and the verdict.
   */
  deadline(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      setImmediate(() => { if (this.timers.delete(t) && !this.closed) fn(); });
    }, Math.max(0, ms));
    this.timers.add(t);
    return t;
  }

  /**
   * A {@link deadline} for durations most requests share (a response window): `target.onDeadline()`
   * runs `ms` after now, served by one FIFO and one timer per distinct `ms` instead of a timer per
   * call. Cancelled with {@link cancelFixed}.
   */
  fixedDeadline(ms: number, target: DeadlineTarget): DeadlineTicket {
    let f = this.fifos.get(ms);
    if (f === undefined) {
      if (this.closed) return { at: 0, target: undefined, fifo: undefined };
      f = new DeadlineFifo(ms);
      this.fifos.set(ms, f);
    }
    return f.push(target);
  }

  /** Cancels a {@link fixedDeadline}. */
  cancelFixed(t: DeadlineTicket | undefined): void {
    if (t !== undefined) t.fifo?.cancel(t);
  }

  /** Cancels a {@link later} or {@link deadline} timer. */
  cancel(t: ReturnType<typeof setTimeout> | undefined): void {
    if (t) { clearTimeout(t); this.timers.delete(t); }
  }

  private openConn(reviving: boolean): C {
    const c = this.hooks.create(reviving);
    c.events = this.events as ConnEvents<C>;
    c.reviving = reviving;
    this.conns.push(c);
    c.connect(() => {
      if (this.closed) return c.closeSocket();
      if (this.hooks.health) this.hooks.health.probe(c, true);
      else c.setState('active', 'connected');
    });
    return c;
  }

  private onState(c: C, from: ConnState, to: ConnState, reason: string): void {
    this.hooks.onState?.(c, from, to, reason);
    if (to === 'active') c.reviving = false;
    if (to === 'dead') {
      c.failInflight(reason);
      this.hooks.health?.stop(c);
      const now = Date.now();
      this.later(this.holdUntil > now ? this.holdUntil - now : this.opts.reconnectDelay, () => this.replace(c));
    }
    if (to === 'full' && !this.conns.some((x) => x.state === 'active') && this.liveCount() < this.opts.max) this.openConn(false);
    if (to === 'active') this.drain();
    else this.failBacklogIfUnwell();
  }

  /** Connections that count against `max` (every one not dead). */
  liveCount(): number {
    let n = 0;
    for (const x of this.conns) if (x.state !== 'dead') n++;
    return n;
  }

  private replace(c: C): void {
    const i = this.conns.indexOf(c);
    if (i < 0) return;
    this.conns.splice(i, 1);
    this.retired?.(c);
    if (this.liveCount() < Math.max(1, Math.min(this.opts.min, this.opts.max))) this.openConn(true);
    else this.failBacklogIfUnwell();
  }

  /** Called with a dead connection when it leaves the trunk (keep its counters). */
  retired?: (c: C) => void;

  /** The most lively active connection: the one that answered last (ties: the one written to least recently). */
  pick(): C | undefined {
    let best: C | undefined;
    for (const c of this.conns) {
      if (c.state !== 'active') continue;
      if (!best || c.lastReply > best.lastReply || (c.lastReply === best.lastReply && c.lastSent < best.lastSent)) best = c;
    }
    return best;
  }

  /** True when calls must fail at once: nothing active, full or freshly opening, and something is unwell. */
  unwell(): boolean {
    if (Date.now() < this.holdUntil && !this.conns.some((c) => c.state === 'active' || c.state === 'full')) return true;
    let bad = false;
    for (const c of this.conns) {
      if (c.state === 'active' || c.state === 'full' || (c.state === 'opening' && !c.reviving)) return false;
      bad = true;
    }
    return bad;
  }

  /** Summary state: the best state of any connection (opening counts as unwell while reviving). */
  state(): ConnState {
    let state: ConnState = 'dead';
    for (const s of ['active', 'full', 'opening', 'zombie', 'dead'] as const) if (this.conns.some((c) => c.state === s)) { state = s; break; }
    if (state === 'opening' && this.unwell()) state = this.conns.some((c) => c.state === 'zombie') ? 'zombie' : 'dead';
    return state;
  }

  private failBacklogIfUnwell(): void {
    if (this.backlog.length && this.unwell()) {
      for (const w of this.backlog.splice(0)) { this.cancel(w.backlogTimer); this.counters.backlog_failed++; w.fail('server is not responding'); }
    }
  }

  private drain(): void {
    while (this.backlog.length) {
      const c = this.pick();
      if (!c) return;
      const w = this.backlog.shift()!;
      this.cancel(w.backlogTimer);
      w.backlogTimer = undefined;
      w.start(c);
    }
  }

  /**
   * Gets a connection for a new request: `w.start(c)` at once, `w.fail(why)` now, or `w` waits in
   * the backlog (up to `waitMs`) until a connection is free. A cancelled waiter leaves with {@link unqueue}.
   */
  acquire(w: Waiter<C>, waitMs: number): void {
    const c = this.pick();
    if (c) return w.start(c);
    if (this.unwell()) { this.counters.fail_fast++; return w.fail('server is zombie or dead'); }
    if (!this.conns.some((x) => x.state === 'opening') && this.liveCount() < this.opts.max) this.openConn(false);
    if (this.backlog.length >= this.opts.maxBacklog) { this.counters.backlog_failed++; return w.fail('backlog full'); }
    this.counters.backlogged++;
    w.backlogTimer = this.later(waitMs, () => {
      w.backlogTimer = undefined;
      const i = this.backlog.indexOf(w);
      if (i >= 0) { this.backlog.splice(i, 1); this.counters.backlog_failed++; w.fail('no connection became available in time'); }
    });
    if (!w.urgent) { this.backlog.push(w); return; }
    const i = this.backlog.findIndex((x) => !x.urgent);
    if (i < 0) this.backlog.push(w);
    else this.backlog.splice(i, 0, w);
  }

  /** Takes a waiter out of the backlog (it was cancelled or finished). */
  unqueue(w: Waiter<C>): void {
    if (w.backlogTimer === undefined) return;
    this.cancel(w.backlogTimer);
    w.backlogTimer = undefined;
    const i = this.backlog.indexOf(w);
    if (i >= 0) this.backlog.splice(i, 1);
  }

  /**
   * Zombie test after a timeout or retransmission of a request first sent at `firstSent`: the
   * connection had requests outstanding for `windowMs` and heard nothing since. Returns true
   * when it became a zombie.
   */
  suspect(c: C, firstSent: number, windowMs: number, why: (since: string) => string): boolean {
    if (c.state !== 'active' && c.state !== 'full') return false;
    const now = Date.now();
    // Timers may fire a millisecond early as Date.now() sees it: allow a small tolerance.
    const w = windowMs - 5;
    if (c.lastReply >= firstSent || now - c.lastReply < w || now - firstSent < w) return false;
    c.setState('zombie', why(c.lastReply ? `${((now - c.lastReply) / 1000).toFixed(1)}s` : 'ever'));
    c.answersInRow = 0;
    this.hooks.onZombie?.(c);
    if (this.hooks.health) {
      this.hooks.health.probe(c, true);
    } else {
      c.timers.push(this.deadline(this.opts.zombiePeriod, () => {
        if (c.state !== 'zombie') return;
        this.holdUntil = Date.now() + this.opts.reviveInterval;
        c.fail(`zombie_period ${this.opts.zombiePeriod / 1000}s over without a reply; failing calls for revive_interval ${this.opts.reviveInterval / 1000}s`);
      }));
    }
    return true;
  }

  private onAnswer(c: C, probe: boolean, late: boolean): void {
    const health = this.hooks.health;
    const live = (): ConnState => (c.outstanding >= this.hooks.perConnectionMax ? 'full' : 'active');
    if (c.state === 'zombie' && !health) {
      // Any answer is proof of life, a late one (to a request that already timed out) included.
      c.setState(live(), late ? 'a late reply arrived during zombie_period' : 'a reply arrived during zombie_period');
      return;
    }
    // With health checks only answers to the probes revive (answersToAlive in a row).
    if (late || !health || (c.state !== 'zombie' && c.state !== 'opening')) return;
    c.answersInRow++;
    if (c.answersInRow >= health.answersToAlive) {
      health.stop(c);
      c.setState(live(), `${c.answersInRow} consecutive answers to status checks`);
    } else if (probe) {
      health.probe(c, true);
    }
  }
}

/** Makes trunks (the root container's service under {@link TRUNKS}; modules receive it by injection). */
export interface TrunkFactory {
  create<C extends TrunkConnection>(opts: TrunkOptions, hooks: TrunkHooks<C>): Trunk<C>;
}

/** The default factory. */
export const trunkFactory: TrunkFactory = {
  create: <C extends TrunkConnection>(opts: TrunkOptions, hooks: TrunkHooks<C>) => new Trunk<C>(opts, hooks),
};
