import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Request } from '../../request/request';
import { box, type Box } from './box';
import { registerFileXlats } from './file';
import { XlatRegistry } from './registry';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xlat-file-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const reg = new XlatRegistry();
registerFileXlats(reg);
const ctx = { request: new Request({ code: 1 }) };
const s = (v: string): Box[] => [box('string', v)];
const call = (name: string, ...args: Box[][]) => reg.get(name)!.fn(ctx, args) as Box[];
const val = (name: string, ...args: Box[][]) => call(name, ...args).map((b) => b.value);

describe('%file.*', () => {
  const f = path.join(dir, 'a.log');
  it('exists, size, head, tail (n lines, no final newline), cat', () => {
    expect(val('file.exists', s(f))).toEqual([false]);
    fs.writeFileSync(f, 'one\ntwo\nthree\n');
    expect(val('file.exists', s(f))).toEqual([true]);
    expect(val('file.size', s(f))).toEqual([14n]);
    expect(val('file.head', s(f))).toEqual(['one']);
    expect(val('file.tail', s(f))).toEqual(['three']);
    expect(val('file.tail', s(f), [box('uint32', 2)])).toEqual(['two\nthree']);
    expect(val('file.cat', s(f), [box('uint32', 5)])).toEqual(['one\nt']);
  });
  it('rm, touch, mkdir, rmdir report what they did; a missing file fails size/head', () => {
    expect(val('file.rm', s(f))).toEqual([true]);
    expect(val('file.rm', s(f))).toEqual([false]);
    expect(() => call('file.size', s(f))).toThrow(/ENOENT/);
    expect(() => call('file.head', s(f))).toThrow(/ENOENT/);
    expect(val('file.touch', s(f))).toEqual([true]);
    expect(fs.existsSync(f)).toBe(true);
    const d = path.join(dir, 'sub');
    expect(val('file.mkdir', s(d))).toEqual([true]);
    expect(val('file.mkdir', s(d))).toEqual([false]);
    expect(val('file.rmdir', s(d))).toEqual([true]);
    expect(val('file.rmdir', s(d))).toEqual([false]);
  });
  it('an empty path fails', () => {
    expect(() => call('file.exists', s(''))).toThrow(/missing path/);
  });
});
