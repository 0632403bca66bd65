/**
 * Multi-core with `node:cluster` (see docs/multicore.md).
 *
 * Node 20 has no `reusePort`, so the primary process owns each UDP socket:
 * when a worker binds a UDP port non-exclusively, the primary creates the
 * socket once and hands the same handle to every worker; the kernel then
 * gives each datagram to one of the readers. TCP servers are shared the same
 * way (the primary accepts and passes connections round-robin by default).
 *
 * - The primary runs no listeners. It forks N workers, restarts crashed ones,
 *   forwards reload/shutdown, and aggregates counters over IPC on demand.
 * - Workers build the whole server (config, modules, sites, listeners) and
 *   call {@link serveWorker} to answer the primary.
 * - `-X` / debug or `workers = 1` means one process and no fork.
 *
 * Per-worker state: duplicate cache, client token buckets (max_pps is divided
 * by the worker count, see {@link workerShare}), TCP connection counts, counters.
 *
 * Shared state: what `auto` learned (a client sends Message-Authenticator). A
 * worker reports it ({@link workerLearn}); the primary, which holds the truth
 * ({@link PrimaryOptions.learn}), broadcasts new keys to every worker and sends
 * the whole set to a worker when it becomes ready ({@link WorkerHooks.learned}).
 */
import cluster, { type Worker } from 'node:cluster';
import * as os from 'node:os';
import type { Logger } from '../log/logger';
import type { MetricsSnapshot } from '../metrics/snapshot';
import { mergeSnapshots } from '../metrics/snapshot';
import { makeTopology, SINGLE_PROCESS, type Topology } from '../topology/topology';

/** Environment variable telling a worker how many workers share the sockets. */
export const ENV_WORKERS = 'TSRADIUS_WORKERS';
/** Environment variable with the worker's index (0-based). */
export const ENV_WORKER_INDEX = 'TSRADIUS_WORKER_INDEX';

/** Counters by listener (or any other name) → counter → value. */
export type StatsTree = Record<string, Record<string, number>>;

/** Messages between primary and workers (all tagged `tsradius`). */
type Msg =
  | { tsradius: 'stats?'; seq: number }
  | { tsradius: 'stats'; seq: number; stats: StatsTree }
  | { tsradius: 'metrics?'; seq: number }
  | { tsradius: 'metrics'; seq: number; metrics: MetricsSnapshot }
  | { tsradius: 'reload' }
  | { tsradius: 'reloaded'; ok: boolean; error?: string }
  | { tsradius: 'shutdown' }
  | { tsradius: 'ready' }
  | { tsradius: 'learn'; key: string; note: string }
  | { tsradius: 'learned'; keys: string[] }
  | { tsradius: 'call'; seq: number; op: string; args: unknown[] }
  | { tsradius: 'return'; seq: number; ok: boolean; value?: unknown; error?: string };

/** How the current process should run. */
export type ClusterRole = 'single' | 'primary' | 'worker';

/** Options of {@link clusterRole} and {@link ClusterPrimary}. */
export interface ClusterOptions {
  /** Number of workers (default: `os.availableParallelism()`). 1 means no fork. */
  workers?: number;
  /** Debug / foreground `-X`: always one process. */
  debug?: boolean;
}

