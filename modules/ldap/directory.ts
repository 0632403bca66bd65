/**
 * The directories of one `ldap` instance: per configured server, a search trunk (bound as
 * `identity`, health-checked with a root-DSE read) and a bind trunk (user binds), both from the
 * shared `core/trunk`. {@link Directories.run} puts one operation on a server that is alive,
 * chosen by `server_selection` (seed 002's data-source control policies): `failback` takes the
 * first in configuration order (so the first server takes everything again once it is back),
 * `sticky` keeps the one in use until it fails, `round_robin` rotates per operation; with a
 * per-operation timeout, abandon on cancel, fail-over to the next server when a
 * connection dies or an operation times out, and fail-fast when no server is alive.
 */
import type { Logger } from '../../core';
import type { HealthCheck, Trunk, TrunkFactory, Waiter } from '../../core';
import { type ConnCounters, type ConnSettings, type Entry, LdapConn, type Message, type MessageResponse, type Op, type OpResult, type ServerTarget } from './connection';
import { encodeFilter, SearchMessage, SearchShape } from './wire';

/** Pool limits of one trunk. */
export interface PoolLimits {
  readonly start: number;
  readonly min: number;
  readonly max: number;
  readonly per_connection_max: number;
  readonly max_backlog: number;
}

/** How an operation picks among live servers (see the file comment). */
export type ServerSelection = 'failback' | 'sticky' | 'round_robin';

/** Everything {@link Directories} needs. */
export interface DirectoriesOptions {
  readonly servers: readonly ServerTarget[];
  /** Default `failback`. */
  readonly selection?: ServerSelection;
  readonly base: Omit<ConnSettings, 'target' | 'kind' | 'perConnectionMax' | 'bind'>;
  readonly bind?: { dn: string; password: string; mech?: 'EXTERNAL' };
  readonly pool: PoolLimits;
  readonly bindPool: PoolLimits;
  readonly resTimeout: number;
  readonly reconnectDelay: number;
  readonly trunks: TrunkFactory;
  readonly log: Logger;
}

/** Why an operation failed. */
export class LdapOpError extends Error {
  constructor(message: string, readonly kind: 'timeout' | 'unavailable' | 'cancelled') {
    super(message);
  }
}

/** What {@link SearchShapes.message} builds. */
export interface SearchSpec {
  readonly base: string;
  readonly scope: 'base' | 'one' | 'sub' | 'children';
  /** RFC 4515 filter text (values already escaped). */
  readonly filter: string;
  readonly attrs: readonly string[];
  readonly timeLimit?: number;
  readonly deref?: 'never' | 'search' | 'find' | 'always';
}

/** Most shapes kept per attribute list (bases may be expanded per request: profile DNs, templated bases). */
const MAX_SHAPES = 256;

/**
 * Search requests from their specs, the constant part of each (`./wire.ts` {@link SearchShape}) encoded
 * once per attribute list (the same array: the module's user, profile and group lists) and base.
 */
export class SearchShapes {
  private readonly byAttrs = new WeakMap<readonly string[], Map<string, SearchShape>>();

  /** The shape used last, and what it was for (the user search, request after request). */
  private last?: { readonly spec: SearchSpec; readonly shape: SearchShape };

  /** A search request message (throws on a filter that does not parse). */
  message(s: SearchSpec): SearchMessage {
    const l = this.last;
    if (l && l.spec.attrs === s.attrs && l.spec.base === s.base && l.spec.scope === s.scope && l.spec.timeLimit === s.timeLimit && l.spec.deref === s.deref) {
      return new SearchMessage(l.shape, encodeFilter(s.filter));
    }
    const shape = this.shape(s);
    this.last = { spec: s, shape };
    return new SearchMessage(shape, encodeFilter(s.filter));
  }

  private shape(s: SearchSpec): SearchShape {
    let shapes = this.byAttrs.get(s.attrs);
    if (!shapes) this.byAttrs.set(s.attrs, (shapes = new Map()));
    const key = `${s.scope}|${s.deref ?? 'never'}|${s.timeLimit ?? 0}|${s.base}`;
    let shape = shapes.get(key);
    if (!shape) {
      if (shapes.size >= MAX_SHAPES) shapes.clear();
      shapes.set(key, (shape = new SearchShape({ ...s, attrs: [...s.attrs] })));
    }
    return shape;
  }
}

/** A search request message without caching (throws on a filter that does not parse). */
export function searchMessage(s: SearchSpec): SearchMessage {
  return new SearchMessage(new SearchShape(s), encodeFilter(s.filter));
}

/**
 * Cancellation of the operations of one module call through `ctx.onSignal` (what the interpreter calls
 * on `cancel`), so that a call needs no AbortSignal of its own: creating one, and adding and removing
 * an abort listener per operation, cost more than the rest of the operation's bookkeeping.
 */
