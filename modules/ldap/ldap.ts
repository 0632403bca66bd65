/**
 * The `ldap` instance (FreeRADIUS rlm_ldap): finds the user's object, checks access, maps
 * attributes (passwords into `control.Password.*` for pap/chap), applies profiles, resolves
 * groups, binds as the user for `Auth-Type ldap`, and offers `%<inst>(ldap URL)` and
 * `%<inst>.group(name)`. Every operation is asynchronous over `./directory.ts` (trunks of
 * multiplexed connections per server, fail-over, per-operation timeouts); a cancelled request
 * abandons its operation on the wire.
 */
import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { defineDict, type DictHandles, type EnvOf } from '../../core';
import type { Box, CompiledTemplate } from '../../core';
import type { Dictionary } from '../../core';
import type { Logger } from '../../core';
import type { CallContext, MapResult, Rcode } from '../../core';
import type { BootstrapContext, InstantiateContext, ModuleInstance } from '../../core';
import { MODULE_CONFIG, MODULE_DICT, MODULE_LOG, MODULE_NAME, TRUNKS } from '../../core';
import { Pair } from '../../core';
import type { Request } from '../../core';
import type { ConfItem, ConfSection } from '../../core';
import { trunkFactory, type TrunkFactory } from '../../core';
import { box, compileTemplate } from '../../core';
import { addValue, failureMessage, getValue } from '../../core';
import type { LdapConfig } from './config';
import { type Entry, type OpResult, parseServer } from './connection';
import { type Cancel, CallCancel, Directories, LdapOpError, SearchShapes, type SearchSpec } from './directory';
import { escapeDn, escapeFilter, escapeUri, parseLdapUrl, unescapeFilter } from './escape';
import { BindMessage, ModifyMessage, type Modification } from './wire';
import type { ModifyRoot } from './modify';
import { applyMap, entryValues } from './map';
import { FieldMap } from '../shared/field-map';
import { preparedLdap, type LdapPrepared } from './validate';

/** LDAP result codes the module distinguishes. */
const LDAP = { success: 0, timeLimit: 3, sizeLimit: 4, noSuchObject: 32, invalidDnSyntax: 34, invalidCredentials: 49, insufficientAccess: 50, unwilling: 53 } as const;

/** The attributes the module uses (resolved by the loader, injected as `MODULE_DICT`). */
export const LDAP_DICT = defineDict({ userName: 'User-Name', password: 'User-Password', userDn: 'LDAP-UserDN' });

/**
 * Per-call templates of `authorize` (the loader compiles them, with located errors, also under
 * `radiusd -C`). Expanded values are escaped for where they go: DN-escaped into search bases
 * and DNs, filter-escaped (RFC 4515) into filters. The user's search base and filter are expanded
 * before the call; the group and profile templates only when they are needed (the membership
 * filter usually refers to `control.LDAP-UserDN`, which the user search sets).
 */
export const LDAP_AUTHORIZE_ENV = {
  userBase: { item: 'user.base_dn', escape: escapeDn },
  userFilter: { item: 'user.filter', escape: escapeFilter },
  groupBase: { item: 'group.base_dn', escape: escapeDn, as: 'template' },
  membership: { item: 'group.membership_filter', escape: escapeFilter, as: 'template' },
  profileDefault: { item: 'profile.default', escape: escapeDn, as: 'template' },
  profileChild: { item: 'profile.child_rdn', escape: escapeDn, as: 'template' },
} as const;
export type LdapAuthorizeEnv = EnvOf<typeof LDAP_AUTHORIZE_ENV>;

/** Per-call templates of `authenticate`: the user search, expanded only when `control.LDAP-UserDN` is not set yet. */
export const LDAP_AUTHENTICATE_ENV = {
  userBase: { item: 'user.base_dn', escape: escapeDn, as: 'template' },
  userFilter: { item: 'user.filter', escape: escapeFilter, as: 'template' },
} as const;
export type LdapAuthenticateEnv = EnvOf<typeof LDAP_AUTHENTICATE_ENV>;

/** Per-call templates of `send` and `accounting`: the values of their `update` lines, and the user search. */
export const LDAP_SEND_ENV = {
  mods: { sections: 'send', strftime: true, lists: true },
  userBase: { item: 'user.base_dn', escape: escapeDn, as: 'template' },
  userFilter: { item: 'user.filter', escape: escapeFilter, as: 'template' },
} as const;
export const LDAP_ACCOUNTING_ENV = { ...LDAP_SEND_ENV, mods: { sections: 'accounting', strftime: true, lists: true } } as const;
export type LdapModifyEnv = EnvOf<typeof LDAP_SEND_ENV>;

/** The templates used outside calls (`%<inst>.group()`): those of `authorize`, compiled. */
interface Templates {
  readonly userBase: CompiledTemplate;
  readonly userFilter: CompiledTemplate;
  readonly groupBase: CompiledTemplate;
  readonly membership?: CompiledTemplate;
}

/** Expands a template (with the signal, read only when the template can yield). */
const expand = (t: CompiledTemplate, request: Request, src?: { readonly signal?: AbortSignal }): string | Promise<string> =>
  t.expand(request, t.canYield ? src?.signal : undefined);

