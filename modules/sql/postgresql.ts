/**
 * The PostgreSQL driver: each trunk connection is one `pg` client running one Query message at a
 * time, a batch of the statements queued on it (see {@link PgConn}). Values come back as text,
 * exactly as the server prints them (no JS type conversion), as `PQgetvalue` gives them to
 * FreeRADIUS.
 *
 * Errors are classified by SQLSTATE class: `23` integrity violation → `alternate`, `08`
 * connection exception and `57P0x` (server shutting down) → `reconnect` (the connection is
 * closed and the trunk opens another), anything else → `error`. A query that is abandoned
 * (timeout, request cancelled) is cancelled on the server with a protocol CancelRequest when it
 * runs alone, and dropped from the queue when not yet sent.
 */
import * as pg from 'pg';
import { PendingQuery, SqlConn, SqlError, readsOnly } from './driver';

/** Connection settings of one PostgreSQL server. */
export interface PgOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** Database name, or a full conninfo / URI (FreeRADIUS `radius_db`). */
  readonly database: string;
  readonly connectTimeout: number;
  /** Server-side `statement_timeout` (ms, 0 = none). */
  readonly statementTimeout: number;
  readonly applicationName: string;
  /** Run on every new connection (FreeRADIUS `open_query`). */
  readonly openQuery?: string;
}

/** Every value as the text the server sent. */
const TEXT_TYPES = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

/** The SQLSTATE classes (first two characters) that mean "this connection is gone". */
function classify(code: string | undefined): 'alternate' | 'reconnect' | 'error' {
  if (!code) return 'reconnect';
  if (code.startsWith('23')) return 'alternate';
  if (code.startsWith('08') || code.startsWith('57P')) return 'reconnect';
  return 'error';
}

/** `pg` client settings for `o`. */
export function clientConfig(o: PgOptions): pg.ClientConfig {
  const conninfo = /[=/]/.test(o.database);
  return {
    ...(conninfo ? { connectionString: o.database } : { database: o.database }),
    ...(o.host ? { host: o.host } : {}),
    ...(o.port ? { port: o.port } : {}),
    ...(o.user ? { user: o.user } : {}),
    ...(o.password ? { password: o.password } : {}),
    connectionTimeoutMillis: o.connectTimeout,
    application_name: o.applicationName,
    ...(o.statementTimeout > 0 ? { statement_timeout: o.statementTimeout } : {}),
    types: TEXT_TYPES,
  };
}

/**
 * True when `sql` may share a Query message with others: one statement (no `;` but trailing ones)
 * with no transaction control and no row locks (a batch is one transaction, which would hold them
 * until its end).
 */
const UNBATCHABLE = /\b(BEGIN|START\s+TRANSACTION|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PREPARE|LOCK|FOR\s+(UPDATE|SHARE|NO\s+KEY|KEY)|SKIP\s+LOCKED|NOWAIT|LISTEN|NOTIFY|VACUUM|COPY)\b/i;
function batchable(sql: string): string | undefined {
  // Trailing blanks and `;` cut by hand: a `[\s;]+$` regex retries at every blank of a long query.
  let end = sql.length;
  for (let c = sql.charCodeAt(end - 1); end > 0 && (c === 59 || c === 32 || (c >= 9 && c <= 13)); c = sql.charCodeAt(end - 1)) end--;
  const t = end === sql.length ? sql : sql.slice(0, end);
  return t.includes(';') || UNBATCHABLE.test(t) ? undefined : t;
}

/** {@link batchable} of `q`, worked out once per query (a query is looked at on every send while it waits). */
function batchText(q: PendingQuery): string | undefined {
  if (q.memo === undefined) q.memo = batchable(q.sql) ?? null;
  return q.memo ?? undefined;
}

/** A failed Query message: the server's error, and how many of its statements had completed. */
type MessageError = Error & { code?: string; position?: string; completed?: number };

/** Sends one simple-protocol Query message, counting the statements that complete. */
function message(client: pg.Client, text: string): Promise<pg.QueryResult | pg.QueryResult[]> {
  return new Promise((resolve, reject) => {
    let completed = 0;
    const query = new pg.Query({ text, rowMode: 'array' } as pg.QueryConfig, undefined, (err: Error | undefined, r: unknown) => {
      const e = err as MessageError | undefined;
      if (e) { e.completed = completed; reject(e); } else resolve(r as pg.QueryResult | pg.QueryResult[]);
    });
    // `pg` reports only the error of a message that fails; its CommandComplete count says which
    // statement raised it.
    const hooks = query as unknown as { handleCommandComplete(msg: unknown, con: unknown): void };
    const complete = hooks.handleCommandComplete.bind(query);
    hooks.handleCommandComplete = (msg, con) => { completed++; complete(msg, con); };
    client.query(query);
  });
}

