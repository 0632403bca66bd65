import { describe, expect, it } from 'vitest';
import { Trunk, TrunkConnection, type DeadlineTarget } from './trunk';

/** The deadline queues need no connection: `start: 0`, nothing is opened. */
class NoConn extends TrunkConnection {
  readonly label = 'none';
  readonly outstanding = 0;
  connect(): void { /* never opened in these tests */ }
  closeSocket(): void { /* nothing to close */ }
  failInflight(): void { /* nothing in flight */ }
}

function trunk(): Trunk<NoConn> {
  return new Trunk<NoConn>({ start: 0, min: 0, max: 1, maxBacklog: 0, reconnectDelay: 1000, zombiePeriod: 1000, reviveInterval: 1000 },
    { create: () => new NoConn(), perConnectionMax: 1 });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await sleep(2);
}

describe('Trunk.fixedDeadline', () => {
  it('runs due targets in order, skips cancelled ones and keeps separate queues per duration', async () => {
    const t = trunk();
    const ran: string[] = [];
    const target = (name: string): DeadlineTarget => ({ onDeadline: () => ran.push(name) });
    t.fixedDeadline(30, target('a'));
    const b = t.fixedDeadline(30, target('b'));
    t.fixedDeadline(30, target('c'));
    t.fixedDeadline(5, target('short'));
    t.cancelFixed(b);
    t.cancelFixed(b);
    await until(() => ran.length >= 3);
    await sleep(10);
    expect(ran).toEqual(['short', 'a', 'c']);
    t.fixedDeadline(5, target('again'));
    await until(() => ran.length >= 4);
    expect(ran).toEqual(['short', 'a', 'c', 'again']);
    t.close();
  });

  it('runs nothing after close', async () => {
    const t = trunk();
    const ran: string[] = [];
    t.fixedDeadline(5, { onDeadline: () => ran.push('x') });
    t.close();
    const late = t.fixedDeadline(5, { onDeadline: () => ran.push('y') });
    t.cancelFixed(late);
    await sleep(20);
    expect(ran).toEqual([]);
  });

  it('compacts a queue that is mostly cancelled', async () => {
    const t = trunk();
    let n = 0;
    const keep = { onDeadline: () => { n++; } };
    for (let i = 0; i < 2000; i++) {
      const k = t.fixedDeadline(10, keep);
      if (i % 10 !== 0) t.cancelFixed(k);
    }
    await until(() => n >= 200);
    await sleep(10);
    expect(n).toBe(200);
    t.close();
  });
});
