/**
 * The `detail_reader` app: replays spooled detail records through a virtual server (FreeRADIUS's
 * `listen { type = detail }`), the reading half of store-and-forward accounting.
 *
 * ```
 * app detail_reader forward {
 *     filename = ${radacctdir}/spool/detail-*
 *     site = forward                   # recv Accounting-Request { master }   (the radius module)
 *     max_outstanding = 8
 * }
 * ```
 *
 * Loop: take the work file (`detail.work` beside `filename`; if there is none, rename the oldest
 * file matching `filename` to it), read its complete records in order and send each through the
 * site with `host.inject` as an Accounting-Request, at most `max_outstanding` at once and `rate`
 * per second. A record is **acknowledged** when the site answers Accounting-Response; only then is
 * it marked done in the file (`\tTimestamp` → `\tDone`, in place). Anything else (no reply, a
 * reject, an error) pauses sending for `retry_interval` and the record is sent again, forever, as
 * a NAS would. When every record of the work file is done and the file has not changed for
 * `settle`, it is deleted and the next file is taken.
 *
 * Restarts (or `kill -9`) lose nothing: the work file stays, and its marked records are skipped.
 * A record acknowledged but not yet marked when the process died is sent again (at least once).
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { AppContext, AppInstance, Health, Logger } from '../../core';
import type { DetailReaderConfig } from './config';
import { DONE_MARK, recordPairs, splitRecords, type DetailRecord } from './record';

/** Accounting-Response. */
const ACCOUNTING_RESPONSE = 5;
/** Bytes read from the work file at once (grown for a record longer than this). */
const CHUNK = 1 << 20;

/** Counters of one reader (also exported as metrics). */
export interface DetailReaderStats {
  /** Records sent through the site (retries included). */
  sent: number;
  /** Records the site acknowledged (and that were marked done). */
  acked: number;
  /** Attempts that were not acknowledged (each is retried). */
  failed: number;
  /** Records without any attribute that parses (marked done and dropped, with an error logged). */
  malformed: number;
  /** Records found already marked done (resumed work file). */
  skippedDone: number;
  /** Work files finished and deleted. */
  files: number;
}

/** Lock files held by readers of this process (a second reader of the same spool waits). */
const HELD = new Set<string>();

