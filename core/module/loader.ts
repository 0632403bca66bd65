/**
 * The module loader: turns the `modules { … }` section into running module instances.
 *
 * ## API (used by core/server and core/cli)
 *
 * ```ts
 * import { createRootContainer } from '../module/container';
 * import { loadModules } from '../module/loader';   // not re-exported by core/module/index.ts
 *
 * const root = createRootContainer({ dict, log });           // DICT, XLATS, ROOT_LOG
 * const mods = await loadModules({ section: findSection(tree, 'modules'), root, confDir });
 * const compiler = new Compiler({ dict, xlats: mods.xlats, modules: mods.modules,
 *                                 virtualModules: mods.virtualModules, policies });
 * …                                                            // serve
 * await mods.detachAll();                                      // reload / shutdown
 * ```
 *
 * - `loadModules` throws a located `ConfError` (`ModuleError` for module-system problems:
 *   `ERR_MODULE_NOT_FOUND`, `ERR_MODULE_LOAD`, `ERR_DICT_ATTR_MISSING`, …) and leaves nothing
 *   running when it throws: everything already set up is detached and disposed first.
 * - `loadModules` may also throw a located `CompileError` (core/unlang) for a bad `env` template.
 * - `checkOnly: true` (radiusd -C) stops after `bootstrap`, the `env` templates and `validate`
 *   (everything a start runs before `instantiate`, so a check and a start agree); call
 *   `detachAll()` afterwards.
 * - `registry` is required: core never imports `modules/`; the composition root (`main/radiusd.ts`)
 *   hands the built-ins over. `templates` defaults to `core/unlang/tmpl.ts`.
 * - `mods.modules` is a bound `(name) => ModuleHandle | undefined` for `CompileOptions.modules`;
 *   `mods.xlats` is the generation's registry (modules registered their xlats there), to be
 *   given to the compiler; `mods.virtualModules` holds `redundant name { … }`,
 *   `load-balance name { … }`, `redundant-load-balance name { … }` (and `group name { … }`)
 *   sections by name, for `CompileOptions.virtualModules`. They are not instantiated here.
 *
 * ## What happens (aesthetics.md §4.3)
 *
 * For each child section `name [instance] { … }` in config order:
 * 1. find the definition: `module = "/path/mod.js"` (absolute, or relative to `confDir`; a JS
 *    file whose default export or `module.exports` is a definition), else the built-in named
 *    `name` (did-you-mean on a miss). The loader's own items (`module`, `instantiate_timeout`)
 *    are not passed to the schema.
 * 2. parse the section with the definition's schema (located errors from core/config);
 * 3. resolve the definition's `dict` needs (the `MODULE_DICT` handles).
 *
 * Then resolve every `deps` entry to an instance (`ERR_MODULE_DEPENDENCY`: missing, wrong module,
 * cycle) and fix the lifecycle order: config order, except that dependencies come first. In that
 * order: create a child container per instance (`MODULE_CONFIG`, `MODULE_LOG`, `MODULE_NAME`,
 * `MODULE_DICT`, `MODULE_DEPS`), resolve `impl` (no I/O) and bind its methods; `bootstrap` every
 * instance (sync); compile every `env` (after bootstrap, so modules' xlats are known) and run every
 * `validate`; `instantiate` every instance, awaited one by one, each within its
 * `instantiate_timeout` (an instance still instantiating then starts pending: its calls fail at
 * once until it settles); deep-freeze every config. `detachAll()` runs `detach` in reverse
 * lifecycle order and disposes the child containers. When a hook throws during loading, the
 * instances that had reached that stage and the failing one are detached in reverse order, every
 * child container is disposed, and a located error is thrown (the original error is its `cause`).
 *
 * Instance names: `files { }` → `files`; `files users2 { }` → `users2`. Names are unique
 * across instances and virtual modules. A v3-style dotted name (`attr_filter
 * attr_filter.access_reject { }`) is reachable from policy as `attr_filter.access_reject`:
 * `handle('attr_filter')` then resolves method `access_reject` to that instance first.
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DependencyContainer } from 'tsyringe';
import { sectionLabel, unescapeValue, type ConfLoc, type ConfPair, type ConfSection } from '../config/ast';
import { ConfError } from '../config/errors';
import { resolveCaseInsensitive } from '../config/include';
import { printSection } from '../config/print';
import { conf, parseSection, redact, suggest } from '../config/schema';
import type { Dictionary } from '../dict/dictionary';
import type { Logger } from '../log/logger';
import type { Request } from '../request/request';
import type { DictAttr } from '../dict/attr';
import { CompileError } from '../unlang/compile/errors';
import type { XlatRegistry } from '../unlang/xlat/registry';
import type { ValueEscape } from '../unlang/xlat/box';
import type { ModuleHandle } from '../unlang/module-call';
import { itemLoc, itemPair, makeAt, ownerLabel } from './at';
import { PROBE_TIMEOUT_MS } from './probe';
import type { ProbeContext } from './define';
import { BoundModule } from './binding';
import {
  DEFAULT_INSTANTIATE_TIMEOUT,
  type BootstrapContext, type CompiledEnv, type CompiledEnvArg, type CompiledTemplate, type ConfigAt, type DepSpec, type DictNeed, type DictNeeds,
  type EnvArg, type EnvSections, type InstantiateContext, type ModuleInstance, type ValidateContext,
} from './define';
import { ModuleError, errorText } from './errors';
import { definitionProblem, ModuleRegistry, type AnyModuleDefinition } from './registry';
import { DICT, MODULE_CONFIG, MODULE_DEPS, MODULE_DICT, MODULE_LOG, MODULE_NAME, ROOT_LOG, XLATS } from './tokens';
import { bareAttrTemplate, compileTemplate } from '../unlang/tmpl';

/** Section names inside `modules { }` that declare virtual modules rather than instances. */
export const VIRTUAL_MODULE_KEYWORDS: readonly string[] = Object.freeze(['redundant', 'load-balance', 'redundant-load-balance', 'group']);