export class CallCancel {
  cancelled = false;
  private readonly ops: { cancel(): void }[] = [];

  constructor(ctx: { onSignal(fn: (s: 'dup' | 'cancel') => void): void }) {
    ctx.onSignal((s) => {
      if (s !== 'cancel' || this.cancelled) return;
      this.cancelled = true;
      for (const op of this.ops) op.cancel();
    });
  }

  /** An operation of the call (cancelled with it; one that already finished ignores it). */
  add(op: { cancel(): void }): void {
    this.ops.push(op);
  }
}

/** How an operation learns that its request was cancelled. */
export type Cancel = AbortSignal | CallCancel;

/** Per-instance counters. */
export interface DirCounters extends ConnCounters {
  fail_fast: number;
  failover: number;
  cancelled: number;
}

const ROOT_DSE = new SearchShape({ base: '', scope: 'base', attrs: ['1.1'] });
const PRESENT = encodeFilter('(objectClass=*)');

/** Root-DSE read as the health check of search connections (opening and zombie). */
class RootDseCheck implements HealthCheck<LdapConn> {
  readonly answersToAlive = 1;
  private readonly tries = new WeakMap<LdapConn, number>();
  constructor(private readonly timeoutMs: number, private readonly log: Logger) {}

  probe(c: LdapConn, fresh: boolean): void {
    if (fresh) this.tries.set(c, 0);
    c.request(new SearchMessage(ROOT_DSE, PRESENT), true, this.timeoutMs).catch((e: Error) => {
      if (c.state !== 'opening' && c.state !== 'zombie') return;
      const n = (this.tries.get(c) ?? 0) + 1;
      this.tries.set(c, n);
      if (n >= 3) c.fail(`${n} status checks unanswered (${e.message})`);
      else this.probe(c, false);
    });
  }

  stop(): void {
    // A probe still in flight is answered or times out on its own; the trunk ignores it.
  }
}

/** One configured server. */
class Server {
  readonly search: Trunk<LdapConn>;
  readonly binds: Trunk<LdapConn>;
  readonly retired: ConnCounters = { requests: 0, abandoned: 0, late: 0, timeouts: 0 };

  constructor(readonly target: ServerTarget, o: DirectoriesOptions) {
    // active <-> full is routine under load (a bind connection carries one bind at a time): debug only.
    const log = (c: LdapConn, from: string, to: string, reason: string) => {
      if ((from === 'active' && to === 'full') || (from === 'full' && to === 'active')) { if (o.log.debugEnabled) o.log.debug(`${c.label}: ${from} -> ${to} (${reason})`); }
      else o.log.info(`${c.label}: ${from} -> ${to} (${reason})`);
    };
    const opts = (p: PoolLimits) => ({
      start: p.start, min: p.min, max: p.max, maxBacklog: p.max_backlog, reconnectDelay: o.reconnectDelay,
      zombiePeriod: Math.max(o.resTimeout * 2, 1000), reviveInterval: o.reconnectDelay,
    });
    const settings = (kind: 'search' | 'bind', p: PoolLimits): ConnSettings => ({
      ...o.base, target, kind, perConnectionMax: p.per_connection_max, bind: kind === 'search' ? o.bind : undefined,
    });
    const s = settings('search', o.pool);
    this.search = o.trunks.create<LdapConn>(opts(o.pool), {
      create: () => new LdapConn(s),
      health: new RootDseCheck(o.resTimeout, o.log),
      perConnectionMax: o.pool.per_connection_max,
      onState: log,
      onZombie: (c) => this.onZombie(c),
    });
    const b = settings('bind', o.bindPool);
    this.binds = o.trunks.create<LdapConn>(opts(o.bindPool), { create: () => new LdapConn(b), perConnectionMax: 1, onState: log });
    const keep = (c: LdapConn) => { for (const k of Object.keys(this.retired) as (keyof ConnCounters)[]) this.retired[k] += c.counters[k]; };
    this.search.retired = keep;
    this.binds.retired = keep;
  }

  /** Operations on a connection that became a zombie move on (abandoned there). */
  private onZombie(c: LdapConn): void {
    for (const op of [...c.ops.values()]) if (op instanceof Call) op.moveOn(c, 'server stopped answering');
  }

  counters(): ConnCounters {
    const out = { ...this.retired };
    for (const c of [...this.search.conns, ...this.binds.conns]) for (const k of Object.keys(out) as (keyof ConnCounters)[]) out[k] += c.counters[k];
    return out;
  }
}

