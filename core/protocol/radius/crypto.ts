/**
 * RADIUS hashing and attribute hiding: MD5 helpers, User-Password (RFC 2865 §5.2),
 * Tunnel-Password (RFC 2868 §3.5), Ascend-Send-Secret (`encrypt=3`), and the
 * FreeRADIUS `fr_fast_rand` generator used for salts in test vectors.
 *
 * All functions are pure; none log or keep secrets.
 */
import * as crypto from 'node:crypto';
import { nativeMd5 } from '../../native/udp';

const hasOneShot = typeof (crypto as { hash?: unknown }).hash === 'function';

// ---------------------------------------------------------------------------
// MD5 in JavaScript (RFC 1321) for RADIUS-sized inputs.
//
// Every packet costs six MD5s (Message-Authenticator check, User-Password, then the
// reply's Message-Authenticator and Response Authenticator), each over 16–200 bytes. For
// inputs that small the fixed cost of a call into OpenSSL (`crypto.hash`) is larger than the
// hashing itself: the block function below is about twice as fast up to a few hundred bytes,
// and HMAC-MD5 can start from the cached state after the key block (one block less for the
// inner and for the outer hash). Larger inputs still go to `crypto.hash`.

/** Per-round left-rotation amounts. */
const MD5_S = new Uint8Array([
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
  5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
]);
/** Per-round constants floor(|sin(i + 1)| * 2^32). */
const MD5_K = new Int32Array(64);
for (let i = 0; i < 64; i++) MD5_K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) | 0;
/** Message-word index per round. */
const MD5_G = new Uint8Array(64);
for (let i = 0; i < 64; i++) MD5_G[i] = i < 16 ? i : i < 32 ? (5 * i + 1) & 15 : i < 48 ? (3 * i + 5) & 15 : (7 * i) & 15;
const MD5_X = new Int32Array(16);
const MD5_IV = [0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476];
const MD5_IV_STATE = Int32Array.from(MD5_IV);
/** Inputs up to this many bytes are hashed in JavaScript. */
const JS_MD5_MAX = 512;

/** Runs the compression function on the 64 bytes of `b` at `o`, updating `st`. */
function md5Block(st: Int32Array, b: Uint8Array, o: number): void {
  const x = MD5_X;
  for (let i = 0; i < 16; i++, o += 4) x[i] = b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
  let a = st[0], bb = st[1], c = st[2], d = st[3];
  for (let i = 0; i < 64; i++) {
    const f = i < 16 ? (bb & c) | (~bb & d) : i < 32 ? (d & bb) | (~d & c) : i < 48 ? bb ^ c ^ d : c ^ (bb | ~d);
    const t = d;
    d = c;
    c = bb;
    const y = (a + f + MD5_K[i] + x[MD5_G[i]]) | 0;
    const s = MD5_S[i];
    bb = (bb + ((y << s) | (y >>> (32 - s)))) | 0;
    a = t;
  }
  st[0] = (st[0] + a) | 0;
  st[1] = (st[1] + bb) | 0;
  st[2] = (st[2] + c) | 0;
  st[3] = (st[3] + d) | 0;
}

const md5Tail = new Uint8Array(128);
const md5State = new Int32Array(4);

/**
 * MD5 of `data[start, end)` continued from `init` (the state after `prefixLen` bytes, a
 * multiple of 64), written into `out` at `outOff`.
 */
function md5Js(init: Int32Array, prefixLen: number, data: Uint8Array, start: number, end: number, out: Uint8Array, outOff: number): void {
  const st = md5State;
  st[0] = init[0]; st[1] = init[1]; st[2] = init[2]; st[3] = init[3];
  let o = start;
  for (; o + 64 <= end; o += 64) md5Block(st, data, o);
  const r = end - o;
  const tail = md5Tail;
  const tl = r < 56 ? 64 : 128;
  for (let i = 0; i < r; i++) tail[i] = data[o + i];
  tail[r] = 0x80;
  tail.fill(0, r + 1, tl - 8);
  const bits = (prefixLen + end - start) * 8;
  tail[tl - 8] = bits & 255;
  tail[tl - 7] = (bits >>> 8) & 255;
  tail[tl - 6] = (bits >>> 16) & 255;
  tail[tl - 5] = (bits >>> 24) & 255;
  const hi = Math.floor(bits / 4294967296);
  tail[tl - 4] = hi & 255;
  tail[tl - 3] = (hi >>> 8) & 255;
  tail[tl - 2] = (hi >>> 16) & 255;
  tail[tl - 1] = (hi >>> 24) & 255;
  md5Block(st, tail, 0);
  if (tl === 128) md5Block(st, tail, 64);
  for (let i = 0; i < 4; i++) {
    const w = st[i];
    const p = outOff + i * 4;
    out[p] = w & 255;
    out[p + 1] = (w >>> 8) & 255;
    out[p + 2] = (w >>> 16) & 255;
    out[p + 3] = (w >>> 24) & 255;
  }
}