/** The config item naming a custom module file; not part of any module's schema. */
export const MODULE_PATH_ITEM = 'module';

/** The config item bounding how long `instantiate` may take (every module; not part of its schema). */
export const INSTANTIATE_TIMEOUT_ITEM = 'instantiate_timeout';

/** The items the loader itself reads from every module section. */
const LOADER_ITEMS = conf.section({
  [INSTANTIATE_TIMEOUT_ITEM]: conf.duration({ default: DEFAULT_INSTANTIATE_TIMEOUT, min: '10ms', max: 600, doc: 'How long instantiate may take before the server starts without the instance.' }),
});

/** Options of {@link loadModules}. */
export interface LoadModulesOptions {
  /** The `modules { … }` section; undefined means no modules. */
  readonly section: ConfSection | undefined;
  /** The generation's root container from `createRootContainer` (DICT, XLATS, ROOT_LOG). */
  readonly root: DependencyContainer;
  /**
   * Base for relative `module = "…"` paths. Default: the directory of the file holding
   * `modules {` (normally `radiusd.conf`).
   */
  readonly confDir?: string;
  /** Known definitions (the built-ins come from the composition root, `modules/index.ts`). */
  readonly registry: ModuleRegistry | readonly AnyModuleDefinition[];
  /** Stop after `bootstrap` and the `env` template compilation (config check, `radiusd -C`). */
  readonly checkOnly?: boolean;
  /** Compiles `env` templates; default: `compileTemplate` of `core/unlang/tmpl.ts`. */
  readonly templates?: TemplateCompiler;
}

/** A compiled per-call template (see `define.ts`). */
export type { CompiledTemplate } from './define';

/** Options for compiling one `env` template. */
export interface TemplateCompileOptions {
  readonly dict: Dictionary;
  readonly xlats: XlatRegistry;
  readonly loc: ConfLoc;
  readonly strftime?: boolean;
  readonly escape?: ValueEscape;
  /** A `%{name}` left unresolved (see `TemplateOptions.unresolved` in core/unlang/tmpl.ts). */
  readonly unresolved?: (name: string) => void;
}

/** Compiles the template text of an `env` config item (throws a located error when it is bad). */
export type TemplateCompiler = (text: string, opts: TemplateCompileOptions) => CompiledTemplate;

/** Where an instance is in its lifecycle. */
export type ModuleState = 'constructed' | 'bootstrapped' | 'instantiated' | 'detached';

/** One loaded module instance. */
export interface LoadedModule {
  /** Instance name as used in policy (`files`, `users2`). */
  readonly name: string;
  /** The definition (`definition.name` is the module name, e.g. `files`). */
  readonly definition: AnyModuleDefinition;
  /** The implementation object resolved from the child container. */
  readonly instance: ModuleInstance;
  /** The parsed config (deep-frozen once instantiated). */
  readonly config: unknown;
  /** The config section it came from. */
  readonly section: ConfSection;
  /** The instance's child container (disposed on detach). */
  readonly container: DependencyContainer;
  /** Its method bindings. */
  readonly handle: BoundModule;
  /** Absolute file of a custom module, undefined for built-ins. */
  readonly file?: string;
  /** Lifecycle state. */
  readonly state: ModuleState;
  /** True while `instantiate` runs on after `instantiate_timeout` (calls fail at once). */
  readonly pending: boolean;
}

/** The module instances of one configuration generation. */
export interface ModuleSet {
  /** The instance for policy name `name` as a compiler handle, or undefined. */
  handle(name: string): ModuleHandle | undefined;
  /** `handle`, bound; pass as `CompileOptions.modules`. */
  readonly modules: (name: string) => ModuleHandle | undefined;
  /** Virtual-module sections by name; pass as `CompileOptions.virtualModules`. */
  readonly virtualModules: ReadonlyMap<string, ConfSection>;
  /** The generation's xlat registry (with the modules' xlats); pass as `CompileOptions.xlats`. */
  readonly xlats: XlatRegistry;
  /** The loaded instance named `name`. */
  get(name: string): LoadedModule | undefined;
  /** Every instance in config order. */
  list(): readonly LoadedModule[];
  /** Detaches every instance in reverse lifecycle order and disposes the child containers. Idempotent; never throws (errors are logged). */
  detachAll(): Promise<void>;
}

interface Parsed {
  name: string;
  definition: AnyModuleDefinition;
  config: unknown;
  section: ConfSection;
  file?: string;
  log: Logger;
  dictHandles: Readonly<Record<string, DictAttr | undefined>>;
  /** Seconds `instantiate` may take. */
  timeout: number;
  /** Dependency key → the entry it names (filled after every section is parsed). */
  deps: Map<string, Parsed>;
}

interface Entry extends Parsed {
  instance: ModuleInstance;
  container: DependencyContainer;
  handle: BoundModule;
  state: ModuleState;
  pending: boolean;
  env: CompiledEnv;
  abort: AbortController;
}

/**
 * Loads, bootstraps and instantiates the modules of a `modules { }` section. See the file
 * comment. Throws a located `ConfError`/`ModuleError`; nothing stays running when it throws.
 */
