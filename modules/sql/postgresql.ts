/**
 * The PostgreSQL driver: each trunk connection is one `pg` client running one query at a time
 * (FreeRADIUS forces one outstanding query per SQL connection too). Values come back as text,
 * exactly as the server prints them (no JS type conversion), as `PQgetvalue` gives them to
 * FreeRADIUS.
 *
 * Errors are classified by SQLSTATE class: `23` integrity violation → `alternate`, `08`
 * connection exception and `57P0x` (server shutting down) → `reconnect` (the connection is
 * closed and the trunk opens another), anything else → `error`. A query that is abandoned
 * (timeout, request cancelled) is cancelled on the server with a protocol CancelRequest.
 */
import * as pg from 'pg';
import { PendingQuery, SqlConn, SqlError } from './driver';

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

/** One PostgreSQL connection. */
export class PgConn extends SqlConn {
  readonly label: string;
  private client?: pg.Client;
  private busy?: PendingQuery;

  constructor(private readonly opts: PgOptions) {
    super();
    this.label = `postgresql ${opts.host || 'localhost'}:${opts.port || 5432} #${this.number}`;
  }

  get outstanding(): number {
    return this.busy ? 1 : 0;
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
    const client = this.client!;
    this.busy = q;
    this.setState('full', 'query running');
    client.query({ text: q.sql, rowMode: 'array' }).then((r) => {
      this.done(q);
      const fields = r.fields.map((f) => f.name);
      const rows = r.rows as unknown as (string | null)[][];
      const write = r.command === 'INSERT' || r.command === 'UPDATE' || r.command === 'DELETE' || r.command === 'MERGE';
      q.finish(undefined, { fields, rows: r.command === 'SELECT' || r.rows.length ? rows : [], affected: write ? (r.rowCount ?? 0) : 0 });
    }).catch((e: Error & { code?: string }) => {
      this.done(q);
      const kind = classify(e.code);
      q.finish(new SqlError(kind, e.message, e.code));
      if (kind === 'reconnect') this.fail(`query failed: ${e.message}`);
    });
  }

  private done(q: PendingQuery): void {
    if (this.busy !== q) return;
    this.busy = undefined;
    this.lastReply = Date.now();
    if (this.state === 'dead') return;
    this.events.answered(this, false, q.done);
    if (this.state === 'full') this.setState('active', 'query done');
    this.events.freed(this);
  }

  abandon(q: PendingQuery): void {
    if (this.busy !== q || !this.client) return;
    // Ask the server to stop the statement; the connection stays busy until the server answers.
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
    const q = this.busy;
    this.busy = undefined;
    q?.finish(new SqlError('reconnect', reason));
  }
}
