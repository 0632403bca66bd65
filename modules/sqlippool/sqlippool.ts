/**
 * The `sqlippool` instance: FreeRADIUS rlm_sqlippool (v4 `fr_ippool` schema) on the connections
 * of an `sql` instance.
 *
 * Every allocation query claims and returns an address in one statement (`UPDATE … WHERE id =
 * (SELECT … LIMIT 1 [FOR UPDATE SKIP LOCKED]) RETURNING address`), so it is atomic on any pooled
 * connection: no transaction spans two round trips, and two requests never get one address.
 *
 * - `alloc` (`recv Access-Request`, `send Access-Accept`): the owner's previous address, else the
 *   requested one, else any free one; an exhausted pool → `on_exhausted`.
 * - `update` (`accounting Start`, `accounting Interim-Update`): frees the owner's other leases
 *   (`update_free`), then extends the lease.
 * - `release` (`accounting Stop`): frees the lease (the row forgets the owner).
 * - `bulk_release` (`accounting Accounting-On/Off`): frees every lease of the gateway (NAS).
 */
import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { METRICS, MODULE_CONFIG, MODULE_DEPS, MODULE_LOG, MODULE_NAME, MetricsRegistry, failureMessage } from '../../core';
import type { CallContext, CompiledTemplate, DepHandles, Dictionary, EnvOf, InstantiateContext, Logger, Rcode, Request } from '../../core';
import sql from '../sql';
import { SqlError } from '../sql/driver';
import { genericEscaper, pgEscaper } from '../sql/queries';
import { acctStatusType, addressTarget, hasAddress, poolCounters, poolExhausted, setAddress, type AddressTarget, type PoolCounters } from '../shared/ippool';
import type { SqlippoolConfig } from './config';

/** The characters FreeRADIUS's generic escaper leaves alone (the `sql` default `safe_characters`). */
const SAFE = '@abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_: /';

/** Escaping of values put into queries, by dialect. */
export function escaperOf(c: SqlippoolConfig): (s: string) => string {
  return c.dialect === 'postgresql' ? pgEscaper : genericEscaper(SAFE);
}

const q = (item: string) => ({ item, as: 'template', escapeBy: escaperOf } as const);

/** Per-call arguments (FreeRADIUS call_env). */
export const ALLOC_ENV = {
  pool: { item: 'pool_name', attrRef: true },
  requested: 'requested_address',
  existing: q('alloc_existing'),
  requestedQuery: q('alloc_requested'),
  find: q('alloc_find'),
  check: q('pool_check'),
  exhausted: { item: 'exhausted_message', as: 'template' },
} as const;
export const UPDATE_ENV = { requested: 'requested_address', free: q('update_free'), query: q('update_update') } as const;
export const RELEASE_ENV = { requested: 'requested_address', query: q('release_clear') } as const;
export const BULK_ENV = { gateway: 'gateway', query: q('bulk_release_clear') } as const;
export const ACCT_ENV = {
  requested: 'requested_address', gateway: 'gateway',
  free: q('update_free'), update: q('update_update'), release: q('release_clear'), bulk: q('bulk_release_clear'),
} as const;

/** The `deps` of the module: the sql instance named by `sql_module_instance`. */
export const SQLIPPOOL_DEPS = { sql: { module: sql, item: 'sql_module_instance' } } as const;

/** The address attribute, checked by `validate` and `instantiate`. */
export function checkTarget(c: SqlippoolConfig, dict: Dictionary): AddressTarget | string {
  return addressTarget(c.allocated_address_attr, dict);
}

