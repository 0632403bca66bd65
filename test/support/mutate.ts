/**
 * Input mutation for the data-file fuzz tests (users files, configuration, dictionaries):
 * byte-level damage that real files suffer (stray CR, NUL, invalid UTF-8, truncation,
 * duplicated or dropped spans) plus format tokens, driven by a seeded PRNG so a failure
 * reproduces from its seed.
 */

/** Bytes and fragments that tend to break line-oriented parsers. */
const NASTY = [
  '\r', '\n', '\r\n', '\t', ' ', '\0', '\x0b', '\x0c', '\x1b', '\x7f', '\u2028', '\u2029', '\ufeff', '\ufffd',
  '"', "'", '`', '\\', '#', ',', '{', '}', '(', ')', '[', ']', '=', ':=', '==', '=~', '+=', '-=', '%', '%{', '$',
  '${', '/', '*', '0x', '-1', '4294967296', '300.1.2.3', '::', 'DEFAULT', '$INCLUDE', '\xef', '\xc3\x28',
];

/** Returns `src` with 1..4 random edits (deletions, insertions of nasty tokens, copies of spans). */
export function mutateText(src: string, rnd: () => number, alphabet: readonly string[] = []): string {
  const tokens = [...NASTY, ...alphabet];
  let s = src;
  const n = 1 + Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(rnd() * (s.length + 1));
    const op = rnd();
    if (op < 0.3) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rnd() * 4));
    else if (op < 0.75) s = s.slice(0, at) + tokens[Math.floor(rnd() * tokens.length)] + s.slice(at);
    else if (op < 0.95) {
      const from = Math.floor(rnd() * s.length);
      s = s.slice(0, at) + s.slice(from, from + Math.floor(rnd() * 24)) + s.slice(at);
    } else s = s.slice(0, at);
  }
  return s;
}

/** Random bytes decoded as a file would be (`utf8`, so invalid sequences become U+FFFD). */
export function randomText(rnd: () => number, maxLen = 64): string {
  const b = Buffer.alloc(Math.floor(rnd() * maxLen));
  for (let i = 0; i < b.length; i++) {
    // Mostly printable ASCII, some control bytes and high bytes.
    const r = rnd();
    b[i] = r < 0.7 ? 0x20 + Math.floor(rnd() * 95) : r < 0.85 ? Math.floor(rnd() * 32) : 0x80 + Math.floor(rnd() * 128);
  }
  return b.toString('utf8');
}
