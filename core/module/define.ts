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
 *   synchronous; register xlats) → `validate` (the definition's, see below) → `instantiate`
 *   (all instances; may be async; open sockets/files) → run → `detach` (reverse order;
 *   also after a partial failure, so it MUST tolerate a half-instantiated object).
 *   `radiusd -C` runs everything up to and including `validate`, so a bad data file (a
 *   users file, an attrs file) fails the check exactly as it fails start-up. Under `-C` only,
 *   `probe` then reports back-ends that do not answer, as warnings.
 * - Config is frozen after `instantiate`; mutable runtime state lives on the instance.
 * - Methods are bound to processing sections by key: `'recv Access-Request'`,
 *   `'recv *'`, `'authenticate *'`, `'* *'`. Resolution for a call in section
 *   `name1 name2`: exact key, then `name1 *`, then `* *`. An explicit `inst.method`
 *   call picks `named[method]` instead.
 * - `env` (FreeRADIUS call_env) names, per method, config items holding templates
 *   (`conf.tmpl`); the loader compiles them after `bootstrap` (so the modules' own xlats are
 *   known; also under `radiusd -C`) and expands them against the request before every call of
 *   that method, which sees the strings as `ctx.env`. A yielding xlat makes the call yield.
 *   `env` is the one way a module gets per-call expansions: no module compiles config
 *   templates itself.
 * - `validate(config, at, ctx)` checks what the schema cannot (cross-item rules, attribute
 *   names in raw sections, files the config names). It runs at start-up *and* under
 *   `radiusd -C`, so the two agree: a start-time check belongs here, not in `instantiate`.
 *   A check that also builds something the instance needs is a function both call.
 * - `dict` declares the attributes the module uses; the loader resolves them once and injects
 *   the handles (`MODULE_DICT`). `deps` declares other module instances, checked at load and
 *   injected as their instance objects (`MODULE_DEPS`); they are instantiated first.
 * - `instantiate` MUST NOT wait on a remote server: the loader gives it `instantiate_timeout`
 *   (default {@link DEFAULT_INSTANTIATE_TIMEOUT} s). A module still instantiating then is
 *   started anyway: the loader logs it, and its methods return `fail` at once until
 *   `instantiate` settles. Open connections in the background and fail calls fast meanwhile.
 */

import type { ModuleMapMethod, ModuleMethod } from '../unlang/module-call';
import type { ConfLoc, ConfSection } from '../config/ast';
import type { Fields, Infer, SectionSchema } from '../config/schema';
import type { DictAttr } from '../dict/attr';
import type { Dictionary } from '../dict/dictionary';
import type { Request } from '../request/request';
import type { XlatFunc, XlatOptions, XlatRegistry } from '../unlang/xlat/registry';
import type { SafeFor, ValueEscape } from '../unlang/xlat/box';
import type { Logger } from '../log/logger';

/** Seconds `instantiate` may take before the loader starts without it (per module: `instantiate_timeout`). */
export const DEFAULT_INSTANTIATE_TIMEOUT = 5;

export { PROBE_TIMEOUT_MS } from './probe';

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
  /** The compiled `env` templates, by method and argument (for use outside calls, e.g. in an xlat). */
  readonly env: CompiledEnv;
  /** Aborted when the instance is detached (also when that happens while `instantiate` still runs). */
  readonly signal: AbortSignal;
}

/** Context for `validate`. */
export interface ValidateContext {
  /** The instance name. */
  readonly name: string;
  readonly dict: Dictionary;
  /** The generation's xlats (every module has bootstrapped). */
  readonly xlats: XlatRegistry;
  readonly log: Logger;
  /** The compiled `env` templates (compiled just before `validate`), e.g. to check a constant value. */
  readonly env: CompiledEnv;
}

/** Context for `probe` (radiusd -C only): report what does not answer. */
export interface ProbeContext {
  readonly name: string;
  readonly log: Logger;
  /** Aborted when the probe's time is up. */
  readonly signal: AbortSignal;
  /**
   * Reports an unreachable back-end as a warning located at config item `path` (`server`,
   * `postgresql.host`): `file[line]: ldap corp { server }: message`. `-C` still succeeds.
   */
  warn(path: string, message: string): void;
}

