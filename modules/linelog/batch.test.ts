import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core';
import { LineBatcher } from './batch';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'linelog-batch-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const line = (s: string) => Buffer.from(`${s}\n`);
/** Lets the file system calls of a flush finish. */
const settle = async (p: Promise<unknown>[]) => Promise.allSettled(p);

describe('LineBatcher (buffer_count, buffer_delay)', () => {
  it('holds lines until buffer_count are waiting, then writes them together', async () => {
    const clock = new FakeClock();
    const b = new LineBatcher({ count: 3, delayMs: 2000, fileMode: 0o600, clock });
    const f = path.join(dir, 'count.log');
    let done = 0;
    const calls = ['a', 'b'].map((s) => b.add(f, line(s)).then(() => { done++; }));
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(0);
    expect(fs.existsSync(f)).toBe(false);
    calls.push(b.add(f, line('c')).then(() => { done++; }));
    await Promise.all(calls);
    expect(done).toBe(3);
    expect(fs.readFileSync(f, 'utf8')).toBe('a\nb\nc\n');
    expect(fs.statSync(f).mode & 0o777).toBe(0o600);
  });

  it('writes what is waiting when buffer_delay has passed since the first line (server clock)', async () => {
    const clock = new FakeClock();
    const b = new LineBatcher({ count: 5, delayMs: 2000, fileMode: 0o600, clock });
    const f = path.join(dir, 'delay.log');
    const calls = [b.add(f, line('x'), () => line('header')), b.add(f, line('y'))];
    clock.advance(1999);
    await new Promise((r) => setTimeout(r, 20));
    expect(fs.existsSync(f)).toBe(false);
    clock.advance(1);
    await Promise.all(calls);
    expect(fs.readFileSync(f, 'utf8')).toBe('header\nx\ny\n');
    // The header is written only into an empty file.
    const again = b.add(f, line('z'), () => line('header'));
    clock.advance(2000);
    await again;
    expect(fs.readFileSync(f, 'utf8')).toBe('header\nx\ny\nz\n');
  });

  it('a failed write fails every line of the batch; close() writes what is left', async () => {
    const clock = new FakeClock();
    const b = new LineBatcher({ count: 2, delayMs: 0, fileMode: 0o600, clock });
    // /dev/full: every write fails with ENOSPC.
    const full = [b.add('/dev/full', line('lost')), b.add('/dev/full', line('lost'))];
    const r = await settle(full);
    expect(r.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    const f = path.join(dir, 'close.log');
    const pending = b.add(f, line('last'));
    await b.close();
    await pending;
    expect(fs.readFileSync(f, 'utf8')).toBe('last\n');
  });
});
