/**
 * A `radius` instance's counters in the metrics registry (`METRICS`): a collector registered in
 * `instantiate` and removed in `detach` reads `Radius.stats()` when a snapshot is taken, so the
 * proxy's hot path keeps its plain counter fields. `stats()` sums the trunk's counters
 * (`fail_fast`, `backlogged`, `backlog_failed`), every connection's counters (those of
 * connections the trunk retired included) and the instance's own (`limit_outstanding`, `loops`,
 * `cancelled`, `protocol_error`); connection states are the trunk's (core/trunk).
 *
 * | stats | metric |
 * |---|---|
 * | `counters.<name>` (sent, answered, timed_out, fail_fast, …) | `tsradius_home_server_<name>_total{instance}` |
 * | `counters.dropped_by_reason` | `tsradius_home_server_replies_dropped_total{instance, reason}` |
 * | `outstanding`, `backlog` | gauges `tsradius_home_server_outstanding`, `tsradius_home_server_backlog` |
 * | connection states | gauge `tsradius_home_server_connections{instance, state}` |
 * | summary state | gauge `tsradius_home_server_up{instance}` (1 when a connection is active or full) |
 */
import type { Collector, GaugeOptions, MetricOptions } from '../../core';
import type { ConnState } from '../../core';
import type { RadiusStats } from './radius';

const P = 'tsradius_home_server_';
const STATES: readonly ConnState[] = ['opening', 'active', 'full', 'zombie', 'dead'];
const DROPPED: MetricOptions = { name: `${P}replies_dropped_total`, help: 'Replies from the home server dropped, by reason.', labelNames: ['instance', 'reason'] };
const CONNS: GaugeOptions = { name: `${P}connections`, help: 'Connections to the home server, by state.', labelNames: ['instance', 'state'] };
const OUTSTANDING: GaugeOptions = { name: `${P}outstanding`, help: 'Requests waiting for a reply.', labelNames: ['instance'] };
const BACKLOG: GaugeOptions = { name: `${P}backlog`, help: 'Requests waiting for a connection.', labelNames: ['instance'] };
const UP: GaugeOptions = { name: `${P}up`, help: '1 when a connection to the home server is active.', labelNames: ['instance'] };
const defs = new Map<string, MetricOptions>();

/** The collector for one instance. */
export function radiusCollector(instance: string, stats: () => RadiusStats): Collector {
  return (out) => {
    const s = stats();
    for (const [k, v] of Object.entries(s.counters)) {
      if (typeof v !== 'number') continue;
      let d = defs.get(k);
      if (!d) defs.set(k, (d = { name: `${P}${k}_total`, help: `Home server counter ${k}.`, labelNames: ['instance'] }));
      out.counter(d, [instance], v);
    }
    for (const [reason, v] of Object.entries(s.counters.dropped_by_reason)) out.counter(DROPPED, [instance, reason], v);
    out.gauge(OUTSTANDING, [instance], s.outstanding);
    out.gauge(BACKLOG, [instance], s.backlog);
    for (const st of STATES) out.gauge(CONNS, [instance, st], s.connections.filter((c) => c.state === st).length);
    out.gauge(UP, [instance], s.state === 'active' || s.state === 'full' ? 1 : 0);
  };
}