/** Default worker count: one per CPU. */
export function defaultWorkers(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** Decides the role of this process: `worker` inside a forked worker, else `single` or `primary`. */
export function clusterRole(opts: ClusterOptions = {}): ClusterRole {
  if (cluster.isWorker) return 'worker';
  const n = opts.workers ?? defaultWorkers();
  return opts.debug || n <= 1 ? 'single' : 'primary';
}

/**
 * This process's place in the cluster, from what the primary passed at fork time
 * ({@link ENV_WORKERS}, {@link ENV_WORKER_INDEX}). Outside a worker: a single process, or the
 * primary of `workers` workers when given. The server registers it in the DI root (`TOPOLOGY`).
 */
export function clusterTopology(primaryOf?: number): Topology {
  if (!cluster.isWorker) return primaryOf !== undefined && primaryOf > 1 ? makeTopology('primary', 0, primaryOf) : SINGLE_PROCESS;
  const n = Number(process.env[ENV_WORKERS]);
  const count = Number.isInteger(n) && n > 0 ? n : 1;
  const i = Number(process.env[ENV_WORKER_INDEX]);
  return makeTopology('worker', Number.isInteger(i) && i >= 0 && i < count ? i : 0, count);
}

/**
 * How many processes share the sockets, as seen from this process (1 when
 * not clustered). Per-client `max_pps` is divided by it
 * (`ClientTable.setShare(workerShare())`).
 */
export function workerShare(): number {
  return cluster.isWorker ? clusterTopology().count : 1;
}

/** Sums counter trees key by key. */
export function sumStats(trees: readonly StatsTree[]): StatsTree {
  const out: StatsTree = {};
  for (const t of trees) {
    for (const [name, counters] of Object.entries(t)) {
      const o = (out[name] ??= {});
      for (const [k, v] of Object.entries(counters)) o[k] = (o[k] ?? 0) + v;
    }
  }
  return out;
}

function isMsg(m: unknown): m is Msg {
  return typeof m === 'object' && m !== null && typeof (m as { tsradius?: unknown }).tsradius === 'string';
}

/** Options of {@link ClusterPrimary}. */
export interface PrimaryOptions {
  workers: number;
  /** Script the workers run (default: this process's main script). */
  exec?: string;
  /** Arguments for the worker script (default: this process's). */
  args?: string[];
  /** Extra environment for workers. */
  env?: Record<string, string>;
  /** Delay before restarting a crashed worker (ms, default 1000; doubles up to 30 s on repeated crashes). */
  restartDelayMs?: number;
  log?: Logger;
  /**
   * Shared learned state (Message-Authenticator seen): `add` records a key a worker reported
   * and returns true when it was new (it is then broadcast to every worker); `keys` is the
   * whole set, sent to each worker when it is ready.
   */
  learn?: { add(key: string, note: string): boolean; keys(): string[] };
  /**
   * State the primary holds for every worker (the DAC session store, the merged metrics): a
   * worker's {@link workerCall}`(op, args)` runs `rpc(op, args)` here and gets its result back.
   */
  rpc?(op: string, args: unknown[]): unknown;
}

/** The primary process: forks and supervises workers; runs no listeners. */
export class ClusterPrimary {
  private readonly workers = new Map<number, Worker>();
  private stopping = false;
  private seq = 0;
  private readonly pending = new Map<number, { got: unknown[]; need: number; done: (parts: unknown[]) => void }>();
  private crashDelay: number;

  constructor(private readonly opts: PrimaryOptions) {
    this.crashDelay = opts.restartDelayMs ?? 1000;
  }

  /** Forks the workers; resolves once every worker reported `ready` (or exited). */
  async start(): Promise<void> {
    if (this.opts.exec || this.opts.args) {
      cluster.setupPrimary({ exec: this.opts.exec, args: this.opts.args });
    }
    const ready: Promise<void>[] = [];
    for (let i = 0; i < this.opts.workers; i++) ready.push(this.fork(i));
    await Promise.all(ready);
  }

  private fork(index: number): Promise<void> {
    const w = cluster.fork({ ...this.opts.env, [ENV_WORKERS]: String(this.opts.workers), [ENV_WORKER_INDEX]: String(index) });
    this.workers.set(index, w);
    return new Promise<void>((resolve) => {
      w.on('message', (m: unknown) => {
        if (!isMsg(m)) return;
        if (m.tsradius === 'ready') {
          const keys = this.opts.learn?.keys() ?? [];
          if (keys.length) this.sendTo(w, { tsradius: 'learned', keys });
          resolve();
        } else if (m.tsradius === 'learn') this.onLearn(m.key, m.note);
        else if (m.tsradius === 'call') this.onCall(w, m.seq, m.op, m.args);
        else if (m.tsradius === 'stats') this.onAnswer(m.seq, m.stats);
        else if (m.tsradius === 'metrics') this.onAnswer(m.seq, m.metrics);
        else if (m.tsradius === 'reloaded' && !m.ok) this.opts.log?.error(`worker ${index}: reload failed: ${m.error ?? ''}`);
      });
      w.on('exit', (code, signal) => {
        resolve();
        if (this.workers.get(index) === w) this.workers.delete(index);
        if (this.stopping) return;
        this.opts.log?.error(`worker ${index} (pid ${w.process.pid}) exited (${signal ?? code}); restarting in ${this.crashDelay} ms`);
        const delay = this.crashDelay;
        this.crashDelay = Math.min(this.crashDelay * 2, 30000);
        setTimeout(() => {
          if (!this.stopping) void this.fork(index).then(() => { this.crashDelay = this.opts.restartDelayMs ?? 1000; });
        }, delay).unref();
      });
    });
  }

  private sendTo(w: Worker, m: Msg): void {
    try { if (!w.isDead()) w.send(m); } catch { /* worker gone; it gets the whole set when restarted */ }
  }

  private onLearn(key: string, note: string): void {
    if (typeof key !== 'string' || typeof note !== 'string' || !this.opts.learn) return;
    let fresh = false;
    try { fresh = this.opts.learn.add(key, note); } catch (e) { this.opts.log?.error(`learned state: ${(e as Error).message}`); }
    if (!fresh) return;
    for (const w of this.workers.values()) this.sendTo(w, { tsradius: 'learned', keys: [key] });
  }

  private onCall(w: Worker, seq: number, op: string, args: unknown[]): void {
    const rpc = this.opts.rpc;
    if (!rpc) { this.sendTo(w, { tsradius: 'return', seq, ok: false, error: 'the primary serves no calls' }); return; }
    Promise.resolve().then(() => rpc(op, Array.isArray(args) ? args : [])).then(
      (value) => this.sendTo(w, { tsradius: 'return', seq, ok: true, value }),
      (e: unknown) => this.sendTo(w, { tsradius: 'return', seq, ok: false, error: (e as Error)?.message ?? String(e) }),
    );
  }

  /** Pids of the running workers. */
  pids(): number[] {
    return [...this.workers.values()].map((w) => w.process.pid ?? 0);
  }

  /** Asks every worker to reload its configuration. */
  reload(): void {
    for (const w of this.workers.values()) w.send({ tsradius: 'reload' } satisfies Msg);
  }

  private onAnswer(seq: number, part: unknown): void {
    const p = this.pending.get(seq);
    if (!p) return;
    p.got.push(part);
    if (p.got.length >= p.need) {
      this.pending.delete(seq);
      p.done(p.got);
    }
  }

  /** Asks every worker (`stats?` / `metrics?`) and resolves with the answers that came in time. */
  private gather(ask: 'stats?' | 'metrics?', timeoutMs: number): Promise<unknown[]> {
    const seq = ++this.seq;
    const ws = [...this.workers.values()];
    if (ws.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      const entry = { got: [] as unknown[], need: ws.length, done: resolve };
      this.pending.set(seq, entry);
      setTimeout(() => {
        if (this.pending.delete(seq)) resolve(entry.got);
      }, timeoutMs).unref();
      for (const w of ws) {
        try { w.send({ tsradius: ask, seq } satisfies Msg); } catch { entry.need--; }
      }
    });
  }

  /** Collects and sums every worker's counter tree (workers that do not answer in time are left out). */
  async stats(timeoutMs = 1000): Promise<StatsTree> {
    return sumStats((await this.gather('stats?', timeoutMs)) as StatsTree[]);
  }

  /**
   * Collects every worker's metrics snapshot and merges them (`mergeSnapshots`: counters summed,
   * gauges by their merge rule). Workers that do not answer in time are left out.
   */
  async metrics(timeoutMs = 1000): Promise<MetricsSnapshot> {
    return mergeSnapshots((await this.gather('metrics?', timeoutMs)) as MetricsSnapshot[]);
  }

  /** Stops every worker: asks politely, kills after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    const ws = [...this.workers.values()];
    await Promise.all(ws.map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) return resolve();
      const t = setTimeout(() => { try { w.process.kill('SIGKILL'); } catch { /* gone */ } }, graceMs);
      w.once('exit', () => { clearTimeout(t); resolve(); });
      try { w.send({ tsradius: 'shutdown' } satisfies Msg); } catch { w.process.kill('SIGTERM'); }
    })));
    this.workers.clear();
  }
}

