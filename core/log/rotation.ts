/**
 * Log rotation detection by inode (the project seed's "Interaction with the environment"
 * rule): every `interval` the log file's *name* is `stat()`ed and compared with the open
 * descriptor (`fstat`). When the name is gone (renamed or deleted) or now names a different
 * file (device or inode differ), the owner reopens the name, creating a fresh file. So
 * `mv radius.log old.log; sleep 60; process old.log` works: lines keep going to `old.log`
 * until the next check, then to a new `radius.log`.
 */
import * as fs from 'node:fs';

/** Default period between checks: one minute. */
export const DEFAULT_ROTATION_CHECK_MS = 60_000;

/** What the watcher needs from the file's owner. */
export interface RotationTarget {
  /** The log file name as configured. */
  readonly path: string;
  /** The currently open descriptor, or a negative number while none is open. */
  fd(): number;
  /** Close the old descriptor and open (create) `path` again. */
  reopen(): void;
}

/** Result of one check. */
export type RotationCheck = 'same' | 'moved' | 'missing' | 'error';

/** Periodically compares a log file name with its open descriptor and reopens on a change. */
export class RotationWatcher {
  private timer: ReturnType<typeof setInterval> | undefined;

  /**
   * @param target the file and its reopen action
   * @param intervalMs period between checks; `0` disables the timer (call {@link check} yourself)
   * @param onError told about failures (stat of the descriptor, reopen); never throws
   */
  constructor(
    private readonly target: RotationTarget,
    readonly intervalMs: number = DEFAULT_ROTATION_CHECK_MS,
    private readonly onError?: (err: unknown) => void,
  ) {}

  /** Starts the periodic check (unref'd, so it never keeps the process alive). */
  start(): this {
    if (this.timer || this.intervalMs <= 0) return this;
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref?.();
    return this;
  }

  /** Stops the periodic check. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One check now; reopens when the name no longer refers to the open file. */
  check(): RotationCheck {
    const fd = this.target.fd();
    if (fd < 0) return 'same';
    let byName: fs.Stats | undefined;
    try {
      byName = fs.statSync(this.target.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.onError?.(err);
        return 'error';
      }
    }
    let open: fs.Stats;
    try {
      open = fs.fstatSync(fd);
    } catch (err) {
      this.onError?.(err);
      return 'error';
    }
    if (byName && byName.ino === open.ino && byName.dev === open.dev) return 'same';
    try {
      this.target.reopen();
    } catch (err) {
      this.onError?.(err);
      return 'error';
    }
    return byName ? 'moved' : 'missing';
  }
}
