import { describe, expect, it } from 'vitest';
import { SystemClock } from './clock';
import { FakeClock } from './fake';
import { FifoTimer } from '../process/radius/fifo-timer';

describe('clock', () => {
  it('system clock: monotonic now, wall time derived from the same reading', () => {
    const c = new SystemClock();
    const a = c.now();
    const b = c.now();
    expect(b).toBeGreaterThanOrEqual(a);
    // The wall time of a monotonic reading moves with it, millisecond for millisecond.
    expect(c.wall(a + 5000) - c.wall(a)).toBe(5000);
    // And it is the system's wall clock (up to the re-sync interval's drift, far below a second).
    expect(Math.abs(c.wall() - Date.now())).toBeLessThan(1000);
  });

  it('fake clock: time moves only through advance, timers fire in due order', () => {
    const c = new FakeClock(100, Date.UTC(2026, 0, 1));
    const fired: string[] = [];
    c.setTimeout(() => fired.push('b@300'), 200);
    const h = c.setTimeout(() => fired.push('never'), 50);
    c.setTimeout(() => { fired.push(`a@${c.now()}`); c.setTimeout(() => fired.push(`c@${c.now()}`), 10); }, 100);
    c.clearTimeout(h);
    c.advance(99);
    expect(fired).toEqual([]);
    c.advance(50);
    expect(fired).toEqual(['a@200', 'c@210']);
    expect(c.now()).toBe(249);
    c.advance(100);
    expect(fired).toEqual(['a@200', 'c@210', 'b@300']);
    expect(c.pending).toBe(0);
    expect(c.wall(100)).toBe(Date.UTC(2026, 0, 1));
  });

  it('drives the FIFO timer used for reject_delay and max_request_time', () => {
    const c = new FakeClock(0);
    const t = new FifoTimer(c);
    const out: number[] = [];
    t.push(1000, () => out.push(1));
    const second = t.push(1500, () => out.push(2));
    t.push(2000, () => out.push(3));
    t.cancel(second);
    c.advance(999);
    expect(out).toEqual([]);
    c.advance(1);
    expect(out).toEqual([1]);
    c.advance(5000);
    expect(out).toEqual([1, 3]);
    expect(t.size).toBe(0);
  });
});