/** The `sqlippool` module instance. */
@injectable()
export class Sqlippool {
  private target!: AddressTarget;
  private dict!: Dictionary;
  private counters!: PoolCounters;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: SqlippoolConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
    @inject(MODULE_NAME) private readonly name: string,
    @inject(MODULE_DEPS) private readonly deps: DepHandles<typeof SQLIPPOOL_DEPS>,
    @inject(METRICS) private readonly metrics: MetricsRegistry = new MetricsRegistry(),
  ) {}

  instantiate(ctx: InstantiateContext): void {
    const t = checkTarget(this.config, ctx.dict);
    if (typeof t === 'string') throw new Error(t);
    this.target = t;
    this.dict = ctx.dict;
    this.counters = poolCounters(this.metrics, 'sqlippool', this.name);
    this.log.debug(`pool table ${this.config.ippool_table} through sql instance ${this.config.sql_module_instance}, lease ${this.config.lease_duration}s`);
  }

  /**
   * Runs one query; the first column of the first row (or undefined) and the changed-row count.
   * `urgent`: an allocation (the Access-Accept waits on it) takes the next free connection before
   * the accounting queries waiting for one.
   */
  private async run(t: CompiledTemplate, request: Request, ctx: CallContext, urgent = false): Promise<{ value?: string; affected: number }> {
    const text = await t.expand(request, t.canYield ? ctx.signal : undefined);
    if (ctx.log.debugEnabled) ctx.log.debug(`query: ${text.replace(/\s+/g, ' ').trim()}`);
    const r = await this.deps.sql.query(text, ctx.signal, urgent);
    const v = r.rows[0]?.[0];
    return { value: v === null || v === undefined ? undefined : v, affected: r.affected };
  }

  private failed(request: Request, ctx: CallContext, e: unknown): Rcode {
    const msg = (e as Error).message ?? String(e);
    ctx.log.error(msg);
    failureMessage(request, this.dict, `${this.name}: ${msg}`);
    return e instanceof SqlError && e.kind === 'timeout' ? 'timeout' : 'fail';
  }

  /** Allocates an address from `pool_name` into `allocated_address_attr`. */
  async alloc(request: Request, ctx: CallContext<EnvOf<typeof ALLOC_ENV>>): Promise<Rcode> {
    const env = ctx.env;
    if (!env.pool) {
      if (ctx.log.debugEnabled) ctx.log.debug('no pool name for this request; doing nothing');
      return 'noop';
    }
    if (hasAddress(request, this.target)) {
      if (ctx.log.debugEnabled) ctx.log.debug(`${this.config.allocated_address_attr} is already set; doing nothing`);
      return 'noop';
    }
    try {
      const steps: [string, CompiledTemplate | undefined][] = [
        ['alloc_existing', env.existing],
        ['alloc_requested', env.requested ? env.requestedQuery : undefined],
        ['alloc_find', env.find],
      ];
      for (const [what, t] of steps) {
        if (!t) continue;
        const r = await this.run(t, request, ctx, true);
        if (r.value === undefined) continue;
        setAddress(request, this.target, r.value);
        this.counters.allocated.inc();
        // Debug, not info: one line per Access-Accept (FreeRADIUS 3.2 logs an allocation only through its optional `messages`).
        if (ctx.log.debugEnabled) ctx.log.debug(`allocated ${r.value} from pool "${env.pool}" (${what})`);
        return 'updated';
      }
      const exists = env.check ? (await this.run(env.check, request, ctx, true)).value !== undefined : true;
      if (!exists) {
        ctx.log.warn(`pool "${env.pool}" does not exist`);
        return 'noop';
      }
      // A row freed while the first alloc_find ran can be missed by a row-locking database: look once more.
      if (env.find) {
        const again = await this.run(env.find, request, ctx, true);
        if (again.value !== undefined) {
          setAddress(request, this.target, again.value);
          this.counters.allocated.inc();
          if (ctx.log.debugEnabled) ctx.log.debug(`allocated ${again.value} from pool "${env.pool}" (alloc_find)`);
          return 'updated';
        }
      }
      const msg = env.exhausted ? await env.exhausted.expand(request, ctx.signal) : `pool ${env.pool} exhausted`;
      return poolExhausted(request, ctx, { instance: this.name, pool: env.pool, msg, onExhausted: this.config.on_exhausted, dict: this.dict, counters: this.counters });
    } catch (e) {
      return this.failed(request, ctx, e);
    }
  }

  /** Extends the lease of the requested address (Start, Interim-Update). */
  async update(request: Request, ctx: CallContext<EnvOf<typeof UPDATE_ENV>>): Promise<Rcode> {
    if (!ctx.env.requested || !ctx.env.query) return 'noop';
    try {
      if (ctx.env.free) {
        const f = await this.run(ctx.env.free, request, ctx);
        if (f.affected > 0) {
          this.counters.released.inc(f.affected);
          ctx.log.info(`freed ${f.affected} other lease(s) of the owner (update_free)`);
        }
      }
      const r = await this.run(ctx.env.query, request, ctx);
      if (r.affected > 0) this.counters.updated.inc();
      return r.affected > 0 ? 'updated' : 'notfound';
    } catch (e) {
      return this.failed(request, ctx, e);
    }
  }

  /** Frees the lease of the requested address (Stop). */
  async release(request: Request, ctx: CallContext<EnvOf<typeof RELEASE_ENV>>): Promise<Rcode> {
    if (!ctx.env.requested || !ctx.env.query) return 'noop';
    try {
      const r = await this.run(ctx.env.query, request, ctx);
      if (r.affected > 0) {
        this.counters.released.inc(r.affected);
        ctx.log.info(`released ${ctx.env.requested}`);
      }
      return r.affected > 0 ? 'updated' : 'notfound';
    } catch (e) {
      return this.failed(request, ctx, e);
    }
  }

  /** Frees every lease of the gateway (Accounting-On, Accounting-Off). */
  async bulkRelease(request: Request, ctx: CallContext<EnvOf<typeof BULK_ENV>>): Promise<Rcode> {
    if (!ctx.env.gateway || !ctx.env.query) return 'noop';
    try {
      const r = await this.run(ctx.env.query, request, ctx);
      if (r.affected > 0) this.counters.released.inc(r.affected);
      ctx.log.info(`released ${r.affected} lease(s) of gateway ${ctx.env.gateway}`);
      return r.affected > 0 ? 'updated' : 'ok';
    } catch (e) {
      return this.failed(request, ctx, e);
    }
  }

  /**
   * `accounting <other>` and v3-style `accounting { sqlippool }`: by Acct-Status-Type (Start and
   * Interim-Update renew, Stop releases, Accounting-On/Off release the gateway's leases).
   */
  accounting(request: Request, ctx: CallContext<EnvOf<typeof ACCT_ENV>>): Rcode | Promise<Rcode> {
    const st = acctStatusType(request, ctx, this.dict);
    const e = ctx.env;
    switch (st) {
      case 'start':
      case 'interim-update':
      case 'alive':
        return this.update(request, { ...ctx, env: { requested: e.requested, free: e.free, query: e.update } });
      case 'stop':
        return this.release(request, { ...ctx, env: { requested: e.requested, query: e.release } });
      case 'accounting-on':
      case 'accounting-off':
        return this.bulkRelease(request, { ...ctx, env: { gateway: e.gateway, query: e.bulk } });
      default:
        return 'noop';
    }
  }
}
