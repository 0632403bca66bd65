import 'reflect-metadata';
import * as crypto from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { Pap, normify } from './pap';
import def from './index';
import { callCtx, loadTestModule, makeRequest } from '../../test/support/module-call';
import { printPairList } from '../../core';
import type { Request } from '../../core';

/** A `pap` instance loaded through the loader (attributes injected as MODULE_DICT). */
const pap = (body = '', name = 'pap'): Promise<Pap> => loadTestModule(def, body, { name });

const auth = (m: Pap, r: Request) => m.authenticate(r, callCtx(r, { name1: 'authenticate', name2: 'pap' })) as string;
const req = (pw: string, control: string) => makeRequest(`User-Name = "bob", User-Password = "${pw}"`, { control });
const b64 = (b: Buffer) => b.toString('base64');
const hex = (b: Buffer) => b.toString('hex');

describe('pap authorize', () => {
  it('sets Auth-Type PAP with a known-good password and a User-Password', async () => {
    const m = await pap();
    const r = req('hello', 'Password.Cleartext := "hello"');
    expect(m.authorize(r, callCtx(r))).toBe('updated');
    expect(printPairList(r.control)).toContain('Auth-Type = ::PAP');
    expect(m.authorize(r, callCtx(r))).toBe('noop');
  });
  it('accepts v3 names', async () => {
    const r = req('hello', 'Cleartext-Password := "hello"');
    expect((await pap()).authorize(r, callCtx(r))).toBe('updated');
  });
  it('noop without User-Password or known-good password', async () => {
    const m = await pap();
    const r1 = makeRequest('User-Name = "bob"', { control: 'Password.Cleartext := "x"' });
    expect(m.authorize(r1, callCtx(r1))).toBe('noop');
    const r2 = req('x', '');
    expect(m.authorize(r2, callCtx(r2))).toBe('noop');
    expect(r2.control.length).toBe(0);
  });
  it('leaves an existing Auth-Type alone', async () => {
    const r = req('x', 'Auth-Type := Accept, Password.Cleartext := "x"');
    expect((await pap()).authorize(r, callCtx(r))).toBe('noop');
    expect(printPairList(r.control)).toContain('Auth-Type = ::Accept');
  });
});

