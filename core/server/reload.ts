/**
 * Reload triggers other than SIGHUP (which the CLI wires): a flag file and a periodic timer
 * (`reload { flag_file; check_interval; interval }` in radiusd.conf).
 *
 * - Flag file: every `check_interval` the file is looked for; when it exists it is removed
 *   and a reload is started (so a configuration pushed over NFS/SMB can be activated by
 *   touching the file; the file disappearing tells the operator the server noticed it).
 * - Periodic: every `interval` a reload is started (for generated configurations).
 *
 * Timers are unref'd: they never keep the process alive on their own.
 */
import * as fs from 'node:fs';
import type { Logger } from '../log/logger';

/** The flag-file poller and the periodic reload timer. */
export class ReloadTriggers {
  private flagTimer: NodeJS.Timeout | undefined;
  private periodic: NodeJS.Timeout | undefined;

  constructor(
    private flagFile: string,
    private checkInterval: number,
    private interval: number,
    private readonly fire: (why: string) => void,
    private readonly log: Logger,
  ) {}

  /** Starts the timers (seconds; 0 disables each). */
  start(): void {
    this.stop();
    if (this.checkInterval > 0 && this.flagFile) {
      this.flagTimer = setInterval(() => this.checkFlag(), this.checkInterval * 1000);
      this.flagTimer.unref();
    }
    if (this.interval > 0) {
      this.periodic = setInterval(() => {
        this.log.info('reload: periodic reload');
        this.fire('periodic');
      }, this.interval * 1000);
      this.periodic.unref();
    }
  }

  /** Applies the settings of a new generation (restarting the timers when they changed). */
  configure(flagFile: string, checkInterval: number, interval: number): void {
    if (flagFile === this.flagFile && checkInterval === this.checkInterval && interval === this.interval) return;
    this.flagFile = flagFile;
    this.checkInterval = checkInterval;
    this.interval = interval;
    this.start();
  }

  /** Looks for the flag file once; removes it and fires when present. Returns true when it fired. */
  checkFlag(): boolean {
    let present = false;
    try {
      present = fs.statSync(this.flagFile).isFile();
    } catch {
      return false;
    }
    if (!present) return false;
    try {
      fs.unlinkSync(this.flagFile);
    } catch (e) {
      // Not removable: do not reload in a loop every interval.
      this.log.error(`reload: flag file ${this.flagFile} exists but cannot be removed (${(e as Error).message}); ignoring it`);
      return false;
    }
    this.log.info(`reload: flag file ${this.flagFile} found`);
    this.fire('flag');
    return true;
  }

  /** Stops both timers. */
  stop(): void {
    if (this.flagTimer) clearInterval(this.flagTimer);
    if (this.periodic) clearInterval(this.periodic);
    this.flagTimer = undefined;
    this.periodic = undefined;
  }
}