/**
 * SQLSTATE classes of errors that belong to the statement that raised them: `22` data exception,
 * `23` integrity constraint violation, `42` syntax error or access rule violation.
 */
const OWN_ERROR = /^(22|23|42)/;

/**
 * The statement of a failed batch (`parts`, joined with `;\n`) that raised `e`: the one holding
 * the error's position when it has one (a syntax error fails the whole message before any
 * statement runs), else the one after those that completed; -1 when it cannot be told.
 */
function failedStatement(e: MessageError, parts: readonly string[]): number {
  const at = Number(e.position);
  if (at > 0) {
    // `position` counts characters (code points) from 1 in the whole message.
    let end = 0;
    for (let i = 0; i < parts.length; i++) {
      end += [...parts[i]].length + 2;
      if (at <= end) return i;
    }
    return -1;
  }
  const k = e.completed ?? -1;
  return k >= 0 && k < parts.length ? k : -1;
}

/** A query result as {@link SqlResult}. */
function toResult(r: pg.QueryResult): { fields: string[]; rows: (string | null)[][]; affected: number } {
  const fields = r.fields.map((f) => f.name);
  const rows = r.rows as unknown as (string | null)[][];
  const write = r.command === 'INSERT' || r.command === 'UPDATE' || r.command === 'DELETE' || r.command === 'MERGE';
  return { fields, rows: r.command === 'SELECT' || r.rows.length ? rows : [], affected: write ? (r.rowCount ?? 0) : 0 };
}

/**
 * One PostgreSQL connection. The queries given to it while it is idle (those of one event-loop
 * turn, or the trunk's backlog when it comes free) are sent together: up to `batch`
 * single statements joined into one simple-protocol Query message, which PostgreSQL runs as one
 * transaction — one write, one round trip and one commit for the lot (group commit). Each query's
 * answer is given after that commit, so an acknowledged write is durable. When a batch fails (one
 * statement's error aborts the transaction, so nothing of it was committed), the failing statement
 * gets its error when it is its own and the others go out again as a batch; otherwise each runs
 * again alone. Every query gets its own result or error, once. While a message runs the connection
 * is `full` (and so is one given a statement that must run alone), so queries spread over the idle
 * connections first.
 */
export class PgConn extends SqlConn {
  readonly label: string;
  private client?: pg.Client;
  /** Written to the server, answered together. */
  private sent: PendingQuery[] = [];
  /** Waiting for the running message to end. */
  private queue: PendingQuery[] = [];
  /** Queries to run alone (their batch failed). */
  private readonly solo = new WeakSet<PendingQuery>();
  private scheduled = false;

  constructor(private readonly opts: PgOptions, private readonly batch = 1) {
    super();
    this.label = `postgresql ${opts.host || 'localhost'}:${opts.port || 5432} #${this.number}`;
  }

  get outstanding(): number {
    return this.sent.length + this.queue.length;
  }

  connect(ready: () => void): void {
    const client = new pg.Client(clientConfig(this.opts));
    this.client = client;
    client.on('error', (e) => { if (this.client === client) this.fail(`connection error: ${e.message}`); });
    client.on('end', () => { if (this.client === client) this.fail('connection closed by the server'); });
    client.connect().then(async () => {
      if (this.client !== client) return;
      if (this.opts.openQuery) await client.query(this.opts.openQuery);
      ready();
    }).catch((e: Error) => { if (this.client === client) this.fail(`connect failed: ${e.message}`); });
  }

