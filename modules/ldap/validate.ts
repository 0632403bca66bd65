/**
 * The start-time checks of the `ldap` module (its definition's `validate`, which runs at start-up
 * and under `radiusd -C`), and what they build for the instance: the servers, the TLS material
 * (files read here, once), the compiled `update { }` map, the attribute lists to fetch and the
 * group cache attribute. `instantiate` takes the result from {@link preparedLdap}, so a config
 * that passes `-C` starts, and one that would not start fails `-C` with the same message.
 * Nothing here opens a network connection.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import type * as tls from 'node:tls';
import { createSecureContext } from 'node:tls';
import { FilterParser } from 'ldapts';
import { makeAt, sectionOf } from '../../core';
import type { ConfigAt, ConfPair, ConfSection, DictAttr, Dictionary, ValidateContext } from '../../core';
import { UNUSED_POOL_ITEMS, type LdapConfig } from './config';
import { parseServer, type ServerTarget, tlsOptions } from './connection';
import { compileMap, isLdapAttrName, mapAttributes, type MapItem } from './map';
import { compileModify, type ModifySections } from './modify';

/** What the checks build for an instance. */
export interface LdapPrepared {
  readonly targets: readonly ServerTarget[];
  readonly tls: tls.ConnectionOptions;
  readonly map: readonly MapItem[];
  /** LDAP attributes fetched with the user object. */
  readonly userAttrs: readonly string[];
  /** LDAP attributes fetched with a profile object. */
  readonly profileAttrs: readonly string[];
  /** `group.cache_attribute`, when `cacheable_name` or `cacheable_dn` is on. */
  readonly cache?: DictAttr;
  /** The `send { }` and `accounting { }` modifications. */
  readonly modify: ModifySections;
}

/** Keyed by the parsed config object (the loader hands the same object to `validate` and the instance). */
const PREPARED = new WeakMap<object, LdapPrepared>();

/** The definition's `validate`: every check, located at the item at fault; FreeRADIUS items without effect here are warnings. */
export function validateLdap(c: LdapConfig, at: ConfigAt, ctx: Pick<ValidateContext, 'dict'> & Partial<Pick<ValidateContext, 'log'>>): void {
  PREPARED.set(c, prepareLdap(c, at, ctx.dict));
  if (ctx.log) for (const w of compatWarnings(c)) ctx.log.warn(w);
}

/**
 * Located warnings for the FreeRADIUS items this module accepts (so a FreeRADIUS configuration
 * loads) but does not act on: `file[line]: ldap <inst> { options { chase_referrals } }: …`.
 */
export function compatWarnings(c: LdapConfig): string[] {
  const out: string[] = [];
  const cs = sectionOf(c);
  if (!cs) return out;
  const label = `ldap${cs.name2 ? ` ${cs.name2}` : ''}`;
  const find = (sec: ConfSection | undefined, name: string) => sec?.children.find((x) => (x.kind === 'pair' ? x.attr : x.name1) === name);
  const warn = (path: string[], message: string) => {
    let sec: ConfSection | undefined = cs;
    for (const p of path.slice(0, -1)) {
      const next = find(sec, p);
      sec = next?.kind === 'section' ? next : undefined;
    }
    const item = find(sec, path[path.length - 1]);
    if (!item) return;
    const shown = path.reduceRight((inner, p) => `${p}${inner ? ` { ${inner} }` : ''}`, '');
    out.push(`${item.loc.file}[${item.loc.line}]: ${label} { ${shown} }: ${message}`);
  };
  const noEffect = 'accepted for FreeRADIUS compatibility; it has no effect here';
  for (const p of ['pool', 'bind_pool'] as const) for (const i of UNUSED_POOL_ITEMS) warn([p, i], noEffect);
  for (const s of [['sasl'], ['user', 'sasl']]) {
    const sasl = s.length === 1 ? c.sasl : c.user.sasl;
    if (sasl?.mech && !(s.length === 1 && sasl.mech.toUpperCase() === 'EXTERNAL')) warn(s, `SASL binds (mech ${sasl.mech}) are not implemented: this instance binds with simple binds`);
  }
  if (c.options.chase_referrals) warn(['options', 'chase_referrals'], 'referrals are not followed by this module; a search that returns one fails over like an error');
  for (const i of ['rebind', 'referral_depth', 'idle', 'probes', 'interval']) warn(['options', i], noEffect);
  return out;
}

/** What `validate` built for `c` (built now, with the same checks, if `validate` did not run). */
export function preparedLdap(c: LdapConfig, dict: Dictionary): LdapPrepared {
  const known = PREPARED.get(c);
  if (known) return known;
  const cs = sectionOf(c);
  if (!cs) throw new Error('ldap: the config was not parsed from a section');
  const p = prepareLdap(c, makeAt(cs), dict);
  PREPARED.set(c, p);
  return p;
}

