/**
 * The `%file.*` family of the built-in library (FreeRADIUS v4 names): look at, read and remove
 * files from policy. Every function takes the path as its first argument.
 *
 * | function | result |
 * |---|---|
 * | `%file.exists(path)` | bool: the path exists |
 * | `%file.size(path)` | uint64: size in bytes (fails when missing) |
 * | `%file.head(path)` | string: the first line, without its newline |
 * | `%file.tail(path[, n])` | string: the last `n` lines (default 1), joined by newlines, no final newline |
 * | `%file.cat(path[, max])` | string: the contents (at most `max` bytes, default 64 KiB) |
 * | `%file.touch(path)` | bool: created (or its time updated) |
 * | `%file.rm(path)` | bool: a file was removed (false when there was none) |
 * | `%file.mkdir(path)` | bool: the directory was created (false when it existed) |
 * | `%file.rmdir(path)` | bool: the directory was removed (false when there was none) |
 *
 * Errors other than "does not exist" (permissions, a directory where a file is expected) make the
 * expansion fail with the reason.
 */
import * as fs from 'node:fs';
import { type Box, BoxError, box, boxAsText, castBox } from './box';
import type { XlatRegistry } from './registry';

const MAX_CAT = 65536;

function pathArg(a: Box[] | undefined, fn: string): string {
  const p = (a ?? []).map(boxAsText).join('');
  if (!p) throw new BoxError(`%file.${fn}(): missing path`);
  return p;
}

function fail(fn: string, path: string, e: unknown): never {
  throw new BoxError(`%file.${fn}("${path}"): ${(e as NodeJS.ErrnoException).code ?? ''} ${(e as Error).message}`.trim());
}

const missing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';

/** Lines of a text without the final newline (an empty file has none). */
function lines(text: string): string[] {
  if (text === '') return [];
  return text.replace(/\n$/, '').split('\n');
}

/** Registers the `%file.*` functions in `reg`. */
export function registerFileXlats(reg: XlatRegistry): void {
  const one = { minArgs: 1, maxArgs: 1 };
  reg.register('file.exists', (_c, a) => [box('bool', fs.existsSync(pathArg(a[0], 'exists')))], { ...one, returnType: 'bool' });
  reg.register('file.size', (_c, a) => {
    const p = pathArg(a[0], 'size');
    try {
      return [box('uint64', BigInt(fs.statSync(p).size))];
    } catch (e) { return fail('size', p, e); }
  }, { ...one, returnType: 'uint64' });
  reg.register('file.head', (_c, a) => {
    const p = pathArg(a[0], 'head');
    try {
      const l = lines(fs.readFileSync(p, 'utf8'));
      return l.length ? [box('string', l[0])] : [];
    } catch (e) { return fail('head', p, e); }
  }, { ...one, returnType: 'string' });
  reg.register('file.tail', (_c, a) => {
    const p = pathArg(a[0], 'tail');
    const n = a[1]?.length ? Number(castBox(a[1][0], 'uint32').value) : 1;
    try {
      const l = lines(fs.readFileSync(p, 'utf8'));
      if (!l.length || n === 0) return [];
      return [box('string', l.slice(-n).join('\n'))];
    } catch (e) { return fail('tail', p, e); }
  }, { minArgs: 1, maxArgs: 2, returnType: 'string' });
  reg.register('file.cat', (_c, a) => {
    const p = pathArg(a[0], 'cat');
    const max = a[1]?.length ? Number(castBox(a[1][0], 'uint32').value) : MAX_CAT;
    try {
      const fd = fs.openSync(p, 'r');
      try {
        const buf = Buffer.alloc(max);
        const got = fs.readSync(fd, buf, 0, max, 0);
        return [box('string', buf.subarray(0, got).toString('utf8'))];
      } finally { fs.closeSync(fd); }
    } catch (e) { return fail('cat', p, e); }
  }, { minArgs: 1, maxArgs: 2, returnType: 'string' });
  reg.register('file.touch', (_c, a) => {
    const p = pathArg(a[0], 'touch');
    try {
      const now = new Date();
      try { fs.utimesSync(p, now, now); } catch (e) { if (!missing(e)) throw e; fs.closeSync(fs.openSync(p, 'a')); }
      return [box('bool', true)];
    } catch (e) { return fail('touch', p, e); }
  }, { ...one, returnType: 'bool' });
  reg.register('file.rm', (_c, a) => {
    const p = pathArg(a[0], 'rm');
    try { fs.unlinkSync(p); return [box('bool', true)]; } catch (e) { if (missing(e)) return [box('bool', false)]; return fail('rm', p, e); }
  }, { ...one, returnType: 'bool' });
  reg.register('file.mkdir', (_c, a) => {
    const p = pathArg(a[0], 'mkdir');
    try { fs.mkdirSync(p); return [box('bool', true)]; } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return [box('bool', false)];
      return fail('mkdir', p, e);
    }
  }, { ...one, returnType: 'bool' });
  reg.register('file.rmdir', (_c, a) => {
    const p = pathArg(a[0], 'rmdir');
    try { fs.rmdirSync(p); return [box('bool', true)]; } catch (e) { if (missing(e)) return [box('bool', false)]; return fail('rmdir', p, e); }
  }, { ...one, returnType: 'bool' });
}