/**
 * The MD5 used for RADIUS-sized inputs: the native addon's (core/native/udp, src/md5.c) when it is built, about
 * 2-3x cheaper per call than {@link md5Js} including the call into C; else the JavaScript one.
 */
const md5Small: typeof md5Js = nativeMd5() ?? md5Js;

/** MD5 of one buffer (JavaScript for small inputs, else one-shot `crypto.hash` where the runtime has it). */
export function md5(data: Buffer): Buffer {
  if (data.length <= JS_MD5_MAX) {
    const out = Buffer.allocUnsafe(16);
    md5Small(MD5_IV_STATE, 0, data, 0, data.length, out, 0);
    return out;
  }
  if (hasOneShot) return crypto.hash('md5', data, 'buffer') as Buffer;
  return crypto.createHash('md5').update(data).digest();
}

/** The MD5 states after the HMAC key blocks (key XOR ipad, key XOR opad) of one secret. */
interface HmacKeyState {
  /** A copy of the secret (a Buffer changed in place must not hit a stale entry). */
  readonly secret: Uint8Array;
  readonly inner: Int32Array;
  readonly outer: Int32Array;
}

/** Key states per secret Buffer (a client's secret lives as long as its configuration). */
const hmacKeys = new WeakMap<Buffer, HmacKeyState>();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hmacKeyState(secret: Buffer): HmacKeyState {
  let ks = hmacKeys.get(secret);
  if (ks !== undefined && sameBytes(ks.secret, secret)) return ks;
  const key = secret.length > 64 ? md5(secret) : secret;
  const blk = new Uint8Array(64);
  const inner = Int32Array.from(MD5_IV);
  const outer = Int32Array.from(MD5_IV);
  blk.fill(0x36);
  for (let i = 0; i < key.length; i++) blk[i] ^= key[i];
  md5Block(inner, blk, 0);
  blk.fill(0x5c);
  for (let i = 0; i < key.length; i++) blk[i] ^= key[i];
  md5Block(outer, blk, 0);
  ks = { secret: Uint8Array.from(secret), inner, outer };
  hmacKeys.set(secret, ks);
  return ks;
}

let hmacScratch = Buffer.allocUnsafe(4096 + 64);
const hmacInnerDigest = new Uint8Array(16);

/**
 * HMAC-MD5 (RFC 2104) over the concatenation of `parts`, keyed with the
 * shared secret. The MD5 states after the key blocks are cached per secret,
 * so a RADIUS-sized message costs its own blocks plus one.
 */
export function hmacMd5(secret: Buffer, ...parts: Buffer[]): Buffer {
  let total = 0;
  for (const p of parts) total += p.length;
  if (total > JS_MD5_MAX * 16) return hmacMd5Native(secret, parts, total);
  const ks = hmacKeyState(secret);
  let msg: Uint8Array;
  if (parts.length === 1) msg = parts[0];
  else {
    if (hmacScratch.length < total) hmacScratch = Buffer.allocUnsafe(total);
    let o = 0;
    for (const p of parts) { p.copy(hmacScratch, o); o += p.length; }
    msg = hmacScratch;
  }
  md5Small(ks.inner, 64, msg, 0, total, hmacInnerDigest, 0);
  const out = Buffer.allocUnsafe(16);
  md5Small(ks.outer, 64, hmacInnerDigest, 0, 16, out, 0);
  return out;
}

