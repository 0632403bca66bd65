/**
 * The `linelog` instance: expands one line per call and writes it.
 *
 * The line is chosen by `reference` when set: it expands to a dotted path inside the
 * instance's own section (`messages.%{Packet-Type}` → the `Access-Accept` item of the
 * `messages { }` subsection). A path that names nothing falls back to `default` in the same
 * subsection, then to `format`. Every item of every subsection is compiled at startup,
 * so a bad expansion is a located startup error, not a run-time surprise.
 *
 * An unquoted attribute name (`format = User-Name`, `reference = control.Filter-Id`, a line
 * `test = User-Name`) is a reference to the attribute (v4) and its value is written raw; every
 * other expanded value is escaped as FreeRADIUS does ({@link lineEscape}). A missing
 * `format`/`reference`, or a reference to a section or outside the instance, fails the call
 * (Module-Failure-Message), as in v4.
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inject, injectable } from 'tsyringe';
import { CLOCK, METRICS, MODULE_CONFIG, MODULE_LOG, MODULE_NAME, systemClock, type Clock } from '../../core';
import { MetricsRegistry } from '../../core';
import type { CallContext, Rcode } from '../../core';
import type { BootstrapContext, CompiledTemplate, ConfigAt, EnvOf, InstantiateContext } from '../../core';
import type { Logger } from '../../core';
import type { Request } from '../../core';
import { boxAsText } from '../../core';
import { escapeControls, escapeString } from '../../core';
import { AppendWriter, appendWriterCollector } from '../shared/append-writer';
import { failureMessage } from '../../core';
import { escapeName, safeName } from '../shared/filename';
import type { LinelogConfig } from './config';
import { LineBatcher } from './batch';

const fileEscape = (c: LinelogConfig) => ((c.file ?? c).escape_filenames ? escapeName : safeName);

/**
 * Escaping of every expanded value in a line (FreeRADIUS linelog): `\` → `\\`, CR/LF/TAB →
 * `\r` `\n` `\t`, other control characters and invalid UTF-8 → `\ooo`. The literal text of
 * the line is written as configured; an attribute reference is written raw.
 */
const lineEscape = (s: string): string => escapeString(s, '');

/**
 * `env` of `log`: `reference` is expanded before each call; the line templates (`format`, and
 * every item of every subsection except `file { }`) are handed over compiled and expanded only
 * when chosen; the file name is expanded when a line is written (also by `%<instance>(…)`).
 * Unquoted attribute names are references (`attrRef`); line values are escaped.
 */
export const LINELOG_ENV = {
  reference: { item: 'reference', attrRef: true },
  format: { item: 'format', strftime: true, as: 'template', escape: lineEscape, attrRef: true },
  lines: { sections: '*', except: ['file'], strftime: true, escape: lineEscape, attrRef: true },
  filename: { item: 'filename', strftime: true, as: 'template', escapeBy: fileEscape },
  file_filename: { item: 'file.filename', strftime: true, as: 'template', escapeBy: fileEscape },
  header: { item: 'header', strftime: true, as: 'template', escape: lineEscape, attrRef: true },
} as const;

/** Arguments of {@link Linelog.log}. */
export type LinelogEnv = EnvOf<typeof LINELOG_ENV>;

type Destination = 'file' | 'stdout' | 'stderr' | 'syslog';

/** Where lines go, and which config item holds the file name (v3 `filename = stdout|stderr|syslog` picks the destination). */
function destinationOf(c: LinelogConfig): { dest: Destination; item?: 'file.filename' | 'filename' } {
  const item = c.file?.filename !== undefined ? 'file.filename' : c.filename !== undefined ? 'filename' : undefined;
  const filename = c.file?.filename ?? c.filename;
  if (!c.destination && filename && /^(stdout|stderr|syslog)$/.test(filename)) return { dest: filename as Destination };
  return { dest: c.destination ?? (filename ? 'file' : 'stdout'), item };
}

