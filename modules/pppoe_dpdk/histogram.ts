/**
 * A small log-linear latency histogram in the style of HdrHistogram, over a Float64Array that may live in
 * shared memory (one writer; readers copy it under the owner's seqlock, see `shared.ts`).
 *
 * Values are integer microseconds. Values below 64 µs have their own bucket; above that every power-of-two
 * range [2^m, 2^(m+1)) is split into 32 equal sub-buckets, so a bucket's width is at most 1/32 of its lower
 * bound: a reported percentile is the bucket's highest value, at most 3.2 % above the true value. Values are
 * clamped to 2^31 - 1 µs (about 36 minutes). 864 buckets (6.9 KB); recording is a few integer operations.
 *
 * Array layout: `[0, BUCKETS)` counts, then `COUNT`, `SUM` (µs), `MAX` (µs).
 */

const LINEAR = 64; // exact buckets 0..63
const SUB = 32; // sub-buckets per octave above that
/** Number of count buckets. */
export const BUCKETS = LINEAR + 25 * SUB; // octaves 2^6 … 2^30
/** Index of the total count. */
export const H_COUNT = BUCKETS;
/** Index of the sum of recorded values (µs). */
export const H_SUM = BUCKETS + 1;
/** Index of the largest recorded value (µs). */
export const H_MAX = BUCKETS + 2;
/** Float64 elements a histogram occupies. */
export const HISTOGRAM_LENGTH = BUCKETS + 3;
const MAX_VALUE = 0x7fffffff;

/** Bucket index of `us` (integer microseconds ≥ 0). */
export function bucketOf(us: number): number {
  const v = us < 0 ? 0 : us > MAX_VALUE ? MAX_VALUE : us | 0;
  if (v < LINEAR) return v;
  const msb = 31 - Math.clz32(v); // ≥ 6
  const shift = msb - 5; // sub = v >> shift is in [32, 64)
  return LINEAR + (shift - 1) * SUB + ((v >>> shift) - SUB);
}

/** Highest value that falls into bucket `i`. */
export function bucketHigh(i: number): number {
  if (i < LINEAR) return i;
  const k = i - LINEAR;
  const shift = Math.floor(k / SUB) + 1;
  const sub = (k % SUB) + SUB;
  return (sub + 1) * 2 ** shift - 1;
}

/** Records one value (µs) into `h` at element offset `base`. */
export function record(h: Float64Array, base: number, us: number): void {
  const v = us < 0 ? 0 : Math.round(us);
  h[base + bucketOf(v)]++;
  h[base + H_COUNT]++;
  h[base + H_SUM] += v;
  if (v > h[base + H_MAX]) h[base + H_MAX] = v;
}

/** Percentiles and totals of a histogram. */
export interface LatencySummary {
  readonly count: number;
  /** Microseconds (bucket upper bounds, clamped to the observed maximum). */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/** The value at or below which `q` (0 … 1) of the recorded values lie. */
export function valueAt(h: Float64Array, base: number, q: number): number {
  const count = h[base + H_COUNT];
  if (count === 0) return 0;
  const want = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += h[base + i];
    if (seen >= want) return Math.min(bucketHigh(i), h[base + H_MAX]);
  }
  return h[base + H_MAX];
}

/** p50/p99/p99.9, max and mean. */
export function summarize(h: Float64Array, base = 0): LatencySummary {
  const count = h[base + H_COUNT];
  return {
    count,
    p50: valueAt(h, base, 0.5),
    p99: valueAt(h, base, 0.99),
    p999: valueAt(h, base, 0.999),
    max: h[base + H_MAX],
    mean: count ? h[base + H_SUM] / count : 0,
  };
}

/** Adds histogram `src` (at `srcBase`) into `dst` (at `dstBase`). */
export function mergeInto(dst: Float64Array, dstBase: number, src: Float64Array, srcBase: number): void {
  for (let i = 0; i < H_MAX; i++) dst[dstBase + i] += src[srcBase + i];
  if (src[srcBase + H_MAX] > dst[dstBase + H_MAX]) dst[dstBase + H_MAX] = src[srcBase + H_MAX];
}