/** HMAC-MD5 from two one-shot MD5s (large messages). */
function hmacMd5Native(secret: Buffer, parts: Buffer[], total: number): Buffer {
  const key = secret.length > 64 ? md5(secret) : secret;
  const inner = Buffer.allocUnsafe(64 + total);
  inner.fill(0x36, 0, 64);
  for (let i = 0; i < key.length; i++) inner[i] ^= key[i];
  let o = 64;
  for (const p of parts) { p.copy(inner, o); o += p.length; }
  const ih = md5(inner);
  const outer = Buffer.allocUnsafe(80);
  outer.fill(0x5c, 0, 64);
  for (let i = 0; i < key.length; i++) outer[i] ^= key[i];
  ih.copy(outer, 64);
  return md5(outer);
}

/** Constant-time equality of two buffers (false when the lengths differ). */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  return crypto.timingSafeEqual(a, b);
}

/**
 * A pseudo-random uint32 source identical to FreeRADIUS's `fr_fast_rand`
 * (two multiply-with-carry generators). Used by the conformance vectors
 * (seeds 6809, 2112) so that salted encodings are reproducible.
 * NOT cryptographically secure: the server uses `crypto` randomness.
 */
export function fastRand(seedA: number, seedB: number): () => number {
  let a = seedA >>> 0;
  let b = seedB >>> 0;
  return () => {
    a = (Math.imul(36969, a & 0xffff) + (a >>> 16)) >>> 0;
    b = (Math.imul(18000, b & 0xffff) + (b >>> 16)) >>> 0;
    return ((a << 16) + b) >>> 0;
  };
}

/**
 * Pre-drawn CSPRNG output. `randomFillSync` has a fixed cost per call that dwarfs
 * 16 bytes, so authenticators and salts are carved from a 4 KiB block that is
 * replaced (never refilled in place) when used up: a slice handed out is never
 * overwritten.
 */
const RANDOM_POOL_SIZE = 4096;
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

/** `n` (≤ 4096) fresh cryptographically random bytes, as a view that stays valid. */
export function randomBytes(n: number): Buffer {
  if (randomOffset + n > randomPool.length) {
    randomPool = crypto.randomFillSync(Buffer.allocUnsafe(RANDOM_POOL_SIZE));
    randomOffset = 0;
  }
  const out = randomPool.subarray(randomOffset, randomOffset + n);
  randomOffset += n;
  return out;
}

/** Cryptographically random uint32 (default salt source). */
export function secureRand(): number {
  return randomBytes(4).readUInt32BE(0);
}

/** MD5(secret ‖ tail) using a reusable scratch buffer. */
function md5SecretTail(scratch: Buffer, secretLen: number, tail: Buffer, tailStart: number, tailEnd: number): Buffer {
  tail.copy(scratch, secretLen, tailStart, tailEnd);
  return md5(scratch.subarray(0, secretLen + (tailEnd - tailStart)));
}

/**
 * Hides a User-Password value (RFC 2865 §5.2). The result length is the
 * value padded with NULs to a multiple of 16 (at least 16), capped at `max`.
 */
export function encryptUserPassword(value: Buffer, secret: Buffer, vector: Buffer, max = 128): Buffer {
  let len = value.length;
  if (len > max) len = max;
  let padded = (len + 15) & ~15;
  if (padded === 0) padded = 16;
  if (padded > max) padded = max & ~15;
  if (len > padded) len = padded;
  const out = Buffer.alloc(padded);
  value.copy(out, 0, 0, len);
  const scratch = Buffer.allocUnsafe(secret.length + 16);
  secret.copy(scratch, 0);
  for (let i = 0; i < padded; i += 16) {
    const b = i === 0 ? md5SecretTail(scratch, secret.length, vector, 0, 16)
      : md5SecretTail(scratch, secret.length, out, i - 16, i);
    for (let j = 0; j < 16; j++) out[i + j] ^= b[j];
  }
  return out;
}

/**
 * Reveals a User-Password value: reverses RFC 2865 §5.2 and strips trailing
 * NUL padding. Input of any length is accepted (a short last block is XORed
 * with the head of its hash); the result is a new buffer.
 */
