/**
 * The driver layer of `sql`: one query in, rows or an affected-row count out, through the shared
 * connection trunk (`core/trunk`). A driver supplies a {@link SqlConn} subclass (SQLite: a worker
 * thread; PostgreSQL: a `pg` client); {@link SqlPool} keeps one trunk per configured server and
 * adds what every driver needs: fail-over to the next server, fail-fast when none is alive, a
 * per-query timeout and cancellation when the request is cancelled.
 *
 * Errors are classified the way FreeRADIUS classifies SQLSTATEs: `alternate` (an integrity
 * violation: try the next query of the list), `reconnect` (the connection is unusable), `error`,
 * `timeout`, `unavailable` (no server took the query).
 */
import { TrunkConnection, type Trunk, type TrunkFactory, type TrunkHooks, type TrunkOptions, type Waiter } from '../../core';

/** How a failed query is handled. */
export type SqlErrorKind = 'alternate' | 'reconnect' | 'error' | 'timeout' | 'unavailable';

/** A failed query or connection. */
/**
 * A statement that only reads, as far as its first word says (a SELECT calling a function that
 * writes still commits): reads go in messages of their own and may be sent ahead of their turn.
 */
export function readsOnly(sql: string): boolean {
  return /^\s*SELECT\b/i.test(sql);
}

export class SqlError extends Error {
  constructor(readonly kind: SqlErrorKind, message: string, readonly code?: string) {
    super(message);
    this.name = 'SqlError';
  }
}

/** What a query returns. Values are text (as FreeRADIUS drivers return them) or null. */
export interface SqlResult {
  /** Column names. */
  readonly fields: readonly string[];
  /** Rows, positional. Empty for statements that return no data. */
  readonly rows: readonly (readonly (string | null)[])[];
  /** Rows changed by INSERT/UPDATE/DELETE (0 for a SELECT). */
  readonly affected: number;
}

/** One query on its way: the trunk's waiter, then the connection's in-flight entry. */
export class PendingQuery implements Waiter<SqlConn> {
  backlogTimer?: ReturnType<typeof setTimeout>;
  /** The connection running it, once started. */
  conn?: SqlConn;
  /** When it was written to a connection (ms). */
  sentAt = 0;
  done = false;
  /** The driver's note on the statement, worked out once (PostgreSQL: its text for a batch, null when it runs alone). */
  memo?: string | null;
  /** The trunk it waits in (for leaving the backlog when given up). */
  trunk?: Trunk<SqlConn>;
  private timer?: ReturnType<typeof setTimeout>;
  private onAbort?: () => void;

  constructor(
    readonly sql: string,
    private readonly settle: (e: SqlError | undefined, r?: SqlResult) => void,
    private readonly signal?: AbortSignal,
    readonly urgent = false,
  ) {}

  /** Arms the timeout and the cancellation hook. */
  arm(timeoutMs: number, onTimeout: (q: PendingQuery) => void): void {
    if (timeoutMs > 0) this.timer = setTimeout(() => onTimeout(this), timeoutMs);
    if (this.signal) {
      this.onAbort = () => this.finish(new SqlError('error', 'cancelled'));
      this.signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  start(c: SqlConn): void {
    if (this.done) return;
    this.conn = c;
    this.sentAt = Date.now();
    c.lastSent = this.sentAt;
    c.run(this);
  }

  fail(why: string): void {
    this.finish(new SqlError('unavailable', why));
  }

  /** Settles once; a running query is taken off its connection (which may cancel it server-side). */
  finish(e: SqlError | undefined, r?: SqlResult): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.onAbort) this.signal!.removeEventListener('abort', this.onAbort);
    if (this.backlogTimer !== undefined) this.trunk?.unqueue(this);
    if (e && this.conn) this.conn.abandon(this);
    this.settle(e, r);
  }
}

/** A driver connection: runs {@link PendingQuery}s and reports their results with `q.finish`. */
export abstract class SqlConn extends TrunkConnection {
  /** Starts `q` (already counted by the caller as written). */
  abstract run(q: PendingQuery): void;
  /** `q` was given up (timeout, cancel): forget it, and cancel it on the server when possible. */
  abstract abandon(q: PendingQuery): void;
}

/** One server's trunk, as the pool sees it. */
interface Server {
  readonly label: string;
  readonly trunk: Trunk<SqlConn>;
}

/** Pool-level counters (exported with the module's stats). */
export interface SqlCounters {
  queries: number;
  failed: number;
  timeouts: number;
  failovers: number;
}

/** Options of {@link SqlPool}. */
export interface SqlPoolOptions {
  readonly trunk: TrunkOptions;
  /** Per-query timeout (ms, 0 = none), counted from the call (backlog wait included). */
  readonly queryTimeout: number;
  /** How long a query may wait for a connection (ms). */
  readonly connectWait: number;
  readonly log?: (msg: string) => void;
}