/** Groups of a user, cached per request. */
interface GroupCache {
  readonly dn: string;
  /** name-or-DN (lower case) → member. */
  readonly answers: Map<string, boolean>;
}

/** A DN (has `attr=value`) rather than a plain name. */
const isDn = (s: string) => /^[A-Za-z][\w-]*=/.test(s);
/** Lower-case DN with spaces around separators removed (good enough to compare DNs). */
const normDn = (s: string) => s.trim().toLowerCase().replace(/\s*([,=+])\s*/g, '$1');

/** The `ldap` module instance. */
@injectable()
export class Ldap implements ModuleInstance {
  private dirs?: Directories;
  private dict!: Dictionary;
  private p!: LdapPrepared;
  private t!: Templates;
  private readonly groupCache = new WeakMap<Request, GroupCache>();
  /** Profile conditions (check_attribute, fallthrough_attribute values), compiled once each. */
  private readonly conditions = new Map<string, CompiledTemplate>();
  /** Search requests with their constant parts encoded once. */
  private readonly shapes = new SearchShapes();
  private readClients: ConfSection[] = [];

  constructor(
    @inject(MODULE_CONFIG) private readonly config: LdapConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
    @inject(MODULE_NAME) private readonly name: string,
    @inject(MODULE_DICT) private readonly da: DictHandles<typeof LDAP_DICT>,
    @inject(TRUNKS) private readonly trunks: TrunkFactory = trunkFactory,
  ) {}

  /** Registers `%<inst>(url)`, `%<inst>.group(name)` and the escape functions. */
  bootstrap(ctx: BootstrapContext): void {
    ctx.registerXlat(this.name, (x, args) => this.urlXlat(x.request, args.map((a) => a.map((b) => String(b.value)).join('')).join(''), x.signal), { minArgs: 1, maxArgs: 1 });
    ctx.registerXlat(`${this.name}.group`, (x, args) => this.groupXlat(x.request, String(args[0]?.[0]?.value ?? ''), x.signal), { minArgs: 1, maxArgs: 1, returnType: 'bool' });
    ctx.registerXlat(`${this.name}.profile`, (x, args) => this.profileXlat(x.request, args.map((a) => a.map((b) => String(b.value)).join('')).join(''), x.signal), { minArgs: 1, maxArgs: 1, returnType: 'bool' });
    const text = (args: { value: unknown }[][]) => args.map((a) => a.map((b) => String(b.value)).join('')).join('');
    ctx.registerXlat('ldap.filter.escape', (_x, args) => [box('string', escapeFilter(text(args)))], { pure: true, returnType: 'string' });
    ctx.registerXlat('ldap.dn.escape', (_x, args) => [box('string', escapeDn(text(args)))], { pure: true, returnType: 'string' });
    ctx.registerXlat('ldap.uri.escape', (_x, args) => [box('string', escapeUri(text(args)))], { pure: true, returnType: 'string' });
    ctx.registerXlat('ldap.uri.unescape', (_x, args) => [box('string', unescapeFilter(text(args)))], { pure: true, returnType: 'string' });
  }

  /**
   * Takes what `validate` checked and built (servers, TLS material, the update map), opens the
   * trunks in the background and waits at most `options.instantiate_timeout` for a first
   * connection (less when the instance is detached meanwhile). Without one the server starts
   * anyway: the state is logged and calls fail fast until a server answers (reconnection goes
   * on in the background). It never waits on a directory longer than that.
   */
  async instantiate(ctx: InstantiateContext): Promise<void> {
    const c = this.config;
    const o = c.options;
    this.dict = ctx.dict;
    this.p = preparedLdap(c, ctx.dict);
    const env = ctx.env.authorize as Partial<Templates> | undefined;
    if (!env?.userBase || !env.userFilter || !env.groupBase) throw new Error('the authorize templates were not compiled (load the module through the loader)');
    this.t = { userBase: env.userBase, userFilter: env.userFilter, groupBase: env.groupBase, membership: env.membership };
    this.dirs = new Directories({
      servers: this.p.targets,
      selection: c.server_selection,
      base: { startTls: c.tls.start_tls, tls: this.p.tls, connectTimeout: o.net_timeout * 1000 },
      bind: c.sasl?.mech?.toUpperCase() === 'EXTERNAL' ? { dn: '', password: '', mech: 'EXTERNAL' } : c.identity ? { dn: c.identity, password: c.password } : undefined,
      pool: c.pool, bindPool: c.bind_pool,
      resTimeout: o.res_timeout * 1000, reconnectDelay: o.reconnection_delay * 1000,
      trunks: this.trunks, log: this.log,
    });
    this.log.info(`servers ${this.p.targets.map((t) => t.url).join(', ')} (${c.server_selection === 'failback' ? 'fail-over in this order, fail-back' : c.server_selection.replace('_', '-')})${c.tls.start_tls ? ', StartTLS' : ''}; ` +
      `bind ${c.sasl?.mech?.toUpperCase() === 'EXTERNAL' ? 'with SASL EXTERNAL' : c.identity ? `as "${c.identity}"` : 'anonymous'}`);
    this.dirs.open();
    const dirs = this.dirs;
    const until = Date.now() + o.instantiate_timeout * 1000;
    while (!dirs.anyAlive() && Date.now() < until && !ctx.signal.aborted) await new Promise((r) => setTimeout(r, 20));
    if (!dirs.anyAlive() && !ctx.signal.aborted) {
      if (c.read_clients) throw new Error(`read_clients: no LDAP server answered within instantiate_timeout ${o.instantiate_timeout}s`);
      this.log.warn(`no LDAP server answered within instantiate_timeout ${o.instantiate_timeout}s; starting anyway, calls fail until one does`);
    }
    if (c.read_clients && !ctx.signal.aborted) this.readClients = await this.loadClients(ctx.signal);
  }

