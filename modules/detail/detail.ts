/**
 * The `detail` instance: appends one FreeRADIUS-format record per call.
 *
 * ```
 * Sat Nov 21 03:31:35 2026
 * 	Acct-Status-Type = Start
 * 	User-Name = "bob"
 * 	Acct-Session-Id = "0001"
 * 	Timestamp = 1763695895
 *
 * ```
 *
 * Values are printed in the v3 text form (strings quoted, enumerations by name, v3 flat
 * names for vendor attributes). User-Password, CHAP-Password, secret attributes, the
 * `suppress` list and the server's packet/client metadata are never written.
 *
 * Durability: the method returns a Promise that settles only after the record has been
 * written completely (and, with `fsync = yes`, flushed with fdatasync), so the
 * Accounting-Response is sent only for data the kernel holds: it survives the daemon
 * being killed. See `modules/shared/append-writer.ts` for
 * the group commit that keeps that affordable.
 */
import 'reflect-metadata';
import * as path from 'node:path';
import { inject, injectable } from 'tsyringe';
import { METRICS, MODULE_CONFIG, MODULE_LOG, MODULE_NAME } from '../../core';
import { MetricsRegistry } from '../../core';
import type { CallContext, Rcode } from '../../core';
import type { ConfigAt, EnvOf, InstantiateContext, ValidateContext } from '../../core';
import type { Logger } from '../../core';
import type { DictAttr } from '../../core';
import type { Dictionary } from '../../core';
import { Pair } from '../../core';
import { printPairLines } from '../../core';
import type { Request } from '../../core';
import { getValue } from '../../core';
import { AppendWriter, appendWriterCollector } from '../shared/append-writer';
import { escapeName, safeName } from '../shared/filename';
import { makeAt } from '../../core';
import { sectionOf } from '../../core';
import type { DetailConfig } from './config';

/** detail's `escape_filenames`: {@link escapeName}, and a leading `.` becomes `-2e` too. */
const escapeDetailName = (s: string): string => escapeName(s).replace(/^\./, '-2e');

/** `env` of both methods: the file name and the header, expanded before each call. */
export const DETAIL_ENV = {
  filename: { item: 'filename', strftime: true, escapeBy: (c: DetailConfig) => (c.escape_filenames ? escapeDetailName : safeName) },
  header: { item: 'header', strftime: true },
} as const;

/** Arguments of the `detail` methods. */
export type DetailEnv = EnvOf<typeof DETAIL_ENV>;

/**
 * The attributes of the `suppress { }` sections (plus User-Password and CHAP-Password). An
 * unknown name is a located error through `at`; `validateDetail` and `instantiate` both use it.
 */
export function suppressList(c: DetailConfig, dict: Dictionary, at: ConfigAt): Set<DictAttr> {
  const out = new Set<DictAttr>();
  for (const n of ['User-Password', 'CHAP-Password']) {
    const da = dict.resolve(n);
    if (da) out.add(da);
  }
  for (const sec of c.suppress) {
    if (sec.kind !== 'section') at.item(sec, 'suppress', 'expected a section "suppress { Attribute … }"');
    for (const item of sec.children) {
      const name = item.kind === 'pair' ? item.attr.replace(/^&/, '') : item.name1;
      const da = item.kind === 'pair' && item.op === '' ? dict.resolve(name) : undefined;
      if (!da) at.item(item, `suppress.${name}`, `unknown attribute "${name}"`);
      out.add(da);
    }
  }
  return out;
}

/** The definition's `validate`: the suppress list names known attributes. */
export function validateDetail(c: DetailConfig, at: ConfigAt, ctx: ValidateContext): void {
  suppressList(c, ctx.dict, at);
}

/** The `detail` module instance. */
@injectable()
export class Detail {
  private writer?: AppendWriter;
  private suppressed = new Set<DictAttr>();
  private headerDas: DictAttr[] = [];

