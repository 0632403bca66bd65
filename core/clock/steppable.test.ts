import { describe, expect, it } from 'vitest';
import { SteppableClock } from './steppable';
import { FakeClock } from './fake';

describe('SteppableClock', () => {
  it('runs on its base clock, and advance() moves time and makes timers due', () => {
    const base = new FakeClock();
    const c = new SteppableClock(base);
    const fired: string[] = [];
    const t0 = c.now();
    c.setTimeout(() => fired.push('2s'), 2000);
    c.setTimeout(() => fired.push('10s'), 10_000);
    const gone = c.setTimeout(() => fired.push('cancelled'), 1000);
    c.clearTimeout(gone);
    base.advance(500);
    expect(c.now()).toBe(t0 + 500);
    expect(fired).toEqual([]);
    c.advance(5000);
    expect(c.now()).toBe(t0 + 5500);
    expect(c.wall(c.now()) - c.wall(t0)).toBe(5500);
    // Due timers are re-armed with what is left (here nothing): they fire when the base clock runs.
    expect(fired).toEqual([]);
    base.advance(0);
    expect(fired).toEqual(['2s']);
    expect(c.pending).toBe(1);
    base.advance(4499);
    expect(fired).toEqual(['2s']);
    base.advance(1);
    expect(fired).toEqual(['2s', '10s']);
    expect(c.pending).toBe(0);
  });

  it('on the real clock a jump fires the timer on the next turn of the event loop', async () => {
    const c = new SteppableClock();
    let fired = false;
    c.setTimeout(() => { fired = true; }, 60_000);
    c.advance(60_000);
    expect(fired).toBe(false);
    await new Promise((r) => setTimeout(r, 5));
    expect(fired).toBe(true);
  });
});