  /** The clients read at start (`read_clients`), as `client { }` sections for the server's client table. */
  async listClients(_signal: AbortSignal): Promise<readonly ConfSection[]> {
    return this.readClients;
  }

  /**
   * `read_clients`: one search under `client.base_dn`; every object becomes a client with the attributes
   * named in `client.attribute { }`. An object without an address or a secret is skipped with a warning;
   * a failed search fails start-up (a server without its clients would drop their packets silently).
   */
  private async loadClients(signal: AbortSignal): Promise<ConfSection[]> {
    const c = this.config.client;
    const a = c.attribute;
    const attrs = [a.ipaddr, a.secret, a.shortname, a.nas_type, a.require_message_authenticator];
    const r = await this.search({ base: c.base_dn || this.config.base_dn, scope: c.scope, filter: c.filter, attrs }, signal);
    if (r.status !== LDAP.success && r.status !== LDAP.noSuchObject) throw new Error(`read_clients: search failed (LDAP ${r.status} ${r.message})`);
    const out: ConfSection[] = [];
    const loc = { file: `ldap ${this.name}`, line: 0 };
    const pair = (attr: string, value: string): ConfItem => ({ kind: 'pair', attr, op: '=', value, quote: 'single', text: `${attr} = …`, loc });
    for (const e of r.entries) {
      const one = (name: string) => entryValues(e, name)[0];
      const ip = one(a.ipaddr);
      const secret = one(a.secret);
      if (!ip || !secret) {
        this.log.warn(`read_clients: ${e.dn} has no ${!ip ? a.ipaddr : a.secret}; skipped`);
        continue;
      }
      const children: ConfItem[] = [pair('ipaddr', ip), pair('secret', secret)];
      const short = one(a.shortname);
      if (short) children.push(pair('shortname', short));
      const type = one(a.nas_type);
      if (type) children.push(pair('nas_type', type));
      const ma = one(a.require_message_authenticator)?.toLowerCase();
      if (ma) children.push(pair('require_message_authenticator', ma === 'true' ? 'yes' : ma === 'false' ? 'no' : ma));
      out.push({ kind: 'section', name1: 'client', name2: short || ip, headerText: short || ip, children, loc: { ...loc, file: `${loc.file}: ${e.dn}` } });
    }
    this.log.info(`read_clients: ${out.length} client(s) from ${c.base_dn || this.config.base_dn}`);
    return out;
  }

  detach(): void {
    this.dirs?.close();
  }

  /** Counters and server states (tests, stats). */
  stats(): ReturnType<Directories['stats']> & { inFlight: number } {
    return { ...this.dirs!.stats(), inFlight: this.dirs!.inFlight() };
  }

  // ───────────────────────── operations ─────────────────────────

  private search(spec: Omit<SearchSpec, 'timeLimit' | 'deref'>, signal?: Cancel): Promise<OpResult> {
    const o = this.config.options;
    const deref = o.dereference === 'searching' ? 'search' : o.dereference === 'finding' ? 'find' : o.dereference;
    return this.dirs!.run(this.shapes.message({ base: spec.base, scope: spec.scope, filter: spec.filter, attrs: spec.attrs, timeLimit: o.timelimit ?? o.srv_timelimit, deref }), 'search', signal);
  }

  /** The user search base: `user.base_dn` expanded, or `base_dn` when `user.base_dn` is empty. */
  private userBase(expanded: string): string {
    return this.config.user.base_dn ? expanded : this.config.base_dn;
  }

  /** The group search base: `group.base_dn` expanded, or `base_dn` when `group.base_dn` is empty. */
  private async groupBase(request: Request, signal?: AbortSignal): Promise<string> {
    return this.config.group.base_dn ? expand(this.t.groupBase, request, { signal }) : this.config.base_dn;
  }

  /** The user search from its templates (outside `authorize`, whose env has them expanded). */
  private async findUserBy(request: Request, ctx: { readonly signal?: AbortSignal }, cancel: Cancel | undefined, t: { readonly userBase?: CompiledTemplate; readonly userFilter?: CompiledTemplate }): Promise<Entry | Rcode> {
    const base = this.userBase(await expand(t.userBase!, request, ctx));
    return this.findUser(request, cancel, base, await expand(t.userFilter!, request, ctx));
  }

