/**
 * The `redis_ippool` instance: FreeRADIUS v4 rlm_redis_ippool. Pools live in Redis (standalone or
 * Redis Cluster, detected unless `cluster` is set) in FreeRADIUS's data model; every operation is
 * one Lua script run atomically on the node that holds the pool (`lua.ts`), so concurrent
 * allocators, on one server or many, never get one address twice.
 *
 * - `alloc` (`recv Access-Request`, `send Access-Accept`): the owner's address while its
 *   association lives (a re-allocation: the lease is extended to `offer_time` when shorter), else
 *   the requested one when free, else the free address whose lease ended first; sets
 *   `allocated_address_attr`, `range_attr` and `expiry_attr`. `updated`; exhausted →
 *   `on_exhausted` (`notfound`).
 * - `update` (Start, Interim-Update, `renew`): extends the owner's lease to `lease_time`:
 *   `updated`, `notfound`, or `invalid` (another owner's).
 * - `release` (Stop): frees it at once (score now − 1); the association lives on for
 *   `association_time`, else ends: `updated`, `notfound`, `invalid`.
 * - `bulkRelease` (Accounting-On/Off): frees every dynamic lease of the gateway in the pool (ours;
 *   FreeRADIUS v4 does nothing there).
 * - xlats `%<inst>.subnet.add/remove/release(pool, prefix[, prefix length][, range id])`,
 *   `%<inst>.addresses.add/remove/release(pool, address or range[, range id])`,
 *   `%<inst>.subnet.modify` / `addresses.modify(pool, …, range id)`,
 *   `%<inst>.address.assign(pool, address, owner[, range id])` and `%<inst>.address.unassign(pool, address)`:
 *   how many addresses changed (assign/unassign: 1 or 0).
 */
import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { METRICS, MODULE_CONFIG, MODULE_LOG, MODULE_NAME, MetricsRegistry, box, failureMessage, parseValue, setValue } from '../../core';
import type { BootstrapContext, Box, CallContext, DictAttr, Dictionary, EnvOf, InstantiateContext, LeafType, Logger, Pair, Rcode, Request } from '../../core';
import { acctStatusType, addressTarget, poolCounters, poolExhausted, setAddress, type AddressTarget, type PoolCounters } from '../shared/ippool';
import { expandRange } from '../shared/ip-range';
import { Cluster, type Redis } from 'ioredis';
import { keySlot, redisOptions, type RedisHandle } from '../shared/redis';
import { poolHandle, type PoolClient } from './client';
import type { RedisIppoolConfig } from './config';
import { IPPOOL_RCODE, nowSeconds, poolKey, poolPrefix } from './lua';

// Each item may be a bare attribute reference (`pool_name = control.IP-Pool.Name`), as in FreeRADIUS v4's call_env.
export const LEASE_ENV = {
  pool: { item: 'pool_name', attrRef: true }, owner: { item: 'owner', attrRef: true }, gateway: { item: 'gateway', attrRef: true },
  requested: { item: 'requested_address', attrRef: true }, association: { item: 'association_time', attrRef: true },
} as const;
export const ALLOC_ENV = { ...LEASE_ENV, exhausted: { item: 'exhausted_message', as: 'template' } } as const;
type LeaseEnv = EnvOf<typeof LEASE_ENV>;

/** An attribute named by `list.Attribute` (default list: reply). */
interface AttrTarget { readonly list: 'request' | 'reply' | 'control'; readonly da: DictAttr }

function attrTarget(text: string, dict: Dictionary): AttrTarget | string {
  const m = /^(?:(request|reply|control)\.)?(.+)$/.exec(text.trim());
  const da = m ? dict.resolve(m[2]) : undefined;
  if (!da) return `attribute "${m?.[2] ?? text}" is not in the dictionary`;
  return { list: (m?.[1] ?? 'reply') as AttrTarget['list'], da };
}

function setAttr(request: Request, t: AttrTarget, text: string): void {
  const list: Pair[] = t.list === 'request' ? request.request : t.list === 'control' ? request.control : request.reply;
  setValue(list, t.da, parseValue(t.da.type as LeafType, text, t.da));
}

/** The connection items: the `redis { }` subsection when present, else the inline ones. */
export function connectionOf(c: RedisIppoolConfig) {
  return c.redis ?? c;
}