export async function loadModules(opts: LoadModulesOptions): Promise<ModuleSet> {
  const registry = opts.registry instanceof ModuleRegistry ? opts.registry : new ModuleRegistry(opts.registry);
  const root = opts.root;
  const dict = root.resolve(DICT);
  const xlats = root.resolve(XLATS);
  const rootLog = root.resolve(ROOT_LOG);
  const confDir = opts.confDir ?? (opts.section ? path.dirname(opts.section.loc.file) : process.cwd());
  const parsed: Parsed[] = [];
  const virtual = new Map<string, ConfSection>();
  const seen = new Map<string, ConfSection>();
  /** Module folders whose code was re-read in this load (read once per load, shared by its instances). */
  const fresh = new Set<string>();

  // parse: every section against its schema; dict needs; loader items.
  for (const item of opts.section?.children ?? []) {
    if (item.kind === 'pair') {
      throw new ConfError('ERR_CONF_UNKNOWN_ITEM', item.loc, `modules { ${item.op === '' ? item.text : item.attr} }: unexpected item; "modules" holds module sections only`);
    }
    const cs = item;
    if (VIRTUAL_MODULE_KEYWORDS.includes(cs.name1)) {
      if (!cs.name2) throw new ModuleError('ERR_MODULE_DEFINITION', cs.loc, `modules { ${cs.name1} }: a virtual module needs a name ("${cs.name1} name { … }")`);
      checkUnique(cs.name2, cs, seen);
      virtual.set(cs.name2, cs);
      continue;
    }
    const name = cs.name2 ?? cs.name1;
    checkUnique(name, cs, seen);
    parsed.push(await parse(cs, name, registry, confDir, dict, rootLog, fresh));
  }
  // deps: resolve, then order the lifecycle so that every dependency comes first.
  const order = dependencyOrder(parsed);

  // construct, in dependency order: one child container per instance.
  const entries: Entry[] = [];
  try {
    for (const p of order) entries.push(await construct(p, root, entries));
  } catch (e) {
    await disposeAll(entries, rootLog);
    throw e;
  }

  // bootstrap: all instances, synchronous, no I/O.
  for (const e of entries) {
    const ctx: BootstrapContext = {
      name: e.name, dict, log: e.log,
      registerXlat: (n, fn, o) => xlats.register(n, fn, o),
    };
    try {
      e.state = 'bootstrapped';
      const r = e.instance.bootstrap?.(ctx) as unknown;
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        throw new Error('bootstrap must be synchronous (open connections in instantiate)');
      }
    } catch (err) {
      await unwind(entries, e, rootLog);
      throw hookError('ERR_MODULE_BOOTSTRAP', 'bootstrap', e, err);
    }
  }
  // env, then validate: both also under -C, so that a check and a start agree.
  const compileTmpl: TemplateCompiler = opts.templates ?? ((text, o) => compileTemplate(text, o));
  for (const e of entries) {
    try {
      const validate = e.definition.validate as ((c: unknown, at: ConfigAt, ctx: ValidateContext) => void) | undefined;
      e.env = compileEnv(e, dict, xlats, compileTmpl, rootLog);
      validate?.(e.config, makeAt(e.section), { name: e.name, dict, xlats, log: e.log, env: e.env });
    } catch (err) {
      await unwind(entries, entries[entries.length - 1], rootLog);
      if (err instanceof ConfError || err instanceof CompileError) throw err;
      throw new ModuleError('ERR_MODULE_DEFINITION', e.section.loc, `${sectionLabel(e.section)}: ${errorText(err)}`, { cause: err });
    }
  }
  if (opts.checkOnly) {
    await probeAll(entries, rootLog);
    return makeSet(entries, parsed, virtual, xlats, rootLog);
  }

  // instantiate: all instances, in dependency order, one at a time, each within its timeout.
  for (const e of entries) {
    const ctx: InstantiateContext = { name: e.name, dict, log: e.log, env: e.env, signal: e.abort.signal };
    try {
      e.state = 'instantiated';
      await instantiateWithin(e, ctx);
    } catch (err) {
      await unwind(entries, e, rootLog, true);
      throw hookError('ERR_MODULE_INSTANTIATE', 'instantiate', e, err);
    }
  }
  for (const e of entries) deepFreeze(e.config);
  if (rootLog.debugEnabled) rootLog.debug(`modules: ${entries.length} instantiated (${entries.map((e) => e.name).join(', ')})`);
  return makeSet(entries, parsed, virtual, xlats, rootLog);
}

/**
 * Runs `instantiate`. When it is still running after the instance's `instantiate_timeout`, the
 * loader stops waiting: the instance starts "pending" (logged; its calls fail at once) and is
 * released when `instantiate` resolves. A late rejection is logged and keeps calls failing.
 */