/**
 * Raises located config errors from `validate`. `path` names a config item (`secret`,
 * `udp.secret`, `'' ` for the section itself); the error reads
 * `file[line]: <module> <instance> { udp { secret } }: message`, located at the item when it is
 * written, else at the closest enclosing section.
 */
export interface ConfigAt {
  (path: string, message: string): never;
  /** The same, located at a raw tree item (the items of a `conf.raw()` field carry their own `loc`). */
  item(item: { readonly loc: ConfLoc }, path: string, message: string): never;
  /** Where item `path` is written (else its closest enclosing section). */
  loc(path: string): ConfLoc;
}

/** Optional lifecycle hooks of a module instance. */
export interface ModuleInstance {
  bootstrap?(ctx: BootstrapContext): void;
  instantiate?(ctx: InstantiateContext): void | Promise<void>;
  detach?(): void | Promise<void>;
}

/** Method names of `I` whose type is a module method. */
export type MethodName<I> = { [K in keyof I]: I[K] extends ModuleMethod<any> ? K : never }[keyof I] & string;

/** Method names of `I` whose type is a map method (`map <instance> "query" { … }`). */
export type MapMethodName<I> = { [K in keyof I]: I[K] extends ModuleMapMethod ? K : never }[keyof I] & string;

/**
 * A RADIUS client a module supplies (FreeRADIUS `read_clients`, e.g. sql's `nas` table); the
 * generation adds it as if it were a `client` section (config clients win on the same network).
 */
export interface ModuleClient {
  /** Client name (the `client NAME` of a section). */
  readonly name: string;
  /** Address or network (`192.0.2.1`, `10.0.0.0/8`, `2001:db8::/32`, `*`). */
  readonly address: string;
  readonly secret: string;
  readonly shortname?: string;
  readonly nasType?: string;
  /** The virtual server whose listeners accept it (default: every server). */
  readonly server?: string;
  /** BlastRADIUS settings (`yes`, `no`, `auto`); default: the server's `security { }`. */
  readonly requireMessageAuthenticator?: string;
  readonly limitProxyState?: string;
  /** Where it came from, for messages (`sql nas row 3`). */
  readonly source?: string;
}

/**
 * Method names of `I` that list clients (`(signal) => Promise<readonly ModuleClient[]>`); a module
 * that maps client attributes itself may return whole `client <name> { … }` sections instead.
 */
export type ClientsMethodName<I> = { [K in keyof I]: I[K] extends (signal: AbortSignal) => Promise<readonly (ModuleClient | ConfSection)[]> ? K : never }[keyof I] & string;

/** Method names of `I` that escape one value (`(value: string, safeFor?: SafeFor) => string`, see {@link ValueEscape}). */
export type EscapeMethodName<I> = { [K in keyof I]: I[K] extends (value: string) => string ? K : never }[keyof I] & string;

/** Section key → method name. Keys are `name1 name2` with `*` wildcards. */
export type MethodTable<I> = Readonly<Record<string, MethodName<I>>>;

// ───────────────────────── dict ─────────────────────────

/** One attribute a module uses: its name, or `{ attr, optional: true }` for one it can do without. */
export type DictNeed = string | { readonly attr: string; readonly optional?: boolean };

/** Handle name → attribute need, e.g. `{ userName: 'User-Name', vector: { attr: 'Packet.Authenticator', optional: true } }`. */
export type DictNeeds = Readonly<Record<string, DictNeed>>;

/**
 * What `MODULE_DICT` injects for a `dict` declaration: the resolved attributes under the same
 * keys (`DictAttr | undefined` for optional ones). For the list form (`dict: ['User-Name']`)
 * the keys are the attribute names.
 */
export type DictHandles<D> = D extends readonly string[]
  ? Readonly<Record<string, DictAttr>>
  : { readonly [K in keyof D]: D[K] extends { readonly optional: true } ? DictAttr | undefined : DictAttr };

/** Identity helper for a `dict` declaration kept in its own constant (gives it literal types). */
export function defineDict<const D extends DictNeeds>(d: D): D {
  return d;
}

// ───────────────────────── env ─────────────────────────

