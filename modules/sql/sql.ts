/**
 * The `sql` instance: FreeRADIUS rlm_sql on SQLite (embedded, in a worker thread) or PostgreSQL.
 *
 * - `authorize` (`recv *`): the user's check and reply rows, then (Fall-Through / read_groups)
 *   the user's groups in priority order, then (read_profiles) `control.User-Profile` values and
 *   `default_user_profile` as groups; users-file operator semantics throughout.
 * - `accounting` (`accounting <Status-Type>`, or `sql.accounting.<name>`): the list of
 *   alternative queries for that status; the first that changes a row wins (`ok`); an integrity
 *   violation moves on to the next; an exhausted list is `noop` (Accounting-On/Off: `ok`). The
 *   call returns only after the database committed, so an acknowledged Accounting-Request is in
 *   the database.
 * - `send` (`send Access-Accept` …, v3 `post-auth`): the post-auth logging list.
 * - `%<instance>("stmt")`: a SELECT gives the first column of every row; INSERT/UPDATE/DELETE
 *   the number of changed rows. `%<instance>.escape(text)` escapes a value for the driver.
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inject, injectable } from 'tsyringe';
import { ConfError } from '../../core';
import { sectionOf } from '../../core';
import { valueKey, type DictAttr } from '../../core';
import type { Dictionary } from '../../core';
import type { Logger } from '../../core';
import type { CallContext, MapResult, ModuleClient, Rcode } from '../../core';
import type { BootstrapContext, CompiledTemplate, ConfigAt, EnvOf, InstantiateContext, ValidateContext } from '../../core';
import { MODULE_CONFIG, MODULE_LOG, MODULE_NAME, TRUNKS, XLATS } from '../../core';
import { Pair } from '../../core';
import type { Request } from '../../core';
import { trunkFactory, type TrunkFactory } from '../../core';
import type { ProbeTarget } from '../../core';
import { box, type Box, type SafeFor, type ValueEscape } from '../../core';
import type { XlatRegistry } from '../../core';
import { failureMessage, setValue } from '../../core';
import { applyItems, checksPass, compileRows } from './authorize';
import type { SqlConfig } from './config';
import { SqlError, SqlPool, readsOnly, type SqlConn, type SqlResult } from './driver';
import { PgConn } from './postgresql';
import { SessionAttrs } from '../shared/sessions';
import { accountingLists, genericEscaper, honouringSafeFor, pgEscaper, postAuthLists, sqlSafeFor, type Escaper, type QueryList } from './queries';
import { SqliteConn } from './sqlite';

type Driver = 'sqlite' | 'postgresql';

/** `host`, `host:port`, `[v6]:port` → parts (port 0 when absent). */
function hostPort(server: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(server) ?? /^([^:]*):(\d+)$/.exec(server);
  return m ? { host: m[1], port: Number(m[2] ?? 0) } : { host: server, port: 0 };
}

/**
 * The PostgreSQL servers a config names, as `radiusd -C` probes them: host (or the Unix socket
 * directory, then the socket file in it) and port, defaults filled in.
 */
export function pgServers(c: { server: readonly string[]; port: number }): { label: string; target: ProbeTarget }[] {
  return (c.server.length ? c.server : ['']).map(hostPort).map(({ host, port }) => {
    const h = host || 'localhost';
    const p = port || c.port || 5432;
    return h.startsWith('/') ? { label: `${h}:${p}`, target: { path: path.join(h, `.s.PGSQL.${p}`) } } : { label: `${h}:${p}`, target: { host: h, port: p } };
  });
}

/** The configured driver's name (`rlm_sql_postgresql` → `postgresql`). */
const driverName = (c: SqlConfig): string => c.driver.replace(/^rlm_sql_/, '').toLowerCase();

/** The escaper of the configured driver. */
function driverEscaper(c: SqlConfig): Escaper {
  return driverName(c) === 'postgresql' ? pgEscaper : genericEscaper(c.safe_characters);
}

