/**
 * The SQLite driver: each trunk connection is a worker thread holding one better-sqlite3
 * database handle, so no query ever runs on the event loop.
 *
 * Queries are posted to the worker once per event-loop turn (all of that turn's queries in one
 * message). Statements are prepared once per shape: string and integer literals are taken out and
 * bound as values, so the accounting queries (whose values are written into their text) do not
 * compile a statement per request (see shape() in the worker).
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
import { connect, type Socket } from 'node:net';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { PendingQuery, readsOnly, SqlConn, SqlError } from './driver';

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
  /**
   * One writer for the file (default): the connections elect one of them, through a Unix socket
   * beside the file, to run every write (see the worker).
   */
  readonly singleWriter?: boolean;
}

/** One message on a writer socket: a 4-byte little-endian length, then JSON. */
function frame(v: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(v));
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32LE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** Calls `onFrame` with every message that arrives on `sock` (see {@link frame}). */
function reader(sock: Socket, onFrame: (v: unknown) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  sock.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= 4) {
      const n = buf.readUInt32LE(0);
      if (buf.length < 4 + n) break;
      const v: unknown = JSON.parse(buf.toString('utf8', 4, 4 + n));
      buf = buf.subarray(4 + n);
      onFrame(v);
    }
  });
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
function whileBusy(fn) {
  const until = Date.now() + o.busyTimeout;
  for (;;) {
    try {
      return fn();
    } catch (e) {
      if (!(e && typeof e.code === 'string' && e.code.startsWith('SQLITE_BUSY')) || Date.now() >= until) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2 + Math.floor(Math.random() * 10));
    }
  }
}
try {
  db = new Database(o.filename, { timeout: o.busyTimeout });
  // Changing the journal mode of a new file takes an exclusive lock and SQLite answers SQLITE_BUSY
  // at once, without the busy handler, when another connection opens the file at the same moment
  // (two instances on one file: 1 open in 600 in a stress run). Retry it, and the bootstrap, until
  // busy_timeout has passed.
  if (o.filename !== ':memory:') whileBusy(() => db.pragma('journal_mode = ' + o.journalMode));
  db.pragma('synchronous = ' + o.synchronous);
  // bootstrap: every file runs on a database without tables (a new file). On an existing database
  // (an upgrade: say, one made before the pool table existed) a file runs when it creates a table
  // the database lacks (its CREATE ... IF NOT EXISTS leave the other tables alone), and a file that
  // creates no table (seed rows, such as the default pool) runs when the table file before it ran.
  // Several connections (instances, workers) may open a file at once: the check and the bootstrap
  // run under the write lock, so one of them creates the schema and the others wait for it (busy
  // timeout) instead of querying a half-created database, then find nothing missing.
  if (o.bootstrap.length) whileBusy(() => {
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
      ran.length = 0;
      throw e;
    }
  });
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
// Statement cache by shape. The queries of the config arrive with their values written in (as
// FreeRADIUS expands them), so every accounting statement has a text of its own and would be
// compiled again (for a radacct INSERT that is most of its cost). shape() takes the string and
// integer literals out of a DML statement and returns the text with ? in their place plus the
// values, so one prepared statement serves every request of the same query. A literal and a
// bound value behave the same in SQLite (no affinity; strings stay TEXT, integers are bound as
// 64-bit integers). Left as they are: literals of a SELECT before its WHERE and of a RETURNING
// clause (they would rename result columns), integers when the statement has ORDER/GROUP BY
// (a column number there), blob (x'..'), real, hex and over-long numbers, anything in quoted
// identifiers and comments. Statements that already use parameters are not touched.
const ID = new Uint8Array(128);
for (let c = 48; c < 58; c++) ID[c] = 1;
for (let c = 65; c < 91; c++) { ID[c] = 1; ID[c + 32] = 1; }
ID[95] = 1; ID[36] = 1;
function idc(c) { return c >= 128 || (c >= 0 && ID[c] === 1); }
function shape(sql) {
  const head = /^\s*(\w+)/.exec(sql);
  const verb = head ? head[1].toLowerCase() : '';
  const select = verb === 'select' || verb === 'with';
  if (!select && verb !== 'insert' && verb !== 'update' && verb !== 'delete' && verb !== 'replace') return undefined;
  const ints = !/\b(order|group)\s+by\b/i.test(sql);
  let active = !select;
  const n = sql.length;
  const params = [];
  let out = '';
  let last = 0;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 39) { // 'string'
      const blob = i > 0 && (sql.charCodeAt(i - 1) | 32) === 120 && !idc(sql.charCodeAt(i - 2));
      let j = i + 1;
      let v = '';
      for (;;) {
        const k = sql.indexOf("'", j);
        if (k < 0) return undefined;
        if (sql.charCodeAt(k + 1) === 39) { v += sql.slice(j, k + 1); j = k + 2; continue; }
        v += sql.slice(j, k);
        j = k + 1;
        break;
      }
      if (active && !blob) { out += sql.slice(last, i) + '?'; params.push(v); last = j; }
      i = j;
    } else if (c === 34 || c === 96 || c === 91) { // "ident", [ident] or a backquoted name
      const k = sql.indexOf(c === 91 ? ']' : sql[i], i + 1);
      if (k < 0) return undefined;
      i = k + 1;
    } else if (c === 45 && sql.charCodeAt(i + 1) === 45) { // -- comment
      const k = sql.indexOf('\n', i);
      i = k < 0 ? n : k + 1;
    } else if (c === 47 && sql.charCodeAt(i + 1) === 42) { // /* comment */
      const k = sql.indexOf('*/', i + 2);
      i = k < 0 ? n : k + 2;
    } else if (c === 63 || c === 58 || c === 64 || (c === 36 && !idc(sql.charCodeAt(i - 1)))) { // ? :name @name $name
      return undefined;
    } else if (c >= 48 && c <= 57 && !idc(sql.charCodeAt(i - 1)) && sql.charCodeAt(i - 1) !== 46) { // a number
      let j = i;
      while (j < n && sql.charCodeAt(j) >= 48 && sql.charCodeAt(j) <= 57) j++;
      const nc = sql.charCodeAt(j);
      if (nc === 46 || idc(nc)) { // 1.5, 1e3, 0x1f: as it is
        while (j < n && (idc(sql.charCodeAt(j)) || sql.charCodeAt(j) === 46 ||
          ((sql.charCodeAt(j) === 43 || sql.charCodeAt(j) === 45) && (sql.charCodeAt(j - 1) | 32) === 101))) j++;
      } else if (active && ints && j - i <= 18) {
        out += sql.slice(last, i) + '?';
        params.push(BigInt(sql.slice(i, j)));
        last = j;
      }
      i = j;
    } else if (idc(c)) { // a word: WHERE starts the values of a SELECT, RETURNING ends them
      let j = i + 1;
      while (j < n && idc(sql.charCodeAt(j))) j++;
      if (j - i === 5 && select && sql.slice(i, j).toLowerCase() === 'where') active = true;
      else if (j - i === 9 && sql.slice(i, j).toLowerCase() === 'returning') active = false;
      i = j;
    } else {
      i++;
    }
  }
  if (!params.length) return undefined;
  return { text: out + sql.slice(last), params };
}
function text(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  return String(v);
}
function one(m) {
  try {
    const sh = shape(m.sql);
    const s = prepare(sh ? sh.text : m.sql);
    const params = sh ? sh.params : [];
    if (s.reader) {
      const rows = s.all(...params);
      for (const r of rows) for (let i = 0; i < r.length; i++) r[i] = text(r[i]);
      return { id: m.id, fields: s.columns().map((c) => c.name), rows, affected: 0 };
    }
    return { id: m.id, affected: s.run(...params).changes, write: true };
  } catch (e) {
    return { id: m.id, error: String(e && e.message || e), code: e && e.code };
  }
}
const TXN = /^\s*(begin|commit|end|rollback|savepoint|release|vacuum|attach|detach|pragma)\b/i;
const READ = /^\s*SELECT\b/i;
// Runs a batch; with a write among several statements, inside one transaction (group commit).
// A statement that fails is rolled back alone (SQLite's statement journal) and the others go on;
// when its error took the whole transaction with it (SQLITE_FULL, IOERR, an OR ROLLBACK clause)
// the statements before it are run again in a new one, so none is acknowledged without its commit.
function commit(batch) {
  const plain = batch.length > 1 && !db.inTransaction && !batch.some((m) => TXN.test(m.sql)) && batch.some((m) => !READ.test(m.sql));
  if (!plain) return batch.map(one);
  try { db.exec('BEGIN IMMEDIATE'); } catch (e) { return batch.map(one); }
  const out = [];
  for (let k = 0; k < batch.length; k++) {
    const r = one(batch[k]);
    if (r.error !== undefined && !db.inTransaction) {
      const before = commit(batch.slice(0, k));
      const after = commit(batch.slice(k + 1));
      return before.concat([r], after);
    }
    out.push(r);
  }
  try { db.exec('COMMIT'); } catch (e) {
    try { db.exec('ROLLBACK'); } catch (e2) { /* already rolled back */ }
    const msg = 'COMMIT failed: ' + String(e && e.message || e);
    return out.map((r) => (r.write ? { id: r.id, error: msg, code: e && e.code } : r));
  }
  return out;
}