/** A compiled per-call template (`core/unlang/tmpl.ts` makes them). */
export interface CompiledTemplate {
  /** The source text. */
  readonly text: string;
  /** Set when the text has no expansions. */
  readonly constant?: string;
  /** True when the text has no expansions (`expand` returns `constant`). */
  readonly isConstant: boolean;
  /** True when expanding may call a function that yields (`expand` may return a Promise). */
  readonly canYield: boolean;
  /** The text expanded against a request (a Promise only when a function yields). */
  expand(request: Request, signal?: AbortSignal): string | Promise<string>;
  /** True when the value was an unquoted attribute name compiled as a reference to it (`EnvItem.attrRef`). */
  readonly attrRef?: boolean;
  /**
   * Set when the whole template is one attribute reference: true when it selects at least one
   * attribute of the request (an absent attribute and an empty value expand alike).
   */
  exists?(request: Request): boolean;
}

/** An `env` argument with options. */
export interface EnvItem {
  /** Config item path (`item` or `sub.item`) holding the template. */
  readonly item: string;
  /** Also expand the one-letter strftime escapes (`%Y %m %d %H %M %S %t` …) from the request time. */
  readonly strftime?: boolean;
  /** Applied to every expanded value (not to literal text), e.g. to keep `/` out of file names. */
  readonly escape?: ValueEscape;
  /** Picks `escape` from the parsed config (e.g. by an `escape_filenames` switch). */
  readonly escapeBy?: (config: any) => ValueEscape | undefined;
  /**
   * Rewrites the item's text before it is compiled, picked from the parsed config (e.g. older
   * one-letter forms such as sqlcounter's v3 `%b` into the functions that replace them).
   */
  readonly rewriteBy?: (config: any) => ((text: string) => string) | undefined;
  /**
   * An unquoted value naming an attribute (`key = NAS-Port-Type`, `format = User-Name`,
   * `reference = control.Filter-Id`) is a reference to it, as in v4: compiled as `%{…}`, and its
   * value is used raw (`escape` does not apply to it). Quoted text stays a string.
   */
  readonly attrRef?: boolean;
  /**
   * Splits the text into words before compiling (e.g. a command line: quotes keep a word
   * together); each word is a template, and the method gets the expanded words as an array
   * (`readonly string[]`), or with `as: 'template'` the compiled words (`readonly CompiledTemplate[]`),
   * to expand when (and if) it needs them. A split error is a located config error.
   */
  readonly split?: (text: string) => string[];
  /**
   * `value` (default): expanded before the call; the method gets a string. `template`: only
   * compiled; the method gets the {@link CompiledTemplate} and expands it when (and if) it needs it.
   */
  readonly as?: 'value' | 'template';
}

/**
 * An `env` argument that compiles every value inside subsections of the module's section: the
 * method gets a `ReadonlyMap` from the lower-case dotted path (`messages.access-accept`) to the
 * compiled template (never expanded in advance).
 */
export interface EnvSections {
  /** `*`: every subsection (except `except`); otherwise the name of one subsection. */
  readonly sections: string;
  readonly except?: readonly string[];
  readonly strftime?: boolean;
  /** Applied to every expanded value of every line, except values that are attribute references (`attrRef`). */
  readonly escape?: ValueEscape;
  /** As {@link EnvItem.attrRef}, for every value in the subsections. */
  readonly attrRef?: boolean;
  /** Picks `escape` from the instance's config (e.g. the SQL driver's escaping). */
  readonly escapeBy?: (config: any) => ValueEscape | undefined;
  /**
   * Keep every occurrence of a repeated item, in order (`query = …` alternatives): the map's
   * values are arrays of templates. Without it, a repeated item keeps its last value.
   */
  readonly lists?: boolean;
}

/** One `env` argument: a config item path (expanded to a string before the call), or one of the forms above. */
export type EnvArg = string | EnvItem | EnvSections;

/** Argument name → argument. */
export type EnvArgs = Readonly<Record<string, EnvArg>>;

/**
 * The `ctx.env` type a method gets for `args`: `string` (expanded; absent when the config item
 * is unset), {@link CompiledTemplate} for `as: 'template'` (undefined when unset), a map for
 * {@link EnvSections}.
 */
export type EnvOf<A extends EnvArgs> = {
  readonly [K in keyof A]: A[K] extends string ? string
    : A[K] extends { readonly sections: string; readonly lists: true } ? ReadonlyMap<string, readonly CompiledTemplate[]>
    : A[K] extends EnvSections ? ReadonlyMap<string, CompiledTemplate>
    : A[K] extends { readonly split: (text: string) => string[]; readonly as: 'template' } ? readonly CompiledTemplate[] | undefined
    : A[K] extends { readonly split: (text: string) => string[] } ? readonly string[] | undefined
    : A[K] extends { readonly as: 'template' } ? CompiledTemplate | undefined : string;
};