/** One operation through the directories (a trunk waiter and a connection op). */
class Call implements Waiter<LdapConn>, Op {
  readonly abandonable: boolean;
  entries: Entry[] = [];
  refs: string[] = [];
  sent = 0;
  backlogTimer?: ReturnType<typeof setTimeout>;
  private conn?: LdapConn;
  private trunk?: Trunk<LdapConn>;
  /** In {@link Deadlines} while on a connection: when `res_timeout` runs out, and the neighbours. */
  deadline = 0;
  prevDue?: Call;
  nextDue?: Call;
  due = false;
  /** Servers tried, in order (usually one). */
  private readonly tried: Server[] = [];
  private finished = false;
  readonly promise: Promise<OpResult>;
  private resolve!: (r: OpResult) => void;
  private reject!: (e: Error) => void;

  constructor(readonly message: Message, private readonly dirs: Directories, private readonly kind: 'search' | 'bind', signal?: Cancel) {
    this.abandonable = kind === 'search';
    this.promise = new Promise((res, rej) => { this.resolve = res; this.reject = rej; });
    if (signal instanceof CallCancel) {
      if (signal.cancelled) { this.finish(new LdapOpError('cancelled', 'cancelled')); return; }
      signal.add(this);
    } else if (signal) {
      if (signal.aborted) { this.finish(new LdapOpError('cancelled', 'cancelled')); return; }
      const onAbort = () => this.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
      void this.promise.then(() => signal.removeEventListener('abort', onAbort), () => signal.removeEventListener('abort', onAbort));
    }
    this.next('');
  }

  /** Tries the next server (in order, each once); fails when none is left or alive. */
  private next(why: string): void {
    if (this.finished) return;
    const server = this.dirs.choose(this.kind, this.tried);
    if (!server) {
      if (!why) this.dirs.counters.fail_fast++;
      this.finish(new LdapOpError(why ? `${why}; no other LDAP server is alive` : 'no LDAP server is alive', 'unavailable'));
      return;
    }
    if (why) this.dirs.counters.failover++;
    this.tried.push(server);
    this.trunk = this.kind === 'search' ? server.search : server.binds;
    this.trunk.acquire(this, this.dirs.resTimeout);
  }

  // Waiter
  start(c: LdapConn): void {
    if (this.finished) return;
    this.conn = c;
    c.send(this);
    // (send may have failed the connection and moved the operation on already)
    if (this.conn === c && !this.finished) this.dirs.deadlines.add(this, this.sent + this.dirs.resTimeout);
  }

  fail(why: string): void {
    this.next(why);
  }

  // Op
  done(r: MessageResponse): void {
    this.dirs.deadlines.remove(this);
    this.conn = undefined;
    if (this.finished) return;
    this.finished = true;
    this.resolve({ status: r.status, message: r.errorMessage, entries: this.entries, refs: this.refs });
  }

  connFailed(reason: string): void {
    this.dirs.deadlines.remove(this);
    this.conn = undefined;
    this.next(reason);
  }

  /** Leaves a zombie connection for another server (the operation is abandoned there). */
  moveOn(c: LdapConn, why: string): void {
    if (this.conn !== c || this.finished) return;
    this.dirs.deadlines.remove(this);
    c.forget(this);
    this.conn = undefined;
    this.next(why);
  }

  /** `res_timeout` ran out on the connection (called by {@link Deadlines}). */
  onTimeout(): void {
    const c = this.conn;
    if (!c || this.finished) return;
    c.counters.timeouts++;
    c.forget(this);
    this.conn = undefined;
    const rt = this.dirs.resTimeout;
    this.trunk!.suspect(c, this.sent, rt, (since) => `no answer for ${since} with ${c.outstanding + 1} operation(s) outstanding (res_timeout ${rt / 1000}s)`);
    this.next(`no result within res_timeout ${rt / 1000}s`);
  }

  /** The request was cancelled: out of the backlog, or abandoned on its connection. */
  cancel(): void {
    if (this.finished) return;
    this.dirs.deadlines.remove(this);
    this.trunk?.unqueue(this);
    if (this.conn) this.conn.forget(this);
    this.conn = undefined;
    this.dirs.counters.cancelled++;
    this.finish(new LdapOpError('cancelled', 'cancelled'));
  }

  private finish(e: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.dirs.deadlines.remove(this);
    this.reject(e);
  }
}

/**
 * The `res_timeout` of the operations on connections, without a timer each: every operation gets the
 * same timeout, so deadlines come in the order operations start, and a list in that order with one
 * timer (for its head) does. An operation leaves the list when it finishes.
 */
class Deadlines {
  private head?: Call;
  private tail?: Call;
  private timer?: ReturnType<typeof setTimeout>;
  private timerAt = 0;

