import * as crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePbkdf2 } from './pap';

describe('pap PBKDF2 known-good passwords', () => {
  it('parses the FreeRADIUS form (base64 iterations, salt, hash)', () => {
    const salt = Buffer.from('0123456789abcdef');
    const hash = crypto.pbkdf2Sync('password', salt, 1000, 32, 'sha256');
    const it = Buffer.alloc(4);
    it.writeUInt32BE(1000);
    const spec = parsePbkdf2(`HMACSHA2+256:${it.toString('base64')}:${salt.toString('base64')}:${hash.toString('base64')}`);
    expect(spec).toEqual({ digest: 'sha256', iterations: 1000, salt, hash });
  });

  it('parses the 389ds form with decimal iterations', () => {
    const spec = parsePbkdf2('{PBKDF2-SHA1}10000$c2FsdA==$aGFzaA==');
    expect(spec).toEqual({ digest: 'sha1', iterations: 10000, salt: Buffer.from('salt'), hash: Buffer.from('hash') });
  });

  it('gives a reason for malformed values', () => {
    expect(parsePbkdf2('HMACSHA2+256::c2FsdA==:aGFzaA==')).toMatch(/iterations/);
    expect(parsePbkdf2('HMACSHA2+256:AAAAA:c2FsdA==:aGFzaA==')).toMatch(/iterations/);
    expect(parsePbkdf2('HMACMD5:AAAAAQ==:c2FsdA==:aGFzaA==')).toMatch(/unknown PBKDF2 digest/);
    expect(parsePbkdf2('nonsense')).toMatch(/not <digest>/);
  });
});
