/**
 * Durable appends with group commit.
 *
 * `append(path, data)` resolves only when `data` is in the file and, with `fsync`, flushed
 * to stable storage. Records for the same file that arrive while a flush is running are
 * queued and written together by the next flush: one write() and one fdatasync() for the
 * whole batch. Under load the cost of the sync is shared by every request in the batch;
 * an idle server pays one sync per record.
 *
 * Each file keeps one descriptor opened with O_APPEND. Before every batch the path is
 * stat'ed; when it no longer names the open file (rotated by rename, or deleted), the file
 * is reopened. Descriptors idle for `idleTimeout` are closed. One write() per batch on an
 * O_APPEND descriptor keeps records of concurrent writers (other processes) from interleaving.
 */

import type { Collector, MetricOptions } from '../../core';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** Options of {@link AppendWriter}. */
export interface AppendWriterOptions {
  /** Mode of created files. */
  readonly fileMode: number;
  /** Mode of created directories. */
  readonly dirMode: number;
  /** fdatasync after each batch. */
  readonly fsync: boolean;
  /** Close descriptors idle this long (ms). */
  readonly idleTimeoutMs: number;
}

interface Waiter {
  readonly data: Buffer;
  resolve(): void;
  reject(e: unknown): void;
}

class FileState {
  fh?: fsp.FileHandle;
  ino = 0;
  dev = 0;
  lastUsed = Date.now();
  queue: Waiter[] = [];
  flushing = false;
  constructor(readonly path: string) {}
}

/** Counters, for tests and the performance notes. */
export interface AppendStats {
  records: number;
  batches: number;
  syncs: number;
  reopens: number;
}

/** Appends to many files with group commit. */
export class AppendWriter {
  private readonly files = new Map<string, FileState>();
  private timer?: NodeJS.Timeout;
  private closed = false;
  readonly stats: AppendStats = { records: 0, batches: 0, syncs: 0, reopens: 0 };

  constructor(private readonly opts: AppendWriterOptions) {
    if (opts.idleTimeoutMs > 0) {
      this.timer = setInterval(() => void this.closeIdle(), Math.max(1000, opts.idleTimeoutMs / 2));
      this.timer.unref();
    }
  }

  /** Appends `data` to `file`; resolves when it is written (and synced). */
  append(file: string, data: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error('detail writer is closed'));
    let st = this.files.get(file);
    if (!st) this.files.set(file, (st = new FileState(file)));
    st.lastUsed = Date.now();
    const s = st;
    return new Promise<void>((resolve, reject) => {
      s.queue.push({ data, resolve, reject });
      if (!s.flushing) {
        s.flushing = true;
        // Let records issued in this same turn of the event loop join the batch.
        setImmediate(() => void this.flush(s));
      }
    });
  }

  private async flush(st: FileState): Promise<void> {
    while (st.queue.length > 0) {
      const batch = st.queue;
      st.queue = [];
      try {
        await this.ensureOpen(st);
        const buf = batch.length === 1 ? batch[0].data : Buffer.concat(batch.map((w) => w.data));
        let off = 0;
        while (off < buf.length) {
          const { bytesWritten } = await st.fh!.write(buf, off, buf.length - off, null);
          off += bytesWritten;
        }
        if (this.opts.fsync) {
          await st.fh!.datasync();
          this.stats.syncs++;
        }
        this.stats.batches++;
        this.stats.records += batch.length;
        st.lastUsed = Date.now();
        for (const w of batch) w.resolve();
      } catch (e) {
        // Drop the descriptor so the next batch starts from a fresh open.
        await this.closeState(st);
        for (const w of batch) w.reject(e);
      }
    }
    st.flushing = false;
  }

  /** Opens the file (creating directories), or reopens it when the path now names another file. */
  private async ensureOpen(st: FileState): Promise<void> {
    if (st.fh) {
      let same = false;
      try {
        const s = await fsp.stat(st.path);
        same = s.ino === st.ino && s.dev === st.dev;
      } catch {
        same = false;
      }
      if (same) return;
      await this.closeState(st);
      this.stats.reopens++;
    }
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(st.path, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, this.opts.fileMode);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await fsp.mkdir(path.dirname(st.path), { recursive: true, mode: this.opts.dirMode });
      fh = await fsp.open(st.path, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, this.opts.fileMode);
    }
    const s = await fh.stat();
    st.fh = fh;
    st.ino = s.ino;
    st.dev = s.dev;
  }

  private async closeState(st: FileState): Promise<void> {
    const fh = st.fh;
    st.fh = undefined;
    if (fh) await fh.close().catch(() => undefined);
  }

  /** Closes descriptors idle longer than the timeout. */
  async closeIdle(now = Date.now()): Promise<void> {
    for (const [p, st] of this.files) {
      if (st.flushing || st.queue.length > 0 || now - st.lastUsed < this.opts.idleTimeoutMs) continue;
      this.files.delete(p);
      await this.closeState(st);
    }
  }

  /** Number of open descriptors. */
  get openCount(): number {
    let n = 0;
    for (const st of this.files.values()) if (st.fh) n++;
    return n;
  }

  /** Waits for pending batches, then closes every descriptor. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const pending: Promise<void>[] = [];
    for (const st of this.files.values()) {
      if (st.queue.length > 0 || st.flushing) {
        pending.push(new Promise<void>((resolve) => {
          const check = () => (st.flushing || st.queue.length > 0 ? setTimeout(check, 1) : resolve());
          check();
        }));
      }
    }
    await Promise.all(pending);
    this.closed = true;
    for (const st of this.files.values()) await this.closeState(st);
    this.files.clear();
  }
}

const APPEND_METRICS: readonly [keyof AppendStats, MetricOptions][] = [
  ['records', { name: 'tsradius_append_records_total', help: 'Records appended to files.', labelNames: ['module', 'instance'] }],
  ['batches', { name: 'tsradius_append_batches_total', help: 'Group-commit batches written.', labelNames: ['module', 'instance'] }],
  ['syncs', { name: 'tsradius_append_syncs_total', help: 'fsync calls.', labelNames: ['module', 'instance'] }],
  ['reopens', { name: 'tsradius_append_reopens_total', help: 'Files reopened (rotated away or removed).', labelNames: ['module', 'instance'] }],
];

/** A metrics collector for a writer's counters (`detail`, `linelog`: register in instantiate, remove in detach). */
export function appendWriterCollector(module: string, instance: string, writer: () => AppendWriter | undefined): Collector {
  return (out) => {
    const w = writer();
    if (!w) return;
    for (const [k, def] of APPEND_METRICS) out.counter(def, [module, instance], w.stats[k]);
  };
}