  add(c: Call, at: number): void {
    if (c.due) this.remove(c);
    c.deadline = at;
    c.due = true;
    c.prevDue = this.tail;
    c.nextDue = undefined;
    if (this.tail) this.tail.nextDue = c;
    else this.head = c;
    this.tail = c;
    if (!this.timer) this.arm(at);
  }

  remove(c: Call): void {
    if (!c.due) return;
    c.due = false;
    if (c.prevDue) c.prevDue.nextDue = c.nextDue;
    else this.head = c.nextDue;
    if (c.nextDue) c.nextDue.prevDue = c.prevDue;
    else this.tail = c.prevDue;
    c.prevDue = c.nextDue = undefined;
    if (!this.head && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private arm(at: number): void {
    this.timerAt = at;
    this.timer = setTimeout(() => this.expire(), Math.max(0, at - Date.now()));
  }

  private expire(): void {
    this.timer = undefined;
    const now = Date.now();
    // Out of order only if the clock went back: a deadline is never more than res_timeout away.
    while (this.head && this.head.deadline <= now) {
      const c = this.head;
      this.remove(c);
      c.onTimeout();
    }
    if (this.head && !this.timer) this.arm(Math.max(this.head.deadline, this.timerAt));
  }
}

/** The servers of one instance (see the file comment). */
export class Directories {
  readonly servers: Server[];
  readonly counters = { fail_fast: 0, failover: 0, cancelled: 0 };
  readonly resTimeout: number;
  /** The `res_timeout` of every operation on a connection. */
  readonly deadlines = new Deadlines();
  readonly selection: ServerSelection;
  /** sticky: the server in use; round_robin: where the next operation starts. */
  private cursor = 0;

  constructor(o: DirectoriesOptions) {
    this.resTimeout = o.resTimeout;
    this.selection = o.selection ?? 'failback';
    this.servers = o.servers.map((t) => new Server(t, o));
  }

  open(): void {
    for (const s of this.servers) { s.search.open(); s.binds.open(); }
  }

  close(): void {
    for (const s of this.servers) { s.search.close(); s.binds.close(); }
  }

  /** True when some server has a live search connection. */
  anyAlive(): boolean {
    return this.servers.some((s) => s.search.pick() !== undefined);
  }

  /**
   * The server for a new operation (or the retry of one): in the order of `server_selection`,
   * the first with a live connection, else the first not known to be down.
   */
  choose(kind: 'search' | 'bind', tried: readonly Server[]): Server | undefined {
    const search = kind === 'search';
    const n = this.servers.length;
    const start = this.selection === 'failback' ? 0 : this.cursor;
    if (this.selection === 'round_robin') this.cursor = (this.cursor + 1) % n;
    let found: Server | undefined;
    for (let i = 0; i < n && !found; i++) {
      const s = this.servers[(start + i) % n];
      if (!tried.includes(s) && (search ? s.search : s.binds).pick() && (search || !s.search.unwell())) found = s;
    }
    for (let i = 0; i < n && !found; i++) {
      const s = this.servers[(start + i) % n];
      if (!tried.includes(s) && !(search ? s.search : s.binds).unwell() && (search || !s.search.unwell())) found = s;
    }
    // sticky: the server that took over stays in use until it fails in turn.
    if (found && this.selection === 'sticky') this.cursor = this.servers.indexOf(found);
    return found;
  }

  /** Runs one operation (see the file comment); rejects with {@link LdapOpError}. */
  run(message: Message, kind: 'search' | 'bind', signal?: Cancel): Promise<OpResult> {
    return new Call(message, this, kind, signal).promise;
  }

  /** Counters summed over servers and connections. */
  stats(): DirCounters & { selection: ServerSelection; servers: { url: string; state: string; connections: number; outstanding: number; requests: number }[] } {
    const sum: DirCounters = { requests: 0, abandoned: 0, late: 0, timeouts: 0, ...this.counters };
    for (const s of this.servers) {
      const c = s.counters();
      for (const k of Object.keys(c) as (keyof ConnCounters)[]) sum[k] += c[k];
      sum.fail_fast += s.search.counters.fail_fast + s.binds.counters.fail_fast;
    }
    return {
      ...sum,
      selection: this.selection,
      servers: this.servers.map((s) => ({
        url: s.target.url,
        state: s.search.state(),
        connections: s.search.liveCount(),
        outstanding: [...s.search.conns, ...s.binds.conns].reduce((n, c) => n + c.outstanding, 0),
        requests: s.counters().requests,
      })),
    };
  }

  /** Operations in flight on every connection (0 once everything answered or was abandoned). */
  inFlight(): number {
    let n = 0;
    for (const s of this.servers) for (const c of [...s.search.conns, ...s.binds.conns]) n += c.outstanding;
    return n;
  }
}
