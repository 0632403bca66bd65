/**
 * Test fixture of the ldap module: the directory content (users, groups, rate-plan profiles)
 * and a helper that builds an instance against running directories. Not used at run time.
 */
import 'reflect-metadata';
import { callCtx, loadTestModule, makeRequest, type TestModule } from '../../test/support/module-call';
import type { Rcode } from '../../core';
import def from './index';
import type { Ldap } from './ldap';
import { ntHashHex, sshaPassword } from '../../test/support/slapd';

export const BASE = 'dc=example,dc=com';

/** Users of the fixture: name → password. */
export const PASSWORDS = { john: 'password', jane: 'jane-secret', clara: 'clear-text', eve: 'evil', nick: 'nt-only' } as const;

/** The LDIF of the fixture. */
export function fixtureLdif(): string {
  const people = `ou=people,${BASE}`;
  return `dn: ou=people,${BASE}
objectClass: organizationalUnit
ou: people

dn: ou=groups,${BASE}
objectClass: organizationalUnit
ou: groups

dn: ou=profiles,${BASE}
objectClass: organizationalUnit
ou: profiles

dn: cn=default,ou=profiles,${BASE}
objectClass: radiusObjectProfile
cn: default
radiusIdleTimeout: 600

dn: cn=gold,ou=profiles,${BASE}
objectClass: radiusObjectProfile
cn: gold
radiusSessionTimeout: 7200
radiusReplyAttribute: Reply-Message := "gold plan"

dn: uid=john,${people}
objectClass: inetOrgPerson
objectClass: radiusprofile
uid: john
cn: John
sn: Smith
userPassword: ${sshaPassword(PASSWORDS.john)}
radiusProfileDn: cn=gold,ou=profiles,${BASE}
memberOf: cn=staff,ou=groups,${BASE}
dialupAccess: yes
radiusFilterId: web-only

dn: uid=jane,${people}
objectClass: inetOrgPerson
objectClass: radiusprofile
uid: jane
cn: Jane
sn: Doe
userPassword: ${sshaPassword(PASSWORDS.jane)}
dialupAccess: yes

dn: uid=clara,${people}
objectClass: inetOrgPerson
objectClass: radiusprofile
uid: clara
cn: Clara
sn: Clear
userPassword: ${PASSWORDS.clara}
dialupAccess: yes

dn: uid=nick,${people}
objectClass: inetOrgPerson
objectClass: radiusprofile
uid: nick
cn: Nick
sn: Nt
sambaNTPassword: ${ntHashHex(PASSWORDS.nick)}
dialupAccess: yes

dn: uid=eve,${people}
objectClass: inetOrgPerson
objectClass: radiusprofile
uid: eve
cn: Eve
sn: Evil
userPassword: ${sshaPassword(PASSWORDS.eve)}
dialupAccess: disabled

dn: cn=staff,ou=groups,${BASE}
objectClass: groupOfNames
cn: staff
member: uid=john,${people}

dn: cn=admins,ou=groups,${BASE}
objectClass: groupOfNames
cn: admins
member: uid=jane,${people}
`;
}

/** The usual module body for `servers` (the test adds or overrides items). */
export function moduleBody(servers: readonly string[], extra = ''): string {
  return `
${servers.map((s) => `server = '${s}'`).join('\n')}
identity = 'cn=admin,${BASE}'
password = secret
base_dn = '${BASE}'
update {
  control.Password.With-Header += 'userPassword'
  control.Password.NT := 'sambaNTPassword'
  reply.Idle-Timeout := 'radiusIdleTimeout'
  reply.Session-Timeout := 'radiusSessionTimeout'
  reply.Filter-Id := 'radiusFilterId'
  reply += 'radiusReplyAttribute'
}
user {
  base_dn = "ou=people,\${..base_dn}"
  filter = "(uid=%{Stripped-User-Name || User-Name})"
  access_attribute = 'dialupAccess'
  access_value_negate = 'disabled'
  profile_attribute = 'radiusProfileDn'
}
group {
  base_dn = "ou=groups,\${..base_dn}"
  filter = '(objectClass=groupOfNames)'
  membership_filter = "(member=%{control.LDAP-UserDN})"
  membership_attribute = 'memberOf'
}
profile {
  default = 'cn=default,ou=profiles,${BASE}'
}
${extra}
`;
}

/** An instance loaded through the loader (schema, `validate`, `dict`, `env`, `instantiate`); call `detach()` when done. */
export async function makeLdap(body: string, name = 'ldap'): Promise<TestModule<Ldap> & { logLines: string[] }> {
  const m = await loadTestModule(def, body, { name });
  return Object.assign(m, { logLines: m.$log.lines });
}

/** Polls `cond` every 50 ms for at most `ms` (directories coming and going in the fault tests). */
export async function eventually(cond: () => boolean, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The module's authorize method on a fresh request for `user` (optionally cancelled by `signal`). */
export function authorizeUser(m: Ldap, user: string, signal?: AbortSignal): Promise<Rcode> {
  const r = makeRequest(`User-Name = "${user}"`);
  return m.authorize(r, callCtx(r, { name1: 'recv', name2: 'Access-Request' }, { instance: 'ldap', signal })) as Promise<Rcode>;
}