export function decryptUserPassword(data: Buffer, secret: Buffer, vector: Buffer): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  const scratch = Buffer.allocUnsafe(secret.length + 16);
  secret.copy(scratch, 0);
  for (let i = 0; i < data.length; i += 16) {
    const b = i === 0 ? md5SecretTail(scratch, secret.length, vector, 0, 16)
      : md5SecretTail(scratch, secret.length, data, i - 16, i);
    const n = Math.min(16, data.length - i);
    for (let j = 0; j < n; j++) out[i + j] = data[i + j] ^ b[j];
  }
  let end = out.length;
  while (end > 0 && out[end - 1] === 0) end--;
  return out.subarray(0, end);
}

/**
 * Hides a Tunnel-Password value (RFC 2868 §3.5). Returns salt(2) ‖ ciphertext,
 * without the tag byte. The salt's high bit is set. The plaintext is the
 * length byte followed by the value, NUL-padded to a multiple of 16; when
 * that does not fit in `room` (salt included) the padding is cut short, as
 * FreeRADIUS does. `padding`, when given, supplies the pad bytes instead of
 * NULs. Returns undefined when even the unpadded value does not fit.
 */
export function encryptTunnelPassword(value: Buffer, secret: Buffer, vector: Buffer, salt: number, room = 252, padding?: Buffer): Buffer | undefined {
  const plainLen = value.length + 1;
  const maxCipher = room - 2;
  if (plainLen > maxCipher || value.length > 255) return undefined;
  const clen = Math.min(Math.ceil(plainLen / 16) * 16, maxCipher);
  const out = Buffer.alloc(2 + clen);
  out[0] = 0x80 | ((salt >>> 8) & 0x7f);
  out[1] = salt & 0xff;
  out[2] = value.length;
  value.copy(out, 3);
  if (padding) padding.copy(out, 3 + value.length, 0, Math.min(padding.length, clen - plainLen));
  const scratch = Buffer.allocUnsafe(secret.length + 18);
  secret.copy(scratch, 0);
  // First block: MD5(secret ‖ vector ‖ salt); then MD5(secret ‖ previous cipher block).
  vector.copy(scratch, secret.length, 0, 16);
  out.copy(scratch, secret.length + 16, 0, 2);
  let b = md5(scratch.subarray(0, secret.length + 18));
  for (let i = 0; i < clen; i += 16) {
    if (i > 0) b = md5SecretTail(scratch, secret.length, out, 2 + i - 16, 2 + i);
    const n = Math.min(16, clen - i);
    for (let j = 0; j < n; j++) out[2 + i + j] ^= b[j];
  }
  return out;
}

/**
 * Reveals a Tunnel-Password value from salt(2) ‖ ciphertext (no tag byte).
 * Returns undefined when the data is malformed (no ciphertext, or the
 * embedded length exceeds the data).
 */
export function decryptTunnelPassword(data: Buffer, secret: Buffer, vector: Buffer): Buffer | undefined {
  const clen = data.length - 2;
  if (clen < 1) return undefined;
  const plain = Buffer.allocUnsafe(clen);
  const scratch = Buffer.allocUnsafe(secret.length + 18);
  secret.copy(scratch, 0);
  vector.copy(scratch, secret.length, 0, 16);
  data.copy(scratch, secret.length + 16, 0, 2);
  let b = md5(scratch.subarray(0, secret.length + 18));
  for (let i = 0; i < clen; i += 16) {
    if (i > 0) b = md5SecretTail(scratch, secret.length, data, 2 + i - 16, 2 + i);
    const n = Math.min(16, clen - i);
    for (let j = 0; j < n; j++) plain[i + j] = data[2 + i + j] ^ b[j];
  }
  const n = plain[0];
  if (n > clen - 1) return undefined;
  return plain.subarray(1, 1 + n);
}

/**
 * Ascend-Send-Secret hiding (`encrypt=3`): the value, NUL-padded or cut to
 * 16 bytes, XORed with MD5(vector ‖ secret). The operation is its own inverse
 * apart from padding; `decrypt` strips trailing NULs.
 */
export function ascendSecret(value: Buffer, secret: Buffer, vector: Buffer, decrypt: boolean): Buffer {
  const buf = Buffer.allocUnsafe(16 + secret.length);
  vector.copy(buf, 0, 0, 16);
  secret.copy(buf, 16);
  const h = md5(buf);
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) out[i] = (i < value.length ? value[i] : 0) ^ h[i];
  if (!decrypt) return out;
  let end = 16;
  while (end > 0 && out[end - 1] === 0) end--;
  return out.subarray(0, end);
}
