import 'reflect-metadata';
import { describe, expect, it, vi } from 'vitest';
import def from './index';
import { callCtx, loadTestModule, makeRequest } from '../../test/support/module-call';

/** A `delay { body }` instance loaded through the loader (its `delay` method gets `ctx.env`). */
const delay = (body: string) => loadTestModule(def, body);
const REJ = { name1: 'send', name2: 'Access-Reject' };

describe('delay', () => {
  it('yields for the configured time, then ok', async () => {
    const m = await delay('delay = 50ms\nrelative = yes');
    const r = makeRequest('User-Name = "bob"');
    const t0 = Date.now();
    const p = m.delay(r, callCtx(r, REJ));
    expect(p).toBeInstanceOf(Promise);
    expect(await p).toBe('ok');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
  });
  it('counts from the request time unless relative; noop when already past', async () => {
    const m = await delay('delay = 0.05');
    const r = makeRequest('User-Name = "bob"');
    (r as { received: number }).received = Date.now() / 1000 - 1;
    expect(m.delay(r, callCtx(r, REJ))).toBe('noop');
    const f = await delay('delay = 0\nforce_reschedule = yes');
    expect(await f.delay(r, callCtx(r, REJ))).toBe('ok');
  });
  it('expanded delay from an attribute; bad values fail', async () => {
    const m = await delay('delay = "%{reply.Session-Timeout}ms"\nrelative = yes');
    const r = makeRequest('', { reply: 'Session-Timeout = 20' });
    expect(await m.delay(r, callCtx(r, REJ))).toBe('ok');
    const r2 = makeRequest('', { reply: 'Reply-Message = "x"' });
    expect(await (await delay('delay = "%{reply.Reply-Message}"')).delay(r2, callCtx(r2, REJ))).toBe('fail');
    await expect(delay('delay = soon')).rejects.toThrow(/^test\.conf\[2\]: delay \{ delay \}: invalid delay "soon"$/);
  });
  it('cancel clears the timer (signal abort and cancel signal)', async () => {
    vi.useFakeTimers();
    try {
      const m = await delay('delay = 10s\nrelative = yes');
      const r = makeRequest('');
      const ac = new AbortController();
      const p = m.delay(r, callCtx(r, REJ, { signal: ac.signal })) as Promise<string>;
      expect(vi.getTimerCount()).toBe(1);
      ac.abort();
      expect(await p).toBe('fail');
      expect(vi.getTimerCount()).toBe(0);
      const ctx = callCtx(r, REJ);
      const p2 = m.delay(r, ctx) as Promise<string>;
      ctx.fire('dup');
      expect(vi.getTimerCount()).toBe(1);
      ctx.fire('cancel');
      expect(await p2).toBe('fail');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
  it('clamps to max_delay', async () => {
    vi.useFakeTimers();
    try {
      const m = await delay('delay = 1h\nrelative = yes\nmax_delay = 2s');
      const r = makeRequest('');
      const p = m.delay(r, callCtx(r, REJ)) as Promise<string>;
      vi.advanceTimersByTime(2001);
      expect(await p).toBe('ok');
    } finally {
      vi.useRealTimers();
    }
  });
});
