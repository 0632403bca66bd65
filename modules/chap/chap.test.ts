import 'reflect-metadata';
import * as crypto from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Chap } from './chap';
import def from './index';
import { callCtx, loadTestModule, makeRequest } from '../../test/support/module-call';
import { printPairList } from '../../core';
import type { Request } from '../../core';

/** A `chap { }` instance loaded through the loader (attributes injected as MODULE_DICT). */
const chap = () => loadTestModule(def, '');
const auth = (m: Chap, r: Request) => m.authenticate(r, callCtx(r, { name1: 'authenticate', name2: 'chap' }));
const response = (id: number, pw: string, challenge: Buffer) =>
  Buffer.concat([Buffer.from([id]), crypto.createHash('md5').update(Buffer.from([id])).update(pw).update(challenge).digest()]);

describe('chap', () => {
  let m!: Chap;
  beforeAll(async () => { m = await chap(); });
  const challenge = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  it('authorize sets Auth-Type CHAP only with CHAP-Password', () => {
    const r = makeRequest(`User-Name = "bob", CHAP-Password = 0x${response(1, 'hello', challenge).toString('hex')}`);
    expect(m.authorize(r, callCtx(r))).toBe('updated');
    expect(printPairList(r.control)).toBe('Auth-Type = ::CHAP');
    expect(m.authorize(r, callCtx(r))).toBe('noop');
    const r2 = makeRequest('User-Name = "bob", User-Password = "x"');
    expect(m.authorize(r2, callCtx(r2))).toBe('noop');
  });
  it('CHAP-Challenge', () => {
    const ok = makeRequest(`CHAP-Password = 0x${response(7, 'hello', challenge).toString('hex')}, CHAP-Challenge = 0x${challenge.toString('hex')}`, { control: 'Cleartext-Password := "hello"' });
    expect(auth(m, ok)).toBe('ok');
    const bad = makeRequest(`CHAP-Password = 0x${response(7, 'hellx', challenge).toString('hex')}, CHAP-Challenge = 0x${challenge.toString('hex')}`, { control: 'Password.Cleartext := "hello"' });
    expect(auth(m, bad)).toBe('reject');
    expect(printPairList(bad.request)).toContain('Module-Failure-Message');
  });
  it('Request Authenticator as the challenge', () => {
    const vector = crypto.randomBytes(16);
    const r = makeRequest(`CHAP-Password = 0x${response(9, 'hello', vector).toString('hex')}`, { control: 'Password.Cleartext := "hello"' });
    (r as unknown as { authenticator: Buffer }).authenticator = vector;
    expect(auth(m, r)).toBe('ok');
    const r2 = makeRequest(`CHAP-Password = 0x${response(9, 'hello', vector).toString('hex')}, Packet-Authentication-Vector = 0x${vector.toString('hex')}`, { control: 'Password.Cleartext := "hello"' });
    expect(auth(m, r2)).toBe('ok');
  });
  it('invalid and fail cases', () => {
    expect(auth(m, makeRequest('User-Name = "x"', { control: 'Password.Cleartext := "hello"' }))).toBe('invalid');
    expect(auth(m, makeRequest('CHAP-Password = 0x0102', { control: 'Password.Cleartext := "hello"' }))).toBe('invalid');
    expect(auth(m, makeRequest(`CHAP-Password = 0x${response(1, 'x', challenge).toString('hex')}, CHAP-Challenge = 0x${challenge.toString('hex')}`))).toBe('fail');
  });
});
