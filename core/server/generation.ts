/**
 * A configuration generation: everything built from one read of `radiusd.conf`.
 *
 * ```
 * parse radiusd.conf ($INCLUDEs, default files, ${…})     core/config
 *  → top-level settings (settings.ts)                     located errors, did-you-mean
 *  → dictionary (bundled, or `dictionary = …`)
 *  → modules { }: construct → bootstrap [→ instantiate]   core/module/loader.ts
 *  → policy { }, virtual modules                          for the compiler
 *  → server NAME { }: compile sites, listen specs         site.ts (namespace from the registry, namespace.ts)
 *  → clients: top level (+ clients.d via $INCLUDE) and per server
 *  → app KIND [NAME] { }: parsed against the app's schema  app.ts (started by the Server, not here)
 * ```
 *
 * `check: true` (`radiusd -C`) stops the modules after `bootstrap` and never opens sockets.
 * When anything throws, the modules already set up are detached before the error propagates,
 * so a failed reload leaves nothing running.
 */
import type { XlatRegistry } from '../unlang/xlat/registry';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ConfPair, ConfRoot, ConfSection } from '../config/ast';
import { unescapeValue } from '../config/ast';
import { ConfError } from '../config/errors';
import { parseConfigFile } from '../config/parser';
import { printSection } from '../config/print';
import { redact } from '../config/schema';
import { Dictionary } from '../dict/dictionary';
import { defaultDictionaryPath, loadDefaultDictionary } from '../dict/default';
import type { Logger } from '../log/logger';
import { ClientDirectory, ClientTable, parseClient, parseClients } from '../listen/clients';
import { createRootContainer, type ProcessServices } from '../module/container';
import { loadModules, type ModuleSet } from '../module/loader';
import type { ModuleClient } from '../module/define';
import type { AnyModuleDefinition, ModuleRegistry } from '../module/registry';
import type { SiteConfig, NamespaceRegistry } from '../process/namespace';
import { box } from '../unlang/xlat/box';
import { defaultApps } from './apps';
import { parseApps, type AppRegistry, type AppSpec } from './app';
import { socketKey, type ListenSpec } from './listen-config';
import { defaultNamespaces } from '../process/default';
import { MainSchema, parseMainSettings, type MainSettings } from './settings';
import { compileSite, type SiteBuild } from './site';
import { SiteTable } from './servers';

/** Options of {@link loadGeneration}. */
export interface GenerationOptions {
  /** The main file (`${confdir}/radiusd.conf`, or `${name}.conf` with `-n`). */
  readonly file: string;
  /** Server log (modules get children of it). */
  readonly log: Logger;
  /** Stop modules after bootstrap (`radiusd -C`). */
  readonly check?: boolean;
  /** Extra `${name}` variables (lowest priority). */
  readonly variables?: Record<string, string>;
  /** Generation number, for logs. */
  readonly number?: number;
  /**
   * Counter source for the `%stats(name)` expansion (this process's listener totals, e.g.
   * `%stats(received)`, `%stats(drop_total)`); without it every counter reads 0 (`radiusd -C`).
   */
  readonly counter?: (name: string) => number;
  /** Process-wide services for the DI root (metrics, clock, worker pools, topology); default: fresh ones. */
  readonly services?: Partial<ProcessServices>;
  /** Namespaces `namespace = …` may name (default: the built-in ones, `radius`). */
  readonly namespaces?: NamespaceRegistry;
  /** App kinds `app KIND { … }` may name (default: the built-in ones, `health`). */
  readonly apps?: AppRegistry;
  /**
   * Module definitions `modules { … }` may name (default: none). Core never imports `modules/`:
   * the composition root (`main/radiusd.ts`) passes the built-ins of `modules/index.ts`.
   */
  readonly modules?: ModuleRegistry | readonly AnyModuleDefinition[];
  /**
   * Parent of the generation's expansion functions (default: the process-wide built-ins). A test
   * harness passes a child of them holding test-only functions, as FreeRADIUS's `unit_test_module`
   * adds `%time.advance()`; a daemon never does.
   */
  readonly xlats?: XlatRegistry;
}

/** Derived paths of a generation. */
export interface Paths {
  readonly confdir: string;
  readonly logdir: string;
  readonly runDir: string;
  readonly pidfile: string;
  readonly flagFile: string;
  readonly statsFile: string;
  /** What `auto` learned about clients (Message-Authenticator seen): `${run_dir}/${name}.ma-seen`. */
  readonly maStateFile: string;
  readonly logFile?: string;
}