  /** Finds the user: the entry, or an rcode. Caches the DN in control.LDAP-UserDN. */
  private async findUser(request: Request, cancel: Cancel | undefined, base: string, filter: string): Promise<Entry | Rcode> {
    let r: OpResult;
    try {
      r = await this.userSearch(base, filter, cancel);
    } catch (e) {
      return this.opFailed(request, e, 'user search');
    }
    return this.userFrom(request, r);
  }

  private userSearch(base: string, filter: string, cancel: Cancel | undefined): Promise<OpResult> {
    return this.search({ base, scope: this.config.user.scope, filter, attrs: this.p.userAttrs }, cancel);
  }

  /** The user from the result of the user search: the entry, or an rcode. Caches the DN in control.LDAP-UserDN. */
  private userFrom(request: Request, r: OpResult): Entry | Rcode {
    if (r.status === LDAP.noSuchObject || (r.status === LDAP.success && r.entries.length === 0)) return 'notfound';
    if (r.status !== LDAP.success && r.status !== LDAP.sizeLimit) {
      failureMessage(request, this.dict, `${this.name}: user search failed (LDAP ${r.status}${r.message ? `: ${r.message}` : ''})`);
      return 'fail';
    }
    if (r.entries.length > 1) {
      failureMessage(request, this.dict, `${this.name}: ambiguous search result, ${r.entries.length} entries match the user filter`);
      return 'invalid';
    }
    const e = r.entries[0];
    const da = this.da.userDn;
    for (const p of request.control) {
      if (p.da === da) {
        p.value = e.dn;
        return e;
      }
    }
    request.control.push(new Pair(da, e.dn));
    return e;
  }

  private opFailed(request: Request, e: unknown, what: string): Rcode {
    if (e instanceof LdapOpError) {
      if (e.kind === 'cancelled') return 'fail';
      failureMessage(request, this.dict, `${this.name}: ${what}: ${e.message}`);
      return e.kind === 'timeout' ? 'timeout' : 'fail';
    }
    failureMessage(request, this.dict, `${this.name}: ${what}: ${(e as Error).message}`);
    return 'fail';
  }

  // ───────────────────────── methods ─────────────────────────

  /**
   * `recv` (v3 authorize): search, access check, groups cache, map, profiles. One reaction on the
   * search's promise; the rest runs synchronously unless groups or profiles need more searches.
   */
  authorize(request: Request, ctx: CallContext<LdapAuthorizeEnv>): Promise<Rcode> {
    if (!this.dirs) return Promise.resolve('fail');
    const cancel = new CallCancel(ctx);
    let p: Promise<OpResult>;
    try {
      p = this.userSearch(this.userBase(ctx.env.userBase), ctx.env.userFilter, cancel);
    } catch (e) {
      return Promise.resolve(this.opFailed(request, e, 'user search'));
    }
    return p.then((r) => {
      const found = this.userFrom(request, r);
      return typeof found === 'string' ? found : this.authorizeUser(request, ctx, cancel, found);
    }, (e) => this.opFailed(request, e, 'user search'));
  }

  /** Whether authorize needs more than the user's entry (groups, profiles): then it continues asynchronously. */
  private needsMore(ctx: CallContext<LdapAuthorizeEnv>, user: Entry, suspended: boolean): boolean {
    const c = this.config;
    if (this.p.cache || ctx.env.profileDefault || (c.group.profile_attribute && this.t.membership)) return true;
    const pa = suspended ? c.user.profile_attribute_suspend : c.user.profile_attribute;
    return !!pa && entryValues(user, pa).length > 0;
  }

  /** authorize after the user search: the access check, then the map (synchronously), or {@link authorizeMore}. */
  private authorizeUser(request: Request, ctx: CallContext<LdapAuthorizeEnv>, cancel: CallCancel, user: Entry): Rcode | Promise<Rcode> {
    const c = this.config;
    // Access check.
    let suspended = false;
    if (c.user.access_attribute) {
      const vals = entryValues(user, c.user.access_attribute);
      if (c.user.access_positive) {
        if (vals.length === 0 || vals.some((v) => v.toLowerCase() === c.user.access_value_negate.toLowerCase())) {
          failureMessage(request, this.dict, `${this.name}: access denied by ${c.user.access_attribute}`);
          return 'disallow';
        }
      } else if (vals.length > 0 && !vals.some((v) => v.toLowerCase() === c.user.access_value_suspend.toLowerCase())) {
        failureMessage(request, this.dict, `${this.name}: access denied by the presence of ${c.user.access_attribute}`);
        return 'disallow';
      }
      suspended = vals.some((v) => v.toLowerCase() === c.user.access_value_suspend.toLowerCase());
    }
    if (!this.needsMore(ctx, user, suspended)) return applyMap(request, this.p.map, user, this.dict, c.valuepair_attribute) > 0 ? 'updated' : 'ok';
    return this.authorizeMore(request, ctx, cancel, user, suspended);
  }