/** The start-time checks (validate and instantiate). */
export function checkConfig(c: RedisIppoolConfig, dict: Dictionary): { item: string; message: string } | { address: AddressTarget; range?: AttrTarget; expiry?: AttrTarget } {
  if (!connectionOf(c).server.length) return { item: c.redis ? 'redis.server' : 'server', message: 'at least one server is required' };
  const address = addressTarget(c.allocated_address_attr, dict);
  if (typeof address === 'string') return { item: 'allocated_address_attr', message: address };
  const range = c.range_attr ? attrTarget(c.range_attr, dict) : undefined;
  if (typeof range === 'string') return { item: 'range_attr', message: range };
  const expiry = c.expiry_attr ? attrTarget(c.expiry_attr, dict) : undefined;
  if (typeof expiry === 'string') return { item: 'expiry_attr', message: expiry };
  return { address, range, expiry };
}

/** A pool name that cannot be a hash tag. */
function badPool(pool: string): boolean {
  return /[{}]/.test(pool);
}

const text = (a: Box[] | undefined) => (a ?? []).map((b) => String(b.value)).join('');

/** The `redis_ippool` module instance. */
@injectable()
export class RedisIppool {
  private handle?: RedisHandle<PoolClient>;
  private target!: AddressTarget;
  private rangeAttr?: AttrTarget;
  private expiryAttr?: AttrTarget;
  private dict!: Dictionary;
  private counters!: PoolCounters;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: RedisIppoolConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
    @inject(MODULE_NAME) private readonly name: string,
    @inject(METRICS) private readonly metrics: MetricsRegistry = new MetricsRegistry(),
  ) {}

  /** The administration xlats (FreeRADIUS v4's, as `rlm_redis_ippool_tool` uses them). */
  bootstrap(ctx: BootstrapContext): void {
    const n = this.name;
    const reg = (name: string, fn: (args: string[]) => Promise<number>, minArgs: number, maxArgs: number) =>
      ctx.registerXlat(`${n}.${name}`, async (_x, args) => [box('uint64', BigInt(await fn(args.map(text))))], { minArgs, maxArgs, returnType: 'uint64' });
    const subnet = (a: string[]) => this.expand(a[1], a[2]);
    reg('subnet.add', (a) => this.admin(a[0], 'ippoolAdd', [a[3] ?? ''], subnet(a)), 2, 4);
    reg('subnet.remove', (a) => this.admin(a[0], 'ippoolRemove', [], subnet(a)), 2, 3);
    reg('subnet.release', (a) => this.admin(a[0], 'ippoolForceRelease', [], subnet(a)), 2, 3);
    reg('subnet.modify', (a) => this.admin(a[0], 'ippoolModify', [a[3] ?? a[2] ?? ''], a.length > 3 ? subnet(a) : this.expand(a[1])), 3, 4);
    reg('addresses.add', (a) => this.admin(a[0], 'ippoolAdd', [a[2] ?? ''], this.expand(a[1])), 2, 3);
    reg('addresses.remove', (a) => this.admin(a[0], 'ippoolRemove', [], this.expand(a[1])), 2, 2);
    reg('addresses.release', (a) => this.admin(a[0], 'ippoolForceRelease', [], this.expand(a[1])), 2, 2);
    reg('addresses.modify', (a) => this.admin(a[0], 'ippoolModify', [a[2]], this.expand(a[1])), 3, 3);
    reg('address.assign', (a) => this.assign(a[0], a[1], a[2], a[3] ?? ''), 3, 4);
    reg('address.unassign', (a) => this.unassign(a[0], a[1]), 2, 2);
  }

  /** Creates the client handle; it connects on first use (calls wait at most `query_timeout`). */
  instantiate(ctx: InstantiateContext): void {
    const c = this.config;
    const t = checkConfig(c, ctx.dict);
    if ('message' in t) throw new Error(t.message);
    this.target = t.address;
    this.rangeAttr = t.range;
    this.expiryAttr = t.expiry;
    this.dict = ctx.dict;
    this.counters = poolCounters(this.metrics, 'redis_ippool', this.name);
    const conn = connectionOf(c);
    this.handle = poolHandle({ ...redisOptions({ ...conn, cluster: false }), cluster: conn.cluster });
  }

  /** Closes the connection (tolerates a partial instantiate). */
  async detach(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }

  private client(): Promise<PoolClient> {
    if (!this.handle) return Promise.reject(new Error('not instantiated'));
    return this.handle.get();
  }

  /** `WAIT wait_num wait_timeout` after a change, when configured: too few replicas → an error. */
  private async waitReplicas(cl: PoolClient, pool: string): Promise<void> {
    const n = this.config.wait_num;
    if (!n) return;
    // WAIT goes to the master of the pool's slot.
    let node: Redis | undefined;
    if (cl instanceof Cluster) {
      const master = cl.slots[keySlot(poolKey(pool))]?.[0];
      node = cl.nodes('master').find((r) => `${r.options.host}:${r.options.port}` === master);
      if (!node) throw new Error(`no master for pool "${pool}" in the slot map`);
    } else {
      node = cl as Redis;
    }
    const acked = Number(await node.call('WAIT', n, Math.round(this.config.wait_timeout * 1000)));
    if (acked < n) throw new Error(`only ${acked} of ${n} replica(s) acknowledged the change of pool "${pool}"`);
  }

  private failed(request: Request, ctx: CallContext, e: unknown): Rcode {
    const msg = (e as Error).message ?? String(e);
    ctx.log.error(`redis: ${msg}`);
    failureMessage(request, this.dict, `${this.name}: ${msg}`);
    return /timed? ?out/i.test(msg) ? 'timeout' : 'fail';
  }

  private noPool(ctx: CallContext, pool: string | undefined): boolean {
    if (pool) return false;
    if (ctx.log.debugEnabled) ctx.log.debug('no pool name for this request; doing nothing');
    return true;
  }

  private association(e: { association?: string }): number {
    const n = Number(e.association ?? '');
    return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
  }

  private setResult(request: Request, address: string | undefined, range: string | undefined, seconds: number | undefined): void {
    if (address !== undefined) setAddress(request, this.target, address);
    if (range && this.rangeAttr) setAttr(request, this.rangeAttr, range);
    if (seconds !== undefined && this.expiryAttr) setAttr(request, this.expiryAttr, String(Math.max(0, Math.round(seconds))));
  }

  /** Allocates an address from the pool into `allocated_address_attr`. */
  async alloc(request: Request, ctx: CallContext<EnvOf<typeof ALLOC_ENV>>): Promise<Rcode> {
    const e = ctx.env;
    if (this.noPool(ctx, e.pool)) return 'noop';
    if (badPool(e.pool)) return this.failed(request, ctx, new Error(`pool name "${e.pool}" may not contain { or }`));
    try {
      const cl = await this.client();
      const expires = this.config.offer_time ?? this.config.lease_time;
      const r = await cl.ippoolAllocate(poolKey(e.pool), nowSeconds(), poolPrefix(e.pool), expires, e.owner, this.association(e), e.gateway, e.requested) as [number, string?, string?, number?, number?];
      if (r[0] === IPPOOL_RCODE.SUCCESS && r[1]) {
        await this.waitReplicas(cl, e.pool);
        this.setResult(request, r[1], r[2], Number(r[3]));
        this.counters.allocated.inc();
        ctx.log.info(`allocated ${r[1]} from pool "${e.pool}" for ${Number(r[3])}s`);
        return 'updated';
      }
      const msg = e.exhausted ? await e.exhausted.expand(request, ctx.signal) : `pool ${e.pool} exhausted`;
      return poolExhausted(request, ctx, { instance: this.name, pool: e.pool, msg, onExhausted: this.config.on_exhausted, dict: this.dict, counters: this.counters });
    } catch (err) {
      return this.failed(request, ctx, err);
    }
  }

  /** Extends the owner's lease of the requested address to `lease_time`. */
  async update(request: Request, ctx: CallContext<LeaseEnv>): Promise<Rcode> {
    const e = ctx.env;
    if (this.noPool(ctx, e.pool) || !e.requested || badPool(e.pool)) return 'noop';
    try {
      const cl = await this.client();
      const r = await cl.ippoolUpdate(poolKey(e.pool), nowSeconds(), poolPrefix(e.pool), this.config.lease_time, e.requested, e.owner, this.association(e), e.gateway) as [number, string?, number?];
      if (r[0] === IPPOOL_RCODE.NOT_FOUND) return 'notfound';
      if (r[0] !== IPPOOL_RCODE.SUCCESS) {
        ctx.log.warn(`${e.requested} in pool "${e.pool}" is leased to ${r[1] ?? 'another owner'}, not ${e.owner}`);
        return 'invalid';
      }
      await this.waitReplicas(cl, e.pool);
      this.setResult(request, this.config.copy_on_update ? e.requested : undefined, r[1], this.config.lease_time);
      this.counters.updated.inc();
      return 'updated';
    } catch (err) {
      return this.failed(request, ctx, err);
    }
  }

  /** Frees the owner's lease of the requested address. */
  async release(request: Request, ctx: CallContext<LeaseEnv>): Promise<Rcode> {
    const e = ctx.env;
    if (this.noPool(ctx, e.pool) || !e.requested || badPool(e.pool)) return 'noop';
    try {
      const cl = await this.client();
      const r = await cl.ippoolRelease(poolKey(e.pool), nowSeconds(), poolPrefix(e.pool), e.requested, e.owner, this.association(e)) as [number, string?];
      if (r[0] === IPPOOL_RCODE.NOT_FOUND) return 'notfound';
      if (r[0] !== IPPOOL_RCODE.SUCCESS) {
        ctx.log.warn(`${e.requested} in pool "${e.pool}" is leased to ${r[1] || 'no one'}, not ${e.owner}`);
        return 'invalid';
      }
      await this.waitReplicas(cl, e.pool);
      this.counters.released.inc();
      ctx.log.info(`released ${e.requested} to pool "${e.pool}"`);
      return 'updated';
    } catch (err) {
      return this.failed(request, ctx, err);
    }
  }

  /** Frees every dynamic lease of the gateway in the pool. */
  async bulkRelease(request: Request, ctx: CallContext<LeaseEnv>): Promise<Rcode> {
    const e = ctx.env;
    if (this.noPool(ctx, e.pool) || !e.gateway || badPool(e.pool)) return 'noop';
    try {
      const cl = await this.client();
      const n = Number(await cl.ippoolBulkRelease(poolKey(e.pool), nowSeconds(), poolPrefix(e.pool), e.gateway));
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

  /** A prefix expanded: host addresses, or prefixes of `length` (host addresses when it is the full length). */
  private expand(range: string, length?: string): string[] {
    const l = length === undefined || length === '' ? undefined : Number(length);
    if (l !== undefined && !Number.isInteger(l)) throw new Error(`bad prefix length "${length}"`);
    const full = range.includes(':') ? 128 : 32;
    return expandRange(range, l === undefined || l === full ? undefined : l);
  }

  private checkPool(pool: string): void {
    if (!pool) throw new Error('no pool name');
    if (badPool(pool)) throw new Error(`pool name "${pool}" may not contain { or }`);
  }

  /** One administration script over a list of addresses (in batches). */
  private async admin(pool: string, cmd: 'ippoolAdd' | 'ippoolRemove' | 'ippoolForceRelease' | 'ippoolModify', extra: string[], list: string[]): Promise<number> {
    this.checkPool(pool);
    const cl = await this.client();
    let n = 0;
    for (let i = 0; i < list.length; i += 1000) n += Number(await cl[cmd](poolKey(pool), nowSeconds(), poolPrefix(pool), ...extra, ...list.slice(i, i + 1000)));
    return n;
  }

  private async assign(pool: string, address: string, owner: string, range: string): Promise<number> {
    this.checkPool(pool);
    const [a] = this.expand(address);
    const cl = await this.client();
    const r = await cl.ippoolAssign(poolKey(pool), nowSeconds(), poolPrefix(pool), a, owner, range) as [number, string?];
    if (r[0] !== IPPOOL_RCODE.SUCCESS) this.log.warn(`cannot assign ${a} in pool "${pool}" to ${owner}: held by ${r[1]}`);
    return r[0] === IPPOOL_RCODE.SUCCESS ? 1 : 0;
  }

  private async unassign(pool: string, address: string): Promise<number> {
    this.checkPool(pool);
    const [a] = this.expand(address);
    const cl = await this.client();
    const r = await cl.ippoolUnassign(poolKey(pool), nowSeconds(), poolPrefix(pool), a) as [number];
    return r[0] === IPPOOL_RCODE.SUCCESS ? 1 : 0;
  }
}