async function instantiateWithin(e: Entry, ctx: InstantiateContext): Promise<void> {
  const r = e.instance.instantiate?.(ctx) as unknown;
  if (!r || typeof (r as Promise<void>).then !== 'function') return;
  const done = Promise.resolve(r as Promise<void>);
  const finished = done.then(() => false as const);
  // After a timeout the race no longer listens: a late rejection is handled by `hold` below.
  finished.catch(() => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<true>((resolve) => { timer = setTimeout(() => resolve(true), e.timeout * 1000); });
  try {
    if ((await Promise.race([finished, timedOut])) === false) return;
  } finally {
    clearTimeout(timer);
  }
  e.pending = true;
  e.log.error(`instantiate did not finish within ${e.timeout}s (is its back-end down?); starting without it: its calls fail until it finishes`);
  e.handle.hold(done, 'still instantiating', (err) => {
    e.pending = false;
    if (e.state === 'detached') return;
    if (err === undefined) e.log.info('instantiate finished; calls are served');
    else e.log.error(`instantiate failed after the start: ${errorText(err)}; calls keep failing`);
  });
}

function checkUnique(name: string, cs: ConfSection, seen: Map<string, ConfSection>): void {
  const prev = seen.get(name);
  if (prev) {
    throw new ModuleError('ERR_MODULE_DUPLICATE', cs.loc,
      `modules { ${sectionLabel(cs)} }: instance name "${name}" is already used at ${prev.loc.file}[${prev.loc.line}]`);
  }
  seen.set(name, cs);
}

/** Finds the definition, parses the section with its schema, resolves its `dict` needs. */
async function parse(
  cs: ConfSection, name: string, registry: ModuleRegistry, confDir: string, dict: Dictionary, rootLog: Logger, fresh: Set<string> = new Set(),
): Promise<Parsed> {
  const label = sectionLabel(cs);
  const loaderPair = (item: string): ConfPair | undefined =>
    cs.children.find((c): c is ConfPair => c.kind === 'pair' && c.attr === item);
  const pathPair = loaderPair(MODULE_PATH_ITEM);
  const timeoutPair = loaderPair(INSTANTIATE_TIMEOUT_ITEM);
  let definition: AnyModuleDefinition;
  let file: string | undefined;
  if (pathPair) {
    ({ definition, file } = await loadCustomModule(pathPair, confDir, label, rootLog, fresh));
  } else {
    const def = registry.get(cs.name1);
    if (!def) {
      const hint = suggest(cs.name1, registry.names());
      throw new ModuleError('ERR_MODULE_NOT_FOUND', cs.loc,
        `modules { ${label} }: unknown module "${cs.name1}"${hint ? `; did you mean "${hint}"?` : ''} (or give module = "/path/to/module.js")`);
    }
    definition = def;
  }
  // FreeRADIUS's `triggers { }` (SNMP traps and the like on pool and module events): accepted in every
  // module instance, with a located warning, unless the module's own schema takes it.
  const triggers = 'triggers' in definition.config.fields ? undefined
    : cs.children.find((c): c is ConfSection => c.kind === 'section' && c.name1 === 'triggers');
  if (triggers) rootLog.warn(`${triggers.loc.file}[${triggers.loc.line}]: ${label} { triggers }: triggers are not run by this server; the section has no effect`);
  let own: ConfSection = pathPair || timeoutPair || triggers
    ? { ...cs, children: cs.children.filter((c) => c !== pathPair && c !== timeoutPair && c !== triggers) } : cs;
  own = withoutForeignPoolItems(own, definition, label, rootLog);
  const timeout = timeoutPair ? (parseSection(LOADER_ITEMS, { ...cs, children: [timeoutPair] }, label).instantiate_timeout) : DEFAULT_INSTANTIATE_TIMEOUT;
  const config = parseSection(definition.config, own, label);
  const dictHandles = resolveDict(definition, dict, cs, label);
  const log = rootLog.child(name);
  if (rootLog.debugEnabled) {
    // As FreeRADIUS's -X banner: where it comes from, then its settings as a section.
    rootLog.debug(`# Loading module "${definition.name}"${file ? ` from ${file}` : ''} (${cs.loc.file}[${cs.loc.line}])`);
    for (const line of printSection(label, redact(definition.config, config as never))) rootLog.debug(line);
  }
  return { name, definition, config, section: cs, file, log, dictHandles, timeout, deps: new Map() };
}

/**
 * FreeRADIUS's connection-pool items (3.2 `pool { }` and v4 trunk `pool { … connection { } request { } }`).
 * Those a module's own `pool` schema does not take are left out with a located warning, so a FreeRADIUS
 * module section loads as written; the module's schema still decides every item it defines.
 */
const FREERADIUS_POOL_ITEMS = new Set([
  'start', 'min', 'max', 'spare', 'uses', 'lifetime', 'idle_timeout', 'retry_delay', 'max_retries', 'cleanup_interval',
  'connect_timeout', 'connecting', 'open_delay', 'close_delay', 'manage_interval', 'max_backlog', 'connection', 'request',
]);

function withoutForeignPoolItems(cs: ConfSection, def: AnyModuleDefinition, label: string, rootLog: Logger): ConfSection {
  const field = (def.config.fields as Record<string, { kind: string; schema?: { fields: Record<string, unknown>; allowUnknown: boolean } }>).pool;
  if (!field || field.kind !== 'subsection' || !field.schema || field.schema.allowUnknown) return cs;
  const known = new Set(Object.keys(field.schema.fields).map((k) => k.toLowerCase()));
  let changed = false;
  const children = cs.children.map((c) => {
    if (c.kind !== 'section' || c.name1 !== 'pool') return c;
    const keep = c.children.filter((i) => {
      const name = i.kind === 'pair' ? i.attr : i.name1;
      if (known.has(name.toLowerCase()) || !FREERADIUS_POOL_ITEMS.has(name)) return true;
      rootLog.warn(`${i.loc.file}[${i.loc.line}]: ${label} { pool { ${name} } }: a FreeRADIUS connection-pool item this module does not use; it has no effect here`);
      return false;
    });
    if (keep.length === c.children.length) return c;
    changed = true;
    return { ...c, children: keep };
  });
  return changed ? { ...cs, children } : cs;
}

/** The `MODULE_DICT` object of a definition: its `dict` needs resolved (a missing required one is `ERR_DICT_ATTR_MISSING`). */
function resolveDict(def: AnyModuleDefinition, dict: Dictionary, cs: ConfSection, label: string): Readonly<Record<string, DictAttr | undefined>> {
  const needs: Record<string, DictNeed> = Array.isArray(def.dict)
    ? Object.fromEntries((def.dict as string[]).map((n) => [n, n]))
    : { ...(def.dict as DictNeeds | undefined) };
  const out: Record<string, DictAttr | undefined> = {};
  for (const [key, need] of Object.entries(needs)) {
    const attr = typeof need === 'string' ? need : need.attr;
    const da = dict.resolve(attr);
    if (!da && !(typeof need === 'object' && need.optional)) {
      throw new ModuleError('ERR_DICT_ATTR_MISSING', cs.loc,
        `${label}: module "${def.name}" needs attribute "${attr}", which the dictionary does not define`);
    }
    out[key] = da;
  }
  return Object.freeze(out);
}

/**
 * Resolves every `deps` entry to the instance it names and returns the instances in lifecycle
 * order: config order, except that a dependency always comes before its users. Errors
 * (`ERR_MODULE_DEPENDENCY`) are located at the naming item, else the dependent section.
 */
function dependencyOrder(parsed: readonly Parsed[]): Parsed[] {
  const byName = new Map(parsed.map((p) => [p.name, p]));
  for (const p of parsed) {
    const label = sectionLabel(p.section);
    for (const [key, spec] of Object.entries((p.definition.deps ?? {}) as Record<string, DepSpec>)) {
      const mod = typeof spec === 'object' && 'module' in spec && !('impl' in spec) ? spec.module : spec as string | AnyModuleDefinition;
      const moduleName = typeof mod === 'string' ? mod : mod.name;
      const item = typeof spec === 'object' && 'module' in spec && !('impl' in spec) ? spec.item : undefined;
      const named = item !== undefined ? configValue(p.config, item) : undefined;
      const instance = typeof named === 'string' && named !== '' ? named : moduleName;
      const loc = item !== undefined ? itemLoc(p.section, item) : p.section.loc;
      const dep = byName.get(instance);
      if (!dep) {
        throw new ModuleError('ERR_MODULE_DEPENDENCY', loc,
          `${label}${item !== undefined ? ` { ${item} }` : ''}: needs a "${moduleName}" instance named "${instance}" (deps.${key}), which "modules { }" does not configure`);
      }
      if (dep.definition.name !== moduleName) {
        throw new ModuleError('ERR_MODULE_DEPENDENCY', loc,
          `${label}${item !== undefined ? ` { ${item} }` : ''}: instance "${instance}" is a "${dep.definition.name}" module, deps.${key} needs "${moduleName}"`);
      }
      if (dep === p) throw new ModuleError('ERR_MODULE_DEPENDENCY', loc, `${label}: deps.${key} names the instance itself`);
      p.deps.set(key, dep);
    }
  }
  const out: Parsed[] = [];
  const state = new Map<Parsed, 'visiting' | 'done'>();
  const visit = (p: Parsed, chain: Parsed[]): void => {
    const s = state.get(p);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...chain.slice(chain.indexOf(p)), p].map((x) => x.name).join(' → ');
      throw new ModuleError('ERR_MODULE_DEPENDENCY', p.section.loc, `${sectionLabel(p.section)}: dependency cycle: ${cycle}`);
    }
    state.set(p, 'visiting');
    for (const d of p.deps.values()) visit(d, [...chain, p]);
    state.set(p, 'done');
    out.push(p);
  };
  for (const p of parsed) visit(p, []);
  return out;
}

