import { describe, expect, it } from 'vitest';
import { RetryTimer } from './retry';

const cfg = (irt: number, mrt: number, mrc: number, mrd: number) => ({ initial_rtx_time: irt, max_rtx_time: mrt, max_rtx_count: mrc, max_rtx_duration: mrd });

describe('RetryTimer (RFC 5080)', () => {
  it('IRT·(1+RAND), then RT·(2+RAND), capped at MRT·(1+RAND); next advances from next (no drift)', () => {
    const mid = () => 0.5; // RAND = 0
    const t = new RetryTimer(cfg(1, 5, 10, 100), 0, mid);
    expect(t.next).toBe(1000);
    expect(t.fire(1003)).toBe('retry'); // fired 3 ms late: the grid does not move
    expect(t.next).toBe(3000);
    expect(t.fire(3000)).toBe('retry');
    expect(t.next).toBe(7000);
    expect(t.fire(7000)).toBe('retry');
    expect(t.next).toBe(12000); // 8 s > MRT → MRT
    expect(t.count).toBe(4);
  });

  it('jitter stays within ±10 %', () => {
    for (const r of [0, 1]) {
      const t = new RetryTimer(cfg(2, 16, 5, 30), 0, () => r);
      expect(t.next).toBeGreaterThanOrEqual(1800);
      expect(t.next).toBeLessThanOrEqual(2200);
    }
  });

  it('skips missed slots', () => {
    const t = new RetryTimer(cfg(1, 1, 0, 0), 0, () => 0.5);
    expect(t.fire(5500)).toBe('retry');
    expect(t.next).toBe(6000);
  });

  it('ends on MRC, MRD; mrc = 1 is a single timeout of MRD', () => {
    const a = new RetryTimer(cfg(1, 5, 2, 100), 0, () => 0.5);
    expect(a.fire(1000)).toBe('retry');
    expect(a.fire(3000)).toBe('mrc');
    const b = new RetryTimer(cfg(1, 5, 10, 2.5), 0, () => 0.5);
    expect(b.fire(1000)).toBe('retry');
    expect(b.next).toBe(2500);
    expect(b.fire(2500)).toBe('mrd');
    const c = new RetryTimer(cfg(1, 5, 1, 7), 0, () => 0.5);
    expect(c.next).toBe(7000);
    expect(c.fire(7000)).toBe('mrc');
  });
});
