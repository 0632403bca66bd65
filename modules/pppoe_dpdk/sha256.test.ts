import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HMAC_SHA256_MAX_MESSAGE, HmacSha256 } from './sha256';

describe('HmacSha256', () => {
  it('matches crypto.createHmac for keys of 0–64 bytes and messages of 0–55 bytes', () => {
    for (let keyLen = 0; keyLen <= 64; keyLen += 7) {
      const key = randomBytes(keyLen);
      const h = new HmacSha256(key);
      for (let len = 0; len <= HMAC_SHA256_MAX_MESSAGE; len++) {
        const msg = randomBytes(len + 3);
        const out = new Uint8Array(40);
        h.mac(msg, 3, len, out, 5, 32);
        expect(Buffer.from(out.subarray(5, 37)).toString('hex')).toBe(createHmac('sha256', key).update(msg.subarray(3)).digest('hex'));
      }
    }
  });

  it('gives the RFC 4231 test case 2 value and truncates to outLen', () => {
    const h = new HmacSha256(Buffer.from('Jefe'));
    const out = new Uint8Array(16);
    h.mac(Buffer.from('what do ya want for nothing?'), 0, 28, out, 0, 16);
    expect(Buffer.from(out).toString('hex')).toBe('5bdcc146bf60754e6a042426089575c7');
  });

  it('refuses a key longer than a block', () => {
    expect(() => new HmacSha256(new Uint8Array(65))).toThrow(/longer than 64/);
  });
});
