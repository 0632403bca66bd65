/**
 * DI tokens. Core services are registered in the root container (DICT, XLATS, ROOT_LOG,
 * METRICS, CLOCK, WORKER_POOLS, TOPOLOGY); each module instance gets a child container holding
 * MODULE_CONFIG, MODULE_LOG, MODULE_NAME, MODULE_DICT and MODULE_DEPS. Modules inject with
 * explicit `@inject(TOKEN)` only.
 *
 * Tokens are registered symbols (`Symbol.for`), so a custom module compiled against another
 * copy of this file (e.g. `dist/core/module/tokens.js` while the server runs from sources)
 * still injects the same tokens.
 */
import type { InjectionToken } from 'tsyringe';
import type { Dictionary } from '../dict/dictionary';
import type { Logger } from '../log/logger';
import type { TrunkFactory } from '../trunk/trunk';
import type { XlatRegistry } from '../unlang/xlat/registry';
import type { Clock } from '../clock/clock';
import type { MetricsRegistry } from '../metrics/registry';
import type { Topology } from '../topology/topology';
import type { WorkerPools } from '../workers/pool';
import type { DacService } from '../dac/service';
import type { ClientDirectory } from '../listen/clients';

/** The parsed, later frozen, config of this instance (type: `Infer<typeof schema>`). */
export const MODULE_CONFIG: InjectionToken<unknown> = Symbol.for('tsradius.ModuleConfig');
/** Logger prefixed with the instance name. */
export const MODULE_LOG: InjectionToken<Logger> = Symbol.for('tsradius.ModuleLog');
/** The instance name as written in config (`files`, `ldap_corp`). */
export const MODULE_NAME: InjectionToken<string> = Symbol.for('tsradius.ModuleName');
/** The resolved attributes of the definition's `dict` (type: `DictHandles<typeof dict>`). */
export const MODULE_DICT: InjectionToken<unknown> = Symbol.for('tsradius.ModuleDict');
/** The instances of the definition's `deps` (type: `DepHandles<typeof deps>`). */
export const MODULE_DEPS: InjectionToken<unknown> = Symbol.for('tsradius.ModuleDeps');
/** The protocol dictionary (root container). */
export const DICT: InjectionToken<Dictionary> = Symbol.for('tsradius.Dictionary');
/** The xlat registry of this configuration generation (root container). */
export const XLATS: InjectionToken<XlatRegistry> = Symbol.for('tsradius.Xlats');
/** The server's root logger (root container). */
export const ROOT_LOG: InjectionToken<Logger> = Symbol.for('tsradius.RootLog');
/**
 * The process's metrics registry (root container). One per process, kept across reloads:
 * modules add collectors or bind counters in `instantiate` and remove them in `detach`.
 */
export const METRICS: InjectionToken<MetricsRegistry> = Symbol.for('tsradius.Metrics');
/** The server clock: monotonic ms, wall time derived from it, timers (root container). */
export const CLOCK: InjectionToken<Clock> = Symbol.for('tsradius.Clock');
/** The process's worker-thread pools (root container). */
export const WORKER_POOLS: InjectionToken<WorkerPools> = Symbol.for('tsradius.WorkerPools');
/** This process's place in the cluster: role, worker index and count (root container). */
export const TOPOLOGY: InjectionToken<Topology> = Symbol.for('tsradius.Topology');
/** Connection-trunk factory (root container; core/trunk). */
export const TRUNKS: InjectionToken<TrunkFactory> = Symbol.for('tsradius.Trunks');
/** The CoA/Disconnect originator and its session lookup, one per process (root container; core/dac). */
export const DAC: InjectionToken<DacService> = Symbol.for('tsradius.Dac');
/** The generation's RADIUS clients, looked up by address (root container; core/listen/clients.ts). */
export const CLIENTS: InjectionToken<ClientDirectory> = Symbol.for('tsradius.Clients');