/** Builds the child container of a parsed instance and resolves its `impl` (dependencies are in `built`). */
async function construct(p: Parsed, root: DependencyContainer, built: readonly Entry[]): Promise<Entry> {
  const label = sectionLabel(p.section);
  const deps: Record<string, ModuleInstance> = {};
  for (const [key, dep] of p.deps) deps[key] = built.find((b) => b.name === dep.name)!.instance;
  const child = root.createChildContainer();
  child.register(MODULE_CONFIG, { useValue: p.config });
  child.register(MODULE_LOG, { useValue: p.log });
  child.register(MODULE_NAME, { useValue: p.name });
  child.register(MODULE_DICT, { useValue: p.dictHandles });
  child.register(MODULE_DEPS, { useValue: Object.freeze(deps) });
  let instance: ModuleInstance;
  let handle: BoundModule;
  try {
    instance = resolveImpl(child, p.definition.impl);
  } catch (err) {
    await Promise.resolve(child.dispose()).catch(() => undefined);
    throw new ModuleError('ERR_MODULE_CONSTRUCT', p.section.loc, `${label}: cannot construct ${p.definition.impl.name || 'impl'}: ${errorText(err)}`, { cause: err });
  }
  try {
    handle = new BoundModule(p.name, p.definition, instance);
  } catch (err) {
    await Promise.resolve(child.dispose()).catch(() => undefined);
    throw new ModuleError('ERR_MODULE_DEFINITION', p.section.loc, `${label}: module "${p.definition.name}": ${errorText(err)}`, { cause: err });
  }
  return { ...p, instance, container: child, handle, state: 'constructed', pending: false, env: {}, abort: new AbortController() };
}

/**
 * Resolves `impl` in its child container. A class decorated by *another copy* of tsyringe
 * (a custom module with its own node_modules) is unknown to ours, but its `@inject` tokens
 * sit in the global reflect-metadata store and our tokens are `Symbol.for` symbols, so it is
 * built from those tokens directly.
 */
function resolveImpl(child: DependencyContainer, impl: AnyModuleDefinition['impl']): ModuleInstance {
  try {
    return child.resolve(impl) as ModuleInstance;
  } catch (err) {
    if (!/TypeInfo not known/.test(errorText(err))) throw err;
    const tokens = (Reflect.getOwnMetadata('injectionTokens', impl) ?? {}) as Record<number, unknown>;
    const args: unknown[] = [];
    for (let i = 0; i < impl.length; i++) {
      const t = tokens[i];
      if (typeof t !== 'symbol' && typeof t !== 'string' && typeof t !== 'function') {
        throw new Error(`constructor parameter ${i + 1} has no @inject(TOKEN)`);
      }
      args.push(child.resolve(t as symbol));
    }
    return new impl(...args) as ModuleInstance;
  }
}

/**
 * Loads a custom module file named by a `module = "…"` item. `.js`/`.cjs` files are
 * `require`d; on every load (so on every reload) the cached code of every file under the
 * module file's folder is dropped first, so a reload picks up edits in any file of the module,
 * not only the one named (its `node_modules/` and the server's own files are kept: the module
 * shares the server's classes). `.mjs`, `.ts`, `.mts` and ES-module `.js` files go through
 * `import()`, which Node cannot repeat for a changed file: such a module keeps the code it was
 * first loaded with, and a reload says so in the log (TypeScript loads only where the runtime
 * can import it, e.g. under vitest; compile it for production).
 */