/** True when process `pid` exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Wildcard (`*`, `?`) in a file name → RegExp. */
export function globToRegExp(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`);
}

/** A running reader (see the file comment). */
export class DetailReader implements AppInstance {
  readonly stats: DetailReaderStats = { sent: 0, acked: 0, failed: 0, malformed: 0, skippedDone: 0, files: 0 };
  private readonly log: Logger;
  private readonly dir: string;
  private readonly pattern: RegExp;
  private readonly workPath: string;
  private readonly lockPath: string;
  /** This reader holds the spool's lock file. */
  private owner = false;
  /** Pid of the process holding the lock while this reader waits. */
  private standbyFor: number | undefined;

  private fh: fsp.FileHandle | undefined;
  private openedAt = 0;
  /** Next unread byte of the work file. */
  private readPos = 0;
  /** Size of the work file when last looked at (to notice appends). */
  private seenSize = 0;
  private chunk = CHUNK;
  /** Records read and not yet sent (retries go back to the front). */
  private queue: DetailRecord[] = [];
  private readonly inflight = new Map<DetailRecord, AbortController>();
  private pausedUntil = 0;
  private nextSendAt = 0;
  private lastError: string | undefined;
  /** Backlog seen at the last scan: matching files waiting, and their bytes. */
  private backlog = { files: 0, bytes: 0 };

  private stopping = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private unregisterMetrics: (() => void) | undefined;

  constructor(private readonly config: DetailReaderConfig, private readonly ctx: AppContext) {
    this.log = ctx.log;
    const file = path.resolve(config.filename);
    this.dir = path.dirname(file);
    this.pattern = globToRegExp(path.basename(file));
    this.workPath = config.work_file ? path.resolve(this.dir, config.work_file) : path.join(this.dir, 'detail.work');
    this.lockPath = `${this.workPath}.lock`;
  }

  /** The work file's path. */
  get workFile(): string {
    return this.workPath;
  }

  start(): void {
    this.stopping = false;
    this.unregisterMetrics = this.ctx.host.metrics.collect((out) => {
      const labels = [this.ctx.name];
      const c = (name: string, help: string, v: number) => out.counter({ name, help, labelNames: ['app'] }, labels, v);
      const g = (name: string, help: string, v: number) => out.gauge({ name, help, labelNames: ['app'] }, labels, v);
      c('tsradius_detail_reader_sent_total', 'Detail records sent through the site (retries included).', this.stats.sent);
      c('tsradius_detail_reader_acked_total', 'Detail records acknowledged and marked done.', this.stats.acked);
      c('tsradius_detail_reader_failed_total', 'Detail record attempts not acknowledged (retried).', this.stats.failed);
      c('tsradius_detail_reader_malformed_total', 'Detail records dropped because nothing in them parses.', this.stats.malformed);
      c('tsradius_detail_reader_files_total', 'Detail work files finished and deleted.', this.stats.files);
      g('tsradius_detail_reader_backlog_bytes', 'Bytes of spooled detail records not yet acknowledged (approximate).', this.backlogBytes());
      g('tsradius_detail_reader_backlog_files', 'Spool files waiting besides the work file.', this.backlog.files);
      g('tsradius_detail_reader_in_flight', 'Detail records in flight through the site.', this.inflight.size);
    });
    this.loop = this.run().catch((e: Error) => {
      this.lastError = e.message;
      this.log.error(`detail reader stopped: ${e.message}`);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    const deadline = Date.now() + this.config.stop_timeout * 1000;
    while (this.inflight.size > 0 && Date.now() < deadline) await this.sleep(Math.min(50, deadline - Date.now()));
    for (const ac of this.inflight.values()) ac.abort();
    this.wake();
    await this.loop;
    this.loop = undefined;
    // Settled sends may still be marking their records.
    while (this.inflight.size > 0) await this.sleep(10);
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
    this.queue = [];
    await this.release();
    this.unregisterMetrics?.();
    this.unregisterMetrics = undefined;
  }

  reload(config: unknown): boolean {
    return JSON.stringify(config) === JSON.stringify(this.config);
  }

  health(): Health {
    const paused = this.pausedUntil > Date.now();
    return {
      status: this.loop === undefined ? 'down' : paused ? 'degraded' : 'ok',
      detail: {
        site: this.config.site,
        workFile: this.workPath,
        ...(this.standbyFor !== undefined ? { standby: true, lockHolder: this.standbyFor } : {}),
        backlogBytes: this.backlogBytes(),
        backlogFiles: this.backlog.files,
        inFlight: this.inflight.size,
        queued: this.queue.length,
        ...this.stats,
        ...(paused ? { retryingIn: Math.ceil((this.pausedUntil - Date.now()) / 1000) } : {}),
        ...(this.lastError ? { lastError: this.lastError } : {}),
      },
    };
  }

  /** Bytes not yet acknowledged: the unread rest of the work file, what is queued or in flight, and waiting files. */
  private backlogBytes(): number {
    let n = Math.max(0, this.seenSize - this.readPos) + this.backlog.bytes;
    for (const r of this.queue) n += r.length;
    for (const r of this.inflight.keys()) n += r.length;
    return n;
  }

  // ------------------------------------------------------------------ the loop

  private async run(): Promise<void> {
    while (!this.stopping) {
      if (!this.fh && (!(await this.acquire()) || !(await this.openNext()))) {
        await this.sleep(this.config.poll_interval * 1000);
        continue;
      }
      if (this.queue.length < this.config.max_outstanding * 2 && (await this.readMore(false))) continue;
      const now = Date.now();
      if (this.queue.length > 0) {
        if (now < this.pausedUntil) await this.sleep(this.pausedUntil - now);
        else if (this.inflight.size >= this.config.max_outstanding) await this.sleep(this.config.poll_interval * 1000);
        else if (this.config.rate > 0 && now < this.nextSendAt) await this.sleep(this.nextSendAt - now);
        else this.send(this.queue.shift()!);
        continue;
      }
      if (this.inflight.size > 0) {
        await this.sleep(this.config.poll_interval * 1000);
        continue;
      }
      await this.maybeFinish();
    }
  }

  /** Everything read so far is done: read appended records, or delete the settled file. */
  private async maybeFinish(): Promise<void> {
    const st = await this.fh!.stat();
    const settle = this.config.settle * 1000;
    if (st.size !== this.seenSize) {
      this.seenSize = st.size;
      await this.sleep(Math.min(this.config.poll_interval * 1000, settle));
      return;
    }
    const quiet = Date.now() - Math.max(st.mtimeMs, this.openedAt);
    if (quiet < settle) {
      await this.sleep(Math.min(this.config.poll_interval * 1000, settle - quiet));
      return;
    }
    // Quiet: a last record without its blank line (the writer stopped half-way, or a file edited by hand).
    if (this.readPos < st.size && (await this.readMore(true))) return;
    if (this.readPos < st.size) this.log.warn(`${this.workPath}: ignoring ${st.size - this.readPos} bytes of an incomplete record at the end`);
    await this.fh!.close();
    this.fh = undefined;
    await fsp.unlink(this.workPath);
    this.stats.files++;
    this.log.info(`${this.workPath}: every record acknowledged; file removed`);
  }

  /**
   * Takes the spool's lock file (`<work_file>.lock`, holding the pid), so that one reader works on a spool
   * directory: another process (a cluster worker, a second daemon) or a second reader in this process waits,
   * and takes over when the holder is gone (a lock left by a dead process is stale and removed).
   */
  private async acquire(): Promise<boolean> {
    if (this.owner) return true;
    if (HELD.has(this.lockPath)) return this.standby(process.pid);
    await fsp.mkdir(this.dir, { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await fsp.writeFile(this.lockPath, `${process.pid}\n`, { flag: 'wx' });
        this.owner = true;
        HELD.add(this.lockPath);
        if (this.standbyFor !== undefined) this.log.info(`took over ${this.dir} (lock holder ${this.standbyFor} is gone)`);
        this.standbyFor = undefined;
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = Number((await fsp.readFile(this.lockPath, 'utf8').catch(() => '')).trim());
      if (holder > 0 && holder !== process.pid && alive(holder)) return this.standby(holder);
      await fsp.unlink(this.lockPath).catch(() => undefined);   // stale: its process is gone
    }
    return false;
  }

  private standby(holder: number): false {
    if (this.standbyFor !== holder) this.log.info(`${this.dir} is read by process ${holder}; standing by`);
    this.standbyFor = holder;
    return false;
  }

  private async release(): Promise<void> {
    if (!this.owner) return;
    this.owner = false;
    HELD.delete(this.lockPath);
    const holder = (await fsp.readFile(this.lockPath, 'utf8').catch(() => '')).trim();
    if (holder === String(process.pid)) await fsp.unlink(this.lockPath).catch(() => undefined);
  }

  /** Opens the work file, or renames the oldest matching spool file to it. False when there is none. */
  private async openNext(): Promise<boolean> {
    const waiting = await this.scan();
    let resumed = true;
    try {
      await fsp.access(this.workPath);
    } catch {
      resumed = false;
      const next = waiting.shift();
      if (!next) return false;
      await fsp.rename(next.path, this.workPath);
      this.backlog = { files: waiting.length, bytes: waiting.reduce((n, f) => n + f.size, 0) };
      this.log.info(`reading ${next.path} (as ${this.workPath})`);
    }
    this.fh = await fsp.open(this.workPath, 'r+');
    if (resumed) this.log.info(`resuming ${this.workPath}`);
    this.openedAt = Date.now();
    this.readPos = 0;
    this.seenSize = 0;
    this.chunk = CHUNK;
    return true;
  }

  /** Spool files matching `filename` (not the work file), oldest first. */
  private async scan(): Promise<{ path: string; size: number; mtime: number }[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') names = [];
      else throw e;
    }
    const work = path.basename(this.workPath);
    const out: { path: string; size: number; mtime: number }[] = [];
    for (const n of names) {
      if (n === work || n === `${work}.lock` || !this.pattern.test(n)) continue;
      const p = path.join(this.dir, n);
      try {
        const st = await fsp.stat(p);
        if (st.isFile()) out.push({ path: p, size: st.size, mtime: st.mtimeMs });
      } catch { /* vanished meanwhile */ }
    }
    out.sort((a, b) => a.mtime - b.mtime || (a.path < b.path ? -1 : 1));
    this.backlog = { files: out.length, bytes: out.reduce((n, f) => n + f.size, 0) };
    return out;
  }

  /** Reads complete records after `readPos` into the queue. True when it read any. */
  private async readMore(final: boolean): Promise<boolean> {
    const fh = this.fh!;
    for (;;) {
      const buf = Buffer.allocUnsafe(this.chunk);
      const { bytesRead } = await fh.read(buf, 0, buf.length, this.readPos);
      if (bytesRead === 0) return false;
      const data = buf.subarray(0, bytesRead);
      const { records, used } = splitRecords(data, this.readPos, final);
      if (used === 0) {
        // No complete record in a full chunk: a record longer than the chunk.
        if (bytesRead === this.chunk) { this.chunk *= 2; continue; }
        return false;
      }
      this.readPos += used;
      this.seenSize = Math.max(this.seenSize, this.readPos);
      let queued = 0;
      for (const r of records) {
        if (r.done) this.stats.skippedDone++;
        else { this.queue.push(r); queued++; }
      }
      return queued > 0 || records.length > 0;
    }
  }

  /** Sends one record through the site; settles it (mark done, or retry later). */
  private send(rec: DetailRecord): void {
    const dict = this.ctx.host.dict;
    if (!dict) { this.queue.unshift(rec); this.pause('no configuration loaded'); return; }
    const { pairs, meta, skipped } = recordPairs(rec, dict, Date.now() / 1000);
    if (skipped.length > 0) this.log.warn(`${this.workPath}[@${rec.offset}]: skipped ${skipped.length} line(s) that do not parse: ${skipped.map((s) => s.split(' = ')[0]).join(', ')}`);
    const ac = new AbortController();
    this.inflight.set(rec, ac);
    if (this.config.rate > 0) this.nextSendAt = Math.max(Date.now(), this.nextSendAt) + 1000 / this.config.rate;
    if (pairs.length === 0) {
      this.stats.malformed++;
      this.log.error(`${this.workPath}[@${rec.offset}]: record has no attribute that parses; dropped`);
      void this.settle(rec, true, undefined, true);
      return;
    }
    this.stats.sent++;
    this.ctx.host.inject(this.config.site, {
      code: 'Accounting-Request',
      pairs,
      ...(meta.srcAddress ? { src: { address: meta.srcAddress, port: meta.srcPort ?? 0 } } : {}),
      signal: ac.signal,
      via: 'detail',
    }).then(
      (r) => this.settle(rec, r.code === ACCOUNTING_RESPONSE, r.code === ACCOUNTING_RESPONSE ? undefined : `site ${this.config.site} answered ${r.name}`),
      (e: Error) => this.settle(rec, false, e.message),
    );
  }

  private async settle(rec: DetailRecord, ok: boolean, why?: string, dropped = false): Promise<void> {
    try {
      if (ok) {
        if (rec.markOffset >= 0 && this.fh) await this.fh.write(DONE_MARK, 0, DONE_MARK.length, rec.markOffset);
        if (!dropped) this.stats.acked++;
        return;
      }
      this.stats.failed++;
      // Back in file order at the front of the queue.
      let i = 0;
      while (i < this.queue.length && this.queue[i].offset < rec.offset) i++;
      this.queue.splice(i, 0, rec);
      if (!this.stopping) this.pause(why ?? 'not acknowledged');
    } catch (e) {
      this.lastError = (e as Error).message;
      this.log.error(`${this.workPath}: cannot mark record at ${rec.offset} done: ${(e as Error).message}`);
    } finally {
      this.inflight.delete(rec);
      this.wake();
    }
  }

  private pause(why: string): void {
    const first = this.pausedUntil <= Date.now();
    this.pausedUntil = Date.now() + this.config.retry_interval * 1000;
    this.lastError = why;
    if (first) this.log.warn(`record not acknowledged (${why}); retrying in ${this.config.retry_interval}s`);
  }

  // ------------------------------------------------------------------ waiting

  private sleep(ms: number): Promise<void> {
    if (this.stopping && this.inflight.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, Math.max(0, ms));
      const prev = this.wakeUp;
      function done(): void { clearTimeout(t); resolve(); }
      this.wakeUp = () => { done(); prev?.(); };
    });
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }
}
