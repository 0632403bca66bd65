/**
 * `server NAME { namespace = X … }` → a {@link CompiledSite} (the input of the namespace's
 * state machine), plus the server's own listeners and clients.
 *
 * A server section may hold:
 * - `namespace = X`: a namespace of the registry (core/process/namespace.ts; built in: `radius`, core/process/default.ts),
 * - `listen [NAME] { … }` (see `listen-config.ts`; only when the namespace has listeners),
 *   `client NAME { … }` (clients only for this server),
 * - the namespace's processing sections; for `radius`: `recv <request>`, `send <reply>`,
 *   `authenticate <Auth-Type>`, `accounting <Acct-Status-Type>`, `finally [<request>]`,
 * - the namespace's settings sections (`radius { … }`; accepted, currently informational).
 * Anything else is a located error with a suggestion.
 */
import type { ConfSection, ConfPair } from '../config/ast';
import { ConfError } from '../config/errors';
import { suggest } from '../config/schema';
import type { Dictionary } from '../dict/dictionary';
import type { CompiledSection } from '../unlang/compile/types';
import { Compiler, type CompileOptions } from '../unlang/compile/compiler';
import type { CompiledSite, SiteConfig, Namespace, NamespaceRegistry } from '../process/namespace';
import { parseListen, type ListenSpec } from './listen-config';
import { defaultNamespaces } from '../process/default';

/** The radius namespace's section names (kept here for existing importers). */
export { RECV_SECTIONS, SEND_SECTIONS } from '../process/radius/namespace';

/** A parsed and compiled `server` section. */
export interface SiteBuild {
  readonly site: CompiledSite;
  /** The namespace serving it. */
  readonly namespace: Namespace;
  readonly listeners: ListenSpec[];
  /** `client` sections written inside the server (only for its listeners). */
  readonly clientSections: ConfSection[];
  readonly loc: { file: string; line: number };
}

/** Options of {@link compileSite}. */
export interface SiteBuildOptions {
  dict: Dictionary;
  compile: CompileOptions;
  config: SiteConfig;
  /** Global default for listeners' `cleanup_delay`. */
  cleanupDelay: number;
  /** Namespaces known to `namespace = …` (default: the built-in ones). */
  namespaces?: NamespaceRegistry;
}

function fail(loc: { file: string; line: number }, msg: string): never {
  throw new ConfError('ERR_CONF_UNKNOWN_ITEM', loc, msg);
}

/** An example `name2` for a `name1` section without one. */
function example(ns: Namespace, name1: string, dict: Dictionary): string {
  const rule = ns.sections[name1];
  const list = typeof rule === 'function' ? rule(dict) : rule === 'any' ? undefined : rule;
  return list?.[0] ?? 'NAME';
}

/**
 * Parses and compiles one `server NAME { … }` section. Throws a located `ConfError` or
 * `CompileError`.
 */
export function compileSite(cs: ConfSection, opts: SiteBuildOptions): SiteBuild {
  const name = cs.name2;
  if (!name) throw new ConfError('ERR_CONF_MISSING', cs.loc, 'server: a virtual server needs a name ("server NAME { … }")');
  const where = `server ${name}`;
  const nsItem = cs.children.find((c): c is ConfPair => c.kind === 'pair' && c.attr === 'namespace');
  const registry = opts.namespaces ?? defaultNamespaces();
  if (!nsItem) throw new ConfError('ERR_CONF_MISSING', cs.loc, `${where}: missing "namespace = radius" (one of ${registry.names().join(', ')})`);
  const ns = registry.get(nsItem.value ?? '');
  if (!ns) {
    const hint = suggest(nsItem.value ?? '', registry.names());
    throw new ConfError('ERR_CONF_VALUE', nsItem.loc,
      `${where} { namespace }: unknown namespace "${nsItem.value}"${hint ? `; did you mean "${hint}"?` : ''} (one of ${registry.names().join(', ')})`);
  }
  ns.prepare?.(cs, opts.dict);
  const serverItems = ['namespace', 'client', ...(ns.listen ? ['listen'] : []), ...Object.keys(ns.sections), ...(ns.settingsSections ?? [])];
  const compiler = new Compiler(opts.compile);
  const sections = new Map<string, CompiledSection>();
  const listeners: ListenSpec[] = [];
  let listenIndex = 0;
  const names = new Map<string, readonly string[] | undefined>();
  for (const [name1, rule] of Object.entries(ns.sections)) {
    names.set(name1, typeof rule === 'function' ? rule(opts.dict) : rule === 'any' ? undefined : rule);
  }

  for (const item of cs.children) {
    if (item.kind === 'pair') {
      if (item.attr === 'namespace') continue;
      const hint = suggest(item.attr, serverItems);
      fail(item.loc, `${where}: unknown item "${item.text}"${hint ? `; did you mean "${hint}"?` : ''}`);
    }
    if (item.name1 === 'listen' && ns.listen) {
      listeners.push(parseListen(item, name, listenIndex++, opts.cleanupDelay, { name: ns.name, listen: ns.listen }));
      continue;
    }
    if (item.name1 === 'client' || ns.settingsSections?.includes(item.name1)) continue;
    if (!names.has(item.name1)) {
      const hint = suggest(item.name1, serverItems);
      fail(item.loc, `${where}: unknown section "${item.name1}${item.headerText ? ' ' + item.headerText : ''}"${hint ? `; did you mean "${hint}"?` : ''}`);
    }
    const n2 = item.name2;
    if (!n2 && ns.bareSections?.includes(item.name1)) {
      // e.g. `finally { … }`: stored under name1 alone.
      if (sections.has(item.name1)) throw new ConfError('ERR_CONF_DUPLICATE', item.loc, `${where}: section "${item.name1}" is given more than once`);
      sections.set(item.name1, compiler.compileSection(item, { name1: item.name1 }));
      continue;
    }
    if (!n2) fail(item.loc, `${where}: "${item.name1}" needs a name, e.g. "${item.name1} ${example(ns, item.name1, opts.dict)} { … }"`);
    const allowed = names.get(item.name1);
    let canonical = n2;
    if (allowed && n2 !== '*') {
      const hit = allowed.find((a) => a.toLowerCase() === n2.toLowerCase());
      if (!hit) {
        const hint = suggest(n2, allowed);
        fail(item.loc, `${where}: unknown section "${item.name1} ${n2}"${hint ? `; did you mean "${item.name1} ${hint}"?` : ''}`);
      }
      canonical = hit;
    }
    const key = `${item.name1} ${canonical}`;
    if (sections.has(key)) {
      throw new ConfError('ERR_CONF_DUPLICATE', item.loc, `${where}: section "${key}" is given more than once`);
    }
    sections.set(key, compiler.compileSection(item, { name1: item.name1, name2: canonical }));
  }
  const clientSections = cs.children.filter((c): c is ConfSection => c.kind === 'section' && c.name1 === 'client');
  const site: CompiledSite = { name, sections, config: opts.config, dict: opts.dict };
  return { site, namespace: ns, listeners, clientSections, loc: cs.loc };
}