async function loadCustomModule(
  pair: ConfPair, confDir: string, label: string, log?: Logger, fresh: Set<string> = new Set(),
): Promise<{ definition: AnyModuleDefinition; file: string }> {
  const raw = pair.value === undefined ? '' : unescapeValue(pair.value, pair.quote);
  if (raw.trim() === '') throw new ModuleError('ERR_MODULE_LOAD', pair.loc, `${label} { module }: expected module = "/path/to/module.js"`);
  const wanted = path.isAbsolute(raw) ? raw : path.resolve(confDir, raw);
  const file = resolveCaseInsensitive(wanted);
  if (!file || !isFile(file)) {
    throw new ModuleError('ERR_MODULE_LOAD', pair.loc, `${label} { module }: module file "${raw}" not found (looked for ${wanted})`);
  }
  let ns: unknown;
  try {
    ns = await importFile(file, label, log, fresh);
  } catch (err) {
    // Node 20 refuses a .ts file by extension; Node ≥ 23 strips the types and then fails on what
    // stripping cannot run (decorators, CommonJS/ESM mix). Either way the answer is the same.
    if (/\.[cm]?ts$/i.test(file)) {
      const code = (err as { code?: string }).code;
      throw new ModuleError('ERR_MODULE_LOAD', pair.loc,
        `${label} { module }: "${raw}" is TypeScript: compile it first (npm run build, with the tsconfig.json of docs/writing-a-module.md §10a) and name the emitted .js file, e.g. module = "${path.join(path.dirname(file), '..', 'dist', path.basename(file).replace(/\.([cm]?)ts$/i, '.$1js'))}"${code === 'ERR_UNKNOWN_FILE_EXTENSION' ? '' : ` (loading it as it is failed: ${errorText(err)})`}`, { cause: err });
    }
    throw new ModuleError('ERR_MODULE_LOAD', pair.loc, `${label} { module }: cannot load "${raw}": ${errorText(err)}`, { cause: err });
  }
  const candidates = exportCandidates(ns);
  const definition = candidates.find((c) => definitionProblem(c) === undefined);
  if (!definition) {
    const why = candidates.length ? definitionProblem(candidates[0]) : 'nothing exported';
    throw new ModuleError('ERR_MODULE_LOAD', pair.loc,
      `${label} { module }: "${raw}" does not export a module definition (${why}); use "export default defineModule({ … })" or "module.exports = defineModule({ … })"`);
  }
  return { definition: definition as AnyModuleDefinition, file };
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Folders of the server's own code (never dropped from the require cache: modules share its classes). */
const SERVER_CODE = ['core', 'modules'].map((d) => path.resolve(__dirname, '..', '..', d) + path.sep);

/** Files loaded with `import()` so far (Node caches them for the life of the process). */
const importedOnce = new Set<string>();

/**
 * Drops the cached code of every CommonJS file under `dir` (except `node_modules/` and the
 * server's own files). Returns how many files will be re-read.
 */
function forgetModuleTree(cache: NodeJS.Dict<NodeModule>, dir: string): number {
  const prefix = dir + path.sep;
  let n = 0;
  for (const key of Object.keys(cache)) {
    if (!key.startsWith(prefix) || key.includes(`${path.sep}node_modules${path.sep}`)) continue;
    if (SERVER_CODE.some((s) => key.startsWith(s))) continue;
    delete cache[key];
    n++;
  }
  return n;
}

async function importFile(file: string, label = '', log?: Logger, fresh: Set<string> = new Set()): Promise<unknown> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.js' || ext === '.cjs') {
    const req = createRequire(file);
    const key = req.resolve(file);
    const dir = path.dirname(key);
    if (!fresh.has(dir)) {
      fresh.add(dir);
      const n = forgetModuleTree(req.cache, dir);
      if (n > 0) log?.info(`${label}: re-reading the module's code (${n} file(s) under ${dir})`);
    }
    delete req.cache[key];
    try {
      return req(file);
    } catch (err) {
      // An ES module file (package "type": "module"): fall back to import().
      if ((err as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw err;
    }
  }
  if (importedOnce.has(file)) {
    log?.warn(`${label}: "${file}" is an ES module, which Node loads once per process: it keeps the code it was first loaded with (restart radiusd to pick up changes)`);
  }
  importedOnce.add(file);
  return import(pathToFileURL(file).href);
}

/** Possible definition objects of a module namespace, most specific first. */
function exportCandidates(ns: unknown): unknown[] {
  const out: unknown[] = [];
  const push = (x: unknown): void => { if (x && typeof x === 'object' && !out.includes(x)) out.push(x); };
  const o = ns as Record<string, unknown> | undefined;
  const d = o?.default as Record<string, unknown> | undefined;
  push(d?.default);
  push(d);
  push(o);
  return out;
}

function configValue(config: unknown, itemPath: string): unknown {
  let v = config;
  for (const p of itemPath.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
  return v;
}

/** The text of a raw pair as a template (single-quoted text is literal), as `conf.tmpl` converts it. */
const TMPL_FIELD = conf.tmpl();

/**
 * Compiles `def.env` of one instance, installs the expanders on its bindings and returns the
 * compiled templates. A method whose arguments are all constant (or templates handed over
 * unexpanded) gets one frozen object for every call; otherwise the non-constant ones are
 * expanded per call, with `ctx.signal` only for templates that can yield.
 */
function compileEnv(e: Entry, dict: Dictionary, xlats: XlatRegistry, compile: TemplateCompiler, log: Logger): CompiledEnv {
  const env = e.definition.env as Record<string, Record<string, EnvArg>> | undefined;
  const out: Record<string, Record<string, CompiledEnvArg | undefined>> = {};
  if (!env) return out;
  // A bad template names its setting: `file[line]: <module> <instance> { <item> }: message`.
  // `%{base_dn}` naming no attribute is left for run time (a local variable of the calling policy), with a warning.
  const named = (label: string, text: string, o: TemplateCompileOptions): CompiledTemplate => {
    const unresolved = (name: string) => log.warn(`${o.loc.file}[${o.loc.line}]: ${label}: "%{${name}}" names no attribute: it is read from the calling policy's local variable "${name}" when the module runs (an error then when there is none)`);
    try {
      return compile(text, { ...o, unresolved });
    } catch (err) {
      throw settingError(err, label);
    }
  };
  for (const [methodName, args] of Object.entries(env)) {
    const compiled: Record<string, CompiledEnvArg | undefined> = (out[methodName] = {});
    const fixed: Record<string, unknown> = {};
    const perCall: [string, Expander][] = [];
    for (const [arg, spec] of Object.entries(args)) {
      if (typeof spec === 'object' && 'sections' in spec) {
        const escape = spec.escape ?? spec.escapeBy?.(e.config);
        const map = compileSections(e.section, spec, (item, itemPath, text) => {
          const ref = spec.attrRef && item.quote === 'bare' ? bareAttrTemplate(text, dict) : text;
          const t = named(ownerLabel(e.section, itemPath), ref, { dict, xlats, loc: item.loc, strftime: spec.strftime, escape: ref === text ? escape : undefined });
          return ref === text ? t : { ...t, attrRef: true };
        });
        compiled[arg] = fixed[arg] = map;
        continue;
      }
      const item = typeof spec === 'string' ? spec : spec.item;
      const value = configValue(e.config, item);
      if (value === undefined) continue;
      if (typeof value !== 'string') throw new Error(`env["${methodName}"].${arg} names config item "${item}", which is not a string`);
      const o = typeof spec === 'string' ? undefined : spec;
      const escape = o?.escape ?? (o?.escapeBy as ((c: unknown) => ValueEscape | undefined) | undefined)?.(e.config);
      const rewrite = (o?.rewriteBy as ((c: unknown) => ((s: string) => string) | undefined) | undefined)?.(e.config);
      // v4: an unquoted attribute name is a reference to the attribute, its value used raw.
      const converted = o?.attrRef && itemPair(e.section, item)?.quote === 'bare' ? bareAttrTemplate(value, dict) : value;
      const text = converted === value && rewrite ? rewrite(value) : converted;
      const topts = { dict, xlats, loc: itemLoc(e.section, item), strftime: o?.strftime, escape: converted === value ? escape : undefined };
      if (o?.split) {
        let words: string[];
        try {
          words = o.split(text);
        } catch (err) {
          throw new ConfError('ERR_CONF_VALUE', topts.loc, `${ownerLabel(e.section, item)}: ${errorText(err)}`);
        }
        const ts = words.map((w) => named(ownerLabel(e.section, item), w, topts));
        compiled[arg] = ts;
        if (o.as === 'template') fixed[arg] = Object.freeze(ts);
        else if (ts.every((t) => t.isConstant)) fixed[arg] = Object.freeze(ts.map((t) => t.constant!));
        else perCall.push([arg, wordsExpander(ts)]);
        continue;
      }
      const compiledText = named(ownerLabel(e.section, item), text, topts);
      const t = converted === value ? compiledText : { ...compiledText, attrRef: true };
      compiled[arg] = t;
      if (o?.as === 'template') fixed[arg] = t;
      else if (t.isConstant) fixed[arg] = t.constant;
      else perCall.push([arg, t]);
    }
    if (perCall.length === 0) {
      const frozen = Object.freeze(fixed);
      e.handle.setEnv(methodName, () => frozen);
      continue;
    }
    if (perCall.length === 1 && Object.keys(fixed).length === 0) {
      // One argument expanded per call and nothing fixed (`files`' key): no copy, no loop.
      const [k, t] = perCall[0];
      e.handle.setEnv(methodName, (request, ctx) => {
        const v = t.expand(request, t.canYield ? ctx.signal : undefined);
        return v instanceof Promise ? v.then((s) => ({ [k]: s })) : { [k]: v };
      });
      continue;
    }
    e.handle.setEnv(methodName, (request, ctx) => {
      const values: Record<string, unknown> = { ...fixed };
      let pending: Promise<void>[] | undefined;
      for (const [k, t] of perCall) {
        const v = t.expand(request, t.canYield ? ctx.signal : undefined);
        if (v instanceof Promise) (pending ??= []).push(v.then((s) => { values[k] = s; }));
        else values[k] = v;
      }
      return pending ? Promise.all(pending).then(() => values) : values;
    });
  }
  return out;
}

/** What the per-call expansion of one `env` argument needs: a template, or the words of a split item. */
interface Expander {
  readonly canYield: boolean;
  expand(request: Request, signal?: AbortSignal): unknown;
}

/** Expands the words of a split item into an array (a Promise only when a word yields). */
function wordsExpander(ts: readonly CompiledTemplate[]): Expander {
  return {
    canYield: ts.some((t) => t.canYield),
    expand(request, signal) {
      const words = new Array<string>(ts.length);
      let pending: Promise<void>[] | undefined;
      ts.forEach((t, i) => {
        const v = t.expand(request, t.canYield ? signal : undefined);
        if (typeof v === 'string') words[i] = v;
        else (pending ??= []).push(v.then((w) => { words[i] = w; }));
      });
      return pending ? Promise.all(pending).then(() => words) : words;
    },
  };
}

/**
 * Compiles the values inside the subsections an {@link EnvSections} names, keyed by lower-case
 * dotted path (with `lists`, every occurrence of a repeated item, in order).
 */
function compileSections(cs: ConfSection, spec: EnvSections, compile: (item: ConfPair, itemPath: string, text: string) => CompiledTemplate): ReadonlyMap<string, CompiledTemplate> | ReadonlyMap<string, CompiledTemplate[]> {
  const map = new Map<string, CompiledTemplate>();
  const lists = new Map<string, CompiledTemplate[]>();
  const except = new Set((spec.except ?? []).map((x) => x.toLowerCase()));
  const walk = (sec: ConfSection, prefix: string): void => {
    for (const item of sec.children) {
      if (item.kind === 'section') {
        walk(item, `${prefix}.${item.name1}`);
        continue;
      }
      if (item.op === '' || item.value === undefined) continue;
      const text = TMPL_FIELD.convert(item.value, item.quote, (m) => { throw new ConfError('ERR_CONF_VALUE', item.loc, `${ownerLabel(cs, `${prefix}.${item.attr}`)}: ${m}`); });
      const key = `${prefix}.${item.attr}`.toLowerCase();
      const t = compile(item, `${prefix}.${item.attr}`, text as string);
      if (!spec.lists) map.set(key, t);
      else if (lists.has(key)) lists.get(key)!.push(t);
      else lists.set(key, [t]);
    }
  };
  for (const item of cs.children) {
    if (item.kind !== 'section' || except.has(item.name1.toLowerCase())) continue;
    if (spec.sections !== '*' && item.name1.toLowerCase() !== spec.sections.toLowerCase()) continue;
    walk(item, item.name1);
  }
  return spec.lists ? lists : map;
}

/**
 * A located template error with the setting it came from in front of its message
 * (`file[line]: linelog { messages { default } }: Unknown attribute "X"`); other errors unchanged.
 */
function settingError(err: unknown, label: string): unknown {
  const prefixed = (detail: string) => (detail.startsWith(`${label}: `) ? detail : `${label}: ${detail}`);
  if (err instanceof CompileError) return new CompileError({ file: err.file, line: err.line }, prefixed(err.detail));
  if (err instanceof ConfError) return new ConfError(err.code, { file: err.file, line: err.line }, prefixed(err.detail));
  return err;
}

function hookError(code: 'ERR_MODULE_BOOTSTRAP' | 'ERR_MODULE_INSTANTIATE', hook: string, e: Entry, err: unknown): Error {
  // A hook that validates its own config may throw a located error: keep it as is.
  if (err instanceof ConfError) return err;
  return new ModuleError(code, e.section.loc, `${sectionLabel(e.section)}: ${hook} failed: ${errorText(err)}`, { cause: err });
}

/**
 * After a failing hook on `failed`: detach, in reverse order, every instance that reached
 * the failing stage (with `instantiateStage`: those instantiated, plus the failing one; in
 * bootstrap: those bootstrapped, plus the failing one), then dispose every child container.
 */
async function unwind(entries: Entry[], failed: Entry, log: Logger, instantiateStage = false): Promise<void> {
  const idx = entries.indexOf(failed);
  for (let i = idx; i >= 0; i--) {
    const e = entries[i];
    if (instantiateStage ? e.state === 'instantiated' : e.state !== 'detached') await detachOne(e, log);
  }
  await disposeAll(entries, log);
}

async function detachOne(e: Entry, log: Logger): Promise<void> {
  if (e.state === 'detached') return;
  const hadHooks = e.state !== 'constructed';
  e.state = 'detached';
  e.abort.abort(new Error('detached'));
  if (!hadHooks) return;
  try {
    await e.instance.detach?.();
  } catch (err) {
    log.error(`${e.name}: detach failed: ${errorText(err)}`);
  }
}

async function disposeAll(entries: Entry[], log: Logger): Promise<void> {
  for (let i = entries.length - 1; i >= 0; i--) {
    try {
      await entries[i].container.dispose();
    } catch (err) {
      log.error(`${entries[i].name}: dispose failed: ${errorText(err)}`);
    }
  }
}

function makeSet(entries: Entry[], configOrder: readonly Parsed[], virtualModules: Map<string, ConfSection>, xlats: XlatRegistry, log: Logger): ModuleSet {
  const byName = new Map(entries.map((e) => [e.name, e]));
  let detached: Promise<void> | undefined;
  const live = (name: string): Entry | undefined => {
    const e = byName.get(name);
    return e && e.state !== 'detached' ? e : undefined;
  };
  // v3-style dotted instance names (`attr_filter attr_filter.access_reject { }`): policy writes
  // `attr_filter.access_reject`, which the compiler asks for as instance `attr_filter`, method
  // `access_reject`. An instance with the full dotted name wins over a method of that name.
  const dottedPrefixes = new Set<string>();
  for (const e of entries) {
    const dot = e.name.indexOf('.');
    if (dot > 0) dottedPrefixes.add(e.name.slice(0, dot));
  }
  const composite = new Map<string, ModuleHandle>();
  const handle = (name: string): ModuleHandle | undefined => {
    if (!dottedPrefixes.has(name)) return live(name)?.handle;
    let h = composite.get(name);
    if (!h) {
      h = {
        name,
        method(section, method) {
          if (method !== undefined) {
            const d = live(`${name}.${method}`);
            if (d) return d.handle.method(section);
          }
          return live(name)?.handle.method(section, method);
        },
        get map() {
          return live(name)?.handle.map;
        },
      };
      composite.set(name, h);
    }
    return live(name) || [...byName.keys()].some((k) => k.startsWith(`${name}.`) && live(k)) ? h : undefined;
  };
  return {
    handle,
    modules: handle,
    virtualModules,
    xlats,
    get: (name) => byName.get(name),
    list: () => configOrder.map((p) => byName.get(p.name)!),
    detachAll(): Promise<void> {
      detached ??= (async () => {
        for (let i = entries.length - 1; i >= 0; i--) await detachOne(entries[i], log);
        await disposeAll(entries, log);
      })();
      return detached;
    },
  };
}

/**
 * Deep-freezes plain objects and arrays (a module's parsed config), our analogue of
 * FreeRADIUS protecting module config after instantiation. Buffers and typed arrays are left
 * as they are (they cannot be frozen).
 */
export function deepFreeze<T>(value: T): T {
  if (!value || typeof value !== 'object' || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value;
  Object.freeze(value);
  for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  return value;
}

/**
 * `radiusd -C`: every definition's `probe`, side by side, each within {@link PROBE_TIMEOUT_MS}.
 * What does not answer is a located warning (`file[line]: ldap corp { server }: …`); nothing here
 * fails the check.
 */
async function probeAll(entries: readonly Entry[], rootLog: Logger): Promise<void> {
  await Promise.all(entries.map(async (e) => {
    const probe = e.definition.probe as ((c: unknown, ctx: ProbeContext) => Promise<void>) | undefined;
    if (!probe) return;
    const ac = new AbortController();
    const warn = (itemPath: string, message: string): void => {
      const loc = itemLoc(e.section, itemPath);
      rootLog.warn(`${loc.file}[${loc.line}]: ${ownerLabel(e.section, itemPath)}: ${message} (a warning: the configuration is still valid)`);
    };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => { timer = setTimeout(() => r('late'), PROBE_TIMEOUT_MS); });
    try {
      const r = await Promise.race([probe(e.config, { name: e.name, log: e.log, signal: ac.signal, warn }), late]);
      if (r === 'late') warn('', `back-end check gave no answer within ${PROBE_TIMEOUT_MS / 1000} s`);
    } catch (err) {
      warn('', `back-end check failed: ${errorText(err)}`);
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
  }));
}
