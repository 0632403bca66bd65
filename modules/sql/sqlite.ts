/**
 * The SQLite driver: each trunk connection is a worker thread holding one better-sqlite3
 * database handle, so no query ever runs on the event loop.
 *
 * Group commit: the worker takes every query waiting on its port (up to `batch`) and runs the
 * batch inside one `BEGIN IMMEDIATE … COMMIT`; each answer is posted only after the COMMIT, so an
 * acknowledged write is in the database file. Under light load a batch is one statement (an
 * autocommit transaction); under load many requests share one transaction and one WAL sync.
 * A statement that fails inside a batch (a constraint violation) is rolled back alone, as SQLite
 * does by default; the rest of the batch commits. A failed COMMIT fails every write of the batch.
 *
 * Errors: `SQLITE_CONSTRAINT*` is `alternate` (try the next query, as FreeRADIUS does);
 * `SQLITE_BUSY` / `SQLITE_LOCKED` (after `busy_timeout`) and everything else are `error`; a
 * worker that dies makes the connection dead (the trunk reconnects).
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { PendingQuery, SqlConn, SqlError } from './driver';

/** Settings of one SQLite database. */
export interface SqliteOptions {
  readonly filename: string;
  /** SQL files run, in order, when the database file did not exist. */
  readonly bootstrap: readonly string[];
  /** How long a statement waits for a lock (ms). */
  readonly busyTimeout: number;
  /** `journal_mode` (`wal` lets readers run beside the writer). */
  readonly journalMode: string;
  /** `synchronous` (`normal` with WAL survives a daemon kill; `full` also a power loss). */
  readonly synchronous: string;
  /** Most statements per transaction. */
  readonly batch: number;
}

/**
 * The worker, as source text (run with `eval: true`), so that it is the same under the compiled
 * server and under vitest. It reads `workerData` = `{ module, port, …SqliteOptions }`.
 */
const WORKER_SOURCE = String.raw`
'use strict';
(function main() {
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const fs = require('node:fs');
const Database = require(workerData.module);
const port = workerData.port;
const o = workerData.opts;
let db;
const ran = [];
try {
  db = new Database(o.filename, { timeout: o.busyTimeout });
  if (o.filename !== ':memory:') db.pragma('journal_mode = ' + o.journalMode);
  db.pragma('synchronous = ' + o.synchronous);
  // bootstrap: every file runs on a database without tables (a new file). On an existing database
  // (an upgrade: say, one made before the pool table existed) a file runs when it creates a table
  // the database lacks (its CREATE ... IF NOT EXISTS leave the other tables alone), and a file that
  // creates no table (seed rows, such as the default pool) runs when the table file before it ran.
  // Several connections (instances, workers) may open a file at once: the check and the bootstrap
  // run under the write lock, so one of them creates the schema and the others wait for it (busy
  // timeout) instead of querying a half-created database, then find nothing missing.
  if (o.bootstrap.length) {
    db.exec('BEGIN IMMEDIATE');
    try {
      const have = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => r.name.toLowerCase()));
      let lastRan = false;
      for (const f of o.bootstrap) {
        const text = fs.readFileSync(f, 'utf8');
        const creates = [...text.replace(/--[^\n]*/g, '').matchAll(/CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?["\x60\[]?(\w+)/gi)].map((m) => m[1].toLowerCase());
        const run = have.size === 0 || (creates.length ? creates.some((t) => !have.has(t)) : lastRan);
        if (creates.length || have.size === 0) lastRan = run;
        if (!run) continue;
        db.exec(text);
        if (have.size > 0) ran.push(f);
      }
      db.exec('COMMIT');
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw e;
    }
  }
  port.postMessage({ t: 'ready', upgraded: ran });
} catch (e) {
  port.postMessage({ t: 'fatal', message: String(e && e.message || e), code: e && e.code });
  port.close();
  return;
}
const cache = new Map();
function prepare(sql) {
  let s = cache.get(sql);
  if (s) return s;
  s = db.prepare(sql);
  if (s.reader) s.raw(true);
  if (cache.size > 500) cache.delete(cache.keys().next().value);
  cache.set(sql, s);
  return s;
}
function text(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  return String(v);
}
function one(m) {
  try {
    const s = prepare(m.sql);
    if (s.reader) {
      const rows = s.all();
      for (const r of rows) for (let i = 0; i < r.length; i++) r[i] = text(r[i]);
      return { id: m.id, fields: s.columns().map((c) => c.name), rows, affected: 0 };
    }
    return { id: m.id, fields: [], rows: [], affected: s.run().changes, write: true };
  } catch (e) {
    return { id: m.id, error: String(e && e.message || e), code: e && e.code };
  }
}
const TXN = /^\s*(begin|commit|end|rollback|savepoint|release|vacuum|attach|detach|pragma)\b/i;
port.on('message', (first) => {
  if (first.t === 'close') { db.close(); port.close(); return; }
  const batch = [first];
  for (let m; batch.length < o.batch && (m = receiveMessageOnPort(port)); ) {
    if (m.message.t === 'close') { batch.push(m.message); break; }
    batch.push(m.message);
  }
  const close = batch[batch.length - 1].t === 'close' ? batch.pop() : undefined;
  const plain = batch.length > 1 && !db.inTransaction && !batch.some((m) => TXN.test(m.sql));
  let out;
  if (plain) {
    let begun = false;
    try { db.exec('BEGIN IMMEDIATE'); begun = true; } catch (e) { /* run one by one */ }
    out = batch.map(one);
    if (begun) {
      try { db.exec('COMMIT'); } catch (e) {
        try { db.exec('ROLLBACK'); } catch (e2) { /* already rolled back */ }
        const msg = 'COMMIT failed: ' + String(e && e.message || e);
        out = out.map((r) => (r.write ? { id: r.id, error: msg, code: e && e.code } : r));
      }
    }
  } else {
    out = batch.map(one);
  }
  port.postMessage({ t: 'results', out });
  if (close) { db.close(); port.close(); }
});
})();
`;

