import { describe, expect, it } from 'vitest';
import { DedupTable } from './dedup';

const auth = (n: number): Buffer => Buffer.alloc(16, n);

describe('DedupTable', () => {
  it('tracks new, running, done; a new authenticator replaces the entry', () => {
    const t = new DedupTable(1);
    expect(t.lookup('k', auth(1)).kind).toBe('new');
    const e = t.add('k', auth(1));
    expect(t.lookup('k', auth(1))).toEqual({ kind: 'running', entry: e });
    t.finish(e, Buffer.from('reply'));
    const hit = t.lookup('k', auth(1));
    expect(hit.kind).toBe('done');
    expect(hit.kind === 'done' && hit.entry.reply?.toString()).toBe('reply');
    const other = t.lookup('k', auth(2));
    expect(other).toEqual({ kind: 'new', previous: e });
    const e2 = t.add('k', auth(2));
    expect(t.isCurrent(e)).toBe(false);
    expect(t.isCurrent(e2)).toBe(true);
    t.close();
  });

  it('expires finished entries after cleanup_delay on the wheel, not running ones', () => {
    const t = new DedupTable(1); // 4 ticks of 250 ms
    const done = t.add('a', auth(1));
    const running = t.add('b', auth(2));
    t.finish(done, null);
    for (let i = 0; i < 3; i++) t.advance();
    expect(t.lookup('a', auth(1)).kind).toBe('done');
    t.advance();
    expect(t.lookup('a', auth(1)).kind).toBe('new');
    for (let i = 0; i < 20; i++) t.advance();
    expect(t.lookup('b', auth(2)).kind).toBe('running');
    expect(t.size).toBe(1);
    t.close();
  });

  it('with cleanup_delay 0 keeps only requests in progress', () => {
    const t = new DedupTable(0);
    const e = t.add('a', auth(1));
    expect(t.running()).toEqual([]); // no inflight handle yet
    t.finish(e, Buffer.from('x'));
    expect(t.size).toBe(0);
    t.close();
  });
});
