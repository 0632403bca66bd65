/**
 * The `ldap` instance (FreeRADIUS rlm_ldap): finds the user's object, checks access, maps
 * attributes (passwords into `control.Password.*` for pap/chap), applies profiles, resolves
 * groups, binds as the user for `Auth-Type ldap`, and offers `%<inst>(ldap URL)` and
 * `%<inst>.group(name)`. Every operation is asynchronous over `./directory.ts` (trunks of
 * multiplexed connections per server, fail-over, per-operation timeouts); a cancelled request
 * abandons its operation on the wire.
 */
import 'reflect-metadata';
import { BindRequest } from 'ldapts';
import { inject, injectable } from 'tsyringe';
import { ConfError } from '../../core';
import { sectionOf } from '../../core';
import type { DictAttr } from '../../core';
import type { Dictionary } from '../../core';
import type { Logger } from '../../core';
import type { CallContext, Rcode } from '../../core';
import type { BootstrapContext, InstantiateContext, ModuleInstance } from '../../core';
import { MODULE_CONFIG, MODULE_LOG, MODULE_NAME, TRUNKS, XLATS } from '../../core';
import { Pair } from '../../core';
import type { Request } from '../../core';
import { trunkFactory, type TrunkFactory } from '../../core';
import { box } from '../../core';
import type { XlatRegistry } from '../../core';
import { addValue, failureMessage, getValue } from '../../core';
import { compileTemplate, type Template } from '../../core';
import type { LdapConfig } from './config';
import { type Entry, type OpResult, parseServer, type ServerTarget, tlsOptions } from './connection';
import { Directories, LdapOpError, searchMessage, type SearchSpec } from './directory';
import { escapeDn, escapeFilter, parseLdapUrl } from './escape';
import { applyMap, compileMap, entryValues, mapAttributes, type MapItem } from './map';