/**
 * Connections to one database, possibly on several servers (fail-over in order: the first server
 * whose trunk is not unwell takes the query; a connection failure moves the query to the next).
 */
export class SqlPool {
  readonly counters: SqlCounters = { queries: 0, failed: 0, timeouts: 0, failovers: 0 };
  private readonly servers: Server[] = [];
  private readonly openWaiters = new Set<() => void>();

  constructor(
    trunks: TrunkFactory,
    targets: readonly { label: string; create: (reviving: boolean) => SqlConn; perConnectionMax: number }[],
    private readonly opts: SqlPoolOptions,
  ) {
    for (const t of targets) {
      const hooks: TrunkHooks<SqlConn> = {
        create: t.create,
        perConnectionMax: t.perConnectionMax,
        // Health changes only: active ⇄ full is a connection taking and finishing a query (every
        // query on PostgreSQL), which logged two lines per query.
        onState: (c, from, to, reason) => {
          if ((from === 'active' && to === 'full') || (from === 'full' && to === 'active')) return;
          for (const w of [...this.openWaiters]) w();
          opts.log?.(`${c.label}: ${from} → ${to} (${reason})`);
        },
      };
      this.servers.push({ label: t.label, trunk: trunks.create<SqlConn>(opts.trunk, hooks) });
    }
  }

  /** Opens the `start` connections of every server. */
  open(): void {
    for (const s of this.servers) s.trunk.open();
  }

  /**
   * Resolves once no server is still opening its first connections (each is up, or its attempt
   * failed and it waits to retry), or after `ms`: never rejects. A start that waits for this has its
   * connections ready for the first request, as FreeRADIUS opens a pool's `start` connections
   * before it serves.
   */
  settled(ms: number): Promise<void> {
    const done = () => this.servers.every((s) => s.trunk.state() !== 'opening');
    if (done()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const finish = () => { clearTimeout(timer); this.openWaiters.delete(check); resolve(); };
      const check = () => { if (done()) finish(); };
      const timer = setTimeout(finish, ms);
      timer.unref?.();
      this.openWaiters.add(check);
    });
  }

  /** Closes everything; queries in flight fail. */
  close(): void {
    for (const s of this.servers) s.trunk.close();
  }

  /** The summary state of each server's trunk. */
  states(): { server: string; state: string; connections: number }[] {
    return this.servers.map((s) => ({ server: s.label, state: s.trunk.state(), connections: s.trunk.liveCount() }));
  }

  /**
   * Runs `sql`. Rejects with a {@link SqlError}; `reconnect` and `unavailable` failures move on
   * to the next server first. `urgent` (a request someone is waiting on, such as an
   * Access-Request's): it waits for a connection ahead of the others.
   */
  query(sql: string, signal?: AbortSignal, urgent = false): Promise<SqlResult> {
    this.counters.queries++;
    if (signal?.aborted) return Promise.reject(new SqlError('error', 'cancelled'));
    return new Promise<SqlResult>((resolve, reject) => {
      const deadline = this.opts.queryTimeout > 0 ? Date.now() + this.opts.queryTimeout : 0;
      const attempt = (i: number, last?: SqlError): void => {
        if (i >= this.servers.length) {
          this.counters.failed++;
          return reject(last ?? new SqlError('unavailable', 'no server configured'));
        }
        const server = this.servers[i];
        const remaining = deadline ? deadline - Date.now() : 0;
        if (deadline && remaining <= 0) {
          this.counters.timeouts++;
          return reject(new SqlError('timeout', `query timed out after ${this.opts.queryTimeout}ms`));
        }
        const q = new PendingQuery(sql, (e, r) => {
          if (!e) return resolve(r!);
          if (e.kind === 'timeout') this.counters.timeouts++;
          if ((e.kind === 'unavailable' || e.kind === 'reconnect') && i + 1 < this.servers.length && !signal?.aborted) {
            this.counters.failovers++;
            this.opts.log?.(`${server.label}: ${e.message}; trying ${this.servers[i + 1].label}`);
            return attempt(i + 1, e);
          }
          this.counters.failed++;
          reject(e);
        }, signal, urgent);
        q.arm(remaining, (x) => {
          const c = x.conn;
          x.finish(new SqlError('timeout', `query timed out after ${this.opts.queryTimeout}ms`));
          // A connection that answers nothing for a whole timeout may be hung: the trunk's zombie test.
          if (c) server.trunk.suspect(c, x.sentAt, this.opts.queryTimeout, (since) => `no answer for ${since}`);
        });
        q.trunk = server.trunk;
        server.trunk.acquire(q, Math.min(this.opts.connectWait, remaining || this.opts.connectWait));
      };
      attempt(0);
    });
  }
}