  constructor(
    @inject(MODULE_CONFIG) private readonly config: DetailConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
    @inject(MODULE_NAME) private readonly name: string,
    @inject(METRICS) private readonly metrics: MetricsRegistry = new MetricsRegistry(),
  ) {}

  /** Removes this instance's metrics collector (the writer's counters). */
  private unregisterMetrics: (() => void) | undefined;

  /** Resolves the suppress list (checked by `validateDetail`) and starts the writer. */
  instantiate(ctx: InstantiateContext): void {
    const dict = ctx.dict;
    const c = this.config;
    this.suppressed = suppressList(c, dict, makeAt(sectionOf(c)!));
    for (const n of ['Packet-Type', 'Packet-Src-IP-Address', 'Packet-Src-IPv6-Address', 'Packet-Dst-IP-Address', 'Packet-Dst-IPv6-Address', 'Packet-Src-Port', 'Packet-Dst-Port']) {
      const da = dict.resolve(n);
      if (da) this.headerDas.push(da);
    }
    this.writer = new AppendWriter({
      fileMode: c.permissions, dirMode: c.dir_permissions, fsync: c.fsync, idleTimeoutMs: c.idle_timeout * 1000,
    });
    this.unregisterMetrics = this.metrics.collect(appendWriterCollector('detail', this.name, () => this.writer));
  }

  /** Flushes pending records and closes the files. */
  async detach(): Promise<void> {
    this.unregisterMetrics?.();
    await this.writer?.close();
  }

  /** Writes the request list (`recv`, `accounting`, and every section except `send`). */
  logRequest(request: Request, ctx: CallContext<DetailEnv>): Promise<Rcode> {
    return this.write(request, request.request, ctx);
  }

  /** Writes the reply list (`send` sections, v3 `post-auth`). */
  logReply(request: Request, ctx: CallContext<DetailEnv>): Promise<Rcode> {
    return this.write(request, request.reply, ctx);
  }

  /** True when a pair is written: not suppressed, not secret, not server packet/client metadata. */
  private keep(p: Pair): boolean {
    const da = p.da;
    if (this.suppressed.has(da) || da.flags.secret) return false;
    if (da.flags.internal && da.parent?.type === 'root') {
      // 1000-1049: packet/transport metadata; 1150-1199: the client. v3 never wrote these.
      const n = da.attr;
      if ((n >= 1000 && n < 1050) || (n >= 1150 && n < 1200)) return false;
    }
    return true;
  }

  /** The record text for `pairs`. */
  format(request: Request, pairs: readonly Pair[], header: string): string {
    const kept = pairs.filter((p) => this.keep(p));
    let s = header + '\n';
    if (this.config.log_packet_header) {
      for (const da of this.headerDas) {
        let v = getValue(request.request, da);
        if (v === undefined && da.name === 'Packet-Type' && request.code) v = request.code;
        if (v === undefined) continue;
        s += printPairLines([new Pair(da, v)]) + '\n';
      }
    }
    const body = printPairLines(kept);
    if (body) s += body + '\n';
    s += `\tTimestamp = ${Math.floor(request.received)}\n\n`;
    return s;
  }

  private async write(request: Request, pairs: readonly Pair[], ctx: CallContext<DetailEnv>): Promise<Rcode> {
    try {
      const file = path.resolve(ctx.env.filename);
      const text = this.format(request, pairs, ctx.env.header);
      if (ctx.log.debugEnabled) ctx.log.debug(`appending to ${file}`);
      await this.writer!.append(file, Buffer.from(text, 'utf8'));
      return 'ok';
    } catch (e) {
      ctx.log.error(`cannot write detail record: ${(e as Error).message}`);
      this.log.error(`cannot write detail record: ${(e as Error).message}`);
      return 'fail';
    }
  }

  /** Writer counters (records, batches, syncs, reopens). */
  get stats(): AppendWriter['stats'] | undefined {
    return this.writer?.stats;
  }

  /** The writer, for tests. */
  get appendWriter(): AppendWriter | undefined {
    return this.writer;
  }
}
