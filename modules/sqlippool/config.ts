/**
 * Config schema of `sqlippool`: FreeRADIUS v4 `mods-available/sqlippool` items (the v4
 * `fr_ippool` table and query names), with the dialect's `queries.conf` included.
 */
import { conf } from '../../core';

/** `sqlippool [instance] { … }` */
export const SqlippoolConfig = conf.section({
  sql_module_instance: conf.string({ default: 'sql', doc: 'The `sql` instance whose connections (pool, fail-over, timeouts) run the queries.' }),
  dialect: conf.enum(['sqlite', 'postgresql'] as const, { default: 'sqlite', doc: 'Which `queries.conf` the config includes; also picks the escaping of values put into queries.' }),
  ippool_table: conf.string({ default: 'fr_ippool', doc: 'The pool table (used by queries.conf as `${.ippool_table}`).' }),
  lease_duration: conf.integer({ default: 3600, min: 1, doc: 'Seconds a lease lasts after accounting Start or an Interim-Update (used by queries.conf as `${.lease_duration}`); an address whose lease ran out is free again.' }),
  offer_duration: conf.integer({ min: 1, doc: 'Seconds a fresh allocation is held until its first update (FreeRADIUS v4: the offer); used by queries.conf as `${.offer_duration}`, so the shipped queries need it set.' }),
  pool_name: conf.tmpl({ default: '%{control.IP-Pool.Name}', doc: 'The pool to allocate from (a bare attribute name is a reference, as in FreeRADIUS v4); empty: the module does nothing (`noop`).' }),
  owner: conf.string({ default: '%{Calling-Station-Id}', doc: 'Who holds a lease (the device); the same owner gets its previous address back when it is free. An expansion the queries take in as `${.owner}` (checked there).' }),
  gateway: conf.tmpl({ default: '%{NAS-IP-Address}', doc: 'The NAS the lease is on; Accounting-On/Off release every lease of the gateway.' }),
  requested_address: conf.tmpl({ default: '%{Framed-IP-Address}', doc: 'The address a request asks for (allocation) or carries (Interim-Update, Stop).' }),
  allocated_address_attr: conf.string({ default: 'reply.Framed-IP-Address', doc: 'Where the allocated address goes (`reply.Framed-IP-Address`, `reply.Framed-IPv6-Prefix`, `reply.Delegated-IPv6-Prefix`, …). Allocation is skipped (`noop`) when it is already set.' }),
  on_exhausted: conf.enum(['notfound', 'reject'] as const, { default: 'notfound', doc: 'Rcode when the pool exists but has no free address: `notfound` (FreeRADIUS; policy decides) or `reject`.' }),
  exhausted_message: conf.tmpl({ default: 'No free address in pool %{control.IP-Pool.Name}', doc: 'Module-Failure-Message when the pool is exhausted; with `on_exhausted = reject` also the Reply-Message.' }),
  alloc_existing: conf.tmpl({ doc: 'Claims and returns (one atomic statement) the address the owner held last, when it is free or still the owner\'s.' }),
  alloc_requested: conf.tmpl({ doc: 'Claims and returns the requested address when it is free (run only when `requested_address` is set).' }),
  alloc_find: conf.tmpl({ doc: 'Claims and returns a free address (expired lease), oldest first.' }),
  pool_check: conf.tmpl({ doc: 'Returns a row when the pool exists: tells an exhausted pool (`on_exhausted`) from a missing one (`noop`).' }),
  update_free: conf.tmpl({ doc: 'Run before `update_update`: frees the owner\'s other live leases in the pool (allocations it no longer uses).' }),
  update_update: conf.tmpl({ doc: 'Extends the owner\'s lease of the requested address (Start, Interim-Update).' }),
  release_clear: conf.tmpl({ doc: 'Frees the owner\'s lease of the requested address (Stop); the row forgets the owner (FreeRADIUS v4).' }),
  bulk_release_clear: conf.tmpl({ doc: 'Frees every lease of the gateway (Accounting-On, Accounting-Off).' }),
});

/** The parsed config. */
export type SqlippoolConfig = conf.Infer<typeof SqlippoolConfig>;