/**
 * The definition's `validate`: a file destination needs a file name. (No `format` and no
 * `reference` is not a start-time error: as in v4, the call fails.)
 */
export function validateLinelog(c: LinelogConfig, at: ConfigAt): void {
  const { dest, item } = destinationOf(c);
  if (dest === 'file' && !item) at('destination', 'destination = file needs a filename');
}

/** The `linelog` module instance. */
@injectable()
export class Linelog {
  private destination: Destination = 'stdout';
  private filename?: CompiledTemplate;
  private header?: CompiledTemplate;
  /** Per file, the chain of writes while a header is configured (so one header per new file). */
  private readonly chains = new Map<string, Promise<void>>();
  private writer?: AppendWriter;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: LinelogConfig,
    @inject(MODULE_LOG) private readonly logger: Logger,
    @inject(MODULE_NAME) private readonly name: string,
    @inject(METRICS) private readonly metrics: MetricsRegistry = new MetricsRegistry(),
    @inject(CLOCK) private readonly clock: Clock = systemClock,
  ) {}

  /** Set when `buffer_count` > 0: lines are held and written in batches (v4 buffered output). */
  private batcher?: LineBatcher;

  /** Removes this instance's metrics collector (the writer's counters). */
  private unregisterMetrics: (() => void) | undefined;

  /** Registers `%<instance>(text)`: writes `text` as a line. */
  bootstrap(ctx: BootstrapContext): void {
    ctx.registerXlat(this.name, (c, args) => {
      // The argument arrives expanded: literal text and values cannot be told apart, so only
      // the characters that would break the line are escaped.
      const text = escapeControls((args[0] ?? []).map(boxAsText).join(''));
      const r = this.emit(c.request, text);
      return r instanceof Promise ? r.then(() => []) : [];
    }, { minArgs: 1, maxArgs: 1 });
  }

  /** Opens the destination (`validateLinelog` checked the config; `env` compiled the templates). */
  instantiate(ctx: InstantiateContext): void {
    const c = this.config;
    const { dest, item } = destinationOf(c);
    this.destination = dest;
    if (dest === 'file') {
      const env = ctx.env.log as Partial<LinelogEnv> | undefined;
      this.filename = item === 'file.filename' ? env?.file_filename : env?.filename;
      this.header = env?.header;
      const fileConf = c.file ?? c;
      this.writer = new AppendWriter({ fileMode: fileConf.permissions, dirMode: 0o755, fsync: fileConf.fsync, idleTimeoutMs: 60_000 });
      if (fileConf.buffer_count > 0) {
        this.batcher = new LineBatcher({ count: fileConf.buffer_count, delayMs: fileConf.buffer_delay * 1000, fileMode: fileConf.permissions, clock: this.clock });
      }
      this.unregisterMetrics = this.metrics.collect(appendWriterCollector('linelog', this.name, () => this.writer));
    }
  }

  /** Closes the file. */
  async detach(): Promise<void> {
    this.unregisterMetrics?.();
    await this.batcher?.close();
    await this.writer?.close();
  }

  /** The template for a reference path: the line, its section's `default`, or `format`. */
  private lookup(ref: string, ctx: CallContext<LinelogEnv>): CompiledTemplate | undefined {
    const lines = ctx.env.lines;
    // References stay inside the instance's own section: one leading dot at most.
    if (ref.startsWith('..')) throw new LinelogError(`Invalid path "${ref}"`);
    const key = ref.replace(/^\.+/, '').toLowerCase();
    if (!lines.has(key) && [...lines.keys()].some((k) => k.startsWith(`${key}.`))) {
      throw new LinelogError(`Path "${ref}" resolves to a section (should be a pair)`);
    }
    const hit = lines.get(key);
    if (hit) return hit;
    const dot = key.lastIndexOf('.');
    const dflt = dot > 0 ? lines.get(`${key.slice(0, dot)}.default`) : undefined;
    if (dflt) return dflt;
    if (ctx.log.debugEnabled) ctx.log.debug(`no line for reference "${key}"`);
    return ctx.env.format;
  }

  /**
   * Writes the line: `ok`, or `noop` when there is nothing to write, `fail` on errors.
   * Synchronous unless an expansion yields or the destination is a file.
   */
  log(request: Request, ctx: CallContext<LinelogEnv>): Rcode | Promise<Rcode> {
    const failed = (e: unknown): Rcode => {
      if (e instanceof LinelogError) {
        ctx.log.error(e.message);
        failureMessage(request, request.dict, `${this.name}: ${e.message}`);
      } else {
        ctx.log.error(`cannot write log line: ${(e as Error).message}`);
      }
      return 'fail';
    };
    if (!ctx.env.format && ctx.env.reference === undefined) {
      // Logged, not added to Module-Failure-Message (that list is for the request's own problems, as the path errors below).
      ctx.log.error('no "format" and no "reference" configured');
      return 'fail';
    }
    const withTemplate = (t: CompiledTemplate | undefined): Rcode | Promise<Rcode> => {
      if (!t) return 'noop';
      // A line that is an attribute reference (`valid = control.User-Name`) to an attribute the
      // request does not have writes nothing (v4); an attribute with an empty value writes an empty line.
      if (t.attrRef && t.exists?.(request) === false) {
        if (ctx.log.debugEnabled) ctx.log.debug(`${t.text.slice(2, -1)} is absent: no line`);
        return 'noop';
      }
      const line = t.expand(request, t.canYield ? ctx.signal : undefined);
      const write = (text: string): Rcode | Promise<Rcode> => {
        const w = this.emit(request, text);
        return w instanceof Promise ? w.then(() => 'ok' as Rcode, failed) : 'ok';
      };
      return typeof line === 'string' ? write(line) : line.then(write, failed);
    };
    try {
      const ref = ctx.env.reference;
      return withTemplate(ref === undefined ? ctx.env.format : this.lookup(ref, ctx));
    } catch (e) {
      return failed(e);
    }
  }

  /**
   * Appends `text` to `file`, first writing the expanded `header` when the file is new or empty.
   * Writes to one file are chained so that two requests never both write a header.
   */
  private withHeader(request: Request, file: string, text: string): Promise<void> {
    const prev = this.chains.get(file) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(async () => {
      if (!(await hasContent(file))) {
        const h = await this.header!.expand(request);
        await this.writer!.append(file, Buffer.from(h + this.config.delimiter, 'utf8'));
      }
      await this.writer!.append(file, Buffer.from(text, 'utf8'));
    });
    this.chains.set(file, next);
    void next.finally(() => { if (this.chains.get(file) === next) this.chains.delete(file); }).catch(() => undefined);
    return next;
  }

  /** Queues a line for its file's next batch; the header, when set, is expanded with this request. */
  private async buffered(request: Request, file: string, text: string): Promise<void> {
    const h = this.header ? Buffer.from(await this.header.expand(request) + this.config.delimiter, 'utf8') : undefined;
    await this.batcher!.add(file, Buffer.from(text, 'utf8'), h && (() => h));
  }

  /** Sends one line to the destination. */
  private emit(request: Request, line: string): void | Promise<void> {
    const text = line + this.config.delimiter;
    switch (this.destination) {
      case 'stdout': process.stdout.write(text); return;
      case 'stderr': process.stderr.write(text); return;
      case 'syslog': this.logger.info(line); return;
      case 'file': {
        const f = this.filename!.expand(request);
        const put = (name: string): Promise<void> =>
          this.batcher ? this.buffered(request, path.resolve(name), text)
            : this.header ? this.withHeader(request, path.resolve(name), text) : this.writer!.append(path.resolve(name), Buffer.from(text, 'utf8'));
        return typeof f === 'string' ? put(f) : f.then(put);
      }
    }
  }
}

/** True when `file` exists and is not empty. */
async function hasContent(file: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(file)).size > 0;
  } catch {
    return false;
  }
}

/** A configuration problem found at call time (reported as Module-Failure-Message). */
class LinelogError extends Error {}