  /** The rest of authorize when groups or profiles need searches of their own. */
  private async authorizeMore(request: Request, ctx: CallContext<LdapAuthorizeEnv>, cancel: CallCancel, user: Entry, suspended: boolean): Promise<Rcode> {
    const c = this.config;
    let added = 0;
    // Groups into the control list.
    const cache = this.p.cache;
    if (cache) {
      let groups: { dn?: string; name?: string }[];
      try {
        groups = await this.allGroups(request, user, ctx, cancel);
      } catch (e) {
        return this.opFailed(request, e, 'group lookup');
      }
      for (const g of groups) {
        if (c.group.cacheable_name && g.name) { addValue(request.control, cache, g.name); added++; }
        if (c.group.cacheable_dn && g.dn) { addValue(request.control, cache, g.dn); added++; }
      }
    }
    added += applyMap(request, this.p.map, user, this.dict, c.valuepair_attribute);
    // Profiles: the default, then the user's (or the suspended ones), then those of the user's groups.
    const dns: string[] = [];
    if (ctx.env.profileDefault) {
      const d = await expand(ctx.env.profileDefault, request, ctx);
      if (d) dns.push(d);
    }
    const pa = suspended ? c.user.profile_attribute_suspend : c.user.profile_attribute;
    if (pa) dns.push(...entryValues(user, pa));
    const gpa = c.group.profile_attribute;
    if (gpa && this.t.membership) {
      try {
        const mf = await expand(this.t.membership, request, ctx);
        const r = await this.search({ base: await this.groupBase(request, this.t.groupBase.canYield ? ctx.signal : undefined), scope: c.group.scope, filter: `(&${c.group.filter}${mf}(${gpa}=*))`, attrs: [gpa] }, cancel);
        if (r.status === LDAP.success) for (const g of r.entries) dns.push(...entryValues(g, gpa));
      } catch (e) {
        return this.opFailed(request, e, 'group profile search');
      }
    }
    const applied = await this.applyProfiles(request, ctx, dns, cancel, ctx.env.profileChild);
    if (typeof applied === 'string') return applied;
    added += applied.added;
    return added > 0 ? 'updated' : 'ok';
  }

  /** `send <packet>` (`ldap.send.access-accept`): the `send { <packet> { update { … } } }` modifications of the user's object. */
  send(request: Request, ctx: CallContext<LdapModifyEnv>): Promise<Rcode> {
    return this.modify(request, ctx, 'send');
  }

  /** `accounting <status>` (`ldap.accounting.start`): the `accounting { <status> { update { … } } }` modifications. */
  accounting(request: Request, ctx: CallContext<LdapModifyEnv>): Promise<Rcode> {
    return this.modify(request, ctx, 'accounting');
  }

  /**
   * One modify request on the user's object (control.LDAP-UserDN, else the user search) with the lines
   * of the subsection the call names (`inst.send.access-accept`) or the section it runs in (`send
   * Access-Accept`): `noop` without such a subsection or when every line was skipped, `ok` once the
   * directory applied them, `notfound` without a user, `fail` when the directory refused them.
   */
  private async modify(request: Request, ctx: CallContext<LdapModifyEnv>, root: ModifyRoot): Promise<Rcode> {
    if (!this.dirs) return 'fail';
    const m = ctx.method;
    const dot = m?.indexOf('.') ?? -1;
    const name = (m && dot > 0 ? m.slice(dot + 1) : ctx.section.name2 ?? '').toLowerCase();
    const items = this.p.modify[root].get(name);
    if (!items?.length) {
      if (request.debug) ctx.log.debug(`no ${root} { ${name} { } } modifications`);
      return 'noop';
    }
    const changes: Modification[] = [];
    for (const it of items) {
      let values: Buffer[];
      if (it.ref) {
        values = request.list(it.ref.list).filter((p) => p.da === it.ref!.da && p.value !== undefined)
          .map((p) => (Buffer.isBuffer(p.value) ? p.value : Buffer.from(String(p.value), 'utf8')));
        if (!values.length) continue;
      } else {
        const t = ctx.env.mods.get(it.key)?.[it.index];
        if (!t) continue;
        values = [Buffer.from(await expand(t, request, ctx), 'utf8')];
      }
      changes.push({ op: it.op, type: it.attr, values });
    }
    if (!changes.length) return 'noop';
    const cancel = new CallCancel(ctx);
    let dn = getValue(request.control, this.da.userDn) as string | undefined;
    if (!dn) {
      const found = await this.findUserBy(request, ctx, cancel, ctx.env);
      if (typeof found === 'string') return found;
      dn = found.dn;
    }
    let r: OpResult;
    try {
      r = await this.dirs.run(new ModifyMessage(dn, changes), 'search', cancel);
    } catch (e) {
      return this.opFailed(request, e, `modify ${dn}`);
    }
    if (r.status !== LDAP.success) {
      failureMessage(request, this.dict, `${this.name}: modify ${dn} failed (LDAP ${r.status}${r.message ? `: ${r.message}` : ''})`);
      return r.status === LDAP.noSuchObject ? 'notfound' : 'fail';
    }
    if (request.debug) ctx.log.debug(`modified ${dn}: ${changes.map((c) => `${c.type} ${c.op}`).join(', ')}`);
    return 'ok';
  }

