/**
 * A small pool of worker threads for crypt(3) verification. SHA-512-crypt costs about
 * 25 ms of CPU per check (bcrypt at cost 10 about as much) (5000 rounds, by design); on the event loop that would stall every
 * other request of the process, so `pap` sends crypt checks here and the request yields.
 *
 * The worker runs the compiled `crypt-worker.js` beside this file. When that file does not
 * exist (running from TypeScript sources, e.g. under vitest) the pool reports itself
 * unavailable and callers verify synchronously.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CryptAnswer, CryptJob } from './crypt-worker';

interface Pending {
  resolve(r: boolean | undefined): void;
  reject(e: unknown): void;
}

/** Worker threads verifying crypt hashes, jobs spread round-robin. */
export class CryptPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private turn = 0;
  private closed = false;

  /**
   * `size` workers (started on first use) running `workerFile` (default: `crypt-worker.js`
   * beside this module).
   */
  constructor(private readonly size: number, private readonly workerFile = path.join(__dirname, 'crypt-worker.js')) {}

  /** True when jobs can run in workers (size > 0 and the compiled worker exists). */
  get available(): boolean {
    return this.size > 0 && !this.closed && fs.existsSync(this.workerFile);
  }

  private worker(): Worker {
    if (this.workers.length < this.size) {
      const w = new Worker(this.workerFile);
      w.unref();
      w.on('message', (m: CryptAnswer) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        p.resolve(m.result === null ? undefined : m.result);
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

  /** Verifies `password` against the crypt string `stored`: true/false, undefined for an unsupported scheme. */
  verify(password: Buffer, stored: string): Promise<boolean | undefined> {
    if (this.closed) return Promise.reject(new Error('crypt pool is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // A copy, so the request's buffer is never transferred away.
      this.worker().postMessage({ id, password: new Uint8Array(password), stored } satisfies CryptJob);
    });
  }

  /** Stops the workers; pending checks fail. */
  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error('crypt pool closed'));
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }
}
