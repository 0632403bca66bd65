/**
 * Making expanded values safe inside file names, for the modules that write files whose
 * names are templates (`detail`, `linelog`).
 */

/** `/` and `..` in an expanded value cannot climb out of the directory. */
export const safeName = (s: string): string => s.replace(/\//g, '_').replace(/\.\./g, '__');

/** v3 `escape_filenames`: every byte outside `[A-Za-z0-9_.]` becomes `-XX` (lower-case hex). */
export const escapeName = (s: string): string => {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_.]/.test(c) && b < 0x80 ? c : '-' + b.toString(16).padStart(2, '0');
  }
  return out;
};
