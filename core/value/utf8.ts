/**
 * Lossless conversion between RADIUS `string` bytes and JavaScript strings.
 *
 * RADIUS strings are byte strings that are usually, but not always, UTF-8
 * (a decrypted User-Password can hold any bytes). Valid UTF-8 sequences
 * become the characters they encode. Every byte that does not start a
 * well-formed UTF-8 sequence becomes one lone low surrogate U+DC80–U+DCFF
 * (the byte value plus 0xDC00, the "surrogateescape" scheme of PEP 383), so
 * `stringToBytes(bytesToString(b))` gives back `b` exactly.
 */

import { isUtf8 } from 'node:buffer';

const ESCAPE_BASE = 0xdc00;

/** Length of the well-formed UTF-8 sequence at `i`, or 0 when the byte there does not start one. */
export function utf8SeqLen(b: Uint8Array, i: number, end: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  if (c < 0xc2) return 0;
  if (c < 0xe0) {
    return i + 1 < end && (b[i + 1] & 0xc0) === 0x80 ? 2 : 0;
  }
  if (c < 0xf0) {
    if (i + 2 >= end) return 0;
    const c1 = b[i + 1];
    if (c === 0xe0 ? c1 < 0xa0 || c1 > 0xbf : c === 0xed ? c1 < 0x80 || c1 > 0x9f : (c1 & 0xc0) !== 0x80) return 0;
    return (b[i + 2] & 0xc0) === 0x80 ? 3 : 0;
  }
  if (c < 0xf5) {
    if (i + 3 >= end) return 0;
    const c1 = b[i + 1];
    if (c === 0xf0 ? c1 < 0x90 || c1 > 0xbf : c === 0xf4 ? c1 < 0x80 || c1 > 0x8f : (c1 & 0xc0) !== 0x80) return 0;
    return (b[i + 2] & 0xc0) === 0x80 && (b[i + 3] & 0xc0) === 0x80 ? 4 : 0;
  }
  return 0;
}

/**
 * Bytes → JS string. ASCII and valid UTF-8 take the native fast path; other
 * input maps each stray byte to U+DC80 + (byte − 0x80).
 */
export function bytesToString(buf: Buffer): string {
  const end = buf.length;
  if (end <= 64) {
    // Short values (user names, NAS ids): a JS scan beats the native call overhead.
    let ascii = true;
    for (let i = 0; i < end; i++) {
      if (buf[i] & 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return buf.toString('latin1');
  }
  if (isUtf8(buf)) return buf.toString('utf8');
  let out = '';
  let start = 0;
  let i = 0;
  while (i < end) {
    const n = utf8SeqLen(buf, i, end);
    if (n > 0) {
      i += n;
      continue;
    }
    if (i > start) out += buf.toString('utf8', start, i);
    out += String.fromCharCode(ESCAPE_BASE + buf[i]);
    i++;
    start = i;
  }
  if (start < end) out += buf.toString('utf8', start, end);
  return out;
}

/** True when `s` holds an escaped byte (a lone surrogate in U+DC80–U+DCFF). */
export function hasEscapedBytes(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      if (c <= 0xdbff) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          i++;
          continue;
        }
      } else if (c >= 0xdc80 && c <= 0xdcff) {
        return true;
      }
    }
  }
  return false;
}

/** Code unit at `i` is a lone low surrogate that stands for a raw byte. */
export function isEscapedByteAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c < 0xdc80 || c > 0xdcff) return false;
  if (i > 0) {
    const p = s.charCodeAt(i - 1);
    if (p >= 0xd800 && p <= 0xdbff) return false;
  }
  return true;
}

/** JS string → bytes, inverse of {@link bytesToString}. */
export function stringToBytes(s: string): Buffer {
  if (!hasEscapedBytes(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (isEscapedByteAt(s, i)) {
      if (i > start) parts.push(Buffer.from(s.slice(start, i), 'utf8'));
      parts.push(Buffer.of(s.charCodeAt(i) - ESCAPE_BASE));
      start = i + 1;
    }
  }
  if (start < s.length) parts.push(Buffer.from(s.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

/** Number of bytes `s` takes on the wire. */
export function stringByteLength(s: string): number {
  if (!hasEscapedBytes(s)) return Buffer.byteLength(s, 'utf8');
  return stringToBytes(s).length;
}