interface WorkerAnswer {
  id: number;
  fields?: string[];
  rows?: (string | null)[][];
  affected?: number;
  error?: string;
  code?: string;
}

let nextId = 1;

/** One SQLite connection: a worker thread with its own database handle. */
export class SqliteConn extends SqlConn {
  readonly label: string;
  private worker?: Worker;
  private port?: MessagePort;
  private readonly inflight = new Map<number, PendingQuery>();
  private readonly ids = new WeakMap<PendingQuery, number>();

  /**
   * `onUpgrade`: called with the bootstrap files run on an existing database (the tables they
   * create were missing).
   */
  constructor(private readonly opts: SqliteOptions, private readonly perMax: number, private readonly onUpgrade?: (files: readonly string[]) => void) {
    super();
    this.label = `sqlite ${opts.filename} #${this.number}`;
  }

  get outstanding(): number {
    return this.inflight.size;
  }

  connect(ready: () => void): void {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    let up = false;
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module: require.resolve('better-sqlite3'), port: port2, opts: this.opts },
      transferList: [port2],
    });
    this.worker = w;
    w.unref();
    port1.on('message', (m: { t: string; message?: string; out?: WorkerAnswer[]; upgraded?: string[] }) => {
      if (m.t === 'ready') {
        up = true;
        if (m.upgraded?.length) this.onUpgrade?.(m.upgraded);
        return ready();
      }
      if (m.t === 'fatal') return this.fail(`cannot open ${this.opts.filename}: ${m.message}`);
      if (m.t === 'results' && this.port === port1) this.answers(m.out!);
    });
    w.on('error', (e) => this.fail(`worker failed: ${e.message}`));
    w.on('exit', (code) => { if (this.worker === w) this.fail(up ? `worker exited (${code})` : `worker exited before the database opened (${code})`); });
  }

  private answers(out: WorkerAnswer[]): void {
    for (const a of out) {
      const q = this.inflight.get(a.id);
      if (!q) continue;
      this.inflight.delete(a.id);
      if (a.error !== undefined) {
        const constraint = typeof a.code === 'string' && a.code.startsWith('SQLITE_CONSTRAINT');
        q.finish(new SqlError(constraint ? 'alternate' : 'error', a.error, a.code));
      } else {
        q.finish(undefined, { fields: a.fields ?? [], rows: a.rows ?? [], affected: a.affected ?? 0 });
      }
    }
    this.lastReply = Date.now();
    this.events.answered(this, false, false);
    if (this.state === 'full' && this.inflight.size < this.perMax) this.setState('active', 'capacity freed');
    this.events.freed(this);
  }

  run(q: PendingQuery): void {
    const id = nextId++;
    this.inflight.set(id, q);
    this.ids.set(q, id);
    this.port!.postMessage({ t: 'q', id, sql: q.sql });
    if (this.inflight.size >= this.perMax) this.setState('full', `${this.inflight.size} queries queued`);
  }

  abandon(q: PendingQuery): void {
    // A statement already posted runs anyway (SQLite cannot be interrupted from here); its answer is dropped.
    const id = this.ids.get(q);
    if (id !== undefined) this.inflight.delete(id);
  }

  closeSocket(): void {
    this.clearTimers();
    const w = this.worker;
    this.worker = undefined;
    if (this.port) {
      // The worker closes the channel after closing the database (messages before it still run).
      try { this.port.postMessage({ t: 'close' }); } catch { /* closed */ }
      this.port = undefined;
    }
    if (w) {
      // Let the worker finish its batch and close the database; force it after a grace period.
      const t = setTimeout(() => void w.terminate(), 2000);
      t.unref();
      w.once('exit', () => clearTimeout(t));
    }
  }

  failInflight(reason: string): void {
    const qs = [...this.inflight.values()];
    this.inflight.clear();
    for (const q of qs) q.finish(new SqlError('reconnect', reason));
  }
}
