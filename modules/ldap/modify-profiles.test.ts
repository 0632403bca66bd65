/**
 * FreeRADIUS v4's LDAP modifications (`send { }`, `accounting { }`) and profile processing (scope,
 * search_mode, sort_by, check/fallthrough conditions, child_rdn, group profiles) against a real slapd
 * with a schema of its own (priorities order as integers).
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printPairList } from '../../core';
import type { Request } from '../../core';
import { startSlapd, type Slapd } from '../../test/support/slapd';
import { callCtx, makeRequest } from '../../test/support/module-call';
import { BASE, makeLdap } from './fixture';
import type { Ldap } from './ldap';

const ARC = '1.3.6.1.4.1.4203.666.79';
const S = 'EQUALITY caseExactMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15';
const SCHEMA = [
  `attributetype ( ${ARC}.1.1 NAME 'radiusProfileDn' EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )`,
  `attributetype ( ${ARC}.1.2 NAME 'radiusReplyAttribute' ${S} )`,
  `attributetype ( ${ARC}.1.3 NAME 'radiusProfilePriority' EQUALITY integerMatch ORDERING integerOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )`,
  `attributetype ( ${ARC}.1.4 NAME 'radiusProfileCondition' ${S} SINGLE-VALUE )`,
  `attributetype ( ${ARC}.1.5 NAME 'radiusProfileFallthrough' ${S} SINGLE-VALUE )`,
  `objectclass ( ${ARC}.2.1 NAME 'radiusprofile' SUP top AUXILIARY MAY ( radiusProfileDn $ radiusReplyAttribute $ radiusProfilePriority $ radiusProfileCondition $ radiusProfileFallthrough ) )`,
  `objectclass ( ${ARC}.2.2 NAME 'rateplan' SUP top STRUCTURAL MUST cn )`,
  '',
].join('\n');

const P = `ou=profiles,${BASE}`;
const profile = (cn: string, parent: string, lines: string[]) =>
  `dn: cn=${cn},${parent}\nobjectClass: rateplan\nobjectClass: radiusprofile\ncn: ${cn}\n${lines.join('\n')}\n`;
const LDIF = [
  `dn: ou=people,${BASE}\nobjectClass: organizationalUnit\nou: people\n`,
  `dn: ou=groups,${BASE}\nobjectClass: organizationalUnit\nou: groups\n`,
  `dn: ${P}\nobjectClass: organizationalUnit\nou: profiles\n`,
  profile('base', P, ["radiusReplyAttribute: Filter-Id += 'base'", 'radiusProfilePriority: 40']),
  profile('fast', P, ["radiusReplyAttribute: Filter-Id += 'fast'", 'radiusProfilePriority: 30']),
  profile('wifi', `cn=fast,${P}`, ["radiusReplyAttribute: Filter-Id += 'fast-wifi'", 'radiusProfilePriority: 35']),
  profile('night', P, ["radiusReplyAttribute: Filter-Id += 'night'", 'radiusProfilePriority: 10']),
  `dn: cn=tree,${P}\nobjectClass: rateplan\ncn: tree\n`,
  profile('a', `cn=tree,${P}`, ["radiusReplyAttribute: Reply-Message := 'first'", 'radiusProfilePriority: 1', "radiusProfileFallthrough: User-Name == 'ann'"]),
  profile('b', `cn=tree,${P}`, ["radiusReplyAttribute: Reply-Message := 'for ann'", 'radiusProfilePriority: 2', "radiusProfileCondition: User-Name == 'ann'"]),
  profile('c', `cn=tree,${P}`, ["radiusReplyAttribute: Filter-Id += 'last'", 'radiusProfilePriority: 3']),
  `dn: uid=ann,ou=people,${BASE}\nobjectClass: inetOrgPerson\nobjectClass: radiusprofile\nuid: ann\ncn: Ann\nsn: A\n` +
    `radiusProfileDn: cn=fast,${P}\nradiusProfileDn: cn=missing,${P}\nradiusProfileDn: cn=night,${P}\n`,
  `dn: uid=bo,ou=people,${BASE}\nobjectClass: inetOrgPerson\nuid: bo\ncn: Bo\nsn: B\n`,
  `dn: cn=nightshift,ou=groups,${BASE}\nobjectClass: groupOfNames\nobjectClass: radiusprofile\ncn: nightshift\nmember: uid=bo,ou=people,${BASE}\nradiusProfileDn: cn=night,${P}\n`,
].join('\n');

const body = (url: string, extra: string) => `
server = '${url}'
identity = 'cn=admin,${BASE}'
password = secret
base_dn = '${BASE}'
update {
  reply += 'radiusReplyAttribute'
}
user {
  base_dn = "ou=people,\${..base_dn}"
  filter = "(uid=%{User-Name})"
  profile_attribute = 'radiusProfileDn'
}
group {
  base_dn = "ou=groups,\${..base_dn}"
  membership_filter = "(member=%{control.LDAP-UserDN})"
  profile_attribute = 'radiusProfileDn'
}
${extra}
`;

const authz = (m: Ldap, r: Request) => m.authorize(r, callCtx(r, { name1: 'recv', name2: 'Access-Request' }, { instance: 'ldap' }));
const filterIds = (r: Request) => printPairList(r.reply).split(', ').filter((l) => l.startsWith('Filter-Id')).map((l) => l.replace(/^Filter-Id = "(.*)"$/, '$1'));

describe('ldap modifications and profiles', () => {
  let dir: Slapd;
  beforeAll(async () => {
    dir = await startSlapd({ ldif: LDIF, schema: SCHEMA });
  }, 60_000);
  afterAll(async () => {
    await dir?.stop();
  });

  async function read(dn: string, attr: string): Promise<string[]> {
    const c = new Client({ url: dir.url });
    try {
      await c.bind(dir.adminDn, dir.adminPassword);
      const { searchEntries } = await c.search(dn, { scope: 'base', attributes: [attr] });
      const v = searchEntries[0]?.[attr];
      return v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String);
    } finally {
      await c.unbind();
    }
  }

  it('send { } and accounting { } modify the user object; an absent attribute reference writes nothing', async () => {
    const m = await makeLdap(body(dir.url, `
send {
  access-accept {
    update {
      description := "%{User-Name} accepted"
      carLicense += "%{NAS-Identifier}"
      title := Class
    }
  }
}
accounting {
  stop {
    update {
      description := "gone"
    }
  }
}`));
    try {
      const dn = `uid=ann,ou=people,${BASE}`;
      const r = makeRequest('User-Name = "ann", NAS-Identifier = "nas1"');
      expect(await m.send(r, callCtx(r, { name1: 'send', name2: 'Access-Accept' }, { instance: 'ldap' }) as never)).toBe('ok');
      expect(await read(dn, 'description')).toEqual(['ann accepted']);
      expect(await read(dn, 'carLicense')).toEqual(['nas1']);
      expect(await read(dn, 'title')).toEqual([]);
      // inst.accounting.stop from another section: the subsection the method names.
      expect(await m.accounting(r, { ...callCtx(r, { name1: 'recv', name2: 'Access-Request' }, { instance: 'ldap' }), method: 'accounting.stop' } as never)).toBe('ok');
      expect(await read(dn, 'description')).toEqual(['gone']);
      // No subsection for this packet: nothing to do.
      expect(await m.send(r, callCtx(r, { name1: 'send', name2: 'Access-Reject' }, { instance: 'ldap' }) as never)).toBe('noop');
      // A user that does not exist.
      const nobody = makeRequest('User-Name = "nobody"');
      expect(await m.send(nobody, callCtx(nobody, { name1: 'send', name2: 'Access-Accept' }, { instance: 'ldap' }) as never)).toBe('notfound');
    } finally {
      await m.detach();
    }
  });

  it('seq applies the default, then the user\'s profiles in order (a missing one skipped), each followed by its child_rdn child', async () => {
    const m = await makeLdap(body(dir.url, `profile {\n  default = 'cn=base,${P}'\n  search_mode = 'seq'\n  child_rdn = "cn=%{Connect-Info}"\n}`));
    try {
      const r = makeRequest('User-Name = "ann", Connect-Info = "wifi"');
      expect(await authz(m, r)).toBe('updated');
      expect(filterIds(r)).toEqual(['base', 'fast', 'fast-wifi', 'night']);
      const plain = makeRequest('User-Name = "ann"');
      await authz(m, plain);
      expect(filterIds(plain)).toEqual(['base', 'fast', 'night']);
    } finally {
      await m.detach();
    }
  });

  it('bulk (and auto with sort_by) fetch every profile in one search and apply them in sort_by order; group profiles too', async () => {
    for (const mode of ['bulk', 'auto']) {
      const m = await makeLdap(body(dir.url, `profile {\n  default = 'cn=base,${P}'\n  search_mode = '${mode}'\n  sort_by = 'radiusProfilePriority'\n}`));
      try {
        const r = makeRequest('User-Name = "ann"');
        expect(await authz(m, r)).toBe('updated');
        expect(filterIds(r)).toEqual(['night', 'fast', 'base']);
        const bo = makeRequest('User-Name = "bo"');
        await authz(m, bo);
        expect(filterIds(bo)).toEqual(['night', 'base']);
      } finally {
        await m.detach();
      }
    }
  });

  it('binds with SASL EXTERNAL over ldapi:// (the socket\'s peer mapped to the admin by slapd)', async () => {
    const sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-ldapi-'));
    const sock = path.join(sockDir, 'socket');
    const d = await startSlapd({ ldif: LDIF, schema: SCHEMA, ldapi: sock, globalConf: 'authz-regexp "gidNumber=[0-9]+[+]uidNumber=[0-9]+,cn=peercred,cn=external,cn=auth" "cn=admin,dc=example,dc=com"' });
    try {
      const m = await makeLdap(body(`ldapi://${encodeURIComponent(sock)}`, 'sasl {\n  mech = \'EXTERNAL\'\n}').replace(/^(identity|password) = .*$/gm, ''));
      try {
        const r = makeRequest('User-Name = "ann"');
        expect(await authz(m, r)).toBe('updated');
        expect(m.logLines.join('\n')).toContain('bind with SASL EXTERNAL');
      } finally {
        await m.detach();
      }
    } finally {
      await d.stop();
      fs.rmSync(sockDir, { recursive: true, force: true });
    }
  });

  it('scope sub applies nested profiles by priority, skipping those whose condition is false and stopping at a false fallthrough', async () => {
    const m = await makeLdap(body(dir.url, `profile {\n  default = 'cn=tree,${P}'\n  scope = 'sub'\n  sort_by = 'radiusProfilePriority'\n  check_attribute = 'radiusProfileCondition'\n  fallthrough_attribute = 'radiusProfileFallthrough'\n}`));
    try {
      const ann = makeRequest('User-Name = "ann"');
      await authz(m, ann);
      expect(printPairList(ann.reply)).toContain('Reply-Message = "for ann"');
      expect(filterIds(ann)).toContain('last');
      const bo = makeRequest('User-Name = "bo"');
      await authz(m, bo);
      // a: applied, its fallthrough is false for bo: b and c are not applied.
      expect(printPairList(bo.reply)).toContain('Reply-Message = "first"');
      expect(filterIds(bo)).not.toContain('last');
    } finally {
      await m.detach();
    }
  });
});

describe('%ldap.uri.escape / %ldap.uri.unescape', () => {
  it('escapes the characters special in an LDAP URL\'s DN or filter, and back', async () => {
    const { escapeUri, unescapeFilter } = await import('./escape');
    expect(escapeUri('safe string')).toBe('safe string');
    expect(escapeUri(',+"\\<>;*=()')).toBe('\\2c\\2b\\22\\5c\\3c\\3e\\3b\\2a\\3d\\28\\29');
    expect(unescapeFilter(escapeUri('a,b (c)*'))).toBe('a,b (c)*');
  });
});