/**
 * The escape of values expanded into queries: the driver's escaper, except for values marked
 * safe for the driver (`%sql.safe(…)`, `%sql.escape(…)`, kept through a local variable).
 */
export function sqlEscaper(c: SqlConfig): ValueEscape {
  return honouringSafeFor(sqlSafeFor(driverName(c)), driverEscaper(c));
}

/** The text of an xlat's arguments, joined. */
const argText = (args: readonly (readonly Box[])[]): string => args.map((a) => a.map((b) => String(b.value)).join('')).join('');

/** `sql_user_name`: a value, not a query (the queries escape SQL-User-Name when they use it). */
const USER_NAME = { userName: { item: 'sql_user_name', as: 'template' } } as const;
/** A query template, compiled by the loader with the driver's escaper; expanded when (and if) the method needs it. */
const query = (item: string) => ({ item, as: 'template', escapeBy: sqlEscaper }) as const;

/** Per-call arguments of `authorize`: the user name and the authorisation queries (group queries are expanded per group). */
export const SQL_AUTHORIZE_ENV = {
  ...USER_NAME,
  check: query('authorize_check_query'),
  reply: query('authorize_reply_query'),
  membership: query('group_membership_query'),
  groupCheck: query('authorize_group_check_query'),
  groupReply: query('authorize_group_reply_query'),
} as const;
export type SqlAuthorizeEnv = EnvOf<typeof SQL_AUTHORIZE_ENV>;

/** Per-call arguments of `session` (Simultaneous-Use). */
export const SQL_SESSION_ENV = { ...USER_NAME, simulCount: query('simul_count_query'), simulVerify: query('simul_verify_query') } as const;
export type SqlSessionEnv = EnvOf<typeof SQL_SESSION_ENV>;

/** Every `query` (repeated alternatives, in order) inside one list section, compiled with the driver's escaper. */
const lists = (sections: string) => ({ sections, lists: true, escapeBy: sqlEscaper }) as const;

/**
 * Per-call arguments of `accounting` and `send`: the user name and the query lists (v4
 * `accounting { start { query … } }` / `send { access-accept { … } }`, v3 `accounting { type { … } }` /
 * `post-auth { … }`), arranged into named lists by `configure`.
 */
export const SQL_LIST_ENV = { ...USER_NAME, accounting: lists('accounting'), send: lists('send'), postAuth: lists('post-auth') } as const;
export type SqlListEnv = EnvOf<typeof SQL_LIST_ENV>;

/** A query sent before its turn: the text it was sent with and its answer. */
interface Early {
  readonly text: string;
  readonly result: Promise<SqlResult>;
}

