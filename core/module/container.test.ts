/** The DI root holds the process-wide services under their tokens; every module's child container sees them. */
import 'reflect-metadata';
import type { DependencyContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { loadDefaultDictionary } from '../dict/default';
import { MemoryLogger } from '../log/memory';
import { FakeClock } from '../clock/fake';
import { systemClock } from '../clock/clock';
import { MetricsRegistry } from '../metrics/registry';
import { makeTopology, SINGLE_PROCESS } from '../topology/topology';
import { WorkerPools } from '../workers/pool';
import { createRootContainer, processServices } from './container';
import { CLOCK, METRICS, TOPOLOGY, WORKER_POOLS } from './tokens';

/** What a module instance's child container resolves for the four tokens. */
function consumer(root: DependencyContainer) {
  const child = root.createChildContainer();
  return { metrics: child.resolve(METRICS), clock: child.resolve(CLOCK), pools: child.resolve(WORKER_POOLS), topology: child.resolve(TOPOLOGY) };
}

describe('root container services', () => {
  const dict = loadDefaultDictionary();
  it('registers the given process-wide services; two generations share them', () => {
    const services = processServices({ clock: new FakeClock(), topology: makeTopology('worker', 2, 3) });
    const gen1 = consumer(createRootContainer({ dict, log: new MemoryLogger(false), ...services }));
    const gen2 = consumer(createRootContainer({ dict, log: new MemoryLogger(false), ...services }));
    expect(gen1.metrics).toBe(services.metrics);
    expect(gen2.metrics).toBe(services.metrics);
    expect(gen2.clock).toBe(services.clock);
    expect(gen2.pools).toBe(gen1.pools);
    expect(gen1.topology).toEqual({ role: 'worker', index: 2, count: 3, isPrimary: false });
  });

  it('defaults: a fresh registry and pools, the system clock, a single process', () => {
    const c = consumer(createRootContainer({ dict, log: new MemoryLogger(false) }));
    expect(c.metrics).toBeInstanceOf(MetricsRegistry);
    expect(c.pools).toBeInstanceOf(WorkerPools);
    expect(c.clock).toBe(systemClock);
    expect(c.topology).toBe(SINGLE_PROCESS);
    expect(() => makeTopology('worker', 3, 3)).toThrow(/outside/);
  });
});
