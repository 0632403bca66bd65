/**
 * bcrypt (`$2a$`, `$2b$`, `$2y$`): the Blowfish-based password hash of Provos and Mazières
 * ("A Future-Adaptable Password Scheme", 1999), written from that description and the
 * Blowfish specification (Schneier, 1993).
 *
 * Blowfish's initial P-array and S-boxes are the fractional hexadecimal digits of π. Rather
 * than carrying 1042 constants, they are computed once (on first use) with Machin's formula
 * in BigInt fixed point; the first and last words are checked against the published values.
 */

const WORDS = 18 + 4 * 256;

let piWords: Uint32Array | undefined;

/** atan(1/x) scaled by 2^bits, as a BigInt (alternating series). */
function atanInv(x: bigint, bits: bigint): bigint {
  const one = 1n << bits;
  const x2 = x * x;
  let term = one / x;
  let sum = term;
  for (let k = 1n; term !== 0n; k++) {
    term /= x2;
    const t = term / (2n * k + 1n);
    sum = k & 1n ? sum - t : sum + t;
  }
  return sum;
}

/** The first 1042 32-bit words of π's fractional part (Blowfish's initial state). */
export function blowfishInit(): Uint32Array {
  if (piWords) return piWords;
  const bits = BigInt(WORDS * 32 + 64);
  const pi = 16n * atanInv(5n, bits) - 4n * atanInv(239n, bits);
  const frac = pi & ((1n << bits) - 1n);
  const words = new Uint32Array(WORDS);
  let v = frac >> 64n; // drop the guard bits
  for (let i = WORDS - 1; i >= 0; i--) {
    words[i] = Number(v & 0xffffffffn);
    v >>= 32n;
  }
  if (words[0] !== 0x243f6a88 || words[WORDS - 1] !== 0x3ac372e6) throw new Error('blowfish: bad initial state');
  piWords = words;
  return words;
}

class Blowfish {
  readonly P: Uint32Array;
  readonly S: Uint32Array;

  constructor() {
    const init = blowfishInit();
    this.P = init.slice(0, 18);
    this.S = init.slice(18);
  }

  private F(x: number): number {
    const S = this.S;
    return (((S[x >>> 24] + S[256 + ((x >>> 16) & 0xff)]) ^ S[512 + ((x >>> 8) & 0xff)]) + S[768 + (x & 0xff)]) >>> 0;
  }

  /** Encrypts the pair in `lr[off]`, `lr[off + 1]` in place. */
  encrypt(lr: Uint32Array, off: number): void {
    const P = this.P;
    let l = lr[off];
    let r = lr[off + 1];
    for (let i = 0; i < 16; i += 2) {
      l ^= P[i];
      r ^= this.F(l);
      r ^= P[i + 1];
      l ^= this.F(r);
    }
    l ^= P[16];
    r ^= P[17];
    lr[off] = r >>> 0;
    lr[off + 1] = l >>> 0;
  }

  /** The eksblowfish key schedule step; `salt` undefined for the plain (Expand0) variant. */
  expand(key: Buffer, salt?: Buffer): void {
    let kj = 0;
    const kword = (): number => {
      let w = 0;
      for (let i = 0; i < 4; i++) {
        w = ((w << 8) | key[kj]) >>> 0;
        kj = (kj + 1) % key.length;
      }
      return w;
    };
    let sj = 0;
    const sword = (): number => {
      let w = 0;
      for (let i = 0; i < 4; i++) {
        w = ((w << 8) | salt![sj]) >>> 0;
        sj = (sj + 1) % salt!.length;
      }
      return w;
    };
    for (let i = 0; i < 18; i++) this.P[i] = (this.P[i] ^ kword()) >>> 0;
    const lr = new Uint32Array(2);
    const fill = (arr: Uint32Array, n: number): void => {
      for (let i = 0; i < n; i += 2) {
        if (salt) {
          lr[0] ^= sword();
          lr[1] ^= sword();
        }
        this.encrypt(lr, 0);
        arr[i] = lr[0];
        arr[i + 1] = lr[1];
      }
    };
    fill(this.P, 18);
    fill(this.S, 1024);
  }
}

const B64 = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function encode(b: Buffer, chars: number): string {
  let out = '';
  let acc = 0;
  let nbits = 0;
  for (const byte of b) {
    acc = (acc << 8) | byte;
    nbits += 8;
    while (nbits >= 6) {
      nbits -= 6;
      out += B64[(acc >> nbits) & 0x3f];
    }
    acc &= (1 << nbits) - 1;
  }
  if (nbits > 0) out += B64[(acc << (6 - nbits)) & 0x3f];
  return out.slice(0, chars);
}

function decode(s: string, bytes: number): Buffer | undefined {
  const out = Buffer.alloc(bytes);
  let acc = 0;
  let nbits = 0;
  let n = 0;
  for (const ch of s) {
    const v = B64.indexOf(ch);
    if (v < 0) return undefined;
    acc = ((acc << 6) | v) & 0xffff;
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      if (n < bytes) out[n++] = (acc >> nbits) & 0xff;
    }
  }
  return n === bytes ? out : undefined;
}

/**
 * bcrypt of `password` with the setting of `stored` (`$2b$10$<22 salt chars>…`). Returns the
 * full 60-character hash, or undefined when the setting is malformed.
 */
export function bcryptHash(password: Buffer, stored: string): string | undefined {
  const m = /^\$2([aby])\$(\d\d)\$([./A-Za-z0-9]{22})/.exec(stored);
  if (!m) return undefined;
  const cost = Number(m[2]);
  if (cost < 4 || cost > 31) return undefined;
  const salt = decode(m[3], 16);
  if (!salt) return undefined;
  // The key is the password with its terminating NUL, at most 72 bytes of password.
  const key = Buffer.concat([password.subarray(0, 72), Buffer.alloc(1)]);
  const bf = new Blowfish();
  bf.expand(key, salt);
  for (let i = 2 ** cost; i > 0; i--) {
    bf.expand(key);
    bf.expand(salt);
  }
  const text = Buffer.from('OrpheanBeholderScryDoubt', 'latin1');
  const c = new Uint32Array(6);
  for (let i = 0; i < 6; i++) c[i] = text.readUInt32BE(i * 4);
  for (let i = 0; i < 64; i++) for (let j = 0; j < 6; j += 2) bf.encrypt(c, j);
  const out = Buffer.alloc(24);
  for (let i = 0; i < 6; i++) out.writeUInt32BE(c[i], i * 4);
  return `$2${m[1]}$${m[2]}$${encode(salt, 22)}${encode(out.subarray(0, 23), 31)}`;
}
