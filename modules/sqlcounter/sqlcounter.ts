/**
 * The `sqlcounter` instance (FreeRADIUS rlm_sqlcounter): usage allowances from the sessions in
 * radacct. Called in `recv Access-Request` after the limit is known (a check item such as
 * `Max-Daily-Session` from `sql` or `files`):
 *
 * - no key or no limit in control: `noop`;
 * - the query (through the `sql` instance) gives the usage in the current period, stored in
 *   `control.<counter_name>`;
 * - usage ≥ limit: `reject` with a Reply-Message;
 * - otherwise the remaining allowance goes to `reply.<reply_name>` (Session-Timeout), never
 *   above a value already there: `updated` (`ok` without reply_name).
 *
 * `%sqlcounter.reset_start('daily')` / `%sqlcounter.reset_end('daily')` give the period of the
 * request (epoch seconds, local time) for the query.
 */
import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { MODULE_CONFIG, MODULE_DEPS, MODULE_LOG, MODULE_NAME } from '../../core';
import type { BootstrapContext, CallContext, ConfigAt, DepHandles, DictAttr, Dictionary, EnvOf, InstantiateContext, Logger, Rcode, Request, ValidateContext } from '../../core';
import { Pair, box, failureMessage, setValue } from '../../core';
import { genericEscaper, pgEscaper } from '../sql/queries';
import sqlModule from '../sql';
import type { SqlcounterConfig } from './config';
import { parseReset, periodOf, type Reset } from './period';

/** The `sql` instance this counter queries (named by `sql_module_instance`). */
export const SQLCOUNTER_DEPS = { sql: { module: sqlModule, item: 'sql_module_instance' } } as const;

/** Per-call arguments: the key (expanded before the call) and the query (expanded only when a limit exists). */
export const SQLCOUNTER_ENV = {
  key: { item: 'key', attrRef: true },
  query: { item: 'query', as: 'template', escapeBy: (c: SqlcounterConfig) => escaperFor(c), rewriteBy: (c: SqlcounterConfig) => v3Forms(c) },
} as const;
export type SqlcounterEnv = EnvOf<typeof SQLCOUNTER_ENV>;

/**
 * FreeRADIUS 3 queries write the period start `%b` (or `%%b`), its end `%e` and the key `%k`: rewritten
 * into `%sqlcounter.reset_start('<reset>')`, `%sqlcounter.reset_end('<reset>')` and the key's
 * expansion, so a v3 `mods-available/sqlcounter` works as it is.
 */
