import 'reflect-metadata';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Mschap } from './mschap';
import def from './index';
import * as c from './crypto';
import { callCtx, loadTestModule, makeRequest } from '../../test/support/module-call';
import { box, printPairList } from '../../core';
import type { Request } from '../../core';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');
const auth = (m: Mschap, r: Request) => m.authenticate(r, callCtx(r, { name1: 'authenticate', name2: 'mschap' }));

// RFC 2759 §9.2 and RFC 3079 §3.5.3.
const AUTH_CHALLENGE = hex('5B5D7C7D7B3F2F3E3C2C602132262628');
const PEER_CHALLENGE = hex('21402324255E262A28295F2B3A337C7E');

describe('mschap crypto (RFC test vectors)', () => {
  it('RFC 2759 §9.2', () => {
    const ph = c.ntPasswordHash('clientPass');
    expect(ph.toString('hex').toUpperCase()).toBe('44EBBA8D5312B8D611474411F56989AE');
    expect(c.hashNtPasswordHash(ph).toString('hex').toUpperCase()).toBe('41C00C584BD2D91C4017A2A12FA59F3F');
    expect(c.challengeHash(PEER_CHALLENGE, AUTH_CHALLENGE, 'User').toString('hex').toUpperCase()).toBe('D02E4386BCE91226');
    const nr = c.generateNtResponse(AUTH_CHALLENGE, PEER_CHALLENGE, 'User', ph);
    expect(nr.toString('hex').toUpperCase()).toBe('82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF');
    expect(c.authenticatorResponse(ph, nr, PEER_CHALLENGE, AUTH_CHALLENGE, 'User')).toBe('S=407A5589115FD0D6209F510FE9C04566932CDA56');
  });
  it('RFC 3079 §3.5.3 master and send keys', () => {
    const ph = c.ntPasswordHash('clientPass');
    const nr = c.generateNtResponse(AUTH_CHALLENGE, PEER_CHALLENGE, 'User', ph);
    expect(c.masterKey(c.hashNtPasswordHash(ph), nr).toString('hex').toUpperCase()).toBe('FDECE3717A8C838CB388E527AE3CDD31');
    expect(c.mppeV2Keys(c.hashNtPasswordHash(ph), nr).send.toString('hex').toUpperCase()).toBe('8B7CDC149B993A1BA118CB153F56DCCB');
  });
  it('RFC 2433 LM hash of a known password', () => {
    // LM hash of "password" (the widely published value).
    expect(c.lmPasswordHash('password').toString('hex').toUpperCase()).toBe('E52CAC67419A9A224A3B108F3FA6CB6D');
  });
});

