/**
 * The module definition contract: a module is a *value* (FreeRADIUS `module_rlm_t`,
 * aesthetics.md §4.2). Importing a definition does nothing; `core/module/loader.ts`
 * parses its config, builds the instance in a child DI container and runs its
 * lifecycle.
 *
 * Rules:
 * - `impl` MUST take every constructor argument through an explicit `@inject(TOKEN)`
 *   (tokens in `./tokens.ts`); constructors MUST NOT do I/O.
 * - Lifecycle hooks are optional and run in this order: `bootstrap` (all instances;
 *   synchronous; register xlats) → `configure` (all instances; synchronous; read and
 *   compile configuration data files such as a users file; no sockets) → `instantiate`
 *   (all instances; may be async; open sockets/files) → run → `detach` (reverse order;
 *   also after a partial failure, so it MUST tolerate a half-instantiated object).
 *   `radiusd -C` runs everything up to and including `configure`, so a bad data file
 *   fails the check exactly as it fails start-up.
 * - Config is frozen after `instantiate`; mutable runtime state lives on the instance.
 * - Methods are bound to processing sections by key: `'recv Access-Request'`,
 *   `'recv *'`, `'authenticate *'`, `'* *'`. Resolution for a call in section
 *   `name1 name2`: exact key, then `name1 *`, then `* *`. An explicit `inst.method`
 *   call picks `named[method]` instead.
 * - `env` (FreeRADIUS call_env) names, per method, config items holding templates
 *   (`conf.tmpl`); the loader compiles them after `bootstrap` (so the modules' own xlats are
 *   known) and expands them against the request before every call of that method, which
 *   sees the strings as `ctx.env`. A yielding xlat makes the call yield.
 */

import type { ModuleMapMethod, ModuleMethod } from './api';
import type { Fields, SectionSchema } from '../config/schema';
import type { Dictionary } from '../dict/dictionary';
import type { XlatFunc, XlatOptions } from '../unlang/xlat/registry';
import type { Logger } from '../log/logger';

/** Context for `bootstrap`: register global things; no I/O. */
export interface BootstrapContext {
  readonly name: string;
  readonly dict: Dictionary;
  readonly log: Logger;
  /** Registers `%<name>(…)`; by convention names are prefixed with the instance name. */
  registerXlat(name: string, fn: XlatFunc, opts?: XlatOptions): void;
}

/** Context for `instantiate`: open resources. */
export interface InstantiateContext {
  readonly name: string;
  readonly dict: Dictionary;
  readonly log: Logger;
}

/** Optional lifecycle hooks of a module instance. */
export interface ModuleInstance {
  bootstrap?(ctx: BootstrapContext): void;
  /**
   * Reads and compiles configuration data files (errors located `file[line]`). Runs after
   * every instance's `bootstrap` (so all xlats are known), also under `radiusd -C`.
   */
  configure?(ctx: InstantiateContext): void;
  instantiate?(ctx: InstantiateContext): void | Promise<void>;
  detach?(): void | Promise<void>;
}

/** Method names of `I` whose type is a module method. */
export type MethodName<I> = { [K in keyof I]: I[K] extends ModuleMethod<any> ? K : never }[keyof I] & string;

/** Method names of `I` whose type is a map method (`map <instance> "query" { … }`). */
export type MapMethodName<I> = { [K in keyof I]: I[K] extends ModuleMapMethod ? K : never }[keyof I] & string;

/** Section key → method name. Keys are `name1 name2` with `*` wildcards. */
export type MethodTable<I> = Readonly<Record<string, MethodName<I>>>;

/**
 * Per-call arguments: method name → (argument name → config item path, `item` or
 * `sub.item`, whose value is a template string). The method receives
 * `ctx.env: { [argument]: string }`.
 */
export type CallEnvTable<I> = Readonly<Partial<Record<MethodName<I>, Readonly<Record<string, string>>>>>;

/** A constructor the DI container can build. */
export type Constructor<I> = new (...args: any[]) => I;

/** Everything the loader needs to know about a module. */
export interface ModuleDefinition<F extends Fields = Fields, I extends ModuleInstance = ModuleInstance> {
  /** Module name: `files` → config `files [instance] { … }`. Lower case, underscores. */
  readonly name: string;
  /** `rlm` for policy modules; `listen`/`process` for protocol plumbing. */
  readonly kind: 'rlm' | 'listen' | 'process';
  /** One-line summary for docs and `radiusd --list-modules`. */
  readonly summary?: string;
  /** Declarative config schema; also produces the README's config table. */
  readonly config: SectionSchema<F>;
  /** Attributes the module needs; checked at load (a missing one is a startup error). */
  readonly dict?: readonly string[];
  /** Implementation class, resolved in the instance's child container. */
  readonly impl: Constructor<I>;
  /** Section bindings (see the rules above). */
  readonly methods: MethodTable<I>;
  /** Methods callable by name as `instance.method` (defaults to the values of `methods`). */
  readonly named?: Readonly<Record<string, MethodName<I>>>;
  /** Per-call arguments expanded before each call (see {@link CallEnvTable}). */
  readonly env?: CallEnvTable<I>;
  /** The instance method behind `map <instance> "query" { attr op 'field' … }` (FreeRADIUS map_proc), if any. */
  readonly map?: MapMethodName<I>;
}

/** Identity helper that gives a definition its types; it does nothing at run time. */
export function defineModule<F extends Fields, I extends ModuleInstance>(def: ModuleDefinition<F, I>): ModuleDefinition<F, I> {
  return def;
}
