/**
 * Config schema of `redis_ippool`: FreeRADIUS v4 `mods-available/redis_ippool` items (the
 * connection items of its `redis` section inline, shared with `rediswho` through
 * modules/shared/redis.ts, and the pool items).
 */
import { conf } from '../../core';
import { REDIS_CONNECTION_ITEMS } from '../shared/redis';

/** `redis_ippool [instance] { … }` */
export const RedisIppoolConfig = conf.section({
  ...REDIS_CONNECTION_ITEMS,
  cluster: conf.boolean({ default: false, doc: 'The servers are a Redis Cluster (keys of one pool share a hash slot: `{pool}`).' }),
  pool_name: conf.tmpl({ default: '%{control.IP-Pool.Name}', doc: 'The pool; empty: the module does nothing (`noop`). Needed for every operation (keys are per pool).' }),
  owner: conf.tmpl({ default: '%{Calling-Station-Id}', doc: 'Who holds a lease (the device); the same owner gets its previous address back when it is free.' }),
  gateway: conf.tmpl({ default: '%{NAS-IP-Address}', doc: 'The NAS the lease is on; Accounting-On/Off release every lease of the gateway in the pool.' }),
  requested_address: conf.tmpl({ default: '%{Framed-IP-Address}', doc: 'The address a request asks for (allocation) or carries (Interim-Update, Stop).' }),
  allocated_address_attr: conf.string({ default: 'reply.Framed-IP-Address', doc: 'Where the allocated address goes (`reply.Framed-IP-Address`, `reply.Delegated-IPv6-Prefix`, …). Allocation is skipped (`noop`) when it is already set.' }),
  lease_time: conf.integer({ default: 3600, min: 1, doc: 'Seconds a lease lasts after allocation or an Interim-Update.' }),
  on_exhausted: conf.enum(['notfound', 'reject'] as const, { default: 'notfound', doc: 'Rcode when the pool has no free address: `notfound` (policy decides) or `reject`.' }),
  exhausted_message: conf.tmpl({ default: 'No free address in pool %{control.IP-Pool.Name}', doc: 'Module-Failure-Message when the pool is exhausted; with `on_exhausted = reject` also the Reply-Message.' }),
});

/** The parsed config. */
export type RedisIppoolConfig = conf.Infer<typeof RedisIppoolConfig>;
