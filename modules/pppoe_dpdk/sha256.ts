/**
 * HMAC-SHA-256 (RFC 2104, FIPS 180-4) for short messages, without allocation: the AC-Cookie of every PADO and
 * PADR. The key's inner and outer blocks are compressed once (the two midstates), so a MAC of a message of at
 * most 55 bytes costs two compressions over preallocated typed arrays. `crypto.hash` allocated a result Buffer and
 * lowered the algorithm name per call, which made the lcore's steady young-generation churn.
 */

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

/** Longest message `mac` takes: one block with the 0x80 byte and the 8-byte length. */
export const HMAC_SHA256_MAX_MESSAGE = 55;

export class HmacSha256 {
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);
  private readonly h = new Int32Array(8);
  private readonly w = new Int32Array(64);
  private readonly block = new Uint8Array(64);

  constructor(key: Uint8Array) {
    if (key.length > 64) throw new Error('HmacSha256: hash a key longer than 64 bytes first (RFC 2104 §2)');
    for (let i = 0; i < 64; i++) this.block[i] = (key[i] ?? 0) ^ 0x36;
    this.inner.set(IV);
    compress(this.inner, this.block, this.w);
    for (let i = 0; i < 64; i++) this.block[i] = (key[i] ?? 0) ^ 0x5c;
    this.outer.set(IV);
    compress(this.outer, this.block, this.w);
  }

  /** Writes the first `outLen` (≤ 32) bytes of HMAC(key, msg[off, off + len)) at out[outOff]; len ≤ 55. */
  mac(msg: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number, outLen: number): void {
    const b = this.block;
    const h = this.h;
    // inner: H(K ⊕ ipad ‖ msg), the second block padded (64 + len bytes in all)
    for (let i = 0; i < len; i++) b[i] = msg[off + i];
    pad(b, len, 64 + len);
    h.set(this.inner);
    compress(h, b, this.w);
    // outer: H(K ⊕ opad ‖ inner digest), 96 bytes in all
    for (let i = 0; i < 8; i++) {
      const v = h[i];
      b[i * 4] = v >>> 24;
      b[i * 4 + 1] = v >>> 16;
      b[i * 4 + 2] = v >>> 8;
      b[i * 4 + 3] = v;
    }
    pad(b, 32, 96);
    h.set(this.outer);
    compress(h, b, this.w);
    for (let i = 0; i < outLen; i++) out[outOff + i] = h[i >> 2] >>> (24 - ((i & 3) << 3));
  }
}

/** FIPS 180-4 §5.1.1 padding of a last block holding `used` bytes of a `total`-byte message (total < 2^29). */
function pad(b: Uint8Array, used: number, total: number): void {
  b[used] = 0x80;
  for (let i = used + 1; i < 60; i++) b[i] = 0;
  const bits = total * 8;
  b[60] = bits >>> 24;
  b[61] = bits >>> 16;
  b[62] = bits >>> 8;
  b[63] = bits;
}

function compress(h: Int32Array, b: Uint8Array, w: Int32Array): void {
  for (let i = 0; i < 16; i++) w[i] = (b[i * 4] << 24) | (b[i * 4 + 1] << 16) | (b[i * 4 + 2] << 8) | b[i * 4 + 3];
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15];
    const y = w[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
  }
  let a = h[0];
  let bb = h[1];
  let c = h[2];
  let d = h[3];
  let e = h[4];
  let f = h[5];
  let g = h[6];
  let hh = h[7];
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (hh + S1 + ch + K[i] + w[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & bb) ^ (a & c) ^ (bb & c);
    const t2 = (S0 + maj) | 0;
    hh = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = bb;
    bb = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0] + a) | 0;
  h[1] = (h[1] + bb) | 0;
  h[2] = (h[2] + c) | 0;
  h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0;
  h[5] = (h[5] + f) | 0;
  h[6] = (h[6] + g) | 0;
  h[7] = (h[7] + hh) | 0;
}
