/**
 * MD4 (RFC 1320), for NT password hashes. Node's OpenSSL 3 build usually has MD4 only in
 * the legacy provider, so {@link md4} uses `crypto.createHash('md4')` when it works and this
 * implementation otherwise.
 */

import * as crypto from 'node:crypto';

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

/** MD4 written out from RFC 1320. */
export function md4Pure(input: Buffer): Buffer {
  const len = input.length;
  const padLen = ((len + 8) >>> 6) * 64 + 64;
  const msg = Buffer.alloc(padLen);
  input.copy(msg);
  msg[len] = 0x80;
  const bits = len * 8;
  msg.writeUInt32LE(bits >>> 0, padLen - 8);
  msg.writeUInt32LE(Math.floor(bits / 0x100000000) >>> 0, padLen - 4);

  let a = 0x67452301, b = 0xefcdab89, c = 0x98badcfe, d = 0x10325476;
  const X = new Array<number>(16);
  const F = (x: number, y: number, z: number) => (x & y) | (~x & z);
  const G = (x: number, y: number, z: number) => (x & y) | (x & z) | (y & z);
  const Hf = (x: number, y: number, z: number) => x ^ y ^ z;

  for (let off = 0; off < padLen; off += 64) {
    for (let i = 0; i < 16; i++) X[i] = msg.readUInt32LE(off + i * 4);
    const aa = a, bb = b, cc = c, dd = d;
    // Round 1.
    for (const i of [0, 4, 8, 12]) {
      a = rotl((a + F(b, c, d) + X[i]) | 0, 3);
      d = rotl((d + F(a, b, c) + X[i + 1]) | 0, 7);
      c = rotl((c + F(d, a, b) + X[i + 2]) | 0, 11);
      b = rotl((b + F(c, d, a) + X[i + 3]) | 0, 19);
    }
    // Round 2.
    for (const i of [0, 1, 2, 3]) {
      a = rotl((a + G(b, c, d) + X[i] + 0x5a827999) | 0, 3);
      d = rotl((d + G(a, b, c) + X[i + 4] + 0x5a827999) | 0, 5);
      c = rotl((c + G(d, a, b) + X[i + 8] + 0x5a827999) | 0, 9);
      b = rotl((b + G(c, d, a) + X[i + 12] + 0x5a827999) | 0, 13);
    }
    // Round 3.
    for (const i of [0, 2, 1, 3]) {
      a = rotl((a + Hf(b, c, d) + X[i] + 0x6ed9eba1) | 0, 3);
      d = rotl((d + Hf(a, b, c) + X[i + 8] + 0x6ed9eba1) | 0, 9);
      c = rotl((c + Hf(d, a, b) + X[i + 4] + 0x6ed9eba1) | 0, 11);
      b = rotl((b + Hf(c, d, a) + X[i + 12] + 0x6ed9eba1) | 0, 15);
    }
    a = (a + aa) | 0;
    b = (b + bb) | 0;
    c = (c + cc) | 0;
    d = (d + dd) | 0;
  }
  const out = Buffer.alloc(16);
  out.writeInt32LE(a, 0);
  out.writeInt32LE(b, 4);
  out.writeInt32LE(c, 8);
  out.writeInt32LE(d, 12);
  return out;
}

let native: boolean | undefined;

/** MD4 digest of `input`. */
export function md4(input: Buffer): Buffer {
  if (native === undefined) {
    try {
      crypto.createHash('md4');
      native = true;
    } catch {
      native = false;
    }
  }
  return native ? crypto.createHash('md4').update(input).digest() : md4Pure(input);
}

/** The NT password hash: MD4 of the password in UTF-16LE. */
export function ntHash(password: string): Buffer {
  return md4(Buffer.from(password, 'utf16le'));
}
