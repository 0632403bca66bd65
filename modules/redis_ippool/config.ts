/**
 * Config schema of `redis_ippool`: FreeRADIUS v4 `mods-available/redis_ippool` items: the pool
 * items (call_env: a literal, an attribute or an expansion) and the Redis connection, either in a
 * `redis { }` subsection as v4 writes it or inline (shared with `rediswho` and `redis` through
 * modules/shared/redis.ts; the subsection wins).
 */
import { conf } from '../../core';
import { REDIS_CONNECTION_ITEMS, REDIS_V4_ACCEPTED } from '../shared/redis';

const CLUSTER = conf.boolean({ doc: 'The servers are a Redis Cluster (keys of one pool share a hash slot: `{pool}`). Unset: detected from the first server that answers.' });

/** `redis { }` (FreeRADIUS v4's connection subsection). */
export const RedisSection = conf.section({ ...REDIS_CONNECTION_ITEMS, cluster: CLUSTER, ...REDIS_V4_ACCEPTED });

/** `redis_ippool [instance] { … }` */
export const RedisIppoolConfig = conf.section({
  ...REDIS_CONNECTION_ITEMS,
  cluster: CLUSTER,
  redis: conf.subsection(RedisSection, { optional: true, doc: 'FreeRADIUS v4 connection subsection (`server`, `port`, `password`, `pool { }` …); when present, it is the connection.' }),
  pool_name: conf.tmpl({ default: '%{control.IP-Pool.Name}', doc: 'The pool; empty: the module does nothing (`noop`). Needed for every operation (keys are per pool).' }),
  owner: conf.tmpl({ default: '%{Calling-Station-Id}', doc: 'Who holds a lease (the device); the same owner gets its address back while the association lives.' }),
  gateway: conf.tmpl({ default: '%{NAS-IP-Address}', doc: 'The NAS the lease is on; Accounting-On/Off release every lease of the gateway in the pool.' }),
  requested_address: conf.tmpl({ default: '%{Framed-IP-Address}', doc: 'The address a request asks for (allocation) or carries (renew, release).' }),
  allocated_address_attr: conf.string({ default: 'reply.Framed-IP-Address', doc: 'Where the allocated address goes (`reply.Framed-IP-Address`, `reply.Delegated-IPv6-Prefix`, …); an existing value is replaced.' }),
  range_attr: conf.string({ default: 'reply.IP-Pool.Range', doc: 'Receives the range id stored with the address (when it has one).' }),
  expiry_attr: conf.string({ doc: 'Receives the seconds the lease has left (e.g. `reply.Session-Timeout`).' }),
  offer_time: conf.integer({ min: 1, doc: 'Seconds an allocation holds the address (DHCP offer); unset: `lease_time`. A renew extends it to `lease_time`.' }),
  lease_time: conf.integer({ default: 3600, min: 1, doc: 'Seconds a lease lasts after a renew (and after allocation when `offer_time` is unset).' }),
  association_time: conf.tmpl({ doc: 'Seconds the owner → address association lives (at least the lease): longer makes an owner get the same address back after its lease ended. Unset or 0 on release: the association ends with the release.' }),
  copy_on_update: conf.boolean({ default: true, doc: 'A renew also puts the address into `allocated_address_attr`.' }),
  ipv4_integer: conf.boolean({ default: false, doc: 'FreeRADIUS v4: IPv4 addresses as integers for renew. Accepted; not used (addresses are text).' }),
  wait_num: conf.integer({ min: 0, doc: 'After a change, `WAIT wait_num wait_timeout`: that many replicas must acknowledge, else the operation is `fail`.' }),
  wait_timeout: conf.duration({ default: '1s', doc: 'How long `wait_num` waits.' }),
  on_exhausted: conf.enum(['notfound', 'reject'] as const, { default: 'notfound', doc: 'Rcode when the pool has no free address: `notfound` (policy decides) or `reject`.' }),
  exhausted_message: conf.tmpl({ default: 'No free address in pool %{control.IP-Pool.Name}', doc: 'Module-Failure-Message when the pool is exhausted; with `on_exhausted = reject` also the Reply-Message.' }),
});

/** The parsed config. */
export type RedisIppoolConfig = conf.Infer<typeof RedisIppoolConfig>;