describe('mschap module', () => {
  let m!: Mschap;
  beforeAll(async () => { m = await loadTestModule(def, ''); });
  const v2req = (pw: string, name = 'example\\john') => {
    const peer = Buffer.alloc(16, 7);
    const nt = c.generateNtResponse(AUTH_CHALLENGE, peer, name.split('\\').pop()!, c.ntPasswordHash(pw));
    const resp = Buffer.concat([Buffer.from([0x42, 0]), peer, Buffer.alloc(8), nt]);
    return makeRequest(`User-Name = "${name.replace(/\\/g, '\\\\')}", Vendor-Specific.Microsoft.CHAP-Challenge = 0x${AUTH_CHALLENGE.toString('hex')}, Vendor-Specific.Microsoft.CHAP2-Response = 0x${resp.toString('hex')}`, { control: 'Password.Cleartext := "secret"' });
  };
  it('authorize sets Auth-Type only with challenge and response', () => {
    const r = v2req('secret');
    expect(m.authorize(r, callCtx(r))).toBe('updated');
    expect(printPairList(r.control)).toContain('Auth-Type = ::');
    const r2 = makeRequest('User-Name = "x", Vendor-Specific.Microsoft.CHAP-Challenge = 0x00112233445566778899aabbccddeeff');
    expect(m.authorize(r2, callCtx(r2))).toBe('noop');
  });
  it('MS-CHAPv2 accept: CHAP2-Success with the identifier and MPPE keys', () => {
    const r = v2req('secret');
    expect(auth(m, r)).toBe('ok');
    const reply = printPairList(r.reply);
    expect(reply).toMatch(/CHAP2-Success = 0x42533d[0-9a-f]{80}/);
    expect(reply).toContain('MPPE-Send-Key');
    expect(reply).toContain('MPPE-Recv-Key');
    expect(reply).toContain('Encryption-Allowed');
  });
  it('the FreeRADIUS corpus request (password "secret", user example\\john)', () => {
    const r = makeRequest('User-Name = "example\\\\john", Vendor-Specific.Microsoft.CHAP-Challenge = 0x16d2833f4239256dd2b2bb26f2ecb2a3, Vendor-Specific.Microsoft.CHAP2-Response = 0x0001502feeee9495a353cddbd1efc40072820000000000000000e866286bb30d0215ed16cf425b6a29d206667a9853e23ca4', { control: 'Password.Cleartext := "secret"' });
    expect(auth(m, r)).toBe('ok');
    expect(printPairList(r.reply)).toContain('CHAP2-Success = 0x00533d36383634394236373633333031444436354643323535394632443137323934333139364541383841');
  });
  it('MS-CHAPv2 reject: MS-CHAP-Error and Module-Failure-Message', () => {
    const r = v2req('wrong');
    expect(auth(m, r)).toBe('reject');
    expect(printPairList(r.reply)).toContain('E=691 R=1');
    expect(printPairList(r.request)).toContain('Module-Failure-Message');
  });
  it('Password.NT works like the cleartext password', () => {
    const r = v2req('secret');
    r.control.length = 0;
    r.control.push(...makeRequest('', { control: `Password.NT := 0x${c.ntPasswordHash('secret').toString('hex')}` }).control);
    expect(auth(m, r)).toBe('ok');
  });
  it('MS-CHAPv1 with the NT response, and the MPPE keys', () => {
    const ch = hex('0102030405060708');
    const nt = c.challengeResponse(ch, c.ntPasswordHash('secret'));
    const resp = Buffer.concat([Buffer.from([1, 1]), Buffer.alloc(24), nt]);
    const r = makeRequest(`User-Name = "bob", Vendor-Specific.Microsoft.CHAP-Challenge = 0x${ch.toString('hex')}, Vendor-Specific.Microsoft.CHAP-Response = 0x${resp.toString('hex')}`, { control: 'Password.Cleartext := "secret"' });
    expect(auth(m, r)).toBe('ok');
    expect(printPairList(r.reply)).toContain('CHAP-MPPE-Keys');
    const bad = makeRequest(`User-Name = "bob", Vendor-Specific.Microsoft.CHAP-Challenge = 0x${ch.toString('hex')}, Vendor-Specific.Microsoft.CHAP-Response = 0x${resp.toString('hex')}`, { control: 'Password.Cleartext := "other"' });
    expect(auth(m, bad)).toBe('reject');
  });
  it('%mschap(): user name, domain, challenge hash, NT-Response, NT-Hash', async () => {
    const x = m.$set.xlats.get('mschap')!;
    const r = v2req('secret');
    const call = async (...args: string[]) => (await x.fn({ request: r }, args.map((a) => [box('string', a)])))[0]?.value;
    expect(await call('User-Name')).toBe('john');
    expect(await call('NT-Domain')).toBe('example');
    const peer = Buffer.alloc(16, 7);
    expect(await call('Challenge')).toBe(c.challengeHash(peer, AUTH_CHALLENGE, 'john').toString('hex'));
    expect(await call('NT-Response')).toBe(c.generateNtResponse(AUTH_CHALLENGE, peer, 'john', c.ntPasswordHash('secret')).toString('hex'));
    expect(await call('NT-Hash', 'clientPass')).toBe('44EBBA8D5312B8D611474411F56989AE');
    expect(await call('NT-Hash clientPass')).toBe('44EBBA8D5312B8D611474411F56989AE');
  });
  it('no password: fail', () => {
    const r = v2req('secret');
    r.control.length = 0;
    expect(auth(m, r)).toBe('fail');
  });
});
