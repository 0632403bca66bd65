/**
 * A log-linear latency histogram in the style of HdrHistogram: values (integer
 * nanoseconds) fall into buckets of 2^k, each split into 1024 linear
 * sub-buckets, so every recorded value is kept to within 1/1024 (about 0.1 %)
 * of its true value at any magnitude, in fixed memory (no per-sample storage),
 * and recording costs a few integer operations. Percentiles are reported as
 * the highest value equivalent to the bucket holding the requested rank
 * (HdrHistogram's convention); min and max are exact.
 */

/** log2 of the sub-buckets in the lower half of a bucket: 1024 → 3 significant decimal digits. */
const HALF_BITS = 10;
const HALF = 1 << HALF_BITS;
const SUB = HALF * 2;

/** Index of the highest set bit of a non-negative integer below 2^53 (−1 for 0). */
function msb(v: number): number {
  if (v < 0x100000000) return 31 - Math.clz32(v);
  return 63 - Math.clz32(Math.floor(v / 0x100000000));
}

/** Counts array index of a value. */
export function bucketIndex(v: number): number {
  if (v < SUB) return v;
  const shift = msb(v) - HALF_BITS;
  const sub = Math.floor(v / 2 ** shift); // in [HALF, SUB)
  return (shift << HALF_BITS) + sub;
}

/** Lowest value that maps to an index. */
export function lowestAt(i: number): number {
  if (i < SUB) return i;
  const shift = (i >> HALF_BITS) - 1;
  const sub = i - (shift << HALF_BITS);
  return sub * 2 ** shift;
}

/** Highest value that maps to an index. */
export function highestAt(i: number): number {
  if (i < SUB) return i;
  const shift = (i >> HALF_BITS) - 1;
  return lowestAt(i) + 2 ** shift - 1;
}

/** The percentiles every report carries. */
export interface LatencySummary {
  n: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export class Histogram {
  /** Counts per index; grows to the largest value recorded. */
  private counts: Float64Array;
  private used = 0;
  n = 0;
  min = Infinity;
  max = 0;
  private sum = 0;

  constructor(initialMaxNs = 1e9) {
    this.counts = new Float64Array(bucketIndex(initialMaxNs) + 1);
  }

  /** Records one value in nanoseconds (rounded down to an integer, negatives as 0). */
  record(ns: number): void {
    const v = ns > 0 ? Math.floor(ns) : 0;
    const i = bucketIndex(v);
    if (i >= this.counts.length) {
      const bigger = new Float64Array(Math.max(i + 1, this.counts.length * 2));
      bigger.set(this.counts);
      this.counts = bigger;
    }
    this.counts[i]++;
    if (i >= this.used) this.used = i + 1;
    this.n++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** Adds every count of `other`. */
  add(other: Histogram): void {
    for (let i = 0; i < other.used; i++) {
      const c = other.counts[i];
      if (c === 0) continue;
      if (i >= this.counts.length) {
        const bigger = new Float64Array(other.counts.length);
        bigger.set(this.counts);
        this.counts = bigger;
      }
      this.counts[i] += c;
    }
    if (other.used > this.used) this.used = other.used;
    this.n += other.n;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /** Empties the histogram (keeps its memory). */
  reset(): void {
    this.counts.fill(0, 0, this.used);
    this.used = 0;
    this.n = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = 0;
  }

  /**
   * The value at percentile `q` (0–100): the highest value equivalent to the
   * bucket of the sample of rank ceil(q/100 · n), capped at the exact max.
   */
  percentile(q: number): number {
    if (this.n === 0) return 0;
    const rank = Math.max(1, Math.ceil((q / 100) * this.n));
    let seen = 0;
    for (let i = 0; i < this.used; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(highestAt(i), this.max);
    }
    return this.max;
  }

  /** Summary in microseconds (three decimals). */
  summaryUs(): LatencySummary {
    const us = (ns: number): number => Math.round(ns) / 1000;
    return {
      n: this.n,
      min: this.n ? us(this.min) : 0,
      mean: this.n ? Math.round(this.sum / this.n) / 1000 : 0,
      p50: us(this.percentile(50)),
      p90: us(this.percentile(90)),
      p99: us(this.percentile(99)),
      p999: us(this.percentile(99.9)),
      max: us(this.max),
    };
  }

  /**
   * Counts regrouped into `perDecade` logarithmic bins per power of ten (for
   * plotting): `[lowNs, highNs, count]` for every non-empty bin, ascending.
   */
  logBins(perDecade = 20): [number, number, number][] {
    const out = new Map<number, number>();
    for (let i = 0; i < this.used; i++) {
      const c = this.counts[i];
      if (c === 0) continue;
      const v = Math.max(1, lowestAt(i));
      const b = Math.floor(Math.log10(v) * perDecade);
      out.set(b, (out.get(b) ?? 0) + c);
    }
    return [...out.entries()].sort((a, b) => a[0] - b[0])
      .map(([b, c]) => [10 ** (b / perDecade), 10 ** ((b + 1) / perDecade), c]);
  }
}
