/**
 * The app's metrics: a collector (core/metrics) that reads the control plane's lock-free snapshot when the
 * registry is snapshotted (stats file, Prometheus), so the lcores' hot path is untouched. Registered by the app's
 * `start`, removed by its `stop`.
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `tsradius_pppoe_<counter>_total` (submitted, received, accept, reject, timeout, error, ring_full_drops, orphans, …) | counter | `app`, `lcore` |
 * | `tsradius_pppoe_pending`, `tsradius_pppoe_sessions_active`, `tsradius_pppoe_acct_backlog` | gauge (sum) | `app`, `lcore` |
 * | `tsradius_pppoe_cp_<counter>_total` (requests, answered, handler_errors, abandoned, restarts, …) | counter | `app` |
 * | `tsradius_pppoe_ring_used` | gauge (sum) | `app`, `lcore`, `ring` (`request`, `response`) |
 * | `tsradius_pppoe_latency_seconds` | gauge (max) | `app`, `quantile` (0.5, 0.99, 0.999, 1) |
 */
import type { Collect, Collector, GaugeOptions, MetricOptions } from '../../core';
import type { ControlPlane, ControlPlaneCounters } from './control-plane';
import { COUNTERS, type CounterName } from './shared';

/** Lcore counters that are gauges. */
const GAUGES: ReadonlySet<CounterName> = new Set(['pending', 'sessions_active', 'acct_backlog']);

const HELP: Partial<Record<CounterName, string>> = {
  submitted: 'Authentication requests the lcores enqueued to the control plane.',
  received: 'Answers the lcores took from the control plane.',
  accept: 'Results: accept.',
  reject: 'Results: reject.',
  timeout: 'Results: synthetic TIMEOUT made by the lcore.',
  error: 'Results: error.',
  ring_full_drops: 'Submissions refused because the request ring was full.',
  orphans: 'Answers for requests no longer pending.',
  pending: 'Requests waiting for an answer.',
  sessions_active: 'Sessions installed.',
  acct_backlogged: 'Accounting records kept in the lcore backlog because the request ring was full.',
  acct_retried: 'Backlogged accounting records later moved into the request ring.',
  acct_backlog_drops: 'Accounting records lost because the lcore backlog was full.',
  acct_backlog: 'Accounting records waiting in the lcore backlog.',
};

const lcoreDefs = new Map<CounterName, MetricOptions | GaugeOptions>(COUNTERS.map((n) => [n, GAUGES.has(n)
  ? { name: `tsradius_pppoe_${n}`, help: HELP[n] ?? n, labelNames: ['app', 'lcore'], merge: 'sum' } as GaugeOptions
  : { name: `tsradius_pppoe_${n}_total`, help: HELP[n] ?? `Lcore counter ${n}.`, labelNames: ['app', 'lcore'] }]));

const cpDefs = new Map<string, MetricOptions>();
function cpDef(n: string): MetricOptions {
  let d = cpDefs.get(n);
  if (!d) cpDefs.set(n, (d = { name: `tsradius_pppoe_cp_${n}_total`, help: `Control-plane counter ${n}.`, labelNames: ['app'] }));
  return d;
}

const RING_USED: GaugeOptions = { name: 'tsradius_pppoe_ring_used', help: 'Slots in use per ring.', labelNames: ['app', 'lcore', 'ring'], merge: 'sum' };
const LATENCY: GaugeOptions = {
  name: 'tsradius_pppoe_latency_seconds', help: 'Submit → result latency over all lcores (TIMEOUT included).', labelNames: ['app', 'quantile'], merge: 'max',
};

/** The collector for one app instance named `app`. */
export function pppoeCollector(app: string, cp: ControlPlane): Collector {
  return (out: Collect) => {
    const snap = cp.snapshot();
    for (const l of snap.lcores) {
      const lcore = String(l.id);
      for (const n of COUNTERS) {
        const def = lcoreDefs.get(n)!;
        if (GAUGES.has(n)) out.gauge(def as GaugeOptions, [app, lcore], l.counters[n]);
        else out.counter(def, [app, lcore], l.counters[n]);
      }
    }
    for (const [n, v] of Object.entries(snap.controlPlane) as [keyof ControlPlaneCounters, number][]) out.counter(cpDef(n), [app], v);
    for (const r of cp.rings()) {
      if (r.request) out.gauge(RING_USED, [app, String(r.id), 'request'], r.request.used);
      if (r.response) out.gauge(RING_USED, [app, String(r.id), 'response'], r.response.used);
    }
    const lat = snap.latency;
    const q: [string, number][] = [['0.5', lat.p50], ['0.99', lat.p99], ['0.999', lat.p999], ['1', lat.max]];
    for (const [k, us] of q) out.gauge(LATENCY, [app, k], us / 1e6);
  };
}
