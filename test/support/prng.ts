/**
 * A small deterministic pseudo-random generator for fuzz tests, so that a failure reproduces
 * from its seed.
 */

/**
 * mulberry32: returns a generator of numbers in [0, 1), the same sequence for the same seed
 * (taken as an unsigned 32-bit integer).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