/** One configuration generation. */
export interface Generation {
  readonly number: number;
  readonly file: string;
  readonly root: ConfRoot;
  readonly settings: MainSettings;
  readonly paths: Paths;
  readonly dict: Dictionary;
  readonly modules: ModuleSet;
  /** Compiled sites by server name. */
  readonly sites: ReadonlyMap<string, SiteBuild>;
  /** Client table for each server (server-local clients, then the global ones). */
  readonly clients: ReadonlyMap<string, ClientTable>;
  /** The global clients (top level and included files). */
  readonly globalClients: ClientTable;
  /** Every listener of every server, in config order. */
  readonly listeners: readonly ListenSpec[];
  /** `app` sections, parsed (the Server starts them). */
  readonly apps: readonly AppSpec[];
  /** Files read (for change detection). */
  readonly files: readonly string[];
}

/** Applies server-wide BlastRADIUS defaults to a client section that does not set them itself. */
function withClientDefaults(cs: ConfSection, s: MainSettings, loc: { file: string; line: number }): ConfSection {
  const extra: ConfPair[] = [];
  const has = (name: string) => cs.children.some((c) => c.kind === 'pair' && c.attr.toLowerCase() === name);
  const add = (attr: string, value: string) =>
    extra.push({ kind: 'pair', attr, op: '=', value, quote: 'bare', text: `${attr} = ${value}`, loc });
  if (!has('require_message_authenticator')) add('require_message_authenticator', s.security.require_message_authenticator);
  if (!has('limit_proxy_state')) add('limit_proxy_state', s.security.limit_proxy_state);
  return extra.length ? { ...cs, children: [...cs.children, ...extra] } : cs;
}

/**
 * Asks every module with a `clients` method for its clients (FreeRADIUS `read_clients`), each at
 * most its `instantiate_timeout` (default 5 s). A failure is logged; the server starts without them.
 */
async function readModuleClients(modules: ModuleSet, log: Logger): Promise<{ sections: ConfSection[]; servers: (string | undefined)[] }> {
  const sections: ConfSection[] = [];
  const servers: (string | undefined)[] = [];
  for (const m of modules.list()) {
    const method = m.definition.clients as string | undefined;
    if (!method) continue;
    const fn = (m.instance as unknown as Record<string, (signal: AbortSignal) => Promise<readonly (ModuleClient | ConfSection)[]>>)[method];
    const limit = m.section.children.find((c) => c.kind === 'pair' && c.attr === 'instantiate_timeout');
    const seconds = limit?.kind === 'pair' && limit.value !== undefined && Number.isFinite(Number(limit.value)) ? Number(limit.value) : 5;
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const list = await Promise.race([
        fn.call(m.instance, ac.signal),
        new Promise<never>((_, reject) => { timer = setTimeout(() => { ac.abort(); reject(new Error(`no answer within ${seconds}s`)); }, seconds * 1000); }),
      ]);
      for (const c of list) {
        // A module that maps its own client attributes (ldap's `client { attribute { } }`) hands whole sections.
        if ('kind' in c) { sections.push(c); servers.push(undefined); continue; }
        const loc = { file: m.section.loc.file, line: m.section.loc.line };
        const pair = (attr: string, value: string): ConfPair => ({ kind: 'pair', attr, op: '=', value, quote: 'single', text: `${attr} = '…'`, loc });
        const children = [pair('ipaddr', c.address === '*' ? '*' : c.address), pair('secret', c.secret)];
        if (c.shortname) children.push(pair('shortname', c.shortname));
        if (c.nasType) children.push(pair('nas_type', c.nasType));
        if (c.requireMessageAuthenticator) children.push(pair('require_message_authenticator', c.requireMessageAuthenticator));
        if (c.limitProxyState) children.push(pair('limit_proxy_state', c.limitProxyState));
        sections.push({ kind: 'section', name1: 'client', name2: c.name, headerText: c.name, children, loc: c.source ? { file: c.source, line: 0 } : loc });
        servers.push(c.server || undefined);
      }
      log.info(`${m.name}: ${list.length} client(s) read`);
    } catch (e) {
      log.error(`${m.name}: cannot read clients: ${(e as Error).message}; starting without them`);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
  return { sections, servers };
}

/** Adds module clients to a table; a bad or duplicate one is logged and skipped (config clients win). */
function addModuleClients(table: ClientTable, list: readonly ConfSection[], clientSection: (cs: ConfSection) => ConfSection, warn: (line: string) => void): void {
  for (const cs of list) {
    try {
      const c = parseClient(clientSection(cs));
      const old = table.add(c);
      if (old) warn(`client ${c.name} (${c.network}) from ${cs.loc.file}: its network is already used by client ${old.name}; skipped`);
    } catch (e) {
      warn(`client ${cs.name2} from ${cs.loc.file}: ${(e as Error).message.replace(/^.*?\]: /, '')}; skipped`);
    }
  }
}

function loadDictionary(settings: MainSettings, root: ConfSection): Dictionary {
  if (!settings.dictionary) return loadDefaultDictionary();
  const loc = root.children.find((c) => c.kind === 'pair' && c.attr === 'dictionary')?.loc ?? root.loc;
  let file = settings.dictionary;
  try {
    if (fs.statSync(file).isDirectory()) file = path.join(file, 'dictionary');
    return Dictionary.load(file);
  } catch (e) {
    throw new ConfError('ERR_CONF_VALUE', loc, `main { dictionary }: cannot load "${settings.dictionary}": ${(e as Error).message}`);
  }
}

/** Paths derived from the settings (defaults documented in docs/configuration.md). */
export function derivePaths(settings: MainSettings, file: string): Paths {
  const confdir = settings.confdir ?? path.dirname(path.resolve(file));
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.resolve(confdir, p));
  const local = settings.localstatedir ? abs(settings.localstatedir) : undefined;
  const logdir = abs(settings.logdir ?? (local ? path.join(local, 'log') : confdir));
  const runDir = abs(settings.run_dir ?? (local ? path.join(local, 'run') : confdir));
  const name = settings.name;
  return {
    confdir,
    logdir,
    runDir,
    pidfile: abs(settings.pidfile ?? path.join(runDir, `${name}.pid`)),
    flagFile: abs(settings.reload.flag_file ?? path.join(runDir, 'reload.flag')),
    statsFile: abs(settings.stats.file ?? path.join(runDir, `${name}.stats.json`)),
    maStateFile: path.join(runDir, `${name}.ma-seen`),
    logFile: settings.log.file ? abs(settings.log.file) : undefined,
  };
}