  run(q: PendingQuery): void {
    this.queue.push(q);
    // A statement that runs alone takes a round trip of its own: nothing more queues behind it here.
    if (this.sent.length || this.outstanding >= this.batchMax() || (this.batch > 1 && batchText(q) === undefined)) this.setState('full', 'queries queued');
    // Queries started in the same event-loop turn (one batch of datagrams) go out together.
    if (!this.sent.length && !this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.send);
    }
  }

  private batchMax(): number {
    return Math.max(1, this.batch);
  }

  /** Sends the next message: a batch of the waiting single statements, or one query alone. */
  private readonly send = (): void => {
    this.scheduled = false;
    const client = this.client;
    if (this.sent.length || !client) return;
    while (this.queue.length && this.queue[0].done) this.queue.shift();
    if (!this.queue.length) {
      // Everything queued was given up before it went out.
      if (this.state === 'full') { this.setState('active', 'queue empty'); this.events.freed(this); }
      return;
    }
    const first = this.queue.shift()!;
    const parts: string[] = [];
    const batch = [first];
    const t = this.batch > 1 && !this.solo.has(first) ? batchText(first) : undefined;
    if (t !== undefined) {
      parts.push(t);
      while (batch.length < this.batch && this.queue.length) {
        const q = this.queue[0];
        if (q.done) { this.queue.shift(); continue; }
        const u = this.solo.has(q) ? undefined : batchText(q);
        // Reads and writes go in separate messages: a read-only transaction ends without waiting
        // for a WAL flush, so an Access-Request's SELECTs do not wait on accounting's commit.
        if (u === undefined || readsOnly(u) !== readsOnly(t)) break;
        this.queue.shift();
        parts.push(u);
        batch.push(q);
      }
    }
    this.sent = batch;
    // While a message runs, new queries go to an idle connection, or wait in the trunk's backlog
    // until one is free (which then takes up to `batch` of them at once).
    if (this.state === 'active') this.setState('full', 'message running');
    const text = batch.length > 1 ? parts.join(';\n') : first.sql;
    message(client, text).then((r) => {
      if (this.client !== client) return;
      this.ended();
      const rs = Array.isArray(r) ? (r as pg.QueryResult[]) : [r];
      if (rs.length !== batch.length) {
        // Not one result per statement (cannot happen with batchable statements): run them alone.
        for (const q of batch) this.solo.add(q);
        this.queue.unshift(...batch);
      } else {
        for (let i = 0; i < batch.length; i++) batch[i].finish(undefined, toResult(rs[i]));
      }
      this.settled(batch.length);
    }, (e: MessageError) => {
      if (this.client !== client) return;
      this.ended();
      const kind = classify(e.code);
      if (batch.length > 1 && kind !== 'reconnect') {
        // The whole transaction was rolled back. A statement's own error (its data or its text)
        // is its answer, as it ran after the statements before it just as it would alone; the
        // others go out again as a batch. Any other error (a deadlock, a timeout of the message)
        // may be the batch's doing: each statement runs again alone.
        const k = OWN_ERROR.test(e.code ?? '') ? failedStatement(e, parts) : -1;
        if (k >= 0) {
          this.queue.unshift(...batch.filter((_, i) => i !== k));
          batch[k].finish(new SqlError(kind, e.message, e.code));
          this.settled(1);
        } else {
          for (const q of batch) this.solo.add(q);
          this.queue.unshift(...batch);
          this.settled(0);
        }
        return;
      }
      for (const q of batch) q.finish(new SqlError(kind, e.message, e.code));
      this.settled(batch.length);
      if (kind === 'reconnect') this.fail(`query failed: ${e.message}`);
    });
  };

  /**
   * The running message ended: nothing runs on the server any more. Called before any of its
   * queries is finished, as finishing one with an error abandons it ({@link PendingQuery.finish}),
   * and abandoning the statement that runs alone sends a CancelRequest, which would reach the
   * server while it runs the next message and cancel that instead.
   */
  private ended(): void {
    this.sent = [];
  }

  /** The queries of the ended message were answered (`answered` of them): send the next. */
  private settled(answered: number): void {
    this.lastReply = Date.now();
    if (this.state === 'dead') return;
    if (answered) this.events.answered(this, false, false);
    this.send();
  }

  abandon(q: PendingQuery): void {
    const i = this.queue.indexOf(q);
    if (i >= 0) { this.queue.splice(i, 1); return; }
    // A statement running alone is cancelled on the server (the connection stays busy until the
    // server answers); one inside a batch runs on with the batch, its answer dropped.
    if (this.sent.length !== 1 || this.sent[0] !== q || !this.client) return;
    const client = this.client as pg.Client & { activeQuery?: unknown };
    try {
      const canceller = new pg.Client(clientConfig(this.opts)) as pg.Client & { cancel?(c: pg.Client, q: unknown): void };
      canceller.on('error', () => undefined);
      canceller.cancel?.(client, client.activeQuery);
    } catch {
      // The statement_timeout still ends it.
    }
  }

  closeSocket(): void {
    this.clearTimers();
    const c = this.client;
    this.client = undefined;
    if (c) c.end().catch(() => undefined);
  }

  failInflight(reason: string): void {
    const qs = [...this.sent, ...this.queue];
    this.sent = [];
    this.queue = [];
    for (const q of qs) q.finish(new SqlError('reconnect', reason));
  }
}
