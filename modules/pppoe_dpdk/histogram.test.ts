import { describe, expect, it } from 'vitest';
import { bucketHigh, bucketOf, BUCKETS, HISTOGRAM_LENGTH, mergeInto, record, summarize } from './histogram';
import { rand32 } from './ring-peer';

describe('log-linear histogram', () => {
  it('puts every value in a bucket whose upper bound is within 3.2 % above it', () => {
    const rand = rand32(7);
    const bad: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const v = i < 200 ? i : rand() % 0x7fffffff;
      const b = bucketOf(v);
      const ok = b >= 0 && b < BUCKETS && bucketHigh(b) >= v && bucketHigh(b) <= Math.max(v, v * 1.032) && (b === 0 || bucketHigh(b - 1) < v);
      if (!ok) bad.push(v);
    }
    expect(bad).toEqual([]);
    expect(bucketOf(2 ** 40)).toBe(BUCKETS - 1);
  });

  it('reports percentiles of a known distribution', () => {
    const h = new Float64Array(HISTOGRAM_LENGTH);
    for (let v = 1; v <= 10000; v++) record(h, 0, v); // 1 … 10000 µs, uniform
    const s = summarize(h);
    expect(s.count).toBe(10000);
    expect(s.max).toBe(10000);
    expect(s.mean).toBeCloseTo(5000.5, 5);
    for (const [got, want] of [[s.p50, 5000], [s.p99, 9900], [s.p999, 9990]]) {
      expect(got).toBeGreaterThanOrEqual(want);
      expect(got).toBeLessThanOrEqual(want * 1.032);
    }
  });

  it('merges histograms (sums and max)', () => {
    const a = new Float64Array(HISTOGRAM_LENGTH);
    const b = new Float64Array(HISTOGRAM_LENGTH);
    record(a, 0, 10);
    record(b, 0, 1000);
    record(b, 0, 1000);
    const m = new Float64Array(HISTOGRAM_LENGTH);
    mergeInto(m, 0, a, 0);
    mergeInto(m, 0, b, 0);
    expect(summarize(m)).toMatchObject({ count: 3, max: 1000, p50: 1000 });
    expect(summarize(m).mean).toBeCloseTo(670, 5);
    expect(summarize(new Float64Array(HISTOGRAM_LENGTH))).toMatchObject({ count: 0, p50: 0, p99: 0, max: 0 });
  });
});
