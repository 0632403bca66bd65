/*
 * MD5 (RFC 1321) for RADIUS-sized inputs, called from JavaScript
 * (core/protocol/radius/crypto.ts) instead of its JavaScript block function
 * when the addon is loaded: the same contract as md5Js there.
 *
 *   md5(init: Int32Array(4), prefixLen, data: TypedArray, start, end, out: TypedArray, outOff)
 *     MD5 of data[start, end) continued from the state `init` (the state after
 *     prefixLen bytes, a multiple of 64: 0 with the standard IV, 64 after an
 *     HMAC key block); the 16-byte digest is written to out[outOff ...].
 *
 * No state, no allocation: safe on any thread.
 */
#include <stdint.h>
#include <string.h>
#include <node_api.h>

#define ROL(x, c) (((x) << (c)) | ((x) >> (32 - (c))))
#define STEP(f, a, b, c, d, x, t, s) \
  (a) += f((b), (c), (d)) + (x) + (uint32_t)(t); \
  (a) = ROL((a), (s)) + (b);
#define F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define G(x, y, z) ((y) ^ ((z) & ((x) ^ (y))))
#define H(x, y, z) ((x) ^ (y) ^ (z))
#define I(x, y, z) ((y) ^ ((x) | ~(z)))

static void md5_block(uint32_t st[4], const uint8_t *p) {
  uint32_t x[16];
  for (int i = 0; i < 16; i++)
    x[i] = (uint32_t)p[i * 4] | ((uint32_t)p[i * 4 + 1] << 8) | ((uint32_t)p[i * 4 + 2] << 16) | ((uint32_t)p[i * 4 + 3] << 24);
  uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
  STEP(F, a, b, c, d, x[0], 0xd76aa478, 7) STEP(F, d, a, b, c, x[1], 0xe8c7b756, 12)
  STEP(F, c, d, a, b, x[2], 0x242070db, 17) STEP(F, b, c, d, a, x[3], 0xc1bdceee, 22)
  STEP(F, a, b, c, d, x[4], 0xf57c0faf, 7) STEP(F, d, a, b, c, x[5], 0x4787c62a, 12)
  STEP(F, c, d, a, b, x[6], 0xa8304613, 17) STEP(F, b, c, d, a, x[7], 0xfd469501, 22)
  STEP(F, a, b, c, d, x[8], 0x698098d8, 7) STEP(F, d, a, b, c, x[9], 0x8b44f7af, 12)
  STEP(F, c, d, a, b, x[10], 0xffff5bb1, 17) STEP(F, b, c, d, a, x[11], 0x895cd7be, 22)
  STEP(F, a, b, c, d, x[12], 0x6b901122, 7) STEP(F, d, a, b, c, x[13], 0xfd987193, 12)
  STEP(F, c, d, a, b, x[14], 0xa679438e, 17) STEP(F, b, c, d, a, x[15], 0x49b40821, 22)
  STEP(G, a, b, c, d, x[1], 0xf61e2562, 5) STEP(G, d, a, b, c, x[6], 0xc040b340, 9)
  STEP(G, c, d, a, b, x[11], 0x265e5a51, 14) STEP(G, b, c, d, a, x[0], 0xe9b6c7aa, 20)
  STEP(G, a, b, c, d, x[5], 0xd62f105d, 5) STEP(G, d, a, b, c, x[10], 0x02441453, 9)
  STEP(G, c, d, a, b, x[15], 0xd8a1e681, 14) STEP(G, b, c, d, a, x[4], 0xe7d3fbc8, 20)
  STEP(G, a, b, c, d, x[9], 0x21e1cde6, 5) STEP(G, d, a, b, c, x[14], 0xc33707d6, 9)
  STEP(G, c, d, a, b, x[3], 0xf4d50d87, 14) STEP(G, b, c, d, a, x[8], 0x455a14ed, 20)
  STEP(G, a, b, c, d, x[13], 0xa9e3e905, 5) STEP(G, d, a, b, c, x[2], 0xfcefa3f8, 9)
  STEP(G, c, d, a, b, x[7], 0x676f02d9, 14) STEP(G, b, c, d, a, x[12], 0x8d2a4c8a, 20)
  STEP(H, a, b, c, d, x[5], 0xfffa3942, 4) STEP(H, d, a, b, c, x[8], 0x8771f681, 11)
  STEP(H, c, d, a, b, x[11], 0x6d9d6122, 16) STEP(H, b, c, d, a, x[14], 0xfde5380c, 23)
  STEP(H, a, b, c, d, x[1], 0xa4beea44, 4) STEP(H, d, a, b, c, x[4], 0x4bdecfa9, 11)
  STEP(H, c, d, a, b, x[7], 0xf6bb4b60, 16) STEP(H, b, c, d, a, x[10], 0xbebfbc70, 23)
  STEP(H, a, b, c, d, x[13], 0x289b7ec6, 4) STEP(H, d, a, b, c, x[0], 0xeaa127fa, 11)
  STEP(H, c, d, a, b, x[3], 0xd4ef3085, 16) STEP(H, b, c, d, a, x[6], 0x04881d05, 23)
  STEP(H, a, b, c, d, x[9], 0xd9d4d039, 4) STEP(H, d, a, b, c, x[12], 0xe6db99e5, 11)
  STEP(H, c, d, a, b, x[15], 0x1fa27cf8, 16) STEP(H, b, c, d, a, x[2], 0xc4ac5665, 23)
  STEP(I, a, b, c, d, x[0], 0xf4292244, 6) STEP(I, d, a, b, c, x[7], 0x432aff97, 10)
  STEP(I, c, d, a, b, x[14], 0xab9423a7, 15) STEP(I, b, c, d, a, x[5], 0xfc93a039, 21)
  STEP(I, a, b, c, d, x[12], 0x655b59c3, 6) STEP(I, d, a, b, c, x[3], 0x8f0ccc92, 10)
  STEP(I, c, d, a, b, x[10], 0xffeff47d, 15) STEP(I, b, c, d, a, x[1], 0x85845dd1, 21)
  STEP(I, a, b, c, d, x[8], 0x6fa87e4f, 6) STEP(I, d, a, b, c, x[15], 0xfe2ce6e0, 10)
  STEP(I, c, d, a, b, x[6], 0xa3014314, 15) STEP(I, b, c, d, a, x[13], 0x4e0811a1, 21)
  STEP(I, a, b, c, d, x[4], 0xf7537e82, 6) STEP(I, d, a, b, c, x[11], 0xbd3af235, 10)
  STEP(I, c, d, a, b, x[2], 0x2ad7d2bb, 15) STEP(I, b, c, d, a, x[9], 0xeb86d391, 21)
  st[0] += a; st[1] += b; st[2] += c; st[3] += d;
}

