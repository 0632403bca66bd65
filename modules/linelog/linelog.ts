/**
 * The `linelog` instance: expands one line per call and writes it.
 *
 * The line is chosen by `reference` when set: it expands to a dotted path inside the
 * instance's own section (`messages.%{Packet-Type}` → the `Access-Accept` item of the
 * `messages { }` subsection). A path that names nothing falls back to `default` in the same
 * subsection, then to `format`. Every item of every subsection is compiled at startup,
 * so a bad expansion is a located startup error, not a run-time surprise.
 */
import 'reflect-metadata';
import * as path from 'node:path';
import { inject, injectable } from 'tsyringe';
import { METRICS, MODULE_CONFIG, MODULE_LOG, MODULE_NAME, XLATS } from '../../core';
import { MetricsRegistry } from '../../core';
import type { CallContext, Rcode } from '../../core';
import type { BootstrapContext, InstantiateContext } from '../../core';
import type { Logger } from '../../core';
import { sectionOf } from '../../core';
import type { ConfItem, ConfSection } from '../../core';
import { unescapeValue } from '../../core';
import type { Request } from '../../core';
import type { XlatRegistry } from '../../core';
import { boxAsText } from '../../core';
import { escapeControls, escapeString } from '../../core';
import { AppendWriter, appendWriterCollector } from '../shared/append-writer';
import { failureMessage } from '../../core';
import { escapeName, safeName } from '../shared/filename';
import { bareAttrTemplate, compileTemplate, type Template } from '../../core';
import type { LinelogConfig } from './config';


/**
 * Escaping of every expanded value in a line (FreeRADIUS linelog): `\` → `\\`, CR/LF/TAB →
 * `\r` `\n` `\t`, other control characters and invalid UTF-8 → `\ooo`. The literal text of
 * the line is written as configured.
 */
const lineEscape = (s: string): string => escapeString(s, '');

/** Config items of the module section itself, which are not message lines. */
const OWN_SECTIONS = new Set(['file']);

/** The `linelog` module instance. */
@injectable()
export class Linelog {
  private destination: 'file' | 'stdout' | 'stderr' | 'syslog' = 'stdout';
  private filename?: Template;
  private writer?: AppendWriter;
  private format?: Template;
  private reference?: Template;
  /** Compiled lines by dotted path (`messages.Access-Accept`). */
  private readonly lines = new Map<string, Template>();

  constructor(
    @inject(MODULE_CONFIG) private readonly config: LinelogConfig,
    @inject(MODULE_LOG) private readonly logger: Logger,
    @inject(MODULE_NAME) private readonly name: string,
    @inject(XLATS) private readonly xlats?: XlatRegistry,
    @inject(METRICS) private readonly metrics: MetricsRegistry = new MetricsRegistry(),
  ) {}

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

  /** Compiles the templates and opens the destination. */
  instantiate(ctx: InstantiateContext): void {
    const c = this.config;
    const dict = ctx.dict;
    const opts = { dict, xlats: this.xlats };
    const fileConf = c.file ?? c;
    let filename = fileConf.filename ?? c.filename;
    let dest = c.destination;
    // v3: `filename = stdout|stderr|syslog` picks the destination.
    if (!dest && filename && /^(stdout|stderr|syslog)$/.test(filename)) {
      dest = filename as 'stdout' | 'stderr' | 'syslog';
      filename = undefined;
    }
    this.destination = dest ?? (filename ? 'file' : 'stdout');
    if (this.destination === 'file') {
      if (!filename) throw new Error(`${this.name}: destination = file needs a filename`);
      this.filename = compileTemplate(filename, { ...opts, strftime: true, escape: fileConf.escape_filenames ? escapeName : safeName });
      this.writer = new AppendWriter({ fileMode: fileConf.permissions, dirMode: 0o755, fsync: fileConf.fsync, idleTimeoutMs: 60_000 });
      this.unregisterMetrics = this.metrics.collect(appendWriterCollector('linelog', this.name, () => this.writer));
    }
    const cs = sectionOf(c);
    // An unquoted attribute name is a reference to the attribute (v4), e.g. `format = User-Name`.
    const bare = (name: string, text: string): string => {
      const item = cs?.children.find((x) => x.kind === 'pair' && x.attr === name);
      return item?.kind === 'pair' && item.quote === 'bare' ? bareAttrTemplate(text, dict) : text;
    };
    if (c.format !== undefined) {
      const f = bare('format', c.format);
      this.format = compileTemplate(f, { ...opts, strftime: true, escape: f === c.format ? lineEscape : undefined });
    }
    if (c.reference !== undefined) this.reference = compileTemplate(bare('reference', c.reference), opts);
    const sections: ConfItem[] = cs ? cs.children : c.messages;
    for (const item of sections) {
      if (item.kind === 'section' && !OWN_SECTIONS.has(item.name1)) this.compileLines(item, item.name1, opts);
    }
  }