/** Per-call arguments: method name → its {@link EnvArgs}. The method receives `ctx.env: EnvOf<args>`. */
export type CallEnvTable<I> = Readonly<Partial<Record<MethodName<I>, EnvArgs>>>;

/** The compiled templates of an instance's `env`: method → argument → template (or map). */
export type CompiledEnv = Readonly<Record<string, Readonly<Record<string, CompiledEnvArg | undefined>>>>;

/** One compiled `env` argument: a template, the templates of split words, or the map of an {@link EnvSections}. */
export type CompiledEnvArg = CompiledTemplate | readonly CompiledTemplate[] | ReadonlyMap<string, CompiledTemplate> | ReadonlyMap<string, readonly CompiledTemplate[]>;

// ───────────────────────── deps ─────────────────────────

/**
 * A dependency on another module instance: its module (name or definition value), optionally
 * with the config item that names the instance (default: the instance named like the module).
 */
export type DepSpec = string | ModuleDefinition<any, any> | {
  readonly module: string | ModuleDefinition<any, any>;
  /** Config item (a `conf.string()` of this module) naming the instance to use. */
  readonly item?: string;
};

/** What `MODULE_DEPS` injects: the instance object of each dependency (typed when given as a definition value). */
export type DepHandles<D> = {
  readonly [K in keyof D]: D[K] extends ModuleDefinition<any, infer I> ? I
    : D[K] extends { readonly module: ModuleDefinition<any, infer J> } ? J : ModuleInstance;
};

/** A constructor the DI container can build. */
export type Constructor<I> = new (...args: any[]) => I;

/** Everything the loader needs to know about a module. Only `name`, `kind`, `config`, `impl`, `methods` are required. */
export interface ModuleDefinition<F extends Fields = Fields, I extends ModuleInstance = ModuleInstance> {
  /** Module name: `files` → config `files [instance] { … }`. Lower case, underscores. */
  readonly name: string;
  /** `rlm` for policy modules; `listen`/`process` for protocol plumbing. */
  readonly kind: 'rlm' | 'listen' | 'process';
  /** One-line summary for docs and `radiusd --list-modules`. */
  readonly summary?: string;
  /** Declarative config schema; also produces the README's config table. */
  readonly config: SectionSchema<F>;
  /**
   * Checks the parsed config beyond the schema; throws through `at` (located errors). Runs at
   * start-up and under `radiusd -C`, after every `bootstrap` and the `env` compilation, before `instantiate`.
   */
  readonly validate?: (config: Infer<SectionSchema<F>>, at: ConfigAt, ctx: ValidateContext) => void;
  /**
   * `radiusd -C` only, after `validate`: checks that the back-ends the config names answer
   * (`probeTcp` from the public surface) and reports those that do not through `ctx.warn`. A
   * warning, never a failure (start-up does not fail on a server that is down either). Bounded by
   * {@link PROBE_TIMEOUT_MS} in all; a probe that throws is reported as a warning too.
   */
  readonly probe?: (config: Infer<SectionSchema<F>>, ctx: ProbeContext) => Promise<void>;
  /** Attributes the module needs; resolved at load (a missing one is a startup error) and injected as `MODULE_DICT`. */
  readonly dict?: readonly string[] | DictNeeds;
  /** Other module instances this one uses; checked at load, instantiated first, injected as `MODULE_DEPS`. */
  readonly deps?: Readonly<Record<string, DepSpec>>;
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
  /** The instance method escaping values expanded into the `map` query (SQL quoting …), if any. */
  readonly mapEscape?: EscapeMethodName<I>;
  /**
   * The instance method listing RADIUS clients for this generation (FreeRADIUS `read_clients`).
   * Called after every instance is instantiated (not under `radiusd -C`), at most
   * `instantiate_timeout` long; a failure is logged and the server starts without those clients.
   */
  readonly clients?: ClientsMethodName<I>;
}

/** Identity helper that gives a definition its types; it does nothing at run time. */
export function defineModule<F extends Fields, I extends ModuleInstance>(def: ModuleDefinition<F, I>): ModuleDefinition<F, I> {
  return def;
}