static int bytes_of(napi_env env, napi_value v, uint8_t **p, size_t *n) {
  napi_typedarray_type t; size_t len; void *d; napi_value ab; size_t off;
  if (napi_get_typedarray_info(env, v, &t, &len, &d, &ab, &off) != napi_ok) return 0;
  size_t el = t == napi_int32_array || t == napi_uint32_array ? 4 : 1;
  if (el == 1 && t != napi_uint8_array && t != napi_int8_array && t != napi_uint8_clamped_array) return 0;
  *p = d; *n = len * el;
  return 1;
}

napi_value tsr_js_md5(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7) {
    napi_throw_type_error(env, NULL, "md5(init, prefixLen, data, start, end, out, outOff)");
    return NULL;
  }
  uint8_t *ip, *dp, *op; size_t il, dl, ol;
  uint32_t prefix, start, end, ooff;
  if (!bytes_of(env, argv[0], &ip, &il) || il < 16 || !bytes_of(env, argv[2], &dp, &dl) || !bytes_of(env, argv[5], &op, &ol)
      || napi_get_value_uint32(env, argv[1], &prefix) != napi_ok || napi_get_value_uint32(env, argv[3], &start) != napi_ok
      || napi_get_value_uint32(env, argv[4], &end) != napi_ok || napi_get_value_uint32(env, argv[6], &ooff) != napi_ok
      || start > end || end > dl || (size_t)ooff + 16 > ol) {
    napi_throw_range_error(env, NULL, "md5: bad arguments");
    return NULL;
  }
  uint32_t st[4];
  memcpy(st, ip, 16); /* host order (little endian): the Int32Array words */
  const uint8_t *p = dp + start;
  size_t n = end - start;
  for (; n >= 64; n -= 64, p += 64) md5_block(st, p);
  uint8_t tail[128];
  memset(tail, 0, sizeof(tail));
  memcpy(tail, p, n);
  tail[n] = 0x80;
  size_t tl = n < 56 ? 64 : 128;
  uint64_t bits = ((uint64_t)prefix + (end - start)) * 8;
  for (int i = 0; i < 8; i++) tail[tl - 8 + i] = (uint8_t)(bits >> (8 * i));
  md5_block(st, tail);
  if (tl == 128) md5_block(st, tail + 64);
  for (int i = 0; i < 4; i++) {
    op[ooff + i * 4] = (uint8_t)st[i];
    op[ooff + i * 4 + 1] = (uint8_t)(st[i] >> 8);
    op[ooff + i * 4 + 2] = (uint8_t)(st[i] >> 16);
    op[ooff + i * 4 + 3] = (uint8_t)(st[i] >> 24);
  }
  return NULL;
}
