import { describe, expect, it } from 'vitest';
import { Histogram, bucketIndex, highestAt, lowestAt } from './histogram';

describe('log-linear histogram', () => {
  it('maps every value into a bucket whose range holds it, within 1/1024 of the value', () => {
    for (const v of [0, 1, 2047, 2048, 2049, 4095, 4096, 123_456, 1e6, 2 ** 31, 2 ** 32 + 5, 3.7e10]) {
      const i = bucketIndex(v);
      expect(lowestAt(i)).toBeLessThanOrEqual(v);
      expect(highestAt(i)).toBeGreaterThanOrEqual(v);
      expect(highestAt(i) - lowestAt(i)).toBeLessThanOrEqual(Math.max(0, v / 1024));
    }
    // Indexes are contiguous: the next index starts right after the previous one ends.
    let gaps = 0;
    for (let i = 0; i < 40_000; i++) if (lowestAt(i + 1) !== highestAt(i) + 1) gaps++;
    expect(gaps).toBe(0);
  });

  it('gives percentiles equal to the exact ones (sorted samples) within 0.1 %', () => {
    let seed = 42;
    const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 2 ** 32; };
    const h = new Histogram();
    const xs: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      const v = Math.floor(20_000 * Math.exp(rnd() * 6)); // 20 µs … 8 ms, log-spread
      xs.push(v);
      h.record(v);
    }
    xs.sort((a, b) => a - b);
    for (const q of [50, 90, 99, 99.9]) {
      const exact = xs[Math.ceil((q / 100) * xs.length) - 1];
      expect(Math.abs(h.percentile(q) - exact) / exact).toBeLessThan(0.001);
    }
    expect(h.max).toBe(xs[xs.length - 1]);
    expect(h.min).toBe(xs[0]);
    expect(h.n).toBe(50_000);
    expect(h.logBins().reduce((s, b) => s + b[2], 0)).toBe(50_000);
  });

  it('adds, resets and grows past its initial range', () => {
    const a = new Histogram(1000);
    const b = new Histogram(1000);
    a.record(500);
    b.record(5e9); // beyond the initial range: the counts grow
    a.add(b);
    expect(a.n).toBe(2);
    expect(a.percentile(100)).toBe(5e9);
    expect(a.percentile(50)).toBe(500);
    a.reset();
    expect(a.n).toBe(0);
    expect(a.percentile(99)).toBe(0);
  });
});