// One writer per database file for the whole server. Every connection to a file (the worker
// threads of one process and of every cluster worker) would otherwise hold its own write
// connection, and SQLite's one write lock makes them take turns with sleeps in between (busy
// handler): with two cluster workers accounting ran at a twentieth of one worker's rate. The first
// connection to listen on o.share (a Unix socket beside the database, so as private as its -wal
// file) writes for all of them; the others send their writes there (length-prefixed JSON frames)
// and run their SELECTs on their own handle (WAL readers do not take the write lock). When the
// writer goes away (its process ends, its connection closes) the statements it had not answered
// fail (they may or may not have been committed, so they are not acknowledged) and the others
// elect a new writer. Without o.share (or when the socket cannot be made) a connection writes
// itself, as before.
const net = require('node:net');
let pending = [];   // { m, to }: to is null (our port) or the socket of another connection
let waiting = [];   // writes held while no writer is known
let role = o.share ? 'electing' : 'writer';
let server;         // when the writer: the listening socket
let serverIno = 0;
let upstream;       // when not: the writer's socket
let sent = new Map(); // id -> true, forwarded and not answered
let scheduled = false;
let closing = false;
const peers = new Set();
function later() { if (!scheduled) { scheduled = true; setImmediate(drain); } }
${frame.toString()}
${reader.toString()}
function take(msg) {
  if (msg.t === 'close') { closing = true; return; }
  if (msg.t === 'qs') for (const m of msg.list) pending.push({ m, to: null });
  else pending.push({ m: msg, to: null });
}
function drain() {
  scheduled = false;
  for (let r; (r = receiveMessageOnPort(port)); ) take(r.message);
  let work = pending;
  pending = [];
  if (role !== 'writer') {
    const local = [];
    for (const e of work) {
      if (e.to === null && !READ.test(e.m.sql)) waiting.push(e.m);
      else local.push(e);
    }
    work = local;
    if (role === 'client' && waiting.length) forward();
  }
  for (let i = 0; i < work.length; i += o.batch) {
    const b = work.length <= o.batch ? work : work.slice(i, i + o.batch);
    const out = commit(b.map((e) => e.m));
    const mine = [];
    let to, list;
    for (let k = 0; k < b.length; k++) {
      if (b[k].to === null) { mine.push(out[k]); continue; }
      if (b[k].to !== to) { if (list) send(to, list); to = b[k].to; list = []; }
      list.push(out[k]);
    }
    if (list) send(to, list);
    if (mine.length) port.postMessage({ t: 'results', out: mine });
  }
  if (closing) shut();
}
function send(sock, list) {
  if (!sock.destroyed) sock.write(frame(list));
}
function forward() {
  for (const m of waiting) sent.set(m.id, true);
  upstream.write(frame(waiting));
  waiting = [];
}
function lost(why) {
  const out = [];
  for (const id of sent.keys()) out.push({ id, error: why, code: 'SQLITE_WRITER_LOST' });
  sent = new Map();
  if (out.length) port.postMessage({ t: 'results', out });
}
function elect() {
  if (closing) return;
  role = 'electing';
  const srv = net.createServer({ allowHalfOpen: true }, (sock) => {
    peers.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => { peers.delete(sock); if (shutting && !peers.size) shut(); });
    reader(sock, (list) => { for (const m of list) pending.push({ m, to: sock }); later(); });
    // The peer has sent its last statement: end ours after answering what came before (drain is
    // already scheduled for it, and immediates run in order).
    sock.on('end', () => setImmediate(() => sock.end()));
  });
  srv.once('error', (e) => {
    if (e.code !== 'EADDRINUSE') { own(); return; } // no socket here: write ourselves
    const c = net.connect(o.share);
    c.on('error', () => {});
    c.once('connect', () => {
      if (closing) { c.destroy(); return; }
      upstream = c;
      role = 'client';
      port.postMessage({ t: 'writer', at: o.share });
      reader(c, (out) => {
        if (!Array.isArray(out)) { // bye: the writer is closing; it answers what we sent until we end
          role = 'electing';
          c.end();
          return;
        }
        for (const r of out) sent.delete(r.id);
        port.postMessage({ t: 'results', out });
      });
      c.once('close', () => {
        upstream = undefined;
        lost('the SQLite writer went away before answering (the statement may not have been committed)');
        if (!closing) setTimeout(elect, Math.floor(Math.random() * 20));
      });
      later();
    });
    c.once('close', () => {
      if (upstream === c || closing) return;
      // Nobody listens on the socket: it is left from a writer that died; take its place.
      try { fs.unlinkSync(o.share); } catch (e2) { /* gone */ }
      setTimeout(elect, 1 + Math.floor(Math.random() * 10));
    });
  });
  srv.listen(o.share, () => {
    if (closing) { srv.close(); return; }
    try { fs.chmodSync(o.share, 0o600); serverIno = fs.statSync(o.share).ino; } catch (e) { /* checked below */ }
    server = srv;
    own();
  });
}
function own() {
  role = 'writer';
  for (const m of waiting) pending.push({ m, to: null });
  waiting = [];
  later();
}
// A writer whose socket file was replaced (two connections took a dead writer's place at once)
// no longer hears the others: it stops listening and joins the one that holds the file.
const watch = o.share ? setInterval(() => {
  if (!server) return;
  let ino = 0;
  try { ino = fs.statSync(o.share).ino; } catch (e) { /* removed */ }
  if (ino === serverIno) return;
  const s = server;
  server = undefined;
  s.close();
  for (const p of peers) p.destroy();
  elect();
}, 1000) : undefined;
if (watch) watch.unref();
// Closing the writer: it stops listening and tells every peer (bye); a peer sends nothing more,
// ends its side, and the writer answers what arrived before that, so a handover loses no
// statement. Peers that do not end within a second are cut off (their unanswered statements
// fail on their side). Then the database closes.
let shutting = false;
function shut() {
  if (!shutting) {
    shutting = true;
    if (watch) clearInterval(watch);
    if (server) {
      server.close();
      try { if (fs.statSync(o.share).ino === serverIno) fs.unlinkSync(o.share); } catch (e) { /* gone */ }
      server = undefined;
      const bye = frame({ t: 'bye' });
      for (const p of peers) p.write(bye);
      if (peers.size) setTimeout(() => { for (const p of peers) p.destroy(); }, 1000).unref();
    }
    if (upstream) upstream.destroy();
  }
  if (peers.size || !db.open) return;
  db.close();
  port.close();
}
port.on('message', (msg) => { take(msg); later(); });
if (o.share) elect();
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

