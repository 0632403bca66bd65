/**
 * The root DI container of one configuration generation (aesthetics.md §4.4). It holds core
 * services only, each under a typed token from `./tokens.ts`: the dictionary ({@link DICT}),
 * the generation's xlat registry ({@link XLATS}), the root logger ({@link ROOT_LOG}), the
 * connection-trunk factory ({@link TRUNKS}, core/trunk), and the process-wide services that
 * outlive a generation: metrics ({@link METRICS}), the clock ({@link CLOCK}), worker-thread
 * pools ({@link WORKER_POOLS}) and the worker topology ({@link TOPOLOGY}). The server creates those once and passes them to every generation; a
 * container made without them (tests, `radiusd -C`) gets fresh ones.
 * The loader creates one child container per module instance from it.
 *
 * Only `core/module/` and `core/cli/` may import tsyringe's global `container`
 * (checked by `di-rules.test.ts`).
 */
import 'reflect-metadata';
import { container, type DependencyContainer } from 'tsyringe';
import type { Dictionary } from '../dict/dictionary';
import type { Logger } from '../log/logger';
import { globalXlats, type XlatRegistry } from '../unlang/xlat/registry';
import { trunkFactory } from '../trunk/trunk';
import { systemClock, type Clock } from '../clock/clock';
import { MetricsRegistry } from '../metrics/registry';
import { SINGLE_PROCESS, type Topology } from '../topology/topology';
import { WorkerPools } from '../workers/pool';
import { DacService } from '../dac/service';
import { ClientDirectory } from '../listen/clients';
import { CLIENTS, CLOCK, DAC, DICT, METRICS, ROOT_LOG, TOPOLOGY, TRUNKS, WORKER_POOLS, XLATS } from './tokens';

/** Core services of a configuration generation. */
export interface RootServices {
  /** The protocol dictionary. */
  readonly dict: Dictionary;
  /** The server's root logger; module loggers are its children. */
  readonly log: Logger;
  /**
   * The xlat registry modules register into during `bootstrap`; pass the same registry to the
   * unlang compiler. Default: a fresh child of the process-wide registry, so a reload starts
   * clean and sees the built-ins.
   */
  readonly xlats?: XlatRegistry;
  /** The generation's clients (default: an empty directory; the generation fills its own). */
  readonly clients?: ClientDirectory;
  /** The process's metrics registry (default: a fresh one). */
  readonly metrics?: MetricsRegistry;
  /** The server clock (default: the system clock). */
  readonly clock?: Clock;
  /** The process's worker-thread pools (default: a fresh set, threads started on first use). */
  readonly workers?: WorkerPools;
  /** This process's place in the cluster (default: a single process). */
  readonly topology?: Topology;
  /** The CoA/Disconnect originator and its sessions (default: a fresh one). */
  readonly dac?: DacService;
}

/** The process-wide services of {@link RootServices}, filled in with their defaults. */
export interface ProcessServices {
  readonly metrics: MetricsRegistry;
  readonly clock: Clock;
  readonly workers: WorkerPools;
  readonly topology: Topology;
  readonly dac: DacService;
}

/** Process-wide services for one server process: given ones kept, the rest created. */
export function processServices(given: Partial<ProcessServices> = {}): ProcessServices {
  const metrics = given.metrics ?? new MetricsRegistry();
  // Created on first use, so that a process (or a test) that never sends CoA has no DAC metrics.
  let dac = given.dac;
  return {
    metrics,
    get dac() { return (dac ??= new DacService({ metrics })); },
    clock: given.clock ?? systemClock,
    workers: given.workers ?? new WorkerPools(),
    topology: given.topology ?? SINGLE_PROCESS,
  };
}

/**
 * A new root container for one configuration generation, holding DICT, XLATS, ROOT_LOG,
 * TRUNKS, METRICS, CLOCK, WORKER_POOLS and TOPOLOGY.
 */
export function createRootContainer(services: RootServices): DependencyContainer {
  const root = container.createChildContainer();
  const p = processServices(services);
  root.register(DICT, { useValue: services.dict });
  root.register(XLATS, { useValue: services.xlats ?? globalXlats.child() });
  root.register(ROOT_LOG, { useValue: services.log });
  root.register(TRUNKS, { useValue: trunkFactory });
  root.register(METRICS, { useValue: p.metrics });
  root.register(CLOCK, { useValue: p.clock });
  root.register(WORKER_POOLS, { useValue: p.workers });
  root.register(TOPOLOGY, { useValue: p.topology });
  root.register(DAC, { useFactory: () => p.dac });
  root.register(CLIENTS, { useValue: services.clients ?? new ClientDirectory() });
  return root;
}
