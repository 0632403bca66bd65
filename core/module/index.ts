/**
 * The module system's import surface for modules and the server:
 *
 * - for modules: {@link defineModule}, the tokens (`MODULE_CONFIG`, `MODULE_LOG`,
 *   `MODULE_NAME`, …), the call contract types, and tsyringe's `inject`/`injectable`
 *   (re-exported after `reflect-metadata` is loaded, so a module needs no import order);
 * - for the server: {@link createRootContainer}; `loadModules` lives in `./loader.ts` (the public
 *   surface `core/index.ts` re-exports both). Modules import core through `core/index.ts` only.
 */
import 'reflect-metadata';

export * from '../unlang/module-call';
export { type Rcode, RCODES } from '../request/rcode';
export * from './define';
export * from './tokens';
export { inject, injectable } from 'tsyringe';
export { createRootContainer, processServices, type RootServices, type ProcessServices } from './container';
export { ModuleRegistry, isModuleDefinition, definitionProblem, type AnyModuleDefinition } from './registry';
export { BoundModule, bindingKey } from './binding';
export { makeAt } from './at';
export { probeTcp, type ProbeTarget } from './probe';
export { ModuleError, type ModuleErrorCode } from './errors';
