/**
 * The worker topology of this process: which of the cluster's processes it is. Modules inject
 * it (`TOPOLOGY`) instead of reading environment variables, e.g. to divide a per-server limit
 * by the number of workers that each hold their own pool (`modules/radius` divides
 * `max_outstanding` and `pool.max` by `count`).
 *
 * | process | role | index | count | isPrimary |
 * |---|---|---|---|---|
 * | `-X`, `workers = 1`, tests | `single` | 0 | 1 | true |
 * | cluster primary (no listeners; runs `-C`-style checks only) | `primary` | 0 | N | true |
 * | cluster worker i of N | `worker` | i | N | false |
 *
 * The cluster code (`core/server/cluster.ts`) builds it from what the primary passes each
 * worker at fork time (`clusterTopology()`).
 */

/** How this process runs. */
export type ProcessRole = 'single' | 'primary' | 'worker';

/** The worker topology (root container token `TOPOLOGY`). */
export interface Topology {
  readonly role: ProcessRole;
  /** 0-based index of this worker (0 outside a cluster worker). */
  readonly index: number;
  /** Number of workers sharing the sockets (1 when not clustered). */
  readonly count: number;
  /** True when this process is not a cluster worker (a single process, or the primary). */
  readonly isPrimary: boolean;
}

/** One process doing everything. */
export const SINGLE_PROCESS: Topology = Object.freeze({ role: 'single', index: 0, count: 1, isPrimary: true });

/** A topology, checked: `index` in `[0, count)`, `count` ≥ 1. */
export function makeTopology(role: ProcessRole, index: number, count: number): Topology {
  if (!Number.isInteger(count) || count < 1) throw new Error(`topology: worker count ${count} must be a positive integer`);
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new Error(`topology: worker index ${index} is outside 0..${count - 1}`);
  if (role === 'single' && count !== 1) throw new Error('topology: a single process has a worker count of 1');
  return Object.freeze({ role, index: role === 'worker' ? index : 0, count, isPrimary: role !== 'worker' });
}