/**
 * The socket through which the connections to one file find its writer: `<file>-writer`, beside
 * the database (as private as its `-wal`). None for an in-memory database, when off, or when the
 * path is longer than a Unix socket address takes (each connection then writes itself).
 */
function writerSocket(o: SqliteOptions): string | undefined {
  if (o.singleWriter === false || o.filename === ':memory:' || o.filename.startsWith('file:')) return undefined;
  const p = `${o.filename}-writer`;
  return Buffer.byteLength(p) <= 107 ? p : undefined;
}

/** One SQLite connection: a worker thread with its own database handle. */
export class SqliteConn extends SqlConn {
  readonly label: string;
  private worker?: Worker;
  private port?: MessagePort;
  private readonly inflight = new Map<number, PendingQuery>();
  private readonly ids = new WeakMap<PendingQuery, number>();
  private outbox: { id: number; sql: string }[] = [];
  /**
   * When another connection is the file's writer: our own socket to it, so that our writes skip
   * our worker thread (which would only forward them), and the ids sent on it, unanswered.
   */
  private direct?: { sock: Socket; ids: Set<number> };
  private directing = false;

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
      workerData: { module: require.resolve('better-sqlite3'), port: port2, opts: { ...this.opts, share: writerSocket(this.opts) } },
      transferList: [port2],
    });
    this.worker = w;
    w.unref();
    port1.on('message', (m: { t: string; message?: string; out?: WorkerAnswer[]; upgraded?: string[]; at?: string }) => {
      if (m.t === 'writer' && m.at && this.port === port1) return this.toWriter(m.at);
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

  /**
   * Opens our own socket to the writer. Its `bye` (the writer is closing) or its loss sends our
   * writes back through the worker thread, which finds the next writer and tells us again; the
   * statements the writer had not answered when the socket closed fail (not acknowledged).
   */
  private toWriter(at: string): void {
    if (this.direct || this.directing) return;
    this.directing = true;
    const sock = connect(at);
    const link = { sock, ids: new Set<number>() };
    sock.on('error', () => { /* close follows */ });
    sock.once('connect', () => {
      this.directing = false;
      if (this.port) this.direct = link;
      else sock.destroy();
    });
    reader(sock, (v) => {
      if (!Array.isArray(v)) { // bye: the writer answers what we sent until we end our side
        if (this.direct === link) this.direct = undefined;
        sock.end();
        return;
      }
      for (const a of v as WorkerAnswer[]) link.ids.delete(a.id);
      this.answers(v as WorkerAnswer[]);
    });
    sock.once('close', () => {
      this.directing = false;
      if (this.direct === link) this.direct = undefined;
      const lost = [...link.ids].map((id) => ({ id, error: 'the SQLite writer went away before answering (the statement may not have been committed)', code: 'SQLITE_WRITER_LOST' }));
      if (lost.length) this.answers(lost);
    });
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
    // Posted once per event-loop turn with every query of that turn: one message (and one wake-up
    // of the worker) for many requests, which also makes the worker's transactions larger.
    this.outbox.push({ id, sql: q.sql });
    if (this.outbox.length === 1) setImmediate(this.flush);
    if (this.inflight.size >= this.perMax) this.setState('full', `${this.inflight.size} queries queued`);
  }

  private readonly flush = (): void => {
    if (!this.outbox.length || !this.port) return;
    let list = this.outbox;
    this.outbox = [];
    const d = this.direct;
    if (d) {
      const writes = list.filter((q) => !readsOnly(q.sql));
      if (writes.length) {
        for (const q of writes) d.ids.add(q.id);
        d.sock.write(frame(writes));
        list = writes.length === list.length ? [] : list.filter((q) => readsOnly(q.sql));
      }
    }
    if (!list.length) return;
    this.port.postMessage(list.length === 1 ? { t: 'q', ...list[0] } : { t: 'qs', list });
  };

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
      this.flush();
      if (this.direct) { this.direct.sock.end(); this.direct = undefined; }
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
