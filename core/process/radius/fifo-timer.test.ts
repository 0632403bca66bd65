import { describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import { FifoTimer } from './fifo-timer';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('FifoTimer', () => {
  it('runs callbacks in order when due', async () => {
    const t = new FifoTimer();
    const seen: number[] = [];
    const now = performance.now();
    t.push(now + 10, () => seen.push(1));
    t.push(now + 20, () => seen.push(2));
    expect(t.size).toBe(2);
    await sleep(40);
    expect(seen).toEqual([1, 2]);
    expect(t.size).toBe(0);
  });

  it('a cancelled callback never runs and releases its closure; the queue compacts', async () => {
    const t = new FifoTimer();
    const seen: number[] = [];
    const now = performance.now();
    const items = [];
    for (let i = 0; i < 2000; i++) items.push(t.push(now + 30, () => seen.push(i)));
    for (let i = 0; i < 2000; i++) if (i !== 1500) t.cancel(items[i]);
    expect(items[0].fn).toBeUndefined();
    expect(t.size).toBe(1);
    t.cancel(items[0]); // twice: no effect
    expect(t.size).toBe(1);
    await sleep(60);
    expect(seen).toEqual([1500]);
    expect(t.size).toBe(0);
  });

  it('cancelling everything disarms the timer; flush skips cancelled items', () => {
    const t = new FifoTimer();
    const seen: number[] = [];
    const now = performance.now();
    const a = t.push(now + 1000, () => seen.push(1));
    t.push(now + 1000, () => seen.push(2));
    t.cancel(a);
    t.flush();
    expect(seen).toEqual([2]);
    expect(t.size).toBe(0);
  });
});
