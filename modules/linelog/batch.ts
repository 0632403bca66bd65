/**
 * Buffered file output of linelog (v4 `file { buffer_count, buffer_delay }`): lines for one file are
 * held until `buffer_count` of them are waiting or `buffer_delay` has passed since the first, then
 * written with one write and one fsync. Each call waits until its own line is on disk (or fails).
 *
 * A write that stops short because the file system is full (ENOSPC after some bytes) is cut back to
 * the end of the last whole line: the lines that fit succeed, the others fail, and no partial line
 * stays in the file (as FreeRADIUS v4 truncates it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Clock, TimerHandle } from '../../core';

/** Settings of a {@link LineBatcher}. */
export interface BatchOptions {
  /** Lines that trigger a write at once. */
  readonly count: number;
  /** Longest wait of the first line of a batch, in ms (0: only `count` triggers a write). */
  readonly delayMs: number;
  /** Mode of newly created files. */
  readonly fileMode: number;
  /** Timers of `delayMs` (the server clock). */
  readonly clock: Clock;
}

interface Waiting { readonly data: Buffer; resolve(): void; reject(e: Error): void }

/** The lines waiting for one file, the header for a new file, and the write in progress. */
interface FileBatch {
  lines: Waiting[];
  header?: Buffer;
  timer?: TimerHandle;
  writing: Promise<void>;
}

/** Per-file line buffers; {@link add} resolves once the line is written. */
export class LineBatcher {
  private readonly files = new Map<string, FileBatch>();

  constructor(private readonly o: BatchOptions) {}

  /**
   * Queues `data` (one line with its delimiter) for `file`. `header` (with delimiter) is written
   * first when the file is empty at write time. Resolves when the line is on disk.
   */
  add(file: string, data: Buffer, header?: () => Buffer): Promise<void> {
    let b = this.files.get(file);
    if (!b) {
      b = { lines: [], writing: Promise.resolve() };
      this.files.set(file, b);
    }
    if (header && !b.header) b.header = header();
    const batch = b;
    const done = new Promise<void>((resolve, reject) => batch.lines.push({ data, resolve, reject }));
    if (batch.lines.length >= this.o.count) this.flush(file, batch);
    else if (!batch.timer && this.o.delayMs > 0) batch.timer = this.o.clock.setTimeout(() => this.flush(file, batch), this.o.delayMs);
    return done;
  }

  /** Writes what is waiting for every file (shutdown). */
  async close(): Promise<void> {
    for (const [file, b] of this.files) this.flush(file, b);
    await Promise.all([...this.files.values()].map((b) => b.writing));
    this.files.clear();
  }

  /** Takes the waiting lines of `file` and writes them after any write still in progress. */
  private flush(file: string, b: FileBatch): void {
    this.o.clock.clearTimeout(b.timer);
    b.timer = undefined;
    const lines = b.lines;
    if (lines.length === 0) return;
    b.lines = [];
    const header = b.header;
    b.header = undefined;
    b.writing = b.writing.then(() => writeLines(file, lines, header, this.o.fileMode));
  }
}

/** Appends `lines` (after `header` when the file is empty) in one write; settles every line. */
async function writeLines(file: string, lines: readonly Waiting[], header: Buffer | undefined, mode: number): Promise<void> {
  let fh: fs.promises.FileHandle | undefined;
  try {
    await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    fh = await fs.promises.open(file, 'a', mode);
    const offset = (await fh.stat()).size;
    const parts = lines.map((l) => l.data);
    const head = header && offset === 0 ? header : undefined;
    const all = Buffer.concat(head ? [head, ...parts] : parts);
    let written = 0;
    let error: NodeJS.ErrnoException | undefined;
    while (written < all.length) {
      try {
        const { bytesWritten } = await fh.write(all, written, all.length - written);
        if (bytesWritten === 0) break;
        written += bytesWritten;
      } catch (e) {
        error = e as NodeJS.ErrnoException;
        break;
      }
    }
    if (written < all.length && !(error?.code === 'ENOSPC' && written > 0)) throw error ?? new Error(`short write to ${file}`);
    // Lines wholly written succeed; the rest fail, and a partial line is cut off.
    let end = head ? head.length : 0;
    let ok = 0;
    while (ok < lines.length && end + lines[ok].data.length <= written) end += lines[ok++].data.length;
    if (end < written || (head && written < head.length)) await fh.truncate(offset + (head && written < head.length ? 0 : end));
    await fh.datasync();
    for (let i = 0; i < lines.length; i++) {
      if (i < ok) lines[i].resolve();
      else lines[i].reject(new Error(`no space left on device writing ${file} (${lines.length - ok} of ${lines.length} buffered lines lost)`));
    }
  } catch (e) {
    for (const l of lines) l.reject(e as Error);
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
