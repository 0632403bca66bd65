import 'reflect-metadata';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printPairList } from '../../core';
import type { Request } from '../../core';
import { makeTestCa, startSlapd, type Slapd, type TestCa } from '../../test/support/slapd';
import chapDef from '../chap/index';
import papDef from '../pap/index';
import { callCtx, loadTestModule, makeRequest, memoryLogger, testDict } from '../../test/support/module-call';
import { BASE, fixtureLdif, makeLdap, moduleBody, PASSWORDS } from './fixture';
import type { Ldap } from './ldap';

const req = (user: string, pw?: string) => makeRequest(`User-Name = "${user.replace(/["\\]/g, '\\$&')}"${pw !== undefined ? `, User-Password = "${pw}"` : ''}`);
const authz = (m: Ldap, r: Request) => m.authorize(r, callCtx(r, { name1: 'recv', name2: 'Access-Request' }, { instance: 'ldap' }));
const authn = (m: Ldap, r: Request) => m.authenticate(r, callCtx(r, { name1: 'authenticate', name2: 'ldap' }, { instance: 'ldap' }));

const pap = () => loadTestModule(papDef, 'crypt_workers = 0');

describe('ldap against a real slapd', () => {
  let dir: Slapd;
  let m: Ldap & { logLines: string[] };
  beforeAll(async () => {
    dir = await startSlapd({ ldif: fixtureLdif(), tls: true });
    m = await makeLdap(moduleBody([dir.url]));
  }, 60_000);
  afterAll(async () => {
    m?.detach();
    await dir?.stop();
  });

  it('maps the user, the default profile and the user profile; pap checks the {SSHA} userPassword', async () => {
    const r = req('john', PASSWORDS.john);
    expect(await authz(m, r)).toBe('updated');
    const control = printPairList(r.control);
    expect(control).toContain(`LDAP-UserDN = "uid=john,ou=people,${BASE}"`);
    expect(control).toMatch(/Password = \{ With-Header = "\{SSHA\}/);
    const reply = printPairList(r.reply);
    expect(reply).toContain('Idle-Timeout = 600');
    expect(reply).toContain('Session-Timeout = 7200');
    expect(reply).toContain('Reply-Message = "gold plan"');
    expect(reply).toContain('Filter-Id = "web-only"');
    const p = await pap();
    expect(p.authorize(r, callCtx(r))).toBe('updated');
    expect(await p.authenticate(r, callCtx(r, { name1: 'authenticate', name2: 'pap' }))).toBe('ok');
    const bad = req('john', 'wrong');
    await authz(m, bad);
    p.authorize(bad, callCtx(bad));
    expect(await p.authenticate(bad, callCtx(bad, { name1: 'authenticate', name2: 'pap' }))).toBe('reject');
  });

  it('hands sambaNTPassword to pap as Password.NT', async () => {
    const r = req('nick', PASSWORDS.nick);
    expect(await authz(m, r)).toBe('updated');
    const p = await pap();
    p.authorize(r, callCtx(r));
    expect(await p.authenticate(r, callCtx(r, { name1: 'authenticate', name2: 'pap' }))).toBe('ok');
  });

  it('CHAP against a cleartext userPassword', async () => {
    const c = await makeLdap(moduleBody([dir.url]).replace("control.Password.With-Header += 'userPassword'", "control.Password.Cleartext := 'userPassword'"));
    try {
      const challenge = crypto.randomBytes(16);
      const resp = Buffer.concat([Buffer.from([7]), crypto.createHash('md5').update(Buffer.from([7])).update(PASSWORDS.clara).update(challenge).digest()]);
      const r = makeRequest(`User-Name = "clara", CHAP-Password = 0x${resp.toString('hex')}, CHAP-Challenge = 0x${challenge.toString('hex')}`);
      expect(await authz(c, r)).toBe('updated');
      const chap = await loadTestModule(chapDef, '');
      expect(await chap.authenticate(r, callCtx(r, { name1: 'authenticate', name2: 'chap' }))).toBe('ok');
      await chap.detach();
    } finally {
      c.detach();
    }
  });

  it('authenticates by binding as the user (Auth-Type ldap)', async () => {
    const ok = req('jane', PASSWORDS.jane);
    expect(await authz(m, ok)).toBe('updated');
    expect(await authn(m, ok)).toBe('ok');
    // Without authorize first: the module searches for the DN itself.
    expect(await authn(m, req('jane', PASSWORDS.jane))).toBe('ok');
    const bad = req('jane', 'nope');
    expect(await authn(m, bad)).toBe('reject');
    expect(printPairList(bad.request)).toMatch(/Module-Failure-Message = "ldap: bind as \\"uid=jane,.*rejected: invalid credentials/);
    expect(await authn(m, req('nobody', 'x'))).toBe('notfound');
    expect(await authn(m, req('jane'))).toBe('invalid');
  });

  it('notfound for unknown users, disallow for disabled ones', async () => {
    expect(await authz(m, req('nobody'))).toBe('notfound');
    const eve = req('eve');
    expect(await authz(m, eve)).toBe('disallow');
    expect(printPairList(eve.request)).toContain('access denied by dialupAccess');
  });

  it('filter injection: expanded values are escaped and match only themselves', async () => {
    for (const evil of ['*', 'j*', 'john)(uid=*', '*)(|(uid=*', 'john\\2a', '\0']) {
      const r = req(evil);
      expect(await authz(m, r)).toBe('notfound');
      expect(r.control.length).toBe(0);
    }
  });

  it('group membership by membership filter and by the membership attribute, cached per request', async () => {
    const r = req('john');
    await authz(m, r);
    expect(await m.isMember(r, 'staff')).toBe(true);
    expect(await m.isMember(r, `cn=staff,ou=groups,${BASE}`)).toBe(true);
    expect(await m.isMember(r, 'admins')).toBe(false);
    expect(await m.isMember(r, 'st*')).toBe(false);
    const before = m.stats().requests;
    expect(await m.isMember(r, 'staff')).toBe(true);
    expect(await m.isMember(r, 'admins')).toBe(false);
    expect(m.stats().requests).toBe(before);
    // Membership attribute only (memberOf on the user object).
    const attrOnly = await makeLdap(moduleBody([dir.url]).replace(/membership_filter = .*\n/, ''));
    try {
      const r2 = req('john');
      expect(await attrOnly.isMember(r2, 'staff')).toBe(true);
      expect(await attrOnly.isMember(r2, 'admins')).toBe(false);
    } finally {
      attrOnly.detach();
    }
  });

  it('empty user and group base_dn fall back to base_dn; authenticate and %ldap.group() search without authorize', async () => {
    const c = await makeLdap(moduleBody([dir.url]).replace(/\n  base_dn = .*/g, ''));
    try {
      const r = req('jane', PASSWORDS.jane);
      expect(await authz(c, r)).toBe('updated');
      expect(printPairList(r.control)).toContain(`LDAP-UserDN = "uid=jane,ou=people,${BASE}"`);
      expect(await authn(c, req('john', PASSWORDS.john))).toBe('ok');
      expect(await authn(c, req('john', 'wrong'))).toBe('reject');
      expect(await authn(c, req('nobody', 'x'))).toBe('notfound');
      expect(await c.isMember(req('jane'), 'admins')).toBe(true);
      expect(await c.isMember(req('jane'), 'staff')).toBe(false);
    } finally {
      c.detach();
    }
  });

  it('cacheable_name puts the groups in control.LDAP-Group', async () => {
    const c = await makeLdap(moduleBody([dir.url]).replace("membership_attribute = 'memberOf'", "membership_attribute = 'memberOf'\n  cacheable_name = yes"));
    try {
      const r = req('john');
      await authz(c, r);
      expect(printPairList(r.control)).toContain('LDAP-Group = "staff"');
      expect(await c.isMember(r, 'staff')).toBe(true);
    } finally {
      c.detach();
    }
  });

  it('LDAPS and StartTLS verify the server certificate against ca_file', async () => {
    const ca = `tls {\n  ca_file = '${dir.ca!.caFile}'\n}`;
    const ldaps = await makeLdap(moduleBody([dir.ldapsUrl!], ca));
    const start = await makeLdap(moduleBody([dir.url], `tls {\n  ca_file = '${dir.ca!.caFile}'\n  start_tls = yes\n}`));
    let other: TestCa | undefined;
    try {
      expect(await authz(ldaps, req('john'))).toBe('updated');
      expect(await authz(start, req('john'))).toBe('updated');
      // A CA that did not sign the server's certificate: never connected, calls fail.
      other = makeTestCa('ldap-other-ca');
      const wrong = await makeLdap(moduleBody([dir.ldapsUrl!], `options {\n  instantiate_timeout = 1\n}\ntls {\n  ca_file = '${other.caFile}'\n}`));
      try {
        expect(await authz(wrong, req('john'))).toBe('fail');
        expect(wrong.logLines.join('\n')).toMatch(/certificate/i);
      } finally {
        wrong.detach();
      }
    } finally {
      ldaps.detach();
      start.detach();
      if (other) fs.rmSync(other.dir, { recursive: true, force: true });
    }
  });

  it('never logs the bind password', async () => {
    const c = await makeLdap(moduleBody([dir.url]).replace('password = secret', 'password = wrong-Sekr1t'), 'ldap_badpw');
    try {
      expect(await authz(c, req('john'))).toBe('fail');
      const log = c.logLines.join('\n');
      expect(log).toMatch(/bind as "cn=admin,dc=example,dc=com" failed \(49/);
      expect(log).not.toContain('wrong-Sekr1t');
    } finally {
      c.detach();
    }
  });

  it('%ldap(url) returns one attribute; filter values escaped with %ldap.filter.escape match only themselves', async () => {
    const xl: Record<string, (x: unknown, a: unknown) => unknown> = {};
    m.bootstrap({ name: 'ldap', dict: testDict(), log: memoryLogger(), registerXlat: (n, fn) => { xl[n] = fn as never; } });
    const call = async (name: string, s: string) => (await xl[name]({ request: req('john') }, [[{ type: 'string', value: s }]]) as { value: unknown }[]).map((b) => b.value);
    expect(await call('ldap', `ldap:///uid=john,ou=people,${BASE}?radiusFilterId`)).toEqual(['web-only']);
    expect(await call('ldap', `ldap:///ou=people,${BASE}?uid?sub?(uid=j*)`)).toEqual(expect.arrayContaining(['john', 'jane']));
    const esc = (await call('ldap.filter.escape', 'j*)(uid=*'))[0] as string;
    expect(esc).toBe('j\\2a\\29\\28uid=\\2a');
    expect(await call('ldap', `ldap:///ou=people,${BASE}?uid?sub?(uid=${esc})`)).toEqual([]);
    await expect(call('ldap', `ldap:///ou=people,${BASE}?*?sub`)).rejects.toThrow(/exactly one attribute/);
    await expect(call('ldap', `ldap://evil.example:389/ou=people,${BASE}?uid?sub`)).rejects.toThrow(/not one of the configured servers/);
  });
});
