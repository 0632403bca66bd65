/**
 * The stats file (SIGUSR1, `stats { interval }`, shutdown) and `%stats(<counter>)` are views of
 * the metrics registry: these functions turn a snapshot (this process's, or the cluster
 * primary's merge of its workers') back into the counter records documented in
 * docs/configuration.md, "Counters".
 */
import { totalDrops } from '../listen/ingest';
import { CLOSED_LISTENERS, listenerStatsFrom } from '../listen/metrics';
import type { ListenerStats } from '../listen/types';
import { findFamily, sampleValue, type MetricsSnapshot } from '../metrics/snapshot';

/** Metric names the server registers (see `Server`). */
export const SERVER_METRICS = {
  reloads: 'tsradius_reloads_total',
  generation: 'tsradius_generation',
  started: 'tsradius_start_time_seconds',
  appUp: 'tsradius_app_up',
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

/** Apps by name from `tsradius_app_up` (merged over workers: 1 only when ok in every worker). */
export function appsUpView(snap: MetricsSnapshot): Record<string, { kind: string; up: number }> {
  const out: Record<string, { kind: string; up: number }> = {};
  for (const s of findFamily(snap, SERVER_METRICS.appUp)?.samples ?? []) out[s.labels[1]] = { kind: s.labels[0], up: s.value };
  return out;
}

/**
 * The cluster primary's stats file: `{ workers, total, listeners, apps }` from the merged worker
 * snapshots (`apps`: `{ kind, up }` per app, up = 1 when it reports ok in every worker).
 */
export function clusterStatsView(snap: MetricsSnapshot, workers: number) {
  return { workers, ...listenerView(snap), apps: appsUpView(snap) };
}