/** What a worker answers to the primary. */
export interface WorkerHooks {
  /** Counter snapshot (e.g. `{ [listener.name]: listener.stats() }`). */
  stats(): StatsTree;
  /** The worker's metrics registry snapshot (`MetricsRegistry.snapshot()`), for `ClusterPrimary.metrics()`. */
  metrics?(): MetricsSnapshot;
  /** Reload the configuration (the primary got SIGHUP). */
  reload?(): Promise<void>;
  /** Stop listeners and detach modules before the process exits. */
  shutdown?(): Promise<void>;
  /** Keys of learned state from the primary (new ones, or the whole set when the worker is ready). */
  learned?(keys: string[]): void;
}

/**
 * Inside a worker: reports learned state (`key`, and the line the primary logs once) to the
 * primary. Returns false outside a cluster worker.
 */
export function workerLearn(key: string, note: string): boolean {
  if (!cluster.isWorker || !process.send) return false;
  try { process.send({ tsradius: 'learn', key, note } satisfies Msg); } catch { return false; }
  return true;
}

const calls = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
let callSeq = 0;
let callListener = false;

/**
 * Inside a worker: runs `op` in the primary ({@link PrimaryOptions.rpc}) and resolves with its
 * result (rejects on the primary's error, outside a worker, or after `timeoutMs`).
 */
