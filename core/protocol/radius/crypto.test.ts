import * as crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacMd5, md5 } from './crypto';

describe('MD5 / HMAC-MD5 (JavaScript path for small inputs)', () => {
  it('md5 matches node:crypto for every length up to 1200 bytes', () => {
    for (let len = 0; len < 1200; len++) {
      const b = crypto.randomBytes(len);
      expect(md5(b).equals(crypto.createHash('md5').update(b).digest()), `length ${len}`).toBe(true);
    }
  });

  it('md5 known answers (RFC 1321 A.5)', () => {
    expect(md5(Buffer.from('')).toString('hex')).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(md5(Buffer.from('abc')).toString('hex')).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(md5(Buffer.from('12345678901234567890123456789012345678901234567890123456789012345678901234567890')).toString('hex'))
      .toBe('57edf4a22be3c955ac49da2e2107b67a');
  });

  it('hmacMd5 matches createHmac for split and whole messages and any key length', () => {
    for (const keyLen of [0, 1, 10, 63, 64, 65, 100]) {
      const key = crypto.randomBytes(keyLen);
      for (let len = 0; len < 700; len += 7) {
        const msg = crypto.randomBytes(len);
        const want = crypto.createHmac('md5', key).update(msg).digest();
        expect(hmacMd5(key, msg).equals(want), `key ${keyLen} msg ${len}`).toBe(true);
        const a = len >> 2, b = len >> 1;
        expect(hmacMd5(key, msg.subarray(0, a), msg.subarray(a, b), msg.subarray(b)).equals(want)).toBe(true);
      }
    }
  });

  it('hmacMd5 known answer (RFC 2104 test vector 2) and large messages', () => {
    expect(hmacMd5(Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?')).toString('hex')).toBe('750c783e6ab0b503eaa86e310a5db738');
    const key = Buffer.from('testing123');
    const big = crypto.randomBytes(20000);
    expect(hmacMd5(key, big).equals(crypto.createHmac('md5', key).update(big).digest())).toBe(true);
  });

  it('a secret Buffer changed in place is not served from the key cache', () => {
    const key = Buffer.from('secret-one');
    const msg = Buffer.from('message');
    expect(hmacMd5(key, msg).equals(crypto.createHmac('md5', Buffer.from('secret-one')).update(msg).digest())).toBe(true);
    key.write('secret-two');
    expect(hmacMd5(key, msg).equals(crypto.createHmac('md5', Buffer.from('secret-two')).update(msg).digest())).toBe(true);
  });
});
