/**
 * Quoting and escaping of string values, as FreeRADIUS v4 prints and reads them.
 */

import { bytesToString, isEscapedByteAt } from './utf8';

function octal3(n: number): string {
  return '\\' + ((n >> 6) & 7) + ((n >> 3) & 7) + (n & 7);
}

/**
 * Escapes a string for use inside `quote` characters (without adding them).
 *
 * Backslash and the quote character are backslash-escaped; for double quotes
 * `%` becomes `\%` (it would otherwise start an expansion). CR, LF and TAB
 * print as `\r`, `\n`, `\t`; other control characters, DEL and bytes that are
 * not valid UTF-8 print as three-digit octal (`\001`, `\323`). Valid
 * multi-byte UTF-8 characters print as themselves. `quote: ''` escapes no quote character and
 * no `%`: the form for a value inside a log line (FreeRADIUS linelog's escaping).
 */
export function escapeString(s: string, quote: '"' | "'" | '`' | '' = '"'): string {
  let out = '';
  let start = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c < 0x20 || c === 0x7f) {
      rep = c === 0x0a ? '\\n' : c === 0x0d ? '\\r' : c === 0x09 ? '\\t' : octal3(c);
    } else if (c === 0x5c) {
      rep = '\\\\';
    } else if (c === 0x22 || c === 0x27 || c === 0x60) {
      if (String.fromCharCode(c) === quote) rep = '\\' + quote;
    } else if (c === 0x25) {
      if (quote === '"') rep = '\\%';
    } else if (c >= 0xdc80 && c <= 0xdcff && isEscapedByteAt(s, i)) {
      rep = octal3(c - 0xdc00);
    }
    if (rep !== undefined) {
      if (i > start) out += s.slice(start, i);
      out += rep;
      start = i + 1;
    }
  }
  if (start === 0) return s;
  if (start < n) out += s.slice(start);
  return out;
}

/**
 * Makes `s` a single log line: CR and LF become `\r`, `\n`, TAB is kept, other control
 * characters, DEL, U+2028/U+2029 and bytes that are not valid UTF-8 become three-digit octal
 * (of their UTF-8 bytes); everything else, backslashes included, is kept. For whole messages
 * whose values were already printed escaped; a single value gets {@link escapeString}`(s, '')`.
 */
export function escapeControls(s: string): string {
  let out = '';
  let start = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
      rep = c === 0x0a ? '\\n' : c === 0x0d ? '\\r' : octal3(c);
    } else if (c === 0x2028 || c === 0x2029) {
      rep = '\\342\\200' + (c === 0x2028 ? '\\250' : '\\251');
    } else if (c >= 0xdc80 && c <= 0xdcff && isEscapedByteAt(s, i)) {
      rep = octal3(c - 0xdc00);
    }
    if (rep !== undefined) {
      if (i > start) out += s.slice(start, i);
      out += rep;
      start = i + 1;
    }
  }
  if (start === 0) return s;
  if (start < n) out += s.slice(start);
  return out;
}

/** `s` quoted with `quote` and escaped by {@link escapeString}. */
export function quoteString(s: string, quote: '"' | "'" | '`' = '"'): string {
  return quote + escapeString(s, quote) + quote;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  '\\': 0x5c, '"': 0x22, "'": 0x27, '`': 0x60, '%': 0x25,
  n: 0x0a, r: 0x0d, t: 0x09, a: 0x07, b: 0x08, f: 0x0c, v: 0x0b,
};

function isOct(c: number): boolean {
  return c >= 0x30 && c <= 0x37;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  c |= 0x20;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/**
 * Undoes the escapes of a quoted string body (the text between the quotes).
 *
 * - Single quotes: only `\'` and `\\` are escapes; any other backslash is literal.
 * - Double quotes and backticks: `\\ \" \' \` \% \n \r \t \a \b \f \v`, three-digit
 *   octal `\NNN` and hex `\xNN` are escapes. Octal and hex escapes give raw bytes,
 *   so `"\303\251"` is `é` and an invalid sequence such as `"\323"` keeps its byte
 *   (see `bytesToString`). An unknown escape `\q` is kept as the two characters.
 *
 * Never throws.
 */
export function unescapeString(body: string, quote: '"' | "'" | '`' = '"'): string {
  if (body.indexOf('\\') < 0) return body;
  if (quote === "'") {
    let out = '';
    for (let i = 0; i < body.length; i++) {
      const ch = body[i];
      if (ch === '\\' && i + 1 < body.length && (body[i + 1] === "'" || body[i + 1] === '\\')) {
        out += body[i + 1];
        i++;
      } else {
        out += ch;
      }
    }
    return out;
  }
  // Work in bytes so that octal/hex escapes of UTF-8 sequences combine correctly.
  const src = Buffer.from(body, 'utf8');
  const dst = Buffer.allocUnsafe(src.length);
  let o = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c !== 0x5c || i + 1 >= src.length) {
      dst[o++] = c;
      continue;
    }
    const e = src[i + 1];
    const simple = SIMPLE_ESCAPES[String.fromCharCode(e)];
    if (simple !== undefined) {
      dst[o++] = simple;
      i++;
    } else if (isOct(e) && i + 3 < src.length && isOct(src[i + 2]) && isOct(src[i + 3])) {
      dst[o++] = ((e - 0x30) * 64 + (src[i + 2] - 0x30) * 8 + (src[i + 3] - 0x30)) & 0xff;
      i += 3;
    } else if (e === 0x78 && i + 3 < src.length && hexVal(src[i + 2]) >= 0 && hexVal(src[i + 3]) >= 0) {
      dst[o++] = hexVal(src[i + 2]) * 16 + hexVal(src[i + 3]);
      i += 3;
    } else {
      dst[o++] = c;
    }
  }
  return bytesToString(dst.subarray(0, o));
}
