/**
 * Making expanded values safe inside file names, for the modules that write files whose
 * names are templates (`detail`, `linelog`).
 */
import { stringToBytes } from '../../core';

/** `/` and `..` in an expanded value cannot climb out of the directory. */
export const safeName = (s: string): string => s.replace(/\//g, '_').replace(/\.\./g, '__');

/**
 * `escape_filenames` as FreeRADIUS v4 does it: letters, digits and `_` stay, `-` doubles to `--`,
 * every other byte becomes `-XX` (lower-case hex), so `127.0.0.1` gives `127-2e0-2e0-2e1` and the
 * name can be decoded again.
 */
export const escapeName = (s: string): string => {
  let out = '';
  for (const b of stringToBytes(s)) {
    const c = String.fromCharCode(b);
    if (b < 0x80 && /[A-Za-z0-9_]/.test(c)) out += c;
    else if (c === '-') out += '--';
    else out += '-' + b.toString(16).padStart(2, '0');
  }
  return out;
};
