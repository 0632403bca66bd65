/**
 * The stats file (SIGUSR1, `stats { interval }`, shutdown) and `%stats(<counter>)` are views of
 * the metrics registry: these functions turn a snapshot (this process's, or the cluster
 * primary's merge of its workers') back into the counter records documented in
 * docs/configuration.md, "Counters".
 */
import { totalDrops } from '../listen/ingest';
import { CLOSED_LISTENERS, listenerStatsFrom } from '../listen/metrics';
import type { ListenerStats } from '../listen/types';
import { sampleValue, type MetricsSnapshot } from '../metrics/snapshot';

/** Metric names the server registers (see `Server`). */
export const SERVER_METRICS = {
  reloads: 'tsradius_reloads_total',
  generation: 'tsradius_generation',
  started: 'tsradius_start_time_seconds',
} as const;

/** Listener counters of a snapshot: the sum over all listeners (plus `drop_total`) and each open listener's. */
export function listenerView(snap: MetricsSnapshot): { total: ListenerStats; listeners: Record<string, ListenerStats> } {
  const total: ListenerStats = {};
  const listeners: Record<string, ListenerStats> = {};
  for (const [name, s] of listenerStatsFrom(snap)) {
    if (name !== CLOSED_LISTENERS) listeners[name] = s;
    for (const k in s) total[k] = (total[k] ?? 0) + s[k];
  }
  total.drop_total = totalDrops(total);
  return { total, listeners };
}

/** The single-process stats file: `{ generation, started, reloads, total, listeners }`. */
export function serverStatsView(snap: MetricsSnapshot) {
  const started = sampleValue(snap, SERVER_METRICS.started);
  return {
    generation: sampleValue(snap, SERVER_METRICS.generation),
    started: new Date(Math.round(started * 1000)).toISOString(),
    reloads: { ok: sampleValue(snap, SERVER_METRICS.reloads, { result: 'ok' }), failed: sampleValue(snap, SERVER_METRICS.reloads, { result: 'failed' }) },
    ...listenerView(snap),
  };
}

/** The cluster primary's stats file: `{ workers, total, listeners }` from the merged worker snapshots. */
export function clusterStatsView(snap: MetricsSnapshot, workers: number) {
  return { workers, ...listenerView(snap) };
}
