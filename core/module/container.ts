/**
 * The root DI container of one configuration generation (aesthetics.md §4.4). It holds core
 * services only, each under a typed token from `./tokens.ts`: the dictionary ({@link DICT}),
 * the generation's xlat registry ({@link XLATS}), the root logger ({@link ROOT_LOG}) and the
 * connection-trunk factory ({@link TRUNKS}, core/trunk).
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
import { DICT, ROOT_LOG, TRUNKS, XLATS } from './tokens';

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
}

/** A new root container for one configuration generation, holding DICT, XLATS, ROOT_LOG and TRUNKS. */
export function createRootContainer(services: RootServices): DependencyContainer {
  const root = container.createChildContainer();
  root.register(DICT, { useValue: services.dict });
  root.register(XLATS, { useValue: services.xlats ?? globalXlats.child() });
  root.register(ROOT_LOG, { useValue: services.log });
  root.register(TRUNKS, { useValue: trunkFactory });
  return root;
}