describe('pap authenticate', () => {
  let m!: Pap;
  beforeAll(async () => { m = await pap(); });
  it('cleartext', () => {
    expect(auth(m, req('hello', 'Password.Cleartext := "hello"'))).toBe('ok');
    const r = req('hellO', 'Password.Cleartext := "hello"');
    expect(auth(m, r)).toBe('reject');
    expect(printPairList(r.request)).toMatch(/Module-Failure-Message = "pap: Password.Cleartext does not match/);
    expect(auth(m, req('hello!', 'Password.Cleartext := "hello"'))).toBe('reject');
  });
  it('cleartext beyond ASCII: UTF-8 text, and bytes that are not UTF-8 (escaped) compared as bytes', () => {
    const with2 = (given: string, stored: string): string => {
      const r = req('x', 'Password.Cleartext := "x"');
      r.request.find((p) => p.da.name === 'User-Password')!.value = given;
      const holder = r.control.find((p) => p.da.name === 'Password');
      (holder?.children ?? r.control).find((p) => p.da.name === 'Cleartext')!.value = stored;
      return auth(m, r);
    };
    expect(with2('pässwörd€😀', 'pässwörd€😀')).toBe('ok');
    expect(with2('pässwörd€😀', 'pässwörd€😁')).toBe('reject');
    expect(with2('pässwörd', 'passwörd')).toBe('reject');
    expect(with2('', 'x')).toBe('invalid');
    expect(with2('ab', 'abc')).toBe('reject');
    // An escaped byte (0xff) on both sides, and two different stray surrogates, which are the same bytes (EF BF BD).
    expect(with2('a\udcff', 'a\udcff')).toBe('ok');
    expect(with2('a\udcff', 'a\udcfe')).toBe('ok');
    expect(with2('a\udcff', 'ab')).toBe('reject');
  });
  it('invalid without User-Password or known-good password', () => {
    const r = makeRequest('User-Name = "bob"', { control: 'Password.Cleartext := "x"' });
    expect(auth(m, r)).toBe('invalid');
    expect(auth(m, req('x', ''))).toBe('invalid');
  });
  it('crypt $1$ $5$ $6$ $apr1$ and DES', () => {
    expect(auth(m, req('Hello world!', 'Password.Crypt := "$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1"'))).toBe('ok');
    expect(auth(m, req('Hello world!', 'Crypt-Password := "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"'))).toBe('ok');
    expect(auth(m, req('Hello world!', 'Password.Crypt := "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"'))).toBe('ok');
    expect(auth(m, req('Hello world', 'Password.Crypt := "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"'))).toBe('reject');
    expect(auth(m, req('secret', 'Password.Crypt := "$apr1$12345678$0lqb/6VUFP8JY/s/jTrIk0"'))).toBe('ok');
    expect(auth(m, req('password', 'Password.Crypt := "abJnggxhB/yWI"'))).toBe('ok');
    expect(auth(m, req('password', 'Password.Crypt := "$2b$05$abcdefghijklmnopqrstuuWG29KuyeAicPCJODk1zjyGvyQUU2awu"'))).toBe('ok');
    expect(auth(m, req('passwore', 'Password.Crypt := "$2b$05$abcdefghijklmnopqrstuuWG29KuyeAicPCJODk1zjyGvyQUU2awu"'))).toBe('reject');
    expect(auth(m, req('x', 'Password.Crypt := "abJnggxhB/yWI"'))).toBe('reject');
    expect(auth(m, req('x', 'Password.Crypt := "$y$j9T$abcdefghijklmnop$7asOTx5b6Exfl3myM6K0pLBn.I2hsEvu7G0F7NMfaO."'))).toBe('invalid');
  });
  it('MD5 and SMD5, hex or base64', () => {
    const md5 = crypto.createHash('md5').update('pw').digest();
    expect(auth(m, req('pw', `Password.MD5 := 0x${hex(md5)}`))).toBe('ok');
    expect(auth(m, req('pw', `MD5-Password := "${hex(md5)}"`))).toBe('ok');
    expect(auth(m, req('pw', `MD5-Password := "${b64(md5)}"`))).toBe('ok');
    expect(auth(m, req('px', `MD5-Password := "${hex(md5)}"`))).toBe('reject');
    const salt = Buffer.from('salty');
    const smd5 = Buffer.concat([crypto.createHash('md5').update('pw').update(salt).digest(), salt]);
    expect(auth(m, req('pw', `SMD5-Password := "${b64(smd5)}"`))).toBe('ok');
  });
  it('SHA1 and SSHA1', () => {
    const sha = crypto.createHash('sha1').update('pw').digest();
    expect(auth(m, req('pw', `SHA-Password := "${hex(sha)}"`))).toBe('ok');
    const salt = Buffer.from([1, 2, 3, 4]);
    const ssha = Buffer.concat([crypto.createHash('sha1').update('pw').update(salt).digest(), salt]);
    expect(auth(m, req('pw', `SSHA-Password := "${b64(ssha)}"`))).toBe('ok');
    expect(auth(m, req('pw', `Password.SSHA1 := 0x${hex(ssha)}`))).toBe('ok');
    expect(auth(m, req('pW', `SSHA-Password := "${b64(ssha)}"`))).toBe('reject');
  });
  it('SHA2 and SSHA2 of every size', () => {
    for (const [alg, n] of [['sha224', '224'], ['sha256', '256'], ['sha384', '384'], ['sha512', '512']]) {
      const d = crypto.createHash(alg).update('pw').digest();
      expect(auth(m, req('pw', `Password.SHA2-${n} := "${hex(d)}"`))).toBe('ok');
      expect(auth(m, req('pw', `Password.SHA2 := "${b64(d)}"`))).toBe('ok');
      const salt = Buffer.from('saltsalt');
      const s = Buffer.concat([crypto.createHash(alg).update('pw').update(salt).digest(), salt]);
      expect(auth(m, req('pw', `Password.SSHA2-${n} := "${b64(s)}"`))).toBe('ok');
      expect(auth(m, req('pq', `Password.SSHA2-${n} := "${b64(s)}"`))).toBe('reject');
    }
  });
  it('SHA3 and SSHA3', () => {
    for (const n of ['224', '256', '384', '512']) {
      const d = crypto.createHash(`sha3-${n}`).update('pw').digest();
      expect(auth(m, req('pw', `Password.SHA3-${n} := "${hex(d)}"`))).toBe('ok');
      expect(auth(m, req('pw', `Password.SHA3 := "${b64(d)}"`))).toBe('ok');
      const salt = Buffer.from('pepper');
      const s = Buffer.concat([crypto.createHash(`sha3-${n}`).update('pw').update(salt).digest(), salt]);
      expect(auth(m, req('pw', `Password.With-Header := "{ssha3-${n}}${b64(s)}"`))).toBe('ok');
      expect(auth(m, req('px', `Password.SSHA3-${n} := "${b64(s)}"`))).toBe('reject');
    }
  });
  it('NT-Password', () => {
    expect(auth(m, req('password', 'NT-Password := "8846F7EAEE8FB117AD06BDD830B7586C"'))).toBe('ok');
    expect(auth(m, req('password', 'Password.NT := 0x8846F7EAEE8FB117AD06BDD830B7586C'))).toBe('ok');
    expect(auth(m, req('Password', 'Password.NT := 0x8846F7EAEE8FB117AD06BDD830B7586C'))).toBe('reject');
  });
  it('With-Header normalisation', () => {
    const salt = Buffer.from('abcd');
    const ssha = Buffer.concat([crypto.createHash('sha1').update('pw').update(salt).digest(), salt]);
    expect(auth(m, req('pw', `Password.With-Header := "{ssha}${b64(ssha)}"`))).toBe('ok');
    expect(auth(m, req('pw', `Password.With-Header := "{SSHA}${b64(ssha)}"`))).toBe('ok');
    expect(auth(m, req('Hello world!', 'Password.With-Header := "{crypt}$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1"'))).toBe('ok');
    expect(auth(m, req('pw', 'Password.With-Header := "{clear}pw"'))).toBe('ok');
    expect(auth(m, req('pw', 'Password.With-Header := "pw"'))).toBe('ok');
    expect(auth(m, req('pw', 'Password.With-Header := "{nthash}8846F7EAEE8FB117AD06BDD830B7586C"'))).toBe('reject');
    expect(auth(m, req('password', 'Password.With-Header := "{nthash}8846F7EAEE8FB117AD06BDD830B7586C"'))).toBe('ok');
    expect(auth(m, req('pw', 'Password.With-Header := "{x-unknown}abc"'))).toBe('invalid');
  });
  it('prefers Cleartext when several known-good passwords exist; legacy control.User-Password', () => {
    const md5 = crypto.createHash('md5').update('other').digest();
    expect(auth(m, req('pw', `MD5-Password := "${hex(md5)}", Cleartext-Password := "pw"`))).toBe('ok');
    expect(auth(m, req('other', `MD5-Password := "${hex(md5)}", Cleartext-Password := "pw"`))).toBe('reject');
    expect(auth(m, req('pw', 'User-Password := "pw"'))).toBe('ok');
  });
  it('normify', () => {
    expect(normify(Buffer.from('00ff'), 2).toString('hex')).toBe('00ff');
    expect(normify(Buffer.from('abc'), 16).toString()).toBe('abc');
  });
});
