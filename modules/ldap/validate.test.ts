/**
 * The ldap module's `validate` through the real loader with `checkOnly` (what `radiusd -C` runs):
 * TLS material is checked for use, not only for existence, and every error is located at its
 * item. Nothing here connects anywhere. (test/daemon/check-agrees.test.ts holds `-C` and start-up
 * to the same verdict on broken configs.)
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootContainer, loadModules, parseConfigString, type ConfSection } from '../../core';
import { makeTestCa, type TestCa } from '../../test/support/slapd';
import { memoryLogger, testDict } from '../../test/support/module-call';
import def from './index';
import { parseServer } from './connection';

const FILE = '/tmp/ldap-check/radiusd.conf';

/** Loads `ldap { body }` with checkOnly; the error message, or undefined when it passes. */
async function check(body: string): Promise<string | undefined> {
  const tree = parseConfigString(`modules {\nldap {\nserver = 'ldaps://127.0.0.1:1'\n${body}\n}\n}\n`, FILE);
  const root = createRootContainer({ dict: testDict(), log: memoryLogger() });
  try {
    const set = await loadModules({ section: tree.children[0] as ConfSection, root, registry: [def], checkOnly: true });
    await set.detachAll();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

describe('ldap validate (radiusd -C)', () => {
  let ca: TestCa;
  beforeAll(() => { ca = makeTestCa('ldap-validate'); });
  afterAll(() => { if (ca) fs.rmSync(ca.dir, { recursive: true, force: true }); });

  it('a config with usable TLS files passes', async () => {
    expect(await check(`tls {\nca_file = '${ca.caFile}'\ncertificate_file = '${ca.certFile}'\nprivate_key_file = '${ca.keyFile}'\n}`)).toBeUndefined();
  });

  it('a certificate with a key that is not its own is refused at certificate_file', async () => {
    const m = await check(`tls {\ncertificate_file = '${ca.certFile}'\nprivate_key_file = '${path.join(ca.dir, 'ca.key')}'\n}`);
    expect(m).toMatch(/^\/tmp\/ldap-check\/radiusd\.conf\[5\]: ldap \{ tls \{ certificate_file \} \}: certificate_file and private_key_file cannot be used together/);
  });

  it('a key file as ca_file holds no certificate; a key without a certificate is refused', async () => {
    expect(await check(`tls {\nca_file = '${ca.keyFile}'\n}`)).toMatch(/\[5\]: ldap \{ tls \{ ca_file \} \}: ".*server\.key" holds no PEM certificate$/);
    expect(await check(`tls {\nprivate_key_file = '${ca.keyFile}'\n}`)).toMatch(/\[5\]: ldap \{ tls \{ private_key_file \} \}: private_key_file needs certificate_file$/);
  });

  it('the second of two servers is located at its own line', async () => {
    expect(await check(`server = 'ldap://a.example'\nserver = 'ftp://b.example'`))
      .toMatch(/\[5\]: ldap \{ server \}: "ftp:\/\/b\.example" is neither a host name nor an ldap:\/\/, ldaps:\/\/ or ldapi:\/\/ URI$/);
  });

  it('attribute items must be LDAP attribute names; a cache attribute must hold text', async () => {
    expect(await check(`user {\naccess_attribute = 'dialup access'\n}`)).toMatch(/\[5\]: ldap \{ user \{ access_attribute \} \}: "dialup access" is not an LDAP attribute name$/);
    expect(await check(`group {\ncacheable_dn = yes\ncache_attribute = NAS-Port\n}`)).toMatch(/\[6\]: ldap \{ group \{ cache_attribute \} \}: attribute "NAS-Port" is of type uint32/);
  });

  it('FreeRADIUS v4 items load: implemented ones act, the others are located warnings; a missing cache attribute is defined', async () => {
    const tree = parseConfigString([
      'modules {', 'ldap v4 {', "server = 'ldap://127.0.0.1:1'", 'sasl {', '}',
      'options {', 'chase_referrals = yes', 'rebind = yes', 'referral_depth = 2', 'timelimit = 3', 'idle = 60', 'probes = 3', 'interval = 3', '}',
      'pool {', 'spare = 3', 'uses = 0', 'lifetime = 0', 'idle_timeout = 60', 'retry_delay = 1', 'connecting = 2', '}',
      'group {', 'cacheable_name = yes', "cache_attribute = 'LDAP-Cached-Membership'", "profile_attribute = 'radiusProfileDn'", '}',
      'profile {', "sort_by = 'radiusProfilePriority'", "search_mode = 'bulk'", '}',
      'user {', 'sasl {', "mech = 'CRAM-MD5'", 'authname = User-Name', '}', '}',
      'accounting {', 'start {', 'update {', 'description := "x"', '}', '}', '}',
      '}', '}', '',
    ].join('\n'), FILE);
    const log = memoryLogger();
    const dict = testDict();
    const root = createRootContainer({ dict, log });
    const set = await loadModules({ section: tree.children[0] as ConfSection, root, registry: [def], checkOnly: true });
    await set.detachAll();
    const warns = log.lines.filter((l) => l.startsWith('warn: '));
    expect(warns.some((l) => /radiusd\.conf\[7\]: ldap v4 \{ options \{ chase_referrals \} \}: referrals are not followed/.test(l))).toBe(true);
    expect(warns.some((l) => /\[16\]: ldap v4 \{ pool \{ spare \} \}: accepted for FreeRADIUS compatibility; it has no effect here/.test(l))).toBe(true);
    expect(warns.some((l) => /ldap v4 \{ user \{ sasl \} \}: SASL binds \(mech CRAM-MD5\) are not implemented/.test(l))).toBe(true);
    // Implemented: the accounting { } modifications, the profile items, group profile_attribute.
    expect(warns.some((l) => /accounting|profile/.test(l))).toBe(false);
    // timelimit is srv_timelimit's v4 name (used), so it is no warning; an empty sasl { } is none either.
    expect(warns.some((l) => /timelimit|ldap v4 \{ sasl \}/.test(l))).toBe(false);
    expect(dict.resolve('LDAP-Cached-Membership')?.type).toBe('string');
  });

  it('ldapi:// servers name a Unix socket (a percent-encoded absolute path)', async () => {
    expect(await check("server = 'ldapi://%2Ftmp%2Fldap%2Fsocket'")).toBeUndefined();
    expect(await check("server = 'ldapi://tmp%2Fsock'")).toMatch(/\[4\]: ldap \{ server \}: .*absolute socket path/);
    expect(parseServer('ldapi://%2Ftmp%2Fldap%2Fsocket/', 389)).toMatchObject({ path: '/tmp/ldap/socket', secure: false });
  });

  it('send { } / accounting { } lines must name LDAP attributes and use a modify operator', async () => {
    expect(await check('send {\naccess-accept {\nupdate {\ndescription = "x"\n}\n}\n}')).toMatch(/\[7\]: .*operator "=" cannot modify an LDAP attribute/);
    expect(await check('accounting {\nstart {\nupdate {\nbad_name := "x"\n}\n}\n}')).toMatch(/\[7\]: .*not an LDAP attribute name/);
  });

  it('a bad template names its setting', async () => {
    expect(await check(`user {\nfilter = "(uid=%{Usr-Name})"\n}`)).toMatch(/\[5\]: ldap \{ user \{ filter \} \}: .*Usr-Name/);
  });
});