/**
 * Loads and builds a generation. Throws a located `ConfError` / `CompileError` /
 * `ModuleError`; nothing is left running when it throws.
 */
export async function loadGeneration(opts: GenerationOptions): Promise<Generation> {
  const root = parseConfigFile(opts.file, { variables: opts.variables });
  const settings = parseMainSettings(root);
  if (opts.log.debugEnabled) {
    // The -X banner: the main settings as configuration sections (as FreeRADIUS prints them).
    opts.log.debug(`# Main configuration (${opts.file})`);
    for (const line of printSection('main', redact(MainSchema, settings))) opts.log.debug(line);
  }
  const paths = derivePaths(settings, opts.file);
  const dict = loadDictionary(settings, root);
  const clientDirectory = new ClientDirectory();
  const rootContainer = createRootContainer({ dict, log: opts.log, clients: clientDirectory, ...opts.services, xlats: opts.xlats?.child() });
  const modulesSections = root.children.filter((c): c is ConfSection => c.kind === 'section' && c.name1 === 'modules');
  if (modulesSections.length > 1) {
    throw new ConfError('ERR_CONF_DUPLICATE', modulesSections[1].loc,
      `main: "modules" is given more than once (first at ${modulesSections[0].loc.file}[${modulesSections[0].loc.line}])`);
  }
  const modules = await loadModules({
    section: modulesSections[0], root: rootContainer, confDir: paths.confdir, checkOnly: opts.check,
    registry: opts.modules ?? [],
  });
  try {
    const policies = new Map<string, ConfSection>();
    for (const pol of root.children) {
      if (pol.kind !== 'section' || pol.name1 !== 'policy') continue;
      for (const p of pol.children) {
        if (p.kind !== 'section') {
          throw new ConfError('ERR_CONF_UNKNOWN_ITEM', p.loc, `policy { ${p.text} }: expected a named policy "name { … }"`);
        }
        const prev = policies.get(p.name1);
        if (prev) {
          throw new ConfError('ERR_CONF_DUPLICATE', p.loc, `policy { ${p.name1} }: already defined at ${prev.loc.file}[${prev.loc.line}]`);
        }
        policies.set(p.name1, p);
      }
    }
    const siteConfig: SiteConfig = {
      rejectDelay: settings.security.reject_delay,
      maxRequestTime: settings.max_request_time,
    };
    const counter = opts.counter ?? (() => 0);
    modules.xlats.register('stats', (_c, args) => {
      const name = (args[0] ?? []).map((b) => String(b.value)).join('');
      return [box('uint32', Math.min(0xffffffff, Math.max(0, Math.floor(counter(name)))))];
    }, { returnType: 'uint32', minArgs: 1, maxArgs: 1 });
    // %config(path): a configuration item as a string (`%config(modules.exec.timeout)`, `%config('name')`);
    // a section step matches a section's first or second name. Nothing when the item does not exist.
    modules.xlats.register('config', (_c, args) => {
      const path = (args[0] ?? []).map((b) => String(b.value)).join('').split('.');
      let cur: ConfSection = root;
      for (let i = 0; i < path.length - 1; i++) {
        const next = cur.children.find((c): c is ConfSection => c.kind === 'section' && (c.name1 === path[i] || c.name2 === path[i]));
        if (!next) return [];
        cur = next;
      }
      const last = path[path.length - 1];
      const item = cur.children.find((c): c is ConfPair => c.kind === 'pair' && c.attr === last && c.value !== undefined);
      return item ? [box('string', unescapeValue(item.value!, item.quote))] : [];
    }, { returnType: 'string', minArgs: 1, maxArgs: 1, wordArgs: true });
    // Every server name is known before any site compiles, so `call` may name a later one.
    const servers = new SiteTable(new Set(root.children.flatMap((c) => (c.kind === 'section' && c.name1 === 'server' && c.name2 ? [c.name2] : []))));
    const compile = { dict, xlats: modules.xlats, modules: modules.modules, moduleNames: () => modules.list().map((m) => m.name), virtualModules: modules.virtualModules, policies, servers };

    const clientSection = (cs: ConfSection) => withClientDefaults(cs, settings, cs.loc);
    const globalSections = root.children.filter((c): c is ConfSection => c.kind === 'section' && c.name1 === 'client');
    const globalClients = parseClients(globalSections.map(clientSection));
    // Clients from modules (sql read_clients): global ones, and those for one server.
    const fromModules = opts.check ? { sections: [], servers: [] } : await readModuleClients(modules, opts.log);
    const moduleGlobal = fromModules.sections.filter((_, i) => fromModules.servers[i] === undefined);
    const moduleFor = (server: string) => fromModules.sections.filter((_, i) => fromModules.servers[i] === server);
    addModuleClients(globalClients, moduleGlobal, clientSection, (l) => opts.log.warn(l));

    const sites = new Map<string, SiteBuild>();
    const clients = new Map<string, ClientTable>();
    const listeners: ListenSpec[] = [];
    const bound = new Map<string, ListenSpec>();
    const namespaces = opts.namespaces ?? defaultNamespaces();
    for (const cs of root.children) {
      if (cs.kind !== 'section' || cs.name1 !== 'server') continue;
      const build = compileSite(cs, { dict, compile, config: siteConfig, cleanupDelay: settings.cleanup_delay, namespaces });
      const prev = sites.get(build.site.name);
      if (prev) {
        throw new ConfError('ERR_CONF_DUPLICATE', cs.loc, `server ${build.site.name}: already defined at ${prev.loc.file}[${prev.loc.line}]`);
      }
      sites.set(build.site.name, build);
      servers.add(build.site);
      // Server-local clients take precedence; global clients still apply to its listeners
      // unless a local client covers the same network.
      let table = globalClients;
      const own = moduleFor(build.site.name);
      if (build.clientSections.length || own.length) {
        table = parseClients(build.clientSections.map(clientSection));
        addModuleClients(table, own, clientSection, (l) => opts.log.warn(l));
        for (const g of globalSections) table.add(parseClient(clientSection(g)));
        addModuleClients(table, moduleGlobal, clientSection, () => undefined); // already reported for the global table
      }
      clients.set(build.site.name, table);
      for (const l of build.listeners) {
        const key = socketKey(l);
        const other = bound.get(key);
        if (other) {
          throw new ConfError('ERR_CONF_DUPLICATE', l.loc,
            `server ${l.server} { listen }: ${l.transport} ${l.ipaddr} port ${l.port} is already used by ${other.name} (${other.loc.file}[${other.loc.line}])`);
        }
        bound.set(key, l);
        listeners.push(l);
      }
    }
    clientDirectory.set(globalClients, clients);
    if (sites.size === 0) {
      throw new ConfError('ERR_CONF_MISSING', root.loc, 'main: no "server NAME { namespace = radius … }" section: nothing to serve');
    }
    const apps = parseApps(root.children.filter((c): c is ConfSection => c.kind === 'section' && c.name1 === 'app'), opts.apps ?? defaultApps(), { sites: new Set(sites.keys()) });
    return {
      number: opts.number ?? 0,
      file: opts.file,
      root,
      settings,
      paths,
      dict,
      modules,
      sites,
      clients,
      globalClients,
      listeners,
      apps,
      files: root.files,
    };
  } catch (e) {
    await modules.detachAll();
    throw e;
  }
}

/** The bundled dictionary's path (for `radiusd --version` style output). */
export { defaultDictionaryPath };