  private compileLines(cs: ConfSection, prefix: string, opts: { dict: InstantiateContext['dict']; xlats?: XlatRegistry }): void {
    for (const item of cs.children) {
      if (item.kind === 'section') {
        this.compileLines(item, `${prefix}.${item.name1}`, opts);
        continue;
      }
      if (item.op === '' || item.value === undefined) continue;
      const ref = item.quote === 'bare' ? bareAttrTemplate(item.value, opts.dict) : item.value;
      const text = item.quote === 'single' ? unescapeValue(item.value, 'single').replace(/[\\"%]/g, (x) => `\\${x}`) : ref;
      // An attribute reference is written as the raw value, "without further molestation" (v4); expansions are escaped.
      const escape = ref !== item.value ? undefined : lineEscape;
      this.lines.set(`${prefix}.${item.attr}`.toLowerCase(), compileTemplate(text, { ...opts, strftime: true, loc: item.loc, escape }));
    }
  }

  /** Closes the file. */
  async detach(): Promise<void> {
    this.unregisterMetrics?.();
    await this.writer?.close();
  }

  /** The template for a reference path: the line, its section's `default`, or `format`. */
  private lookup(ref: string, ctx: CallContext): Template | undefined {
    // References stay inside the instance's own section: one leading dot at most.
    if (ref.startsWith('..')) throw new LinelogError(`Invalid path "${ref}"`);
    const key = ref.replace(/^\.+/, '').toLowerCase();
    if (!this.lines.has(key) && [...this.lines.keys()].some((k) => k.startsWith(`${key}.`))) {
      throw new LinelogError(`Path "${ref}" resolves to a section (should be a pair)`);
    }
    const hit = this.lines.get(key);
    if (hit) return hit;
    const dot = key.lastIndexOf('.');
    const dflt = dot > 0 ? this.lines.get(`${key.slice(0, dot)}.default`) : undefined;
    if (dflt) return dflt;
    if (ctx.log.debugEnabled) ctx.log.debug(`no line for reference "${key}"`);
    return this.format;
  }

  /**
   * Writes the line: `ok`, or `noop` when there is nothing to write, `fail` on errors.
   * Synchronous unless an expansion yields or the destination is a file.
   */
  log(request: Request, ctx: CallContext): Rcode | Promise<Rcode> {
    const failed = (e: unknown): Rcode => {
      if (e instanceof LinelogError) {
        ctx.log.error(e.message);
        failureMessage(request, request.dict, `${this.name}: ${e.message}`);
      } else {
        ctx.log.error(`cannot write log line: ${(e as Error).message}`);
      }
      return 'fail';
    };
    if (!this.format && !this.reference) return failed(new LinelogError('no "format" and no "reference" configured'));
    const withTemplate = (t: Template | undefined): Rcode | Promise<Rcode> => {
      if (!t) return 'noop';
      const line = t.expand(request, ctx.signal);
      const write = (text: string): Rcode | Promise<Rcode> => {
        const w = this.emit(request, text);
        return w instanceof Promise ? w.then(() => 'ok' as Rcode, failed) : 'ok';
      };
      return typeof line === 'string' ? write(line) : line.then(write, failed);
    };
    try {
      if (!this.reference) return withTemplate(this.format);
      const ref = this.reference.expand(request, ctx.signal);
      if (typeof ref === 'string') return withTemplate(this.lookup(ref, ctx));
      return ref.then((r) => withTemplate(this.lookup(r, ctx)), failed);
    } catch (e) {
      return failed(e);
    }
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
        if (typeof f === 'string') return this.writer!.append(path.resolve(f), Buffer.from(text, 'utf8'));
        return f.then((name) => this.writer!.append(path.resolve(name), Buffer.from(text, 'utf8')));
      }
    }
  }
}

/** A configuration problem found at call time (reported as Module-Failure-Message). */
class LinelogError extends Error {}
