/**
 * crypt(3) password hashes, implemented from their published descriptions because
 * Node has no crypt(3):
 *
 * - `$1$` MD5-crypt (Poul-Henning Kamp's FreeBSD scheme) and `$apr1$` (Apache's variant,
 *   same algorithm with another magic string);
 * - `$5$` / `$6$` SHA-256-crypt / SHA-512-crypt (Ulrich Drepper's "Unix crypt using
 *   SHA-256 and SHA-512" specification), including `rounds=N`.
 *
 * - `$2a$` / `$2b$` / `$2y$` bcrypt (`bcrypt.ts`);
 * - traditional DES crypt (13 characters, `des-crypt.ts`).
 *
 * Other schemes (`$y$` yescrypt, `$7$` scrypt, extended `_` DES) are not supported
 * ({@link cryptHash} returns undefined for them).
 */

import * as crypto from 'node:crypto';
import { bcryptHash } from './bcrypt';
import { desCrypt } from './des-crypt';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `n` characters of the crypt base-64 encoding of the 24-bit value `v`, least significant first. */
function to64(v: number, n: number): string {
  let s = '';
  while (n-- > 0) {
    s += ITOA64[v & 0x3f];
    v >>>= 6;
  }
  return s;
}

/**
 * The rounds MD5-crypt and SHA-crypt share: round `i` hashes `p` or the previous digest (odd /
 * even), then `s` unless `i` is a multiple of 3, `p` unless a multiple of 7, then the other of
 * the previous digest and `p`. Starts from the digest `c`; returns the last one.
 */
function mixRounds(alg: string, rounds: number, p: Buffer, s: Buffer, c: Buffer): Buffer {
  for (let i = 0; i < rounds; i++) {
    const h = crypto.createHash(alg);
    h.update(i & 1 ? p : c);
    if (i % 3) h.update(s);
    if (i % 7) h.update(p);
    h.update(i & 1 ? c : p);
    c = h.digest();
  }
  return c;
}

/** MD5-crypt: `magic` is `$1$` or `$apr1$`; `salt` is cut at 8 characters and at `$`. */
export function md5Crypt(password: Buffer, salt: string, magic = '$1$'): string {
  salt = salt.split('$')[0].slice(0, 8);
  const s = Buffer.from(salt, 'utf8');
  const md5 = () => crypto.createHash('md5');
  const alt = md5().update(password).update(s).update(password).digest();
  const ctx = md5().update(password).update(magic).update(s);
  for (let pl = password.length; pl > 0; pl -= 16) ctx.update(alt.subarray(0, Math.min(pl, 16)));
  // The historical quirk: a NUL byte for each set bit of the length, else the first password byte.
  for (let i = password.length; i; i >>>= 1) ctx.update(i & 1 ? Buffer.alloc(1) : password.subarray(0, 1));
  const f = mixRounds('md5', 1000, password, s, ctx.digest());
  const out =
    to64((f[0] << 16) | (f[6] << 8) | f[12], 4) +
    to64((f[1] << 16) | (f[7] << 8) | f[13], 4) +
    to64((f[2] << 16) | (f[8] << 8) | f[14], 4) +
    to64((f[3] << 16) | (f[9] << 8) | f[15], 4) +
    to64((f[4] << 16) | (f[10] << 8) | f[5], 4) +
    to64(f[11], 2);
  return `${magic}${salt}$${out}`;
}

const ORDER_256: readonly (readonly [number, number, number])[] = [
  [0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14],
  [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29],
];
const ORDER_512: readonly (readonly [number, number, number])[] = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
  [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
  [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
];

const ROUNDS_DEFAULT = 5000;
const ROUNDS_MIN = 1000;
const ROUNDS_MAX = 999_999_999;

/** `len` bytes made of `src` repeated (the P and S sequences of the spec). */
function repeatTo(src: Buffer, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i += src.length) src.copy(out, i, 0, Math.min(src.length, len - i));
  return out;
}

/**
 * SHA-crypt (`$5$` with sha256, `$6$` with sha512). `setting` is everything after the
 * magic: `[rounds=N$]salt[$…]`.
 */
export function shaCrypt(password: Buffer, setting: string, alg: 'sha256' | 'sha512'): string {
  const magic = alg === 'sha256' ? '$5$' : '$6$';
  const hlen = alg === 'sha256' ? 32 : 64;
  let rounds = ROUNDS_DEFAULT;
  let custom = false;
  const rm = /^rounds=(\d+)\$/.exec(setting);
  if (rm) {
    rounds = Math.min(ROUNDS_MAX, Math.max(ROUNDS_MIN, Number(rm[1])));
    custom = true;
    setting = setting.slice(rm[0].length);
  }
  const salt = setting.split('$')[0].slice(0, 16);
  const S = Buffer.from(salt, 'utf8');
  const P = password;
  const H = () => crypto.createHash(alg);

  const B = H().update(P).update(S).update(P).digest();
  const a = H().update(P).update(S);
  let cnt = P.length;
  for (; cnt > hlen; cnt -= hlen) a.update(B);
  a.update(B.subarray(0, cnt));
  for (let n = P.length; n > 0; n >>>= 1) a.update(n & 1 ? B : P);
  const A = a.digest();

  const dp = H();
  for (let i = 0; i < P.length; i++) dp.update(P);
  const Pseq = repeatTo(dp.digest(), P.length);
  const ds = H();
  for (let i = 0; i < 16 + A[0]; i++) ds.update(S);
  const Sseq = repeatTo(ds.digest(), S.length);

  const C = mixRounds(alg, rounds, Pseq, Sseq, A);

  let out = '';
  for (const [x, y, z] of alg === 'sha256' ? ORDER_256 : ORDER_512) out += to64((C[x] << 16) | (C[y] << 8) | C[z], 4);
  out += alg === 'sha256' ? to64((C[31] << 8) | C[30], 3) : to64(C[63], 2);
  return `${magic}${custom ? `rounds=${rounds}$` : ''}${salt}$${out}`;
}

/**
 * Hashes `password` with the scheme and salt of `stored` (a full crypt string), as
 * crypt(3) does. Returns undefined for schemes this module does not implement.
 */
export function cryptHash(password: Buffer, stored: string): string | undefined {
  if (stored.startsWith('$1$')) return md5Crypt(password, stored.slice(3), '$1$');
  if (stored.startsWith('$apr1$')) return md5Crypt(password, stored.slice(6), '$apr1$');
  if (stored.startsWith('$5$')) return shaCrypt(password, stored.slice(3), 'sha256');
  if (stored.startsWith('$6$')) return shaCrypt(password, stored.slice(3), 'sha512');
  if (/^\$2[aby]\$/.test(stored)) return bcryptHash(password, stored);
  if (/^[./0-9A-Za-z]{13}$/.test(stored)) return desCrypt(password, stored);
  return undefined;
}

/** True when `password` matches the crypt string `stored` (constant-time on the hash text). */
export function cryptVerify(password: Buffer, stored: string): boolean | undefined {
  const h = cryptHash(password, stored);
  if (h === undefined) return undefined;
  const a = Buffer.from(h);
  const b = Buffer.from(stored);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}
