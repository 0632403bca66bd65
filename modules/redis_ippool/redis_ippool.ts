/**
 * The `redis_ippool` instance: FreeRADIUS rlm_redis_ippool. Pools live in Redis (standalone or
 * Redis Cluster); every operation is one Lua script run atomically on the node that holds the
 * pool (`lua.ts`), so concurrent allocators, on one server or many, never get one address twice.
 *
 * - `alloc` (`recv Access-Request`, `send Access-Accept`): the owner's previous address, else the
 *   requested one, else the free address whose lease ended first; exhausted → `on_exhausted`.
 * - `update` (Start, Interim-Update): renews the owner's lease.
 * - `release` (Stop): frees the owner's lease (the owner is remembered for next time).
 * - `bulkRelease` (Accounting-On/Off): frees every lease of the gateway in the pool.
 */
import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { METRICS, MODULE_CONFIG, MODULE_LOG, MODULE_NAME, MetricsRegistry, failureMessage } from '../../core';
import type { CallContext, Dictionary, EnvOf, InstantiateContext, Logger, Rcode, Request } from '../../core';
import { acctStatusType, addressTarget, hasAddress, poolCounters, poolExhausted, setAddress, type AddressTarget, type PoolCounters } from '../shared/ippool';
import { createPoolClient, type PoolClient } from './client';
import { closeRedisClient, redisOptions } from '../shared/redis';
import type { RedisIppoolConfig } from './config';
import { poolKeys, poolPrefix } from './lua';

export const ALLOC_ENV = { pool: 'pool_name', owner: 'owner', gateway: 'gateway', requested: 'requested_address', exhausted: { item: 'exhausted_message', as: 'template' } } as const;
export const LEASE_ENV = { pool: 'pool_name', owner: 'owner', gateway: 'gateway', requested: 'requested_address' } as const;
type LeaseEnv = EnvOf<typeof LEASE_ENV>;

/** The start-time checks (validate and instantiate). */
export function checkConfig(c: RedisIppoolConfig, dict: Dictionary): { item: string; message: string } | AddressTarget {
  if (!c.server.length) return { item: 'server', message: 'at least one server is required' };
  const t = addressTarget(c.allocated_address_attr, dict);
  if (typeof t === 'string') return { item: 'allocated_address_attr', message: t };
  return t;
}

/** A pool name that cannot be a hash tag. */
function badPool(pool: string): boolean {
  return /[{}]/.test(pool);
}