  /**
   * Applies profiles (FreeRADIUS v4 rlm_ldap `profile { }`): the entries found for each DN (its
   * descendants too with scope one/sub), each DN's then its `child_rdn` child's, in sort_by order, one
   * search per DN (`seq`) or one for all (`bulk`, an `entryDN` filter under base_dn, sorted as a
   * whole). A profile whose check_attribute condition is false is skipped; one whose
   * fallthrough_attribute condition is false is the last. DNs are taken once each, in order.
   */
  private async applyProfiles(request: Request, ctx: { readonly signal?: AbortSignal }, dns: readonly string[], cancel: Cancel | undefined,
    child?: CompiledTemplate): Promise<{ added: number; found: number } | Rcode> {
    const c = this.config.profile;
    const seen = new Set<string>();
    const list = dns.filter((d) => d && !seen.has(normDn(d)) && seen.add(normDn(d)));
    const rdn = child ? await expand(child, request, ctx) : '';
    const withChild = /^[^=,]+=[^,]+$/.test(rdn);
    const bulk = c.search_mode === 'bulk' || (c.search_mode === 'auto' && c.scope === 'base' && !!c.sort_by);
    const entries: Entry[] = [];
    const run = async (spec: Omit<SearchSpec, 'timeLimit' | 'deref'>, what: string): Promise<Entry[] | Rcode> => {
      let r: OpResult;
      try {
        r = await this.search(spec, cancel);
      } catch (e) {
        return this.opFailed(request, e, what);
      }
      if (r.status === LDAP.noSuchObject || r.status === LDAP.invalidDnSyntax || (r.status === LDAP.success && r.entries.length === 0)) {
        if (request.debug) request.log.debug(`${this.name}: ${what}: not found`);
        return [];
      }
      if (r.status !== LDAP.success) return this.opFailed(request, new Error(`LDAP ${r.status} ${r.message}`), what);
      return this.sortProfiles(r.entries);
    };
    if (bulk) {
      const all = withChild ? list.flatMap((d) => [d, `${rdn},${d}`]) : list;
      if (all.length) {
        const filter = `(&${c.filter}(|${all.map((d) => `(entryDN=${escapeFilter(d)})`).join('')}))`;
        const got = await run({ base: this.config.base_dn, scope: 'sub', filter, attrs: this.p.profileAttrs }, 'profiles');
        if (typeof got === 'string') return got;
        entries.push(...got);
      }
    } else {
      for (const dn of list) {
        for (const base of withChild ? [dn, `${rdn},${dn}`] : [dn]) {
          const got = await run({ base, scope: c.scope, filter: c.filter, attrs: this.p.profileAttrs }, `profile "${base}"`);
          if (typeof got === 'string') return got;
          entries.push(...got);
        }
      }
    }
    let added = 0;
    let found = 0;
    for (const e of entries) {
      const check = c.check_attribute ? entryValues(e, c.check_attribute)[0] : undefined;
      if (check !== undefined && !this.condition(request, check, e.dn)) {
        if (request.debug) request.log.debug(`${this.name}: profile "${e.dn}": ${check} is false, skipped`);
        continue;
      }
      found++;
      added += applyMap(request, this.p.map, e, this.dict, this.config.valuepair_attribute);
      const more = c.fallthrough_attribute ? entryValues(e, c.fallthrough_attribute)[0] : undefined;
      if (more !== undefined && !this.condition(request, more, e.dn)) break;
    }
    return { added, found };
  }

  /** Profiles in sort_by order: integers numerically, other values as text; entries without a value last, in directory order. */
  private sortProfiles(es: readonly Entry[]): Entry[] {
    const k = this.config.profile.sort_by;
    if (!k || es.length < 2) return [...es];
    const keyed = es.map((e, i) => ({ e, i, v: entryValues(e, k)[0] }));
    const cmp = (a: string, b: string) => (/^-?\d+$/.test(a) && /^-?\d+$/.test(b) ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0);
    keyed.sort((a, b) => (a.v === undefined ? (b.v === undefined ? a.i - b.i : 1) : b.v === undefined ? -1 : cmp(a.v, b.v) || a.i - b.i));
    return keyed.map((x) => x.e);
  }

  /** A profile's condition (`User-Name == 'bob'`), evaluated against the request; one that does not compile is false (logged). */
  private condition(request: Request, text: string, dn: string): boolean {
    let t = this.conditions.get(text);
    if (!t) {
      try {
        t = compileTemplate(`%{${text}}`, { dict: this.dict });
      } catch (e) {
        request.log.warn(`${this.name}: profile "${dn}": condition "${text}" does not compile (${(e as Error).message}); taken as false`);
        return false;
      }
      if (this.conditions.size >= 1024) this.conditions.clear(); // texts come from the directory: keep the cache bounded
      this.conditions.set(text, t);
    }
    try {
      const v = t.expand(request);
      return typeof v === 'string' && v === 'yes';
    } catch (e) {
      request.log.warn(`${this.name}: profile "${dn}": condition "${text}": ${(e as Error).message}; taken as false`);
      return false;
    }
  }