/** Runs the checks and builds {@link LdapPrepared}. */
function prepareLdap(c: LdapConfig, at: ConfigAt, dict: Dictionary): LdapPrepared {
  const cs = sectionOf(c);
  const pairs = (name: string): ConfPair[] => (cs?.children.filter((x): x is ConfPair => x.kind === 'pair' && x.attr === name) ?? []);

  // Servers: every item parses; StartTLS needs plain ldap:// servers.
  const serverItems = pairs('server');
  const targets = c.server.map((s, i) => {
    try {
      return parseServer(s, c.port);
    } catch (e) {
      const item = serverItems[i];
      return item ? at.item(item, 'server', (e as Error).message) : at('server', (e as Error).message);
    }
  });
  if (c.tls.start_tls && targets.some((t) => t.secure)) at('tls.start_tls', 'start_tls cannot be used with ldaps:// servers');
  if (c.tls.start_tls && targets.some((t) => t.path)) at('tls.start_tls', 'start_tls cannot be used with ldapi:// servers');

  // Pools.
  for (const name of ['pool', 'bind_pool'] as const) {
    const p = c[name];
    if (p.min > p.max) at(`${name}.min`, `min (${p.min}) is more than max (${p.max})`);
    if (p.start > p.max) at(`${name}.start`, `start (${p.start}) is more than max (${p.max})`);
  }

  // LDAP attribute names and constant filters (a filter that does not parse would fail every search).
  const attrItems: [string, string | undefined][] = [
    ['valuepair_attribute', c.valuepair_attribute], ['user.access_attribute', c.user.access_attribute],
    ['user.profile_attribute', c.user.profile_attribute], ['user.profile_attribute_suspend', c.user.profile_attribute_suspend],
    ['group.membership_attribute', c.group.membership_attribute], ['group.name_attribute', c.group.name_attribute],
    ['group.profile_attribute', c.group.profile_attribute], ['profile.sort_by', c.profile.sort_by],
    ['profile.check_attribute', c.profile.check_attribute], ['profile.fallthrough_attribute', c.profile.fallthrough_attribute],
  ];
  for (const [path, v] of attrItems) if (v !== undefined && !isLdapAttrName(v)) at(path, `"${v}" is not an LDAP attribute name`);
  for (const [path, v] of [['group.filter', c.group.filter], ['profile.filter', c.profile.filter]] as const) {
    try {
      FilterParser.parseString(v);
    } catch (e) {
      at(path, `"${v}" is not an LDAP search filter (${(e as Error).message})`);
    }
  }

  // The group cache attribute.
  let cache: DictAttr | undefined;
  if (c.group.cacheable_dn || c.group.cacheable_name) {
    const name = c.group.cache_attribute;
    // As FreeRADIUS, a cache attribute the dictionary lacks is defined (a string).
    if (!dict.resolve(name) && /^[A-Za-z][\w-]*$/.test(name)) dict.loadText(`DEFINE\t${name}\tstring`, '<ldap group cache_attribute>');
    cache = dict.resolve(name) ?? at('group.cache_attribute', `attribute "${name}" is not in the dictionary`);
    if (cache.type !== 'string') at('group.cache_attribute', `attribute "${cache.name}" is of type ${cache.type}; group names and DNs need a string attribute`);
  }

  // TLS files: read once, here; what they hold must be usable.
  const read = (path: string, file: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return at(path, `cannot read "${file}": ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    }
  };
  const t = c.tls;
  const ca = t.ca_file !== undefined ? read('tls.ca_file', t.ca_file) : undefined;
  if (ca) {
    const pems = ca.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (pems.length === 0) at('tls.ca_file', `"${t.ca_file}" holds no PEM certificate`);
    for (const pem of pems) {
      try {
        new crypto.X509Certificate(pem);
      } catch (e) {
        at('tls.ca_file', `"${t.ca_file}" holds a certificate that does not parse (${(e as Error).message})`);
      }
    }
  }
  if (t.certificate_file !== undefined && t.private_key_file === undefined) at('tls.certificate_file', 'certificate_file needs private_key_file');
  if (t.private_key_file !== undefined && t.certificate_file === undefined) at('tls.private_key_file', 'private_key_file needs certificate_file');
  const cert = t.certificate_file !== undefined ? read('tls.certificate_file', t.certificate_file) : undefined;
  const key = t.private_key_file !== undefined ? read('tls.private_key_file', t.private_key_file) : undefined;
  if (cert && key) {
    try {
      createSecureContext({ cert, key });
    } catch (e) {
      at('tls.certificate_file', `certificate_file and private_key_file cannot be used together (${(e as Error).message})`);
    }
  }

  // The update map (attributes checked against the dictionary).
  const updates = cs?.children.filter((x) => x.kind === 'section' && x.name1 === 'update') ?? [];
  const map = compileMap(updates, dict, (item, m) => at.item(item, 'update', m));
  const modify = compileModify(cs, dict, (item, m) => at.item(item, 'send', m));
  return {
    targets,
    tls: tlsOptions(t.require_cert, { ca, cert, key }),
    map,
    modify,
    profileAttrs: mapAttributes(map, [c.valuepair_attribute, c.profile.sort_by, c.profile.check_attribute, c.profile.fallthrough_attribute]),
    userAttrs: mapAttributes(map, [c.valuepair_attribute, c.user.access_attribute, c.user.profile_attribute,
      c.user.profile_attribute_suspend, c.group.membership_attribute]),
    cache,
  };
}
