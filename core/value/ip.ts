/**
 * IPv4 / IPv6 address and prefix text handling.
 *
 * Addresses are kept as canonical text (see `types.ts`); these helpers
 * convert between that text, 32-bit integers and 16-byte arrays.
 */

import { ValueError } from './errors';

/** Decimal text of 0–255, precomputed for dotted-quad formatting. */
const OCTET: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

/** Dotted quad of a 32-bit unsigned integer. */
export function ipv4FromInt(n: number): string {
  return OCTET[n >>> 24] + '.' + OCTET[(n >>> 16) & 0xff] + '.' + OCTET[(n >>> 8) & 0xff] + '.' + OCTET[n & 0xff];
}

/** Dotted quad of four bytes of `b` at `off`. */
export function ipv4FromBytes(b: Uint8Array, off = 0): string {
  return OCTET[b[off]] + '.' + OCTET[b[off + 1]] + '.' + OCTET[b[off + 2]] + '.' + OCTET[b[off + 3]];
}

/** 32-bit unsigned integer of a canonical dotted quad (no validation). */
export function ipv4ToInt(s: string): number {
  let n = 0;
  let cur = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      n = n * 256 + cur;
      cur = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      cur = cur * 10 + (c - 0x30);
    } else {
      break;
    }
  }
  return (n * 256 + cur) >>> 0;
}

/** Netmask of a prefix length as a 32-bit unsigned integer. */
export function ipv4Mask(len: number): number {
  return len <= 0 ? 0 : len >= 32 ? 0xffffffff : (0xffffffff << (32 - len)) >>> 0;
}

/**
 * Parses dotted decimal with 1–4 parts; missing trailing parts are zero
 * (`127.0` → 127.0.0.0). Returns undefined on error.
 */
function parseDotted(s: string): number | undefined {
  // One pass over the characters (no split, no regex: attribute values from LDAP or SQL arrive here per request).
  const len = s.length;
  if (len === 0) return undefined;
  let n = 0;
  let parts = 0;
  let v = 0;
  let digits = 0;
  for (let i = 0; i <= len; i++) {
    const c = i < len ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || v > 255 || ++parts > 4) return undefined;
      n = n * 256 + v;
      v = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (++digits > 3) return undefined;
      v = v * 10 + (c - 0x30);
    } else return undefined;
  }
  for (; parts < 4; parts++) n *= 256;
  return n >>> 0;
}

/** Parses a plain (unmasked) IPv4 address: `*`, a decimal or hex integer, or dotted decimal. */
function parseV4Addr(s: string): number | undefined {
  if (s === '*') return 0;
  if (/^0x[0-9a-f]{1,8}$/i.test(s)) return parseInt(s.slice(2), 16) >>> 0;
  if (/^[0-9]+$/.test(s)) {
    const n = +s;
    return n <= 0xffffffff ? n : undefined;
  }
  return parseDotted(s);
}

function parseMask(text: string, maskText: string, max: number, fam: 'IPv4' | 'IPv6'): number {
  if (!/^[0-9]{1,3}$/.test(maskText) || +maskText > max) {
    throw new ValueError(`Invalid ${fam} mask length "/${maskText}".  Should be between 0-${max}`);
  }
  void text;
  return +maskText;
}

/**
 * Parses IPv4 text. For `prefix` false the result is a canonical address and
 * only `/32` is accepted; for `prefix` true the result is `addr/len` with the
 * host bits cleared (`127.63/15` → `127.62.0.0/15`).
 */
export function parseIpv4(text: string, prefix: boolean): string {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const n = parseV4Addr(text);
    if (n === undefined) {
      throw new ValueError(prefix
        ? `Failed to parse IPv4 prefix string "${text}"`
        : `Failed to parse IPv4 address string "${text}"`);
    }
    return prefix ? ipv4FromInt(n) + '/32' : ipv4FromInt(n);
  }
  const len = parseMask(text, text.slice(slash + 1), 32, 'IPv4');
  if (!prefix && len !== 32) {
    throw new ValueError(`Invalid IPv4 mask length "/${text.slice(slash + 1)}".  Only "/32" permitted for non-prefix types`);
  }
  const addrText = text.slice(0, slash);
  const n = addrText === '*' ? 0 : parseDotted(addrText);
  if (n === undefined) {
    throw new ValueError(prefix
      ? `Failed to parse IPv4 prefix string "${text}"`
      : `Failed to parse IPv4 address string "${text}"`);
  }
  if (!prefix) return ipv4FromInt(n);
  return ipv4FromInt((n & ipv4Mask(len)) >>> 0) + '/' + len;
}

// ---------------------------------------------------------------- IPv6

