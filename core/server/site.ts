/**
 * `server NAME { namespace = radius … }` → a {@link CompiledSite} (the input of the RADIUS
 * process state machine), plus the server's own listeners and clients.
 *
 * A server section may hold:
 * - `namespace = radius` (the only namespace implemented),
 * - `listen [NAME] { … }` (see `listen-config.ts`), `client NAME { … }` (clients only for this server),
 * - processing sections: `recv <request>`, `send <reply>`, `authenticate <Auth-Type>`,
 *   `accounting <Acct-Status-Type>`, `finally [<request>]`,
 * - `radius { … }` (per-namespace process settings; accepted, currently informational).
 * Anything else is a located error with a suggestion.
 */
import type { ConfSection, ConfPair } from '../config/ast';
import { ConfError } from '../config/errors';
import { suggest } from '../config/schema';
import type { Dictionary } from '../dict/dictionary';
import type { CompiledSection } from '../unlang/compile/types';
import { Compiler, type CompileOptions } from '../unlang/compile/compiler';
import type { CompiledSite, SiteConfig } from '../process/radius/types';
import { parseListen, type ListenSpec } from './listen-config';

/** `recv` section names of the radius namespace. */
export const RECV_SECTIONS = ['Access-Request', 'Accounting-Request', 'Status-Server', 'CoA-Request', 'Disconnect-Request'] as const;
/** `send` section names of the radius namespace. */
export const SEND_SECTIONS = [
  'Access-Accept', 'Access-Reject', 'Access-Challenge', 'Accounting-Response', 'CoA-ACK', 'CoA-NAK',
  'Disconnect-ACK', 'Disconnect-NAK', 'Protocol-Error', 'Do-Not-Respond',
] as const;

const SERVER_ITEMS = ['namespace', 'listen', 'client', 'recv', 'send', 'authenticate', 'accounting', 'finally', 'radius'];

/** A parsed and compiled `server` section. */
export interface SiteBuild {
  readonly site: CompiledSite;
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
}

function fail(loc: { file: string; line: number }, msg: string): never {
  throw new ConfError('ERR_CONF_UNKNOWN_ITEM', loc, msg);
}

/** Acct-Status-Type value names known to the dictionary (for `accounting X` checks). */
function acctStatusNames(dict: Dictionary): string[] | undefined {
  const da = dict.resolve('Acct-Status-Type');
  if (!da?.valueNames) return undefined;
  return [...new Set(da.valueNames.values())];
}

/**
 * Each `authenticate <name>` section defines the `Auth-Type` value `<name>` (as FreeRADIUS v4 does), so
 * `control.Auth-Type := proxy` compiles when the server has `authenticate proxy { … }`. Runs before any
 * section of the server is compiled.
 */
export function registerAuthTypes(cs: ConfSection, dict: Dictionary): void {
  const da = dict.resolve('Auth-Type');
  if (!da) return;
  for (const item of cs.children) {
    if (item.kind !== 'section' || item.name1 !== 'authenticate' || !item.name2 || item.name2 === '*') continue;
    try {
      dict.addEnumName(da, item.name2);
    } catch (e) {
      throw new ConfError('ERR_CONF_VALUE', item.loc, `server ${cs.name2 ?? ''}: authenticate ${item.name2}: ${(e as Error).message}`);
    }
  }
}

/**
 * Parses and compiles one `server NAME { … }` section. Throws a located `ConfError` or
 * `CompileError`.
 */
export function compileSite(cs: ConfSection, opts: SiteBuildOptions): SiteBuild {
  const name = cs.name2;
  if (!name) throw new ConfError('ERR_CONF_MISSING', cs.loc, 'server: a virtual server needs a name ("server NAME { … }")');
  const where = `server ${name}`;
  const ns = cs.children.find((c): c is ConfPair => c.kind === 'pair' && c.attr === 'namespace');
  if (!ns) throw new ConfError('ERR_CONF_MISSING', cs.loc, `${where}: missing "namespace = radius"`);
  if ((ns.value ?? '').toLowerCase() !== 'radius') {
    throw new ConfError('ERR_CONF_VALUE', ns.loc, `${where} { namespace }: unsupported namespace "${ns.value}"; only "radius" is implemented`);
  }
  registerAuthTypes(cs, opts.dict);
  const compiler = new Compiler(opts.compile);
  const sections = new Map<string, CompiledSection>();
  const listeners: ListenSpec[] = [];
  let listenIndex = 0;
  const acctNames = acctStatusNames(opts.dict);

  for (const item of cs.children) {
    if (item.kind === 'pair') {
      if (item.attr === 'namespace') continue;
      const hint = suggest(item.attr, SERVER_ITEMS);
      fail(item.loc, `${where}: unknown item "${item.text}"${hint ? `; did you mean "${hint}"?` : ''}`);
    }
    switch (item.name1) {
      case 'listen':
        listeners.push(parseListen(item, name, listenIndex++, opts.cleanupDelay));
        continue;
      case 'client':
      case 'radius':
        continue;
      case 'finally': {
        // `finally [<request type>] { … }`: runs last for every request (of that type).
        const n2 = item.name2;
        const hit = n2 ? RECV_SECTIONS.find((a) => a.toLowerCase() === n2.toLowerCase()) : undefined;
        if (n2 && !hit) {
          const hint = suggest(n2, RECV_SECTIONS);
          fail(item.loc, `${where}: unknown section "finally ${n2}"${hint ? `; did you mean "finally ${hint}"?` : ''}`);
        }
        const key = hit ? `finally ${hit}` : 'finally';
        if (sections.has(key)) throw new ConfError('ERR_CONF_DUPLICATE', item.loc, `${where}: section "${key}" is given more than once`);
        sections.set(key, compiler.compileSection(item, { name1: 'finally', name2: hit }));
        continue;
      }
      case 'recv':
      case 'send':
      case 'authenticate':
      case 'accounting': {
        const n2 = item.name2;
        if (!n2) fail(item.loc, `${where}: "${item.name1}" needs a name, e.g. "${item.name1} ${item.name1 === 'recv' ? 'Access-Request' : item.name1 === 'send' ? 'Access-Accept' : item.name1 === 'authenticate' ? 'pap' : 'Start'} { … }"`);
        const allowed: readonly string[] | undefined =
          item.name1 === 'recv' ? RECV_SECTIONS : item.name1 === 'send' ? SEND_SECTIONS : item.name1 === 'accounting' ? acctNames : undefined;
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
        continue;
      }
      default: {
        const hint = suggest(item.name1, SERVER_ITEMS);
        fail(item.loc, `${where}: unknown section "${item.name1}${item.headerText ? ' ' + item.headerText : ''}"${hint ? `; did you mean "${hint}"?` : ''}`);
      }
    }
  }
  const clientSections = cs.children.filter((c): c is ConfSection => c.kind === 'section' && c.name1 === 'client');
  const site: CompiledSite = { name, sections, config: opts.config, dict: opts.dict };
  return { site, listeners, clientSections, loc: cs.loc };
}
