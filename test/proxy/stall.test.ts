/**
 * Our own process stalls (CPU starvation, a long synchronous task) while the home server answers:
 * when the event loop resumes, the expired timers run before the sockets are read. A reply already
 * in the socket buffer must still count: the request is answered, not timed out, and an opening
 * connection's status check is answered, not given up (core/trunk `deadline`).
 *
 * The home server runs in a worker thread (its own event loop, so it answers while the test's
 * thread is blocked) and reports every reply it has sent through shared memory; the test blocks
 * its thread, from a setImmediate callback, until that reply is out and then past the deadline. After
 * a check-phase callback libuv (≥ 1.45, Node 20) runs the expired timers before the next poll, so the
 * order "timer due, reply unread" is deterministic.
 */
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { instance, proxyBody, type Instance } from './module';

const PAP = 'User-Name = "bob", User-Password = "hello"';

/** A home server that answers every request with an Access-Accept (no attributes; Response Authenticator by RFC 2865 §3). */
const PEER = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const { createHash } = require('node:crypto');
const sent = new Int32Array(workerData.sab);
const s = dgram.createSocket('udp4');
s.on('message', (m, from) => {
  if (m.length < 20) return;
  const r = Buffer.alloc(20);
  r[0] = 2; r[1] = m[1]; r.writeUInt16BE(20, 2);
  m.copy(r, 4, 4, 20);
  createHash('md5').update(r).update(workerData.secret).digest().copy(r, 4);
  s.send(r, from.port, from.address, () => { Atomics.add(sent, 0, 1); Atomics.notify(sent, 0); });
});
s.bind(0, '127.0.0.1', () => parentPort.postMessage(s.address().port));
`;

/** Blocks this thread until the peer has sent more than `n` replies (at most 20 s), then for `ms` more. */
function blockUntilSent(sent: Int32Array, n: number, ms: number): void {
  const until = Date.now() + 20_000;
  while (Atomics.load(sent, 0) <= n && Date.now() < until) Atomics.wait(sent, 0, Atomics.load(sent, 0), 50);
  expect(Atomics.load(sent, 0)).toBeGreaterThan(n);
  const end = Date.now() + ms;
  while (Date.now() < end) { /* the stall */ }
}

describe('radius module: a stall of our own process is not the home server\'s silence', () => {
  let worker: Worker;
  let port: number;
  const sent = new Int32Array(new SharedArrayBuffer(4));
  let inst: Instance | undefined;

  beforeAll(async () => {
    worker = new Worker(PEER, { eval: true, workerData: { sab: sent.buffer, secret: 'testing123' } });
    port = await new Promise<number>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  });
  afterEach(() => {
    inst?.detach();
    inst = undefined;
  });
  afterAll(async () => {
    await worker?.terminate();
  });

  it('a reply received while the event loop was blocked past response_window answers the request', async () => {
    inst = instance(proxyBody(port, 'require_message_authenticator = no', { statusCheck: false, rw: '300ms' }).replace('require_message_authenticator = auto\n', ''));
    await inst.until((s) => s.state === 'active', 5000, 'active');
    const before = Atomics.load(sent, 0);
    // From a check-phase callback (after it, the loop runs the expired timers before the next poll),
    // the call sends and the thread blocks until the answer is out and past
    // response_window (300 ms).
    await new Promise((r) => setImmediate(r));
    const call = inst.call(PAP);
    // The packet leaves when this callback's process.nextTick queue runs (with the native addon, the
    // packets written in one turn go out in one sendmmsg; dgram has sent it already).
    await new Promise<void>((r) => process.nextTick(r));
    blockUntilSent(sent, before, 500);
    const r = await call;
    const c = inst.m.stats().counters;
    expect(r.rc, JSON.stringify(c)).toBe('ok');
    expect(c.timed_out).toBe(0);
    expect(c.late).toBe(0);
    expect(inst.m.stats().state).toBe('active');
  });

  it('a status check answered while the event loop was blocked past max_rtx_duration makes the connection active', async () => {
    // Status-Server: IRT 50 ms, MRD 600 ms (proxyBody); one answer makes the connection active.
    const body = proxyBody(port, 'require_message_authenticator = no').replace('require_message_authenticator = auto\n', '').replace('num_answers_to_alive = 2', 'num_answers_to_alive = 1');
    const before = Atomics.load(sent, 0);
    // Opened from a check-phase callback: bind, connect and the first check are process.nextTick
    // steps of that phase, so the thread blocks right after the check is written, before any poll.
    await new Promise<void>((resolve) => setImmediate(() => {
      inst = instance(body);
      const push = inst.lines.push.bind(inst.lines);
      inst.lines.push = (...items: string[]) => {
        const n = push(...items);
        // The check is written right after this line; it leaves on the process.nextTick queue (see above).
        if (items.some((l) => /connected; needs 1 answers/.test(l))) queueMicrotask(() => process.nextTick(() => blockUntilSent(sent, before, 900)));
        return n;
      };
      resolve();
    }));
    await inst!.until((s) => s.state !== 'opening', 5000, 'a verdict');
    expect(Atomics.load(sent, 0)).toBe(before + 1);
    expect(inst!.path(), inst!.lines.join('\n')).toEqual(['opening->active']);
  });
});