/** The `sql` module instance. */
@injectable()
export class Sql {
  private driver: Driver = 'sqlite';
  private escape!: Escaper;
  /** The mark of values this driver's escaping leaves alone. */
  private safeFor!: SafeFor;
  private dict!: Dictionary;
  private acct = new Map<string, QueryList>();
  private postAuth = new Map<string, QueryList>();
  private sqlUserName!: DictAttr;
  private groupAttr!: DictAttr;
  private userProfile?: DictAttr;
  private queryNumber?: DictAttr;
  private acctStatusType?: DictAttr;
  /** The acct_unique key and Simultaneous-Use (shared with rediswho). */
  private sessionAttrs?: SessionAttrs;
  private pool?: SqlPool;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: SqlConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
    @inject(MODULE_NAME) private readonly name: string,
    @inject(TRUNKS) private readonly trunks: TrunkFactory,
    @inject(XLATS) private readonly xlats?: XlatRegistry,
  ) {}

  /** Located config error at the module section (or an item of it). */
  private fail(msg: string, item?: string): never {
    const cs = sectionOf(this.config);
    const pair = item && cs ? cs.children.find((c) => c.kind === 'pair' && c.attr === item) : undefined;
    throw new ConfError('ERR_CONF_VALUE', (pair ?? cs)?.loc ?? { file: '<sql>', line: 0 }, `sql ${this.name}${item ? ` { ${item} }` : ''}: ${msg}`);
  }

  /**
   * Registers `%<instance>(…)`, `.fetch`, `.modify`, `%<instance>.escape(…)` and
   * `%<instance>.safe(…)`: the last two return a value marked safe for the driver, which map
   * queries and the module's templates then use as it is (also from a local variable).
   */
  bootstrap(ctx: BootstrapContext): void {
    ctx.registerXlat(this.name, (x, args) => this.xlat(argText(args), 'auto', x.signal), { minArgs: 1 });
    ctx.registerXlat(`${this.name}.fetch`, (x, args) => this.xlat(argText(args), 'select', x.signal), { minArgs: 1 });
    ctx.registerXlat(`${this.name}.modify`, (x, args) => this.xlat(argText(args), 'write', x.signal), { minArgs: 1, returnType: 'uint32' });
    const safe = (text: string): Box[] => {
      const b = box('string', text);
      b.safeFor = this.safeFor;
      return [b];
    };
    ctx.registerXlat(`${this.name}.escape`, (_x, args) => safe(this.escape(argText(args))), { minArgs: 1, maxArgs: 1, returnType: 'string', pure: true });
    ctx.registerXlat(`${this.name}.safe`, (_x, args) => safe(argText(args)), { minArgs: 1, maxArgs: 1, returnType: 'string', pure: true });
  }

  /**
   * Compiles the queries and checks the attributes: the first step of `instantiate`, and the
   * definition's `validate` (on a throw-away instance), so `radiusd -C` fails when start-up would.
   */
  configure(ctx: Pick<InstantiateContext, 'dict'>, at?: ConfigAt): void {
    const c = this.config;
    this.dict = ctx.dict;
    // validate reports through `at` (the loader's located errors); instantiate through this.fail.
    const fail: (msg: string, item?: string) => never = (msg, item) => (at && item ? at(item, msg) : this.fail(msg, item));
    const d = driverName(c);
    if (d !== 'sqlite' && d !== 'postgresql') fail(`unknown driver "${c.driver}" (expected sqlite or postgresql)`, 'driver');
    this.driver = d;
    if (d === 'sqlite' && !c.sqlite.filename) fail('the sqlite driver needs sqlite { filename }', 'sqlite');
    this.escape = driverEscaper(c);
    this.safeFor = sqlSafeFor(d);
    const resolve = (n: string, item?: string): DictAttr => ctx.dict.resolve(n) ?? fail(`attribute "${n}" is not in the dictionary`, item);
    this.sqlUserName = resolve('SQL-User-Name');
    this.groupAttr = c.group_attribute
      ? resolve(c.group_attribute, 'group_attribute')
      : (this.name !== 'sql' && ctx.dict.resolve(`${this.name}-SQL-Group`)) || resolve('SQL-Group');
    this.userProfile = ctx.dict.resolve('User-Profile');
    this.acctStatusType = ctx.dict.resolve('Acct-Status-Type');
    this.sessionAttrs = new SessionAttrs(ctx.dict);
    if (c.query_number_attribute) {
      // FreeRADIUS defines the attribute (uint32, server-internal) when the dictionary lacks it.
      const n = c.query_number_attribute;
      if (!ctx.dict.resolve(n) && /^[A-Za-z][\w-]*$/.test(n)) ctx.dict.loadText(`DEFINE\t${n}\tuint32`, '<sql query_number_attribute>');
      this.queryNumber = resolve(n, 'query_number_attribute');
    }
    else if (c.record_query_number) this.queryNumber = ctx.dict.resolve('SQL-Query-Number') ?? undefined;
    // The lists' templates come from env (compiled and located by the loader, also under -C, where
    // this throw-away instance gets none and keeps empty lists).
    const envOf = (m: string) => ('env' in ctx ? (ctx as InstantiateContext).env[m] as Partial<SqlListEnv> | undefined : undefined);
    const acct = envOf('accounting');
    const send = envOf('send');
    this.acct = accountingLists(c.accounting, acct?.accounting ?? new Map());
    this.postAuth = postAuthLists(c.send, c['post-auth'], new Map([...(send?.send ?? []), ...(send?.postAuth ?? [])]));
  }

  /**
   * The definition's `validate`: the cross-field rules (driver and its settings, attribute
   * names) reported through `at`, and the accounting / post-auth lists compiled, on a throw-away
   * instance that opens nothing; `radiusd -C` fails exactly when start-up would.
   */
  static validate(config: SqlConfig, at: ConfigAt, ctx: ValidateContext): void {
    new Sql(config, ctx.log, ctx.name, trunkFactory, ctx.xlats).configure(ctx, at);
  }

  /**
   * Opens the connections (SQLite: the worker; PostgreSQL: `pool.start` connections per server).
   * SQLite's are local: the start waits until they are open (or failed), at most `busy_timeout` +
   * 1 s, so the first request does not wait on a thread start and a schema bootstrap.
   */
  instantiate(ctx: InstantiateContext): void | Promise<void> {
    this.configure(ctx);
    const c = this.config;
    const p = c.pool;
    const reconnect = (p.connection?.reconnect_delay ?? p.retry_delay) * 1000;
    const connectTimeout = (p.connection?.connect_timeout ?? p.connect_timeout) * 1000;
    const queryTimeout = c.query_timeout * 1000;
    const targets = this.driver === 'sqlite'
      ? [{
          label: c.sqlite.filename!,
          perConnectionMax: 4096,
          create: () => new SqliteConn({
            filename: path.resolve(c.sqlite.filename!),
            bootstrap: c.sqlite.bootstrap.map((f) => path.resolve(f)),
            busyTimeout: c.sqlite.busy_timeout * 1000,
            journalMode: c.sqlite.journal_mode,
            synchronous: c.sqlite.synchronous,
            batch: c.sqlite.batch,
            singleWriter: c.sqlite.single_writer,
          }, 4096, (files) => this.log.info(`${c.sqlite.filename}: created the missing tables of ${files.join(', ')}`)) as SqlConn,
        }]
      : (c.server.length ? c.server : ['']).map(hostPort).map(({ host, port }) => ({
          label: `${host || 'localhost'}:${port || c.port || 5432}`,
          perConnectionMax: c.postgresql.batch,
          create: () => new PgConn({
            host, port: port || c.port, user: c.login, password: c.password, database: c.radius_db,
            connectTimeout, statementTimeout: queryTimeout, openQuery: c.open_query,
            applicationName: c.postgresql.send_application_name ? `tsradius - sql ${this.name}` : '',
          }, c.postgresql.batch) as SqlConn,
        }));
    if (this.driver === 'sqlite') fs.mkdirSync(path.dirname(path.resolve(c.sqlite.filename!)), { recursive: true });
    this.pool = new SqlPool(this.trunks, targets, {
      trunk: {
        start: p.start, min: p.min, max: this.driver === 'sqlite' ? Math.max(1, Math.min(p.max, 4)) : p.max, maxBacklog: p.max_backlog,
        reconnectDelay: reconnect, zombiePeriod: Math.max(queryTimeout, 1000) * 2, reviveInterval: reconnect,
      },
      queryTimeout,
      connectWait: queryTimeout || connectTimeout,
      log: (m) => this.log.info(m),
    });
    this.pool.open();
    if (this.driver === 'sqlite') return this.pool.settled(c.sqlite.busy_timeout * 1000 + 1000);
  }

  /** Closes every connection (tolerates a partial instantiate). */
  detach(): void {
    this.pool?.close();
    this.pool = undefined;
  }

  /** Connection state per server (for tests and statistics). */
  stats(): { servers: ReturnType<SqlPool['states']>; counters: SqlPool['counters'] } | undefined {
    return this.pool ? { servers: this.pool.states(), counters: this.pool.counters } : undefined;
  }

  /** `sqlite` or `postgresql` (after configure). */
  get driverName(): Driver {
    return this.driver;
  }

  /**
   * `read_clients`: the RADIUS clients in `client_table` (FreeRADIUS `nas`), through
   * `client_query` (default: every column); columns are taken by name: id, nasname, shortname,
   * type, secret, server, and require_ma / limit_proxy_state when the table has them.
   * The generation calls it once after start-up (and on every reload).
   */
  async readClients(signal: AbortSignal): Promise<readonly ModuleClient[]> {
    const c = this.config;
    if (!c.read_clients) return [];
    const r = await this.query(c.client_query ?? `SELECT * FROM ${c.client_table}`, signal);
    const col = (name: string) => r.fields.findIndex((f) => f.toLowerCase() === name);
    const [id, nasname, shortname, type, secret, server, ma, lps] = ['id', 'nasname', 'shortname', 'type', 'secret', 'server', 'require_ma', 'limit_proxy_state'].map(col);
    const at = (row: readonly (string | null)[], i: number, dflt = 0) => (i >= 0 ? row[i] : row[dflt]) ?? undefined;
    const out: ModuleClient[] = [];
    for (const row of r.rows) {
      const addr = at(row, nasname, 1);
      const key = at(row, secret, 4);
      const rowId = at(row, id, 0) ?? String(out.length + 1);
      if (!addr || !key) {
        this.log.warn(`${c.client_table} row ${rowId}: no nasname or secret; skipped`);
        continue;
      }
      out.push({
        name: at(row, shortname, 2) || addr, address: addr, secret: key,
        shortname: at(row, shortname, 2) || undefined, nasType: at(row, type, 3) || undefined, server: at(row, server, 5) || undefined,
        requireMessageAuthenticator: ma >= 0 ? row[ma] || undefined : undefined, limitProxyState: lps >= 0 ? row[lps] || undefined : undefined,
        source: `sql ${this.name} ${c.client_table} row ${rowId}`,
      });
    }
    return out;
  }

  /**
   * Runs one statement (exposed for sibling modules and tests). `urgent`: it waits for a
   * connection ahead of the others (authorisation and address allocation: the NAS waits on the
   * Access-Accept, while accounting queued before it can wait a little longer).
   */
  query(sql: string, signal?: AbortSignal, urgent = false): Promise<SqlResult> {
    if (!this.pool) return Promise.reject(new SqlError('unavailable', 'sql module is not instantiated'));
    return this.pool.query(sql, signal, urgent);
  }

  private async xlat(stmt: string, mode: 'auto' | 'select' | 'write', signal?: AbortSignal) {
    const write = mode === 'write' || (mode === 'auto' && /^\s*(insert|update|delete)\b/i.test(stmt));
    const r = await this.query(stmt, signal);
    if (write) return [box('uint32', Math.max(0, r.affected))];
    const out = [];
    for (const row of r.rows) {
      if (row[0] === null || row[0] === undefined) break;
      out.push(box('string', row[0]));
    }
    return out;
  }

  /**
   * `map <instance> "SELECT …" { attr op 'column' … }`: the rows of the result, which the
   * interpreter applies one after another (core's `MapRows`). Values expanded into the query were
   * escaped by {@link escapeValue} (the interpreter calls it for every expansion).
   */
  async map(request: Request, ctx: CallContext, query: string): Promise<MapResult> {
    try {
      if (!/^\s*(select|with|values|pragma)\b/i.test(query)) throw new SqlError('error', 'map needs a query that returns rows (SELECT)');
      if (ctx.log.debugEnabled) ctx.log.debug(`map query: ${query.replace(/\s+/g, ' ').slice(0, 200)}`);
      const r = await this.query(query, ctx.signal);
      return { columns: r.fields, rows: r.rows };
    } catch (e) {
      return this.failed(request, ctx, e);
    }
  }

  /** Escapes one value expanded into a `map` query, unless it is marked safe for this driver. */
  escapeValue(value: string, safeFor?: SafeFor): string {
    return safeFor === this.safeFor ? value : this.escape(value);
  }

  /** Expands `sql_user_name` into request.SQL-User-Name. */
  private async setUserName(request: Request, t: CompiledTemplate | undefined, signal: AbortSignal): Promise<void> {
    if (!t) return;
    const v = await t.expand(request, t.canYield ? signal : undefined);
    setValue(request.request, this.sqlUserName, v);
  }

  private async rows(t: CompiledTemplate, request: Request, ctx: CallContext, early?: Early): Promise<SqlResult> {
    const text = await t.expand(request, ctx.signal);
    if (ctx.log.debugEnabled) ctx.log.debug(`query: ${t.text.replace(/\s+/g, ' ').slice(0, 200)}`);
    // Sent ahead with the same text: its answer is the one this query would get.
    if (early && early.text === text) return early.result;
    return this.query(text, ctx.signal, true);
  }

  /**
   * The reply and group-membership queries sent together with the check query (one round trip, or
   * two connections at once, instead of three round trips in series), when they will most likely
   * run: `t` expands without yielding (no module call, so expanding it twice changes nothing) and
   * it is a SELECT. Its answer is used only when the query, expanded again at its turn (after the
   * check rows set control attributes), has the same text; otherwise it runs then, as before.
   */
  private async early(t: CompiledTemplate | undefined, request: Request, ctx: CallContext): Promise<Early | undefined> {
    if (!t || t.canYield || !readsOnly(t.text)) return undefined;
    const text = await t.expand(request);
    const result = this.query(text, ctx.signal, true);
    result.catch(() => undefined);
    return { text, result };
  }

  /** `recv *`: check and reply rows of the user, groups and profiles. */
  async authorize(request: Request, ctx: CallContext<SqlAuthorizeEnv>): Promise<Rcode> {
    const a = ctx.env;
    if (!a.check && !a.reply && !(this.config.read_groups && a.membership)) return 'noop';
    try {
      await this.setUserName(request, a.userName, ctx.signal);
      let rcode: Rcode = 'noop';
      let found = false;
      let checksOk = true;
      const where = (what: string) => `sql ${this.name} ${what}`;
      const opts = { dict: this.dict, xlats: this.xlats };
      const check = a.check ? this.rows(a.check, request, ctx) : undefined;
      check?.catch(() => undefined);
      const reply = await this.early(a.reply, request, ctx);
      const membership = this.config.read_groups ? await this.early(a.membership, request, ctx) : undefined;
      if (check) {
        const r = await check;
        if (r.rows.length) {
          found = true;
          const items = compileRows(r.rows, 'check', where('authorize_check_query'), opts);
          checksOk = await checksPass(items.compare, request);
          if (checksOk) {
            await applyItems(items.assign, request);
            rcode = 'ok';
          } else if (ctx.log.debugEnabled) ctx.log.debug('the user\'s check items do not match; skipping the reply items');
        }
      }
      let fallThrough: boolean | undefined;
      if (a.reply && checksOk) {
        const r = await this.rows(a.reply, request, ctx, reply);
        if (r.rows.length) {
          found = true;
          const items = compileRows(r.rows, 'reply', where('authorize_reply_query'), opts);
          fallThrough = items.fallThrough;
          await applyItems(items.assign, request);
          rcode = 'updated';
        }
      }
      // Groups: when the user said Fall-Through = yes, or read_groups and nothing was said.
      if (a.membership && (fallThrough === true || (this.config.read_groups && fallThrough === undefined))) {
        const r = await this.rows(a.membership, request, ctx, membership);
        const groups = r.rows.map((row) => row[0]).filter((g): g is string => g !== null);
        if (groups.length) found = true;
        const res = await this.processGroups(groups, request, ctx, this.config.cache_groups);
        if (res.updated) rcode = 'updated';
        else if (res.matched && rcode === 'noop') rcode = 'ok';
        fallThrough = res.fallThrough;
      }
      // Profiles: control.User-Profile values (a profile may add more) and default_user_profile.
      if (fallThrough === true || (this.config.read_profiles && fallThrough === undefined)) {
        const done = new Set<string>();
        for (;;) {
          const profiles = (this.userProfile ? request.control.filter((p) => p.da === this.userProfile).map((p) => String(p.value)) : []);
          if (this.config.default_user_profile) profiles.push(this.config.default_user_profile);
          const next = profiles.find((p) => !done.has(p));
          if (next === undefined) break;
          done.add(next);
          const res = await this.processGroups([next], request, ctx);
          if (res.matched) found = true;
          if (res.updated) rcode = 'updated';
          else if (res.matched && rcode === 'noop') rcode = 'ok';
          if (res.matched && res.fallThrough !== true) break;
        }
      }
      return found ? rcode : 'notfound';
    } catch (e) {
      return this.failed(request, ctx, e);
    }
  }

  /**
   * Processes groups in order: group check rows (no match: next group), then reply rows; a
   * `Fall-Through = yes` reply row continues with the next group, otherwise the first group that
   * matched ends the walk.
   */
  private async processGroups(
    groups: readonly string[], request: Request, ctx: CallContext<SqlAuthorizeEnv>, record = false,
  ): Promise<{ matched: boolean; updated: boolean; fallThrough?: boolean }> {
    const a = ctx.env;
    const opts = { dict: this.dict, xlats: this.xlats };
    let matched = false;
    let updated = false;
    let fallThrough: boolean | undefined;
    for (const g of groups) {
      setValue(request.request, this.groupAttr, g);
      // cache_groups: the groups the walk reached stay in control (as FreeRADIUS v4 leaves them).
      if (record) request.control.push(new Pair(this.groupAttr, g));
      try {
        if (a.groupCheck) {
          const r = await this.rows(a.groupCheck, request, ctx);
          const items = compileRows(r.rows, 'check', `sql ${this.name} authorize_group_check_query (group ${g})`, opts);
          if (!(await checksPass(items.compare, request))) continue;
          await applyItems(items.assign, request);
        }
        matched = true;
        fallThrough = undefined;
        if (a.groupReply) {
          const r = await this.rows(a.groupReply, request, ctx);
          const items = compileRows(r.rows, 'reply', `sql ${this.name} authorize_group_reply_query (group ${g})`, opts);
          fallThrough = items.fallThrough;
          if (items.assign.length) {
            await applyItems(items.assign, request);
            updated = true;
          }
        }
        if (fallThrough !== true) break;
      } finally {
        const l = request.request;
        for (let i = l.length - 1; i >= 0; i--) if (l[i].da === this.groupAttr) l.splice(i, 1);
      }
    }
    return { matched, updated, fallThrough };
  }

  /**
   * `sql.session` (FreeRADIUS `session { sql }`): Simultaneous-Use against the open sessions in
   * radacct. The limit is control.Simultaneous-Use (from radcheck / radgroupcheck), lowered by a
   * Port-Limit in the reply or control; no limit is `noop`. `simul_count_query` counts the
   * user's open sessions: fewer than the limit is `ok`; otherwise `reject` with a Reply-Message
   * (the verify query, when set, lists the sessions in the log). Call it where a reject still
   * turns the answer into an Access-Reject (`send Access-Accept`, or after `authenticate`).
   */
  async session(request: Request, ctx: CallContext<SqlSessionEnv>): Promise<Rcode> {
    const limit = this.sessionAttrs?.limit(request);
    const a = ctx.env;
    if (limit === undefined || !a.simulCount) return 'noop';
    try {
      await this.setUserName(request, a.userName, ctx.signal);
      const r = await this.rows(a.simulCount, request, ctx);
      const count = Number(r.rows[0]?.[0] ?? 0);
      if (!Number.isFinite(count)) throw new SqlError('error', `simul_count_query returned "${r.rows[0]?.[0]}", not a number`);
      if (count < limit) {
        if (ctx.log.debugEnabled) ctx.log.debug(`${count} open session(s), limit ${limit}: allowed`);
        return 'ok';
      }
      if (a.simulVerify) {
        const v = await this.rows(a.simulVerify, request, ctx);
        for (const row of v.rows) ctx.log.info(`open session: ${v.fields.map((f, i) => `${f}=${row[i] ?? ''}`).join(' ')}`);
      }
      ctx.log.info(`${count} open session(s), limit ${limit}: rejected (Simultaneous-Use)`);
      this.sessionAttrs!.reject(request, count, limit);
      return 'reject';
    } catch (e) {
      return this.failed(request, ctx, e);
    }
  }

  /** `accounting <Status-Type>`: the query list of that status. */
  async accounting(request: Request, ctx: CallContext<SqlListEnv>): Promise<Rcode> {
    const name = this.listName(request, ctx, 'accounting');
    const list = name === undefined ? undefined : this.acct.get(name);
    if (!list || list.queries.length === 0) {
      ctx.log.warn(`no accounting query list for "${name ?? '(no Acct-Status-Type)'}"; doing nothing`);
      return 'noop';
    }
    this.sessionAttrs?.uniqueId(request);
    const r = await this.runList(list, request, ctx);
    // As FreeRADIUS 3.2: an Accounting-On/Off that closed no session is still a success.
    if (r === 'noop' && (name === 'accounting-on' || name === 'accounting-off')) return 'ok';
    return r;
  }

  /** `send <packet>` / v3 `post-auth`: the post-auth logging list. */
  async send(request: Request, ctx: CallContext<SqlListEnv>): Promise<Rcode> {
    const name = this.listName(request, ctx, 'send');
    const list = (name !== undefined ? this.postAuth.get(name) : undefined) ?? this.postAuth.get('*');
    if (!list || list.queries.length === 0) return 'noop';
    return this.runList(list, request, ctx);
  }

  /** The list a call names: `sql.accounting.start`, else the section's second name, else Acct-Status-Type. */
  private listName(request: Request, ctx: CallContext, kind: string): string | undefined {
    const m = ctx.method?.toLowerCase();
    if (m && m.startsWith(`${kind}.`)) return m.slice(kind.length + 1);
    const s = ctx.section;
    if (s.name2 && s.name2 !== '*' && s.name1.toLowerCase() !== 'recv') return s.name2.toLowerCase();
    if (kind === 'accounting' && this.acctStatusType) {
      const p = request.request.find((x) => x.da === this.acctStatusType);
      if (p) {
        const e = p.value === undefined ? undefined : this.acctStatusType.valueNames?.get(valueKey(p.value));
        return (e ?? String(p.value)).toLowerCase();
      }
    }
    return undefined;
  }

  /** Runs alternatives until one changes a row. */
  private async runList(list: QueryList, request: Request, ctx: CallContext<SqlListEnv>): Promise<Rcode> {
    try {
      await this.setUserName(request, ctx.env.userName, ctx.signal);
      for (let i = 0; i < list.queries.length; i++) {
        const t = list.queries[i];
        const text = await t.expand(request, ctx.signal);
        this.logQuery(list, text);
        if (ctx.log.debugEnabled) ctx.log.debug(`${list.name} query ${i + 1}: ${t.text.replace(/\s+/g, ' ').slice(0, 200)}`);
        let r: SqlResult;
        try {
          r = await this.query(text, ctx.signal);
        } catch (e) {
          if (e instanceof SqlError && e.kind === 'alternate') {
            if (ctx.log.debugEnabled) ctx.log.debug(`${list.name} query ${i + 1}: ${e.message}; trying the next query`);
            continue;
          }
          throw e;
        }
        if (r.affected > 0) {
          if (this.queryNumber) setValue(request.control, this.queryNumber, i + 1);
          return 'ok';
        }
      }
      return 'noop';
    } catch (e) {
      return this.failed(request, ctx, e);
    }
  }

  private logQuery(list: QueryList, text: string): void {
    const file = list.logfile ?? this.config.logfile;
    if (!file) return;
    try {
      fs.appendFileSync(file, `${text.trim()};\n`);
    } catch (e) {
      this.log.warn(`cannot append to ${file}: ${(e as Error).message}`);
    }
  }

  private failed(request: Request, ctx: CallContext, e: unknown): Rcode {
    const msg = (e as Error).message ?? String(e);
    ctx.log.error(msg);
    failureMessage(request, this.dict, `${this.name}: ${msg}`);
    return e instanceof SqlError && e.kind === 'timeout' ? 'timeout' : 'fail';
  }
}