/** The `redis_ippool` module instance. */
@injectable()
export class RedisIppool {
  private client?: PoolClient;
  private target!: AddressTarget;
  private dict!: Dictionary;
  private counters!: PoolCounters;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: RedisIppoolConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
    @inject(MODULE_NAME) private readonly name: string,
    @inject(METRICS) private readonly metrics: MetricsRegistry = new MetricsRegistry(),
  ) {}

  /** Creates the client; it connects in the background (calls wait at most `query_timeout`). */
  instantiate(ctx: InstantiateContext): void {
    const c = this.config;
    const t = checkConfig(c, ctx.dict);
    if ('message' in t) throw new Error(t.message);
    this.target = t;
    this.dict = ctx.dict;
    this.counters = poolCounters(this.metrics, 'redis_ippool', this.name);
    this.client = createPoolClient(redisOptions(c));
    this.client.on('ready', () => this.log.info(`connected to ${c.cluster ? 'the cluster at ' : ''}${c.server.join(', ')}`));
  }

  /** Closes the connection (tolerates a partial instantiate). */
  async detach(): Promise<void> {
    const cl = this.client;
    this.client = undefined;
    await closeRedisClient(cl);
  }

  private failed(request: Request, ctx: CallContext, e: unknown): Rcode {
    const msg = (e as Error).message ?? String(e);
    ctx.log.error(`redis: ${msg}`);
    failureMessage(request, this.dict, `${this.name}: ${msg}`);
    return /timed? ?out/i.test(msg) ? 'timeout' : 'fail';
  }

  private ready(ctx: CallContext, pool: string | undefined): PoolClient | undefined {
    if (!pool) {
      if (ctx.log.debugEnabled) ctx.log.debug('no pool name for this request; doing nothing');
      return undefined;
    }
    return this.client;
  }

  /** Allocates an address from the pool into `allocated_address_attr`. */
  async alloc(request: Request, ctx: CallContext<EnvOf<typeof ALLOC_ENV>>): Promise<Rcode> {
    const e = ctx.env;
    const cl = this.ready(ctx, e.pool);
    if (!cl) return e.pool && !this.client ? 'fail' : 'noop';
    if (hasAddress(request, this.target)) {
      if (ctx.log.debugEnabled) ctx.log.debug(`${this.config.allocated_address_attr} is already set; doing nothing`);
      return 'noop';
    }
    if (badPool(e.pool)) return this.failed(request, ctx, new Error(`pool name "${e.pool}" may not contain { or }`));
    try {
      const r = await cl.ippoolAllocate(...poolKeys(e.pool, e.owner), poolPrefix(e.pool), this.config.lease_time, e.owner, e.gateway, e.requested) as [number, string?];
      if (r[0] === 0 && r[1]) {
        setAddress(request, this.target, r[1]);
        this.counters.allocated.inc();
        ctx.log.info(`allocated ${r[1]} from pool "${e.pool}"`);
        return 'updated';
      }
      if (r[0] === 2) {
        ctx.log.warn(`pool "${e.pool}" does not exist`);
        return 'noop';
      }
      const msg = e.exhausted ? await e.exhausted.expand(request, ctx.signal) : `pool ${e.pool} exhausted`;
      return poolExhausted(request, ctx, { instance: this.name, pool: e.pool, msg, onExhausted: this.config.on_exhausted, dict: this.dict, counters: this.counters });
    } catch (err) {
      return this.failed(request, ctx, err);
    }
  }

  /** Renews the owner's lease of the requested address. */
  async update(request: Request, ctx: CallContext<LeaseEnv>): Promise<Rcode> {
    const e = ctx.env;
    const cl = this.ready(ctx, e.pool);
    if (!cl || !e.requested || badPool(e.pool)) return 'noop';
    try {
      const n = Number(await cl.ippoolUpdate(...poolKeys(e.pool, e.owner), poolPrefix(e.pool), this.config.lease_time, e.owner, e.gateway, e.requested));
      if (n > 0) this.counters.updated.inc();
      return n > 0 ? 'updated' : 'notfound';
    } catch (err) {
      return this.failed(request, ctx, err);
    }
  }

  /** Frees the owner's lease of the requested address. */
  async release(request: Request, ctx: CallContext<LeaseEnv>): Promise<Rcode> {
    const e = ctx.env;
    const cl = this.ready(ctx, e.pool);
    if (!cl || !e.requested || badPool(e.pool)) return 'noop';
    try {
      const n = Number(await cl.ippoolRelease(poolKeys(e.pool)[0], poolPrefix(e.pool), e.owner, e.requested));
      if (n > 0) {
        this.counters.released.inc();
        ctx.log.info(`released ${e.requested} to pool "${e.pool}"`);
      }
      return n > 0 ? 'updated' : 'notfound';
    } catch (err) {
      return this.failed(request, ctx, err);
    }
  }

  /** Frees every lease of the gateway in the pool. */
  async bulkRelease(request: Request, ctx: CallContext<LeaseEnv>): Promise<Rcode> {
    const e = ctx.env;
    const cl = this.ready(ctx, e.pool);
    if (!cl || !e.gateway || badPool(e.pool)) return 'noop';
    try {
      const n = Number(await cl.ippoolBulkRelease(poolKeys(e.pool)[0], poolPrefix(e.pool), e.gateway));
      if (n > 0) this.counters.released.inc(n);
      ctx.log.info(`released ${n} lease(s) of gateway ${e.gateway} in pool "${e.pool}"`);
      return n > 0 ? 'updated' : 'ok';
    } catch (err) {
      return this.failed(request, ctx, err);
    }
  }

  /** `accounting *` and v3-style calls: by Acct-Status-Type. */
  accounting(request: Request, ctx: CallContext<LeaseEnv>): Rcode | Promise<Rcode> {
    switch (acctStatusType(request, ctx, this.dict)) {
      case 'start':
      case 'interim-update':
      case 'alive':
        return this.update(request, ctx);
      case 'stop':
        return this.release(request, ctx);
      case 'accounting-on':
      case 'accounting-off':
        return this.bulkRelease(request, ctx);
      default:
        return 'noop';
    }
  }
}