export function workerCall<T = unknown>(op: string, args: unknown[] = [], timeoutMs = 5000): Promise<T> {
  if (!cluster.isWorker || !process.send) return Promise.reject(new Error(`${op}: not a cluster worker`));
  if (!callListener) {
    callListener = true;
    process.on('message', (m: unknown) => {
      if (!isMsg(m) || m.tsradius !== 'return') return;
      const c = calls.get(m.seq);
      if (!c) return;
      calls.delete(m.seq);
      clearTimeout(c.timer);
      if (m.ok) c.resolve(m.value);
      else c.reject(new Error(m.error ?? 'failed in the primary'));
    });
  }
  const seq = ++callSeq;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => { calls.delete(seq); reject(new Error(`${op}: the primary did not answer in ${timeoutMs} ms`)); }, timeoutMs);
    timer.unref();
    calls.set(seq, { resolve: resolve as (v: unknown) => void, reject, timer });
    try { process.send!({ tsradius: 'call', seq, op, args } satisfies Msg); } catch (e) { calls.delete(seq); clearTimeout(timer); reject(e as Error); }
  });
}

/**
 * Inside a worker: answers stats requests, runs reload and shutdown, and
 * tells the primary that the worker is ready (call it after the listeners
 * are bound). A no-op outside a cluster worker.
 */
export function serveWorker(hooks: WorkerHooks): void {
  if (!cluster.isWorker || !process.send) return;
  const send = (m: Msg): void => { try { process.send!(m); } catch { /* primary gone */ } };
  process.on('message', (m: unknown) => {
    if (!isMsg(m)) return;
    switch (m.tsradius) {
      case 'stats?': {
        let stats: StatsTree = {};
        try { stats = hooks.stats(); } catch { /* report nothing */ }
        send({ tsradius: 'stats', seq: m.seq, stats });
        break;
      }
      case 'metrics?': {
        let metrics: MetricsSnapshot = { families: [] };
        try { if (hooks.metrics) metrics = hooks.metrics(); } catch { /* report nothing */ }
        send({ tsradius: 'metrics', seq: m.seq, metrics });
        break;
      }
      case 'learned':
        if (Array.isArray(m.keys)) {
          try { hooks.learned?.(m.keys.filter((k) => typeof k === 'string')); } catch { /* never break the worker */ }
        }
        break;
      case 'reload':
        if (hooks.reload) {
          hooks.reload().then(() => send({ tsradius: 'reloaded', ok: true }),
            (e: unknown) => send({ tsradius: 'reloaded', ok: false, error: (e as Error)?.message ?? String(e) }));
        }
        break;
      case 'shutdown':
        void (async () => {
          try { await hooks.shutdown?.(); } catch { /* exit anyway */ }
          process.exit(0);
        })();
        break;
    }
  });
  // The primary going away must not leave orphan workers serving forever.
  process.on('disconnect', () => process.exit(0));
  send({ tsradius: 'ready' });
}