/** LDAP result codes the module distinguishes. */
const LDAP = { success: 0, timeLimit: 3, sizeLimit: 4, noSuchObject: 32, invalidDnSyntax: 34, invalidCredentials: 49, insufficientAccess: 50, unwilling: 53 } as const;

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
  private map: MapItem[] = [];
  private userAttrs: string[] = [];
  private profileAttrs: string[] = [];
  private t!: { userBase: Template; userFilter: Template; groupBase: Template; membership?: Template; profileDefault?: Template };
  private da!: { userDn: DictAttr; cache?: DictAttr; password: DictAttr; userName: DictAttr };
  private readonly groupCache = new WeakMap<Request, GroupCache>();
  private targets: ServerTarget[] = [];
  /** TLS options with the certificate files read (in `configure`, so `radiusd -C` reads them too). */
  private tls?: ReturnType<typeof tlsOptions>;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: LdapConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
    @inject(MODULE_NAME) private readonly name: string,
    @inject(TRUNKS) private readonly trunks: TrunkFactory = trunkFactory,
    @inject(XLATS) private readonly xlats?: XlatRegistry,
  ) {}

  /** Registers `%<inst>(url)`, `%<inst>.group(name)` and the escape functions. */
  bootstrap(ctx: BootstrapContext): void {
    ctx.registerXlat(this.name, (x, args) => this.urlXlat(x.request, args.map((a) => a.map((b) => String(b.value)).join('')).join(''), x.signal), { minArgs: 1, maxArgs: 1 });
    ctx.registerXlat(`${this.name}.group`, (x, args) => this.groupXlat(x.request, String(args[0]?.[0]?.value ?? ''), x.signal), { minArgs: 1, maxArgs: 1, returnType: 'bool' });
    const text = (args: { value: unknown }[][]) => args.map((a) => a.map((b) => String(b.value)).join('')).join('');
    ctx.registerXlat('ldap.filter.escape', (_x, args) => [box('string', escapeFilter(text(args)))], { pure: true, returnType: 'string' });
    ctx.registerXlat('ldap.dn.escape', (_x, args) => [box('string', escapeDn(text(args)))], { pure: true, returnType: 'string' });
  }

  /**
   * Compiles templates and the update map, checks servers and dictionary attributes: the first
   * step of `instantiate`, and the definition's `validate` (on a throw-away instance), so
   * `radiusd -C` fails when start-up would.
   */
  configure(ctx: Pick<InstantiateContext, 'dict'>): void {
    const c = this.config;
    this.dict = ctx.dict;
    const cs = sectionOf(c);
    const here = (obj: object | undefined) => (obj && sectionOf(obj)?.loc) ?? cs?.loc ?? { file: '?', line: 0 };
    const fail = (obj: object | undefined, m: string): never => { throw new ConfError('ERR_CONF_VALUE', here(obj), `${this.name}: ${m}`); };
    for (const s of c.server) {
      try { this.targets.push(parseServer(s, c.port)); } catch (e) { fail(c, `server: ${(e as Error).message}`); }
    }
    if (c.tls.start_tls && this.targets.some((t) => t.secure)) fail(c.tls, 'start_tls cannot be used with ldaps:// servers');
    try {
      this.tls = tlsOptions(c.tls);
    } catch (e) {
      fail(c.tls, `tls: cannot read a certificate file: ${(e as Error).message}`);
    }
    const attr = (n: string, obj: object) => ctx.dict.resolve(n) ?? fail(obj, `attribute "${n}" is not in the dictionary`);
    this.da = {
      userDn: attr('LDAP-UserDN', c), password: attr('User-Password', c), userName: attr('User-Name', c),
      cache: c.group.cacheable_dn || c.group.cacheable_name ? attr(c.group.cache_attribute, c.group) : undefined,
    };
    const opts = (escape?: (s: string) => string, obj?: object) => ({ dict: ctx.dict, xlats: this.xlats, escape, loc: here(obj) });
    this.t = {
      userBase: compileTemplate(c.user.base_dn || c.base_dn.replace(/[\\"%]/g, (x) => `\\${x}`), opts(escapeDn, c.user)),
      userFilter: compileTemplate(c.user.filter, opts(escapeFilter, c.user)),
      groupBase: compileTemplate(c.group.base_dn || c.base_dn.replace(/[\\"%]/g, (x) => `\\${x}`), opts(escapeDn, c.group)),
      membership: c.group.membership_filter ? compileTemplate(c.group.membership_filter, opts(escapeFilter, c.group)) : undefined,
      profileDefault: c.profile.default ? compileTemplate(c.profile.default, opts(escapeDn, c.profile)) : undefined,
    };
    this.map = compileMap(cs?.children.filter((x) => x.kind === 'section' && x.name1 === 'update') ?? [], ctx.dict, this.name);
    this.profileAttrs = mapAttributes(this.map, [c.valuepair_attribute]);
    this.userAttrs = mapAttributes(this.map, [c.valuepair_attribute, c.user.access_attribute, c.user.profile_attribute,
      c.user.profile_attribute_suspend, c.group.membership_attribute]);
  }

  /**
   * Opens the trunks and waits at most `options.instantiate_timeout` for a first connection.
   * Without one the server starts anyway: the state is logged and calls fail fast until a
   * server answers (reconnection goes on in the background).
   */
  async instantiate(ctx: InstantiateContext): Promise<void> {
    this.configure(ctx);
    const c = this.config;
    const o = c.options;
    this.dirs = new Directories({
      servers: this.targets,
      base: { startTls: c.tls.start_tls, tls: this.tls!, connectTimeout: o.net_timeout * 1000 },
      bind: c.identity ? { dn: c.identity, password: c.password } : undefined,
      pool: c.pool, bindPool: c.bind_pool,
      resTimeout: o.res_timeout * 1000, reconnectDelay: o.reconnection_delay * 1000,
      trunks: this.trunks, log: this.log,
    });
    this.log.info(`servers ${this.targets.map((t) => t.url).join(', ')} (fail-over in this order)${c.tls.start_tls ? ', StartTLS' : ''}; ` +
      `bind as ${c.identity ? `"${c.identity}"` : 'anonymous'}`);
    this.dirs.open();
    const until = Date.now() + o.instantiate_timeout * 1000;
    while (!this.dirs.anyAlive() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    if (!this.dirs.anyAlive()) {
      this.log.warn(`no LDAP server answered within instantiate_timeout ${o.instantiate_timeout}s; starting anyway, calls fail until one does`);
    }
  }

  detach(): void {
    this.dirs?.close();
  }

  /** Counters and server states (tests, stats). */
  stats(): ReturnType<Directories['stats']> & { inFlight: number } {
    return { ...this.dirs!.stats(), inFlight: this.dirs!.inFlight() };
  }

  // ───────────────────────── operations ─────────────────────────

  private search(spec: Omit<SearchSpec, 'timeLimit' | 'deref'>, signal?: AbortSignal): Promise<OpResult> {
    const o = this.config.options;
    return this.dirs!.run(searchMessage({ ...spec, timeLimit: o.srv_timelimit, deref: o.dereference === 'searching' ? 'search' : o.dereference === 'finding' ? 'find' : o.dereference }), 'search', signal);
  }

  private async expand(t: Template, request: Request, signal?: AbortSignal): Promise<string> {
    return t.expand(request, signal);
  }

  /** Finds the user: the entry, or an rcode. Caches the DN in control.LDAP-UserDN. */
  private async findUser(request: Request, ctx: { signal?: AbortSignal; log: { warn(m: string): void; debug?(m: string): void } }): Promise<Entry | Rcode> {
    const base = await this.expand(this.t.userBase, request, ctx.signal);
    const filter = await this.expand(this.t.userFilter, request, ctx.signal);
    let r: OpResult;
    try {
      r = await this.search({ base, scope: this.config.user.scope, filter, attrs: this.userAttrs }, ctx.signal);
    } catch (e) {
      return this.opFailed(request, e, 'user search');
    }
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
    const have = request.control.find((p) => p.da === this.da.userDn);
    if (have) have.value = e.dn;
    else request.control.push(new Pair(this.da.userDn, e.dn));
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

  /** `recv` (v3 authorize): search, access check, groups cache, map, profiles. */
  async authorize(request: Request, ctx: CallContext): Promise<Rcode> {
    if (!this.dirs) return 'fail';
    const c = this.config;
    const found = await this.findUser(request, ctx);
    if (typeof found === 'string') return found;
    const user = found;
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
    let added = 0;
    // Groups into the control list.
    if (this.da.cache) {
      let groups: { dn?: string; name?: string }[];
      try {
        groups = await this.allGroups(request, user, ctx.signal);
      } catch (e) {
        return this.opFailed(request, e, 'group lookup');
      }
      for (const g of groups) {
        if (c.group.cacheable_name && g.name) { addValue(request.control, this.da.cache, g.name); added++; }
        if (c.group.cacheable_dn && g.dn) { addValue(request.control, this.da.cache, g.dn); added++; }
      }
    }
    added += applyMap(request, this.map, user, this.dict, c.valuepair_attribute);
    // Profiles: the default, then the user's (or the suspended ones).
    const dns: string[] = [];
    if (this.t.profileDefault) {
      const d = await this.expand(this.t.profileDefault, request, ctx.signal);
      if (d) dns.push(d);
    }
    const pa = suspended ? c.user.profile_attribute_suspend : c.user.profile_attribute;
    if (pa) dns.push(...entryValues(user, pa));
    for (const dn of dns) {
      let r: OpResult;
      try {
        r = await this.search({ base: dn, scope: 'base', filter: c.profile.filter, attrs: this.profileAttrs }, ctx.signal);
      } catch (e) {
        return this.opFailed(request, e, `profile ${dn}`);
      }
      if (r.status === LDAP.noSuchObject || r.entries.length === 0) {
        ctx.log.warn(`profile "${dn}" not found`);
        continue;
      }
      if (r.status !== LDAP.success) return this.opFailed(request, new Error(`LDAP ${r.status} ${r.message}`), `profile ${dn}`);
      added += applyMap(request, this.map, r.entries[0], this.dict, c.valuepair_attribute);
    }
    return added > 0 ? 'updated' : 'ok';
  }

  /** `authenticate ldap`: binds as the user with User-Password on the bind trunk. */
  async authenticate(request: Request, ctx: CallContext): Promise<Rcode> {
    if (!this.dirs) return 'fail';
    const pw = getValue(request.request, this.da.password);
    if (pw === undefined || pw === '') {
      ctx.log.warn('no User-Password: Auth-Type ldap needs one (is Auth-Type set without a password?)');
      return 'invalid';
    }
    let dn = getValue(request.control, this.da.userDn) as string | undefined;
    if (!dn) {
      const found = await this.findUser(request, ctx);
      if (typeof found === 'string') return found === 'notfound' ? 'notfound' : found;
      dn = found.dn;
    }
    const password = Buffer.isBuffer(pw) ? pw.toString('utf8') : String(pw);
    let r: OpResult;
    try {
      r = await this.dirs.run(new BindRequest({ messageId: 0, dn, password }), 'bind', ctx.signal);
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
  private async allGroups(request: Request, user: Entry, signal?: AbortSignal): Promise<{ dn?: string; name?: string }[]> {
    const g = this.config.group;
    const out: { dn?: string; name?: string }[] = [];
    const seen = new Set<string>();
    if (this.t.membership) {
      const mf = await this.expand(this.t.membership, request, signal);
      const r = await this.search({ base: await this.expand(this.t.groupBase, request, signal), scope: g.scope, filter: `(&${g.filter}${mf})`, attrs: [g.name_attribute] }, signal);
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
    if (this.da.cache) {
      const cached = request.control.filter((p) => p.da === this.da.cache).map((p) => String(p.value));
      if (cached.length) return cached.some((v) => (isDn(v) ? normDn(v) === key : v.toLowerCase() === key));
    }
    let dn = getValue(request.control, this.da.userDn) as string | undefined;
    let user: Entry | undefined;
    if (!dn) {
      const found = await this.findUser(request, { signal, log: request.log });
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
      const mf = await this.expand(this.t.membership, request, signal);
      const spec = isDn(group)
        ? { base: group, scope: 'base' as const, filter: `(&${g.filter}${mf})`, attrs: ['1.1'] }
        : { base: await this.expand(this.t.groupBase, request, signal), scope: g.scope, filter: `(&${g.filter}${mf}(${g.name_attribute}=${escapeFilter(group)}))`, attrs: ['1.1'] };
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
      if (!this.targets.some((x) => x.host === t.host)) throw new Error(`${this.name}: ${t.host} is not one of the configured servers`);
    }
    const r = await this.search({ base: u.base, scope: u.scope, filter: u.filter, attrs: u.attrs }, signal);
    if (r.status !== LDAP.success && r.status !== LDAP.noSuchObject) throw new Error(`${this.name}: search failed (LDAP ${r.status})`);
    void request;
    return r.entries.flatMap((e) => entryValues(e, u.attrs[0])).map((v) => box('string', v));
  }
}
