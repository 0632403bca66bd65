/**
 * The DAC session store under `node:cluster` (several workers sharing the sockets).
 *
 * The kernel hands each datagram to any worker, so one session's Access-Request, Start,
 * Interim-Updates and Stop land in different processes. The session store therefore lives in the
 * primary ({@link primarySessionsRpc}: one {@link MemorySessions}), and each worker's
 * `DacService` uses {@link ClusterSessions}, which runs every operation there over IPC
 * ({@link workerCall}). Any worker can then answer the admin API for every session and send its
 * CoA/Disconnect (the target comes from the session and the client tables, which every worker
 * has); the outcome is recorded in the primary. The Accept's grant goes through the primary too,
 * so the Start finds it whichever worker handled the Access-Request.
 *
 * `metrics` is the workers' registries merged (`ClusterPrimary.metrics`) plus the primary's
 * `tsradius_sessions_active`, for the admin app's `/metrics` and `/api/stats`.
 */
import type { MetricsSnapshot } from '../metrics/snapshot';
import {
  MemorySessions, type AccountingUpdate, type DacOutcome, type DacSession, type Grant, type SessionFilter, type SessionStore, type UpdateResult,
} from '../dac/sessions';
import { workerCall } from './cluster';

const OPS = new Set(['get', 'find', 'count', 'recordDac', 'start', 'interim', 'stop', 'putGrant', 'grantOf']);

/** The primary's side: `rpc` for `ClusterPrimary` (session operations and the merged metrics). */
export function primarySessionsRpc(merged: () => Promise<MetricsSnapshot>, store = new MemorySessions()): (op: string, args: unknown[]) => unknown {
  return async (op, args) => {
    if (op === 'metrics') {
      const snap = await merged();
      const families = snap.families.filter((f) => f.name !== 'tsradius_sessions_active');
      families.push({ name: 'tsradius_sessions_active', help: 'Active sessions known to the DAC session store.', type: 'gauge', labelNames: [], merge: 'max', samples: [{ labels: [], value: store.count() }] });
      return { families };
    }
    if (!op.startsWith('sessions.') || !OPS.has(op.slice(9))) throw new Error(`unknown call ${op}`);
    const fn = (store as unknown as Record<string, (...a: unknown[]) => unknown>)[op.slice(9)];
    return fn.apply(store, args);
  };
}

/** A worker's view of the primary's store. */
export class ClusterSessions implements SessionStore {
  constructor(private readonly timeoutMs = 5000) {}

  private call<T>(op: string, ...args: unknown[]): Promise<T> {
    return workerCall<T>(`sessions.${op}`, args, this.timeoutMs);
  }

  get(id: string): Promise<DacSession | undefined> { return this.call('get', id); }
  find(filter: SessionFilter, limit?: number): Promise<DacSession[]> { return this.call('find', filter, limit); }
  count(): Promise<number> { return this.call('count'); }
  recordDac(id: string, outcome: DacOutcome, attributes?: Record<string, string>): Promise<void> { return this.call('recordDac', id, outcome, attributes); }
  start(u: AccountingUpdate): Promise<UpdateResult> { return this.call('start', u); }
  interim(u: AccountingUpdate): Promise<UpdateResult> { return this.call('interim', u); }
  stop(u: AccountingUpdate): Promise<UpdateResult> { return this.call('stop', u); }
  putGrant(id: string, g: Grant): Promise<void> { return this.call('putGrant', id, g); }
  grantOf(id: string, take: boolean): Promise<Grant | undefined> { return this.call('grantOf', id, take); }
}

/** In a worker: the cluster-wide metrics (merged in the primary). */
export function clusterMetrics(): Promise<MetricsSnapshot> {
  return workerCall<MetricsSnapshot>('metrics', [], 5000);
}
