import * as crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { desBlock, desCrypt, desKeySchedule, fromBits, toBits } from './des-crypt';

describe('DES', () => {
  it('matches OpenSSL single DES (3DES with one key) on random blocks', () => {
    for (let i = 0; i < 20; i++) {
      const key = crypto.randomBytes(8);
      const block = crypto.randomBytes(8);
      const c = crypto.createCipheriv('des-ede3-ecb', Buffer.concat([key, key, key]), null);
      c.setAutoPadding(false);
      const want = Buffer.concat([c.update(block), c.final()]);
      expect(fromBits(desBlock(toBits(block), desKeySchedule(key))).toString('hex')).toBe(want.toString('hex'));
    }
  });
  it('crypt vectors (produced with perl crypt(), i.e. the C library)', () => {
    const b = (s: string) => Buffer.from(s);
    expect(desCrypt(b('password'), 'ab')).toBe('abJnggxhB/yWI');
    expect(desCrypt(b('x'), 'ab')).toBe('abiQ6Ep3EYTHc');
    expect(desCrypt(b(''), 'ab')).toBe('abmF1QH4PEr.E');
    expect(desCrypt(b('longpassword'), 'ab')).toBe('abD6HAB6eqg.k');
    expect(desCrypt(b('a b'), 'ab')).toBe('abLgvQIonbATI');
    expect(desCrypt(b('test'), './')).toBe('./H7.I.sVn7zo');
    expect(desCrypt(b('test'), 'zZ')).toBe('zZ2FT51eQDxN6');
    expect(desCrypt(b('Hello world!'), 'sa')).toBe('saszt8mUri4AI');
  });
});