export function v3Forms(c: SqlcounterConfig): (text: string) => string {
  const reset = c.reset.replace(/'/g, '');
  const key = /^[A-Za-z][\w.-]*$/.test(c.key) ? `%{${c.key}}` : c.key;
  const forms: Record<string, string> = { b: `%sqlcounter.reset_start('${reset}')`, e: `%sqlcounter.reset_end('${reset}')`, k: key };
  // 3.2 files write them `%%b` (one `%` for the config escape); a longer run of `%` is left alone.
  return (text) => text.replace(/(?<!%)%%?([bek])(?![\w.(])/g, (_m, ch: string) => forms[ch]);
}

/** The escaper of the `dialect` (the sql module's). */
function escaperFor(c: SqlcounterConfig): (s: string) => string {
  return c.dialect.toLowerCase().replace(/^rlm_sql_/, '') === 'postgresql' ? pgEscaper : genericEscaper(c.safe_characters);
}

/** What `validate` and `instantiate` both resolve. */
interface Resolved {
  reset: Reset;
  counter: ListAttr;
  check: ListAttr;
  reply?: ListAttr;
  message?: DictAttr;
}

/** An attribute and the list it lives in (`control.Daily-Session-Time`). */
interface ListAttr { readonly list: 'request' | 'reply' | 'control'; readonly da: DictAttr }

/** Checks the config and resolves the attributes (located errors through `at`). */
export function resolveSqlcounter(c: SqlcounterConfig, at: ConfigAt, dict: Dictionary): Resolved {
  const d = c.dialect.toLowerCase().replace(/^rlm_sql_/, '');
  if (d !== 'sqlite' && d !== 'postgresql') at('dialect', `unknown dialect "${c.dialect}" (expected sqlite or postgresql)`);
  const reset = parseReset(c.reset) ?? at('reset', `invalid reset "${c.reset}" (hourly, daily, weekly, monthly, never, or <n>h|d|w|m)`);
  const attr = (item: 'counter_name' | 'check_name' | 'reply_name', list: ListAttr['list']): ListAttr => {
    const m = /^(?:(request|reply|control)\.)?(.+)$/.exec(c[item]!.trim())!;
    const da = dict.resolve(m[2]) ?? at(item, `unknown attribute "${m[2]}"`);
    if (da.type === 'tlv' || da.type === 'group' || da.type === 'struct') at(item, `"${m[2]}" is not a leaf attribute`);
    return { list: (m[1] as ListAttr['list'] | undefined) ?? list, da };
  };
  const counter = attr('counter_name', 'control');
  const check = attr('check_name', 'control');
  if (!/int|date|time_delta/.test(check.da.type)) at('check_name', `"${check.da.name}" must be a number (it is ${check.da.type})`);
  const reply = c.reply_name ? attr('reply_name', 'reply') : undefined;
  if (reply && !/int|time_delta/.test(reply.da.type)) at('reply_name', `"${reply.da.name}" must be a number (it is ${reply.da.type})`);
  const message = dict.resolve(c.reply_message_name.replace(/^reply\./, '')) ?? at('reply_message_name', `unknown attribute "${c.reply_message_name}"`);
  return { reset, counter, check, reply, message };
}

/** The `sqlcounter` module instance. */
@injectable()
export class Sqlcounter {
  private r!: Resolved;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: SqlcounterConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
    @inject(MODULE_NAME) private readonly name: string,
    @inject(MODULE_DEPS) private readonly deps: DepHandles<typeof SQLCOUNTER_DEPS>,
  ) {}

  /**
   * `%sqlcounter.reset_start('<reset>')`, `%sqlcounter.reset_end('<reset>')`: the period of the
   * request's receive time, epoch seconds (queries write `'${.reset}'`, so one query file serves
   * every instance). Every instance registers the same functions.
   */
  bootstrap(ctx: BootstrapContext): void {
    const period = (x: { request: Request }, a: readonly (readonly { value: unknown }[])[]) => {
      const text = (a[0] ?? []).map((b) => String(b.value)).join('');
      const reset = parseReset(text);
      if (!reset) throw new Error(`invalid reset "${text}"`);
      return periodOf(reset, Math.floor(x.request.received), this.config.utc);
    };
    // FreeRADIUS v4 puts the period in control as <instance>-Reset-Start / -Reset-End.
    for (const n of [`${this.name}-Reset-Start`, `${this.name}-Reset-End`]) {
      if (!ctx.dict.resolve(n)) ctx.dict.loadText(`DEFINE\t${n}\tuint64`, `<sqlcounter ${this.name}>`);
    }
    ctx.registerXlat('sqlcounter.reset_start', (x, a) => [box('uint32', period(x, a).start)], { minArgs: 1, maxArgs: 1, returnType: 'uint32' });
    ctx.registerXlat('sqlcounter.reset_end', (x, a) => [box('uint32', period(x, a).end)], { minArgs: 1, maxArgs: 1, returnType: 'uint32' });
  }

  instantiate(ctx: InstantiateContext): void {
    const at = ((path: string, msg: string) => { throw new Error(`sqlcounter ${this.name} { ${path} }: ${msg}`); }) as ConfigAt;
    this.r = resolveSqlcounter(this.config, at, ctx.dict);
    const driver = this.deps.sql.driverName;
    const dialect = this.config.dialect.toLowerCase().replace(/^rlm_sql_/, '');
    if (driver && driver !== dialect) this.log.warn(`dialect = ${this.config.dialect} but sql instance "${this.config.sql_module_instance}" uses ${driver}: values may be escaped differently`);
  }

  /** `recv Access-Request`: compares the usage with the limit, sets the remaining allowance. */
  async authorize(request: Request, ctx: CallContext<SqlcounterEnv>): Promise<Rcode> {
    const { reset, counter, check, reply: replyAt, message } = this.r;
    if (!ctx.env.key) return 'noop';
    const lim = request.list(check.list).find((p) => p.da === check.da);
    if (!lim || lim.value === undefined) return 'noop';
    const limit = toNumber(lim.value);
    const now = Math.floor(request.received);
    const period = periodOf(reset, now, this.config.utc);
    for (const [suffix, v] of [['Start', period.start], ['End', period.end]] as const) {
      const da = request.dict!.resolve(`${this.name}-Reset-${suffix}`);
      if (da) setValue(request.control, da, BigInt(v));
    }
    let used: number;
    try {
      const t = ctx.env.query;
      if (!t) throw new Error('no query');
      const text = await t.expand(request, t.canYield ? ctx.signal : undefined);
      if (ctx.log.debugEnabled) ctx.log.debug(`query: ${t.text.replace(/\s+/g, ' ').slice(0, 200)}`);
      const res = await this.deps.sql.query(text, ctx.signal);
      const v = res.rows[0]?.[0];
      used = v === null || v === undefined || v === '' ? 0 : Math.floor(Number(v));
      if (!Number.isFinite(used)) throw new Error(`query returned "${v}", not a number`);
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      ctx.log.error(msg);
      failureMessage(request, request.dict!, `${this.name}: ${msg}`);
      return 'fail';
    }
    setValue(request.list(counter.list), counter.da, counter.da.type.startsWith('uint64') ? BigInt(Math.max(0, used)) : Math.max(0, used));
    if (used >= limit) {
      ctx.log.info(`${counter.da.name} ${used} reached ${check.da.name} ${limit}: rejected`);
      if (message) {
        setValue(request.reply, message, this.config.reply_message ?? `Your maximum ${reset.name} usage has been reached`);
      }
      return 'reject';
    }
    let remaining = limit - used;
    if (!replyAt) return 'ok';
    const reply = replyAt.da;
    const replyList = request.list(replyAt.list);
    const { end } = period;
    // The allowance reaches past the reset: until the reset, then the next period's whole limit (FreeRADIUS v4).
    if (this.config.auto_extend && end > 0 && remaining >= end - now) remaining = end - now + limit;
    const max = reply.type === 'uint8' ? 0xff : reply.type === 'uint16' ? 0xffff : reply.type === 'uint64' ? Number.MAX_SAFE_INTEGER : 0xffffffff;
    remaining = Math.min(remaining, max);
    const cur = replyList.find((p) => p.da === reply);
    if (cur && cur.value !== undefined && toNumber(cur.value) <= remaining) {
      if (ctx.log.debugEnabled) ctx.log.debug(`${reply.name} ${String(cur.value)} already at most ${remaining}; kept`);
      return 'ok';
    }
    const value = reply.type === 'uint64' ? BigInt(remaining) : remaining;
    if (cur) setValue(replyList, reply, value);
    else replyList.push(new Pair(reply, value));
    if (ctx.log.debugEnabled) ctx.log.debug(`${reply.name} := ${remaining} (${limit} - ${used})`);
    return 'updated';
  }
}

function toNumber(v: unknown): number {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return Math.floor(v.getTime() / 1000);
  return Number(v);
}

/** `validate`: the same checks as `instantiate`, for `radiusd -C`. */
export function validateSqlcounter(c: SqlcounterConfig, at: ConfigAt, ctx: ValidateContext): void {
  resolveSqlcounter(c, at, ctx.dict);
}
