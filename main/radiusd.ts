/**
 * The composition root of the `radiusd` daemon: the one place where core meets the built-in
 * modules. Core never imports `modules/` (test/structure.test.ts); this file hands the module
 * definitions and the apps module folders contribute (`modules/index.ts`) to the daemon
 * (`core/cli/radiusd.ts`). `bin/radiusd.js` loads it.
 */
import 'reflect-metadata';
import { radiusdMain as run, type DaemonIo, type DaemonParts } from '../core/cli/radiusd';
import { BUILTIN_MODULES, MODULE_APPS, MODULE_COMMANDS, MODULE_NAMESPACES } from '../modules/index';

/** The built-in module definitions, module apps, module sub-commands and module namespaces. */
export const BUILTINS: DaemonParts = { modules: BUILTIN_MODULES, apps: MODULE_APPS, commands: MODULE_COMMANDS, namespaces: MODULE_NAMESPACES };

/** Runs radiusd with `argv` (without node and script) and the built-ins. Resolves with the exit status. */
export function radiusdMain(argv: readonly string[], io?: DaemonIo): Promise<number> {
  return io ? run(argv, BUILTINS, io) : run(argv, BUILTINS);
}