  /**
   * `%<inst>.profile(dn or ldap:///dn)`: applies that profile (and, with scope one/sub, its descendants) as
   * authorize applies one: true when a profile was applied.
   */
  private async profileXlat(request: Request, arg: string, signal?: AbortSignal): Promise<Box[]> {
    if (!this.dirs) throw new Error(`${this.name}: not connected`);
    let dn = arg.trim();
    if (/^ldap[si]?:\/\//i.test(dn)) dn = parseLdapUrl(dn).base;
    const r = await this.applyProfiles(request, { signal }, [dn], signal);
    if (typeof r === 'string') throw new Error(`${this.name}: profile "${dn}": ${r}`);
    return [box('bool', r.found > 0)];
  }

  /** `authenticate ldap`: binds as the user with User-Password on the bind trunk. */
  async authenticate(request: Request, ctx: CallContext<LdapAuthenticateEnv>): Promise<Rcode> {
    if (!this.dirs) return 'fail';
    const pw = getValue(request.request, this.da.password);
    if (pw === undefined || pw === '') {
      ctx.log.warn('no User-Password: Auth-Type ldap needs one (is Auth-Type set without a password?)');
      return 'invalid';
    }
    const cancel = new CallCancel(ctx);
    let dn = getValue(request.control, this.da.userDn) as string | undefined;
    if (!dn) {
      const found = await this.findUserBy(request, ctx, cancel, ctx.env);
      if (typeof found === 'string') return found;
      dn = found.dn;
    }
    const password = Buffer.isBuffer(pw) ? pw.toString('utf8') : String(pw);
    let r: OpResult;
    try {
      r = await this.dirs.run(new BindMessage(dn, password), 'bind', cancel);
    } catch (e) {
      return this.opFailed(request, e, 'bind');
    }
    switch (r.status) {
      case LDAP.success: return 'ok';
      case LDAP.invalidCredentials:
        failureMessage(request, this.dict, `${this.name}: bind as "${dn}" rejected: invalid credentials`);
        return 'reject';
      case LDAP.insufficientAccess: case LDAP.unwilling:
        failureMessage(request, this.dict, `${this.name}: bind as "${dn}" not permitted (LDAP ${r.status})`);
        return 'disallow';
      case LDAP.invalidDnSyntax: return 'invalid';
      default:
        failureMessage(request, this.dict, `${this.name}: bind as "${dn}" failed (LDAP ${r.status}${r.message ? `: ${r.message}` : ''})`);
        return 'fail';
    }
  }

  // ───────────────────────── groups ─────────────────────────

  /** Every group of the user (membership filter search and membership attribute). */
  private async allGroups(request: Request, user: Entry, ctx: { readonly signal?: AbortSignal }, cancel: Cancel): Promise<{ dn?: string; name?: string }[]> {
    const g = this.config.group;
    const out: { dn?: string; name?: string }[] = [];
    const seen = new Set<string>();
    if (this.t.membership) {
      const mf = await expand(this.t.membership, request, ctx);
      const r = await this.search({ base: await this.groupBase(request, this.t.groupBase.canYield ? ctx.signal : undefined), scope: g.scope, filter: `(&${g.filter}${mf})`, attrs: [g.name_attribute] }, cancel);
      for (const e of r.entries) {
        if (seen.has(normDn(e.dn))) continue;
        seen.add(normDn(e.dn));
        out.push({ dn: e.dn, name: entryValues(e, g.name_attribute)[0] });
      }
    }
    if (g.membership_attribute) {
      for (const v of entryValues(user, g.membership_attribute)) {
        if (isDn(v)) {
          if (seen.has(normDn(v))) continue;
          seen.add(normDn(v));
          out.push({ dn: v, name: this.rdnName(v) });
        } else out.push({ name: v });
      }
    }
    return out;
  }

  /** The group name in a DN whose first RDN is `name_attribute=…`. */
  private rdnName(dn: string): string | undefined {
    const m = /^\s*([^=,]+)=((?:\\.|[^,])*)/.exec(dn);
    return m && m[1].trim().toLowerCase() === this.config.group.name_attribute.toLowerCase() ? m[2].replace(/\\(.)/g, '$1') : undefined;
  }

  /** `%<inst>.group(name or DN)`: membership of the request's user, cached per request. */
  private async groupXlat(request: Request, group: string, signal?: AbortSignal) {
    return [box('bool', await this.isMember(request, group, signal))];
  }

  /** True when the user is in `group` (see README: cache attribute, membership filter, membership attribute). */
  async isMember(request: Request, group: string, signal?: AbortSignal): Promise<boolean> {
    if (!group) return false;
    const key = isDn(group) ? normDn(group) : group.toLowerCase();
    // Groups cached in the control list by authorize.
    const cacheDa = this.p.cache;
    if (cacheDa) {
      const cached = request.control.filter((p) => p.da === cacheDa).map((p) => String(p.value));
      if (cached.length) return cached.some((v) => (isDn(v) ? normDn(v) === key : v.toLowerCase() === key));
    }
    let dn = getValue(request.control, this.da.userDn) as string | undefined;
    let user: Entry | undefined;
    if (!dn) {
      const found = await this.findUserBy(request, { signal }, signal, this.t);
      if (typeof found === 'string') return false;
      user = found;
      dn = found.dn;
    }
    let cache = this.groupCache.get(request);
    if (!cache || cache.dn !== dn) this.groupCache.set(request, (cache = { dn, answers: new Map() }));
    const known = cache.answers.get(key);
    if (known !== undefined) return known;
    const g = this.config.group;
    let member = false;
    if (this.t.membership) {
      const mf = await expand(this.t.membership, request, { signal });
      const spec = isDn(group)
        ? { base: group, scope: 'base' as const, filter: `(&${g.filter}${mf})`, attrs: ['1.1'] }
        : { base: await this.groupBase(request, signal), scope: g.scope, filter: `(&${g.filter}${mf}(${g.name_attribute}=${escapeFilter(group)}))`, attrs: ['1.1'] };
      const r = await this.search(spec, signal);
      member = r.status === LDAP.success && r.entries.length > 0;
    }
    if (!member && g.membership_attribute) {
      if (!user) {
        const r = await this.search({ base: dn, scope: 'base', filter: '(objectClass=*)', attrs: [g.membership_attribute] }, signal);
        user = r.entries[0];
      }
      if (user) {
        member = entryValues(user, g.membership_attribute).some((v) =>
          isDn(group) ? normDn(v) === key : v.toLowerCase() === key || (isDn(v) && this.rdnName(v)?.toLowerCase() === key));
      }
    }
    cache.answers.set(key, member);
    return member;
  }

  // ───────────────────────── map ldap "url" { … } ─────────────────────────

  /**
   * `map <inst> "ldap:///base?attrs?scope?filter" { attr op 'ldapAttr' … }` (FreeRADIUS map_proc): one
   * search; the fields are the attributes of every entry found (names case-insensitive, values of all
   * entries in result order), plus `dn` and `entryDN` (the entry's DN). No entry: `notfound`. Without an
   * attribute list in the URL all user and operational attributes are asked for. Values expanded into the
   * URL are filter-escaped (`mapEscape`), so a `(` in `%{NAS-Identifier}` cannot change the filter.
   */
  async mapQuery(request: Request, ctx: CallContext, query: string): Promise<MapResult> {
    let u: ReturnType<typeof parseLdapUrl>;
    try {
      u = parseLdapUrl(query);
      if (u.server) {
        const t = parseServer(u.server, this.config.port);
        if (!this.p.targets.some((x) => x.host === t.host)) throw new Error(`${t.host} is not one of the configured servers`);
      }
    } catch (e) {
      request.log.error(`${this.name}: map: ${(e as Error).message}`);
      return 'fail';
    }
    let r: OpResult;
    try {
      r = await this.search({ base: u.base, scope: u.scope, filter: u.filter, attrs: u.attrs.length ? u.attrs : ['*', '+'] }, ctx.signal);
    } catch (e) {
      return this.opFailed(request, e, 'map search');
    }
    if (r.status === LDAP.noSuchObject || (r.status === LDAP.success && r.entries.length === 0)) return 'notfound';
    if (r.status !== LDAP.success) return this.opFailed(request, new Error(`LDAP ${r.status} ${r.message}`), 'map search');
    const fields = new FieldMap();
    for (const e of r.entries) {
      fields.add('dn', [e.dn]);
      if (!e.attrs.has('entrydn')) fields.add('entrydn', [e.dn]);
      for (const [name, vals] of e.attrs) fields.add(name, vals.map((b) => b.toString('utf8')));
    }
    return { fields };
  }

  /** Escapes a value expanded into a `map` URL (RFC 4515 filter escaping). */
  mapEscape(value: string): string {
    return escapeFilter(value);
  }

  // ───────────────────────── %ldap(url) ─────────────────────────

  /**
   * `%<inst>('ldap:///base?attr?scope?filter')`: the values of exactly one attribute. The URL
   * may name no host (the configured servers are used) or one of the configured servers.
   * Values put into the filter must be escaped by the caller (`%ldap.filter.escape()`).
   */
  private async urlXlat(request: Request, text: string, signal?: AbortSignal) {
    const u = parseLdapUrl(text);
    if (u.attrs.length !== 1 || u.attrs[0] === '*') throw new Error(`${this.name}: the URL must name exactly one attribute`);
    if (u.server) {
      // Only the configured servers are asked (a URL naming another host is refused, not followed).
      const t = parseServer(u.server, this.config.port);
      if (!this.p.targets.some((x) => x.host === t.host)) throw new Error(`${this.name}: ${t.host} is not one of the configured servers`);
    }
    const r = await this.search({ base: u.base, scope: u.scope, filter: u.filter, attrs: u.attrs }, signal);
    if (r.status !== LDAP.success && r.status !== LDAP.noSuchObject) throw new Error(`${this.name}: search failed (LDAP ${r.status})`);
    void request;
    return r.entries.flatMap((e) => entryValues(e, u.attrs[0])).map((v) => box('string', v));
  }
}

