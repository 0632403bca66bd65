/**
 * What `sqlippool` and `redis_ippool` share: the attribute an allocated address goes into
 * (`reply.Framed-IP-Address`, `reply.Delegated-IPv6-Prefix` …), and the pool counters in the
 * metrics registry.
 */
import type { CallContext, DictAttr, Dictionary, LeafType, MetricsRegistry, Pair, Rcode, Request } from '../../core';
import { failureMessage, parseValue, setValue, valueKey } from '../../core';

/** Section → method of both pool modules (allocate on the way in, lease updates from accounting). */
export const POOL_METHODS = Object.freeze({
  'recv Access-Request': 'alloc',
  'send Access-Accept': 'alloc',
  'post-auth *': 'alloc',
  'accounting Start': 'update',
  'accounting Interim-Update': 'update',
  'accounting Stop': 'release',
  'accounting Accounting-On': 'bulkRelease',
  'accounting Accounting-Off': 'bulkRelease',
  'accounting *': 'accounting',
  'recv Accounting-Request': 'accounting',
  accounting: 'accounting',
} as const);

/** `<instance>.<name>` calls of both pool modules. */
export const POOL_NAMED = Object.freeze({
  allocate: 'alloc',
  alloc: 'alloc',
  update: 'update',
  renew: 'update',
  release: 'release',
  bulk_release: 'bulkRelease',
  accounting: 'accounting',
} as const);

/**
 * The verdict when a pool has no free address: counted, logged, Module-Failure-Message set, and
 * `notfound` (or `reject` with `msg` as Reply-Message when `on_exhausted = reject`).
 */
export function poolExhausted(request: Request, ctx: CallContext<unknown>, o: {
  readonly instance: string; readonly pool: string; readonly msg: string; readonly onExhausted: 'notfound' | 'reject';
  readonly dict: Dictionary; readonly counters: PoolCounters;
}): Rcode {
  o.counters.exhausted.inc();
  ctx.log.warn(`pool "${o.pool}" has no free address`);
  failureMessage(request, o.dict, `${o.instance}: ${o.msg}`);
  if (o.onExhausted === 'reject') {
    const rm = o.dict.resolve('Reply-Message');
    if (rm && o.msg) setValue(request.reply, rm, o.msg);
    return 'reject';
  }
  return 'notfound';
}

/** A list-qualified attribute (`reply.Framed-IP-Address`). */
export interface AddressTarget {
  readonly list: 'request' | 'reply' | 'control';
  readonly da: DictAttr;
}

/** Address types an allocated address may be stored as. */
const ADDRESS_TYPES = new Set(['ipv4addr', 'ipv6addr', 'ipv4prefix', 'ipv6prefix', 'ipaddr', 'ipprefix', 'combo-ipaddr', 'combo-ipprefix']);

/** `reply.Framed-IP-Address` → target; an error text when it names no usable attribute. */
export function addressTarget(text: string, dict: Dictionary): AddressTarget | string {
  const m = /^(?:(request|reply|control)\.)?(.+)$/.exec(text.trim());
  const list = (m?.[1] ?? 'reply') as AddressTarget['list'];
  const da = m ? dict.resolve(m[2]) : undefined;
  if (!da) return `attribute "${m?.[2] ?? text}" is not in the dictionary`;
  if (!ADDRESS_TYPES.has(da.type)) return `attribute "${da.name}" is of type ${da.type}, not an address or prefix`;
  return { list, da };
}

function listOf(request: Request, t: AddressTarget): Pair[] {
  return t.list === 'request' ? request.request : t.list === 'control' ? request.control : request.reply;
}

/** True when the target attribute is already set on the request. */
export function hasAddress(request: Request, t: AddressTarget): boolean {
  return listOf(request, t).some((p) => p.da === t.da);
}

/**
 * Sets the target to `text` as the database or Redis returned it. A host address returned for a
 * prefix attribute gets its full length (`/32`, `/128`); a `/32` or `/128` returned for an
 * address attribute loses it.
 */
export function setAddress(request: Request, t: AddressTarget, text: string): void {
  let v = text.trim();
  const type = t.da.type;
  if (type.endsWith('prefix') && !v.includes('/')) v += v.includes(':') ? '/128' : '/32';
  if (type.endsWith('addr') && /\/(32|128)$/.test(v)) v = v.replace(/\/\d+$/, '');
  setValue(listOf(request, t), t.da, parseValue(type as LeafType, v, t.da));
}

/** The pool counters of one instance (labels: module, instance, result). */
export interface PoolCounters {
  readonly allocated: { inc(n?: number): void };
  readonly exhausted: { inc(n?: number): void };
  readonly released: { inc(n?: number): void };
  readonly updated: { inc(n?: number): void };
}

/** Registers (or finds) the shared `tsradius_ippool_*_total` counters for one instance. */
export function poolCounters(metrics: MetricsRegistry, module: string, instance: string): PoolCounters {
  const c = metrics.counter({ name: 'tsradius_ippool_events_total', help: 'IP pool events by module instance and result (allocated, exhausted, released, updated).', labelNames: ['module', 'instance', 'result'] });
  return {
    allocated: c.labels(module, instance, 'allocated'),
    exhausted: c.labels(module, instance, 'exhausted'),
    released: c.labels(module, instance, 'released'),
    updated: c.labels(module, instance, 'updated'),
  };
}

/**
 * The accounting event a pool call is for, lower-case (`start`, `interim-update`, `stop`,
 * `accounting-on` …): the section name (`accounting Stop`), else Acct-Status-Type.
 */
export function acctStatusType(request: Request, ctx: CallContext<unknown>, dict: Dictionary): string | undefined {
  const s = ctx.section;
  if (s.name1.toLowerCase() === 'accounting' && s.name2 && s.name2 !== '*') return s.name2.toLowerCase();
  const da = dict.resolve('Acct-Status-Type');
  const p = da ? request.request.find((x) => x.da === da) : undefined;
  if (!p || !da) return undefined;
  return ((p.value === undefined ? undefined : da.valueNames?.get(valueKey(p.value))) ?? String(p.value)).toLowerCase();
}