/** Parses IPv6 address text (no mask, no zone) into 16 bytes, or undefined. */
export function ipv6ToBytes(s: string, out: Uint8Array = new Uint8Array(16), off = 0): Uint8Array | undefined {
  if (s.length < 2 || s.length > 45) return undefined;
  const words: number[] = [];
  let gap = -1;
  let i = 0;
  if (s.startsWith('::')) {
    gap = 0;
    i = 2;
    if (s.length === 2) {
      out.fill(0, off, off + 16);
      return out;
    }
  } else if (s[0] === ':') {
    return undefined;
  }
  while (i < s.length) {
    // Embedded IPv4 tail?
    const rest = s.slice(i);
    if (rest.includes('.') && !rest.includes(':')) {
      const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(rest);
      if (!v4) return undefined;
      const b = v4.slice(1).map(Number);
      if (b.some((x) => x > 255)) return undefined;
      words.push(b[0] * 256 + b[1], b[2] * 256 + b[3]);
      i = s.length;
      break;
    }
    let j = i;
    while (j < s.length && j - i < 5 && /[0-9a-fA-F]/.test(s[j])) j++;
    if (j === i || j - i > 4) return undefined;
    words.push(parseInt(s.slice(i, j), 16));
    if (j === s.length) {
      i = j;
      break;
    }
    if (s[j] !== ':') return undefined;
    if (s[j + 1] === ':') {
      if (gap >= 0) return undefined;
      gap = words.length;
      i = j + 2;
      if (i === s.length) break;
    } else {
      i = j + 1;
      if (i === s.length) return undefined;
    }
  }
  if (words.length > 8 || (gap < 0 && words.length !== 8) || (gap >= 0 && words.length > 7)) return undefined;
  const full: number[] = gap < 0 ? words : [...words.slice(0, gap), ...new Array(8 - words.length).fill(0), ...words.slice(gap)];
  for (let k = 0; k < 8; k++) {
    out[off + 2 * k] = full[k] >> 8;
    out[off + 2 * k + 1] = full[k] & 0xff;
  }
  return out;
}

/**
 * Formats 16 bytes as IPv6 text the way inet_ntop does (RFC 5952 compression
 * of the longest run of two or more zero groups, lower-case hex, and a dotted
 * IPv4 tail for `::a.b.c.d` and `::ffff:a.b.c.d`).
 */
export function ipv6FromBytes(b: Uint8Array, off = 0): string {
  const w = new Array<number>(8);
  for (let k = 0; k < 8; k++) w[k] = (b[off + 2 * k] << 8) | b[off + 2 * k + 1];
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let k = 0; k < 8; k++) {
    if (w[k] === 0) {
      if (curBase < 0) {
        curBase = k;
        curLen = 1;
      } else {
        curLen++;
      }
    } else if (curBase >= 0) {
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase >= 0 && curLen > bestLen) {
    bestBase = curBase;
    bestLen = curLen;
  }
  if (bestLen < 2) bestBase = -1;
  let out = '';
  for (let k = 0; k < 8; k++) {
    if (bestBase >= 0 && k >= bestBase && k < bestBase + bestLen) {
      if (k === bestBase) out += ':';
      continue;
    }
    if (k !== 0) out += ':';
    if (k === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 7 && w[7] !== 1) || (bestLen === 5 && w[5] === 0xffff))) {
      out += ipv4FromBytes(b, off + 12);
      break;
    }
    out += w[k].toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ':';
  return out;
}

/** Clears the bits of `b[off..off+16)` beyond `len`. */
export function maskIpv6(b: Uint8Array, len: number, off = 0): void {
  for (let k = 0; k < 16; k++) {
    const bits = len - k * 8;
    if (bits >= 8) continue;
    b[off + k] &= bits <= 0 ? 0 : (0xff << (8 - bits)) & 0xff;
  }
}

/**
 * Parses IPv6 text. For `prefix` false the result is a canonical address and
 * only `/128` is accepted; for `prefix` true the result is `addr/len` with the
 * host bits cleared and `/128` when no length is given. `*` is the
 * unspecified address. A zone (`%eth0`) is not supported.
 */
export function parseIpv6(text: string, prefix: boolean): string {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  let len = 128;
  if (slash >= 0) {
    const m = text.slice(slash + 1);
    len = parseMask(text, m, 128, 'IPv6');
    if (!prefix && len !== 128) {
      throw new ValueError(`Invalid IPv6 mask length "/${m}".  Only "/128" permitted for non-prefix types`);
    }
  }
  const b = addrText === '*' ? new Uint8Array(16) : ipv6ToBytes(addrText);
  if (!b) {
    throw new ValueError(prefix
      ? `Failed to parse IPv6 prefix string "${text}"`
      : `Failed to parse IPv6 address string "${text}"`);
  }
  if (!prefix) return ipv6FromBytes(b);
  maskIpv6(b, len);
  return ipv6FromBytes(b) + '/' + len;
}

/** Splits `addr/len` into its parts (len defaults to the full width). */
export function splitPrefix(v: string): { addr: string; len: number } {
  const slash = v.indexOf('/');
  if (slash < 0) return { addr: v, len: v.includes(':') ? 128 : 32 };
  return { addr: v.slice(0, slash), len: +v.slice(slash + 1) };
}
