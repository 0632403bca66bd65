/**
 * Worker-thread pools: CPU-heavy jobs (crypt(3) checks cost ~25 ms each) run off the event
 * loop while the request yields. One {@link WorkerPools} service per process (root container
 * token `WORKER_POOLS`); a module opens the pool for its worker script in `instantiate` and
 * closes its handle in `detach`:
 *
 * ```ts
 * this.crypt = pools.open<CryptJob, CryptResult>(path.join(__dirname, 'crypt-worker.js'), config.crypt_workers);
 * if (this.crypt.available) result = await this.crypt.run(job);
 * ```
 *
 * Instances that open the same script share its threads (the pool grows to the largest size
 * asked for); the threads stop when the last handle closes, so a reload (new instance opened,
 * then the old one detached) keeps them. The script answers jobs with {@link serveTasks}
 * (`task.ts`). Threads start on first use and never keep the process alive.
 */
import * as fs from 'node:fs';
import { Worker, type TransferListItem } from 'node:worker_threads';
import type { TaskAnswer, TaskMessage } from './task';

/** A handle on a pool of threads running one script. */
export interface TaskPool<Job, Result> {
  /** True when jobs can run in threads (size > 0, the script exists, the handle is open). */
  readonly available: boolean;
  /** Runs `job` in a thread. Rejects when the job threw there, or the pool is closed. */
  run(job: Job, transfer?: readonly TransferListItem[]): Promise<Result>;
  /** Releases this handle; the threads stop when no handle is left. Pending jobs of a stopped pool fail. */
  close(): Promise<void>;
}

interface Pending {
  resolve(r: unknown): void;
  reject(e: unknown): void;
}

/** Threads running one script, jobs spread round-robin. */
export class WorkerPool<Job = unknown, Result = unknown> implements TaskPool<Job, Result> {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private turn = 0;
  private closed = false;

  /** `size` threads (started on first use) running `file` (compiled JavaScript). */
  constructor(readonly file: string, public size: number) {}

  get available(): boolean {
    return this.size > 0 && !this.closed && fs.existsSync(this.file);
  }

  /** Jobs sent and not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  private worker(): Worker {
    if (this.workers.length < this.size) {
      const w = new Worker(this.file);
      w.unref();
      w.on('message', (m: TaskAnswer) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(m.error));
      });
      w.on('error', (e) => this.failAll(e));
      w.on('exit', () => {
        const i = this.workers.indexOf(w);
        if (i >= 0) this.workers.splice(i, 1);
      });
      this.workers.push(w);
      return w;
    }
    const w = this.workers[this.turn % this.workers.length];
    this.turn++;
    return w;
  }

  private failAll(e: unknown): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  run(job: Job, transfer?: readonly TransferListItem[]): Promise<Result> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    const id = this.nextId++;
    return new Promise<Result>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      this.worker().postMessage({ id, job } satisfies TaskMessage<Job>, transfer as TransferListItem[] | undefined);
    });
  }

  /** Stops the threads; pending jobs fail. */
  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error('worker pool closed'));
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }
}

/** The process's pools, one per script, shared by the handles that open it. */
export class WorkerPools {
  private readonly pools = new Map<string, { pool: WorkerPool; handles: number }>();

  /**
   * A handle on the pool running `file` with at least `size` threads. `size` 0 gives a handle
   * whose `available` is false (callers then do the work on the event loop).
   */
  open<Job, Result>(file: string, size: number): TaskPool<Job, Result> {
    let e = this.pools.get(file);
    if (!e) {
      e = { pool: new WorkerPool(file, size), handles: 0 };
      this.pools.set(file, e);
    } else if (size > e.pool.size) {
      e.pool.size = size;
    }
    e.handles++;
    const entry = e;
    let open = true;
    const release = async (): Promise<void> => {
      if (!open) return;
      open = false;
      if (--entry.handles === 0 && this.pools.get(file) === entry) {
        this.pools.delete(file);
        await entry.pool.close();
      }
    };
    return {
      get available() { return open && size > 0 && entry.pool.available; },
      run: (job, transfer) => (open ? entry.pool.run(job, transfer) as Promise<Result> : Promise.reject(new Error('worker pool handle is closed'))),
      close: release,
    };
  }

  /** Scripts with a live pool (diagnostics, tests). */
  scripts(): string[] {
    return [...this.pools.keys()];
  }

  /** Stops every pool (process shutdown). */
  async closeAll(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((e) => e.pool.close()));
  }
}
