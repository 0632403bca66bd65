import { describe, expect, it } from 'vitest';
import { summarize } from './histogram';
import { Lcore, Submit, writeDecimal } from './lcore';
import { resolveOptions } from './options';
import { AcctStatus, decodeRequest, Kind, TermCause, RECORD_SIZE, RESP, Result, u32ToIpv4, writeBareResponse, writeResponse, type AuthResult } from './records';
import { SpscRing } from './ring';
import { C, Cmd, CP_BLOCK_BYTES, CP_F_BEAT, F_DRAIN_UNTIL, LcoreBlock, LcoreState, W_CMD, W_STATE } from './shared';

/**
 * One lcore driven by hand in this thread, with the test playing the control plane on the other end of the
 * rings and controlling the clock (no workers, no timing).
 */
function harness(opts: Parameters<typeof resolveOptions>[0] = {}) {
  const o = resolveOptions({ ringSize: 16, burst: 8, maxSessions: 64, timeoutMs: 5000, scanIntervalMs: 1000, ...opts });
  const block = LcoreBlock.create();
  const cpSab = new SharedArrayBuffer(CP_BLOCK_BYTES);
  const cp = { i32: new Int32Array(cpSab), f64: new Float64Array(cpSab) };
  const req = SpscRing.create(o.ringSize, RECORD_SIZE);
  const resp = SpscRing.create(o.ringSize, RECORD_SIZE);
  const results: { sid: number; result: number; msg?: string }[] = [];
  let t = 1_000_000;
  cp.f64[CP_F_BEAT] = t;
  const lc = new Lcore(1, o, block, cp, SpscRing.attach(req.sab), SpscRing.attach(resp.sab), {
    onResult(sid, result, off) {
      const len = off >= 0 ? resp.u8[off + RESP.REPLY_MSG_LEN] : 0;
      results.push({ sid, result, msg: len ? Buffer.from(resp.u8.subarray(off + RESP.REPLY_MSG, off + RESP.REPLY_MSG + len)).toString() : undefined });
    },
  });
  const h = {
    lc, block, req, resp, results,
    get t() { return t; },
    /** Advances the clock (the control plane's heartbeat keeps up unless `stallCp`). */
    tick(ms = 0, stallCp = false) { t += ms; if (!stallCp) cp.f64[CP_F_BEAT] = t; return lc.poll(t); },
    /** Requests the lcore published, decoded (the control plane's side of the request ring). */
    take(limit = 1000) { const out = []; const n = req.peek(limit); for (let i = 0; i < n; i++) out.push(decodeRequest(req.dv, req.u8, req.readOffset(i))); req.release(n); return out; },
    answer(requestId: number, sessionId: number, r: AuthResult) {
      expect(resp.reserve(1)).toBe(1);
      writeResponse(resp.dv, resp.u8, resp.writeOffset(0), requestId, sessionId, Kind.AUTH, r, t);
      resp.commit(1);
    },
    counters() { lc.publish(t); const s = block.readStats(); expect(s.consistent).toBe(true); return Object.fromEntries(Object.entries(C).map(([k, i]) => [k, s.counters[i]])); },
    open(macLast = 1) { return lc.openSession(Uint8Array.of(2, 0, 0, 0, 0, macLast), 0, 100, 7); },
    /** An accounting record for `sid` (Stop with User-Request unless told), as the PPPoE engine sends it. */
    acct(sid: number, status: number = AcctStatus.STOP) { const u = Buffer.from('bob'); return lc.submitAcct(sid, u, 0, u.length, status, status === AcctStatus.STOP ? TermCause.USER_REQUEST : 0, 0x0a000001, 10, 20, 1, 2, 30, 999_000); },
    pap(sid: number, user = 'bob', pass = 'hello') { const u = Buffer.from(user); const p = Buffer.from(pass); return lc.submitPap(sid, u, 0, u.length, p, 0, p.length); },
  };
  // Start-up probe: the lcore becomes READY once the control plane echoes it.
  lc.start(t);
  const n = req.peek(10);
  expect(n).toBe(1);
  expect(req.u8[req.readOffset(0) + 30]).toBe(Kind.PROBE);
  req.release(1);
  expect(Atomics.load(block.i32, W_STATE)).toBe(LcoreState.PROBING);
  resp.reserve(1);
  writeBareResponse(resp.dv, resp.u8, resp.writeOffset(0), 0, 0, Kind.PROBE, Result.ACCEPT, t);
  resp.commit(1);
  h.tick();
  expect(Atomics.load(block.i32, W_STATE)).toBe(LcoreState.READY);
  return h;
}

describe('lcore (driven in-thread)', () => {
  it('single accept: the request carries the session data, the answer installs the session', () => {
    const h = harness();
    const sid = h.open(9);
    expect(sid).toBe(1 + 1 * 64); // lcore 1 owns ids 65 … 128
    expect(h.pap(sid)).toBe(Submit.OK);
    expect(h.take()).toEqual([]); // staged: published at the end of the poll iteration, as one burst
    h.tick();
    const [r] = h.take();
    expect(r).toMatchObject({ sessionId: sid, lcore: 1, username: 'bob', authType: 'pap', mac: '02:00:00:00:00:09', svlan: 100, cvlan: 7,
      callingStationId: '02-00-00-00-00-09', nasPortId: 'pppoe1:100.7' });
    expect(r.password!.toString()).toBe('hello');
    expect(r.requestId % 256).toBe(1); // per-lcore counter × 256 + lcore id
    h.answer(r.requestId, sid, { result: 'accept', framedIp: '10.9.8.7', sessionTimeout: 30, nat: true });
    h.tick(3);
    expect(h.results).toEqual([{ sid, result: Result.ACCEPT, msg: undefined }]);
    expect(h.lc.sessionActive(sid)).toBe(true);
    expect(u32ToIpv4(h.lc.sessionFramedIp(sid))).toBe('10.9.8.7');
    expect(h.counters()).toMatchObject({ submitted: 1, received: 1, accept: 1, pending: 0, sessions_active: 1, sessions_created: 1 });
    // Session-Timeout is enforced by the scan.
    h.tick(31_000);
    expect(h.lc.sessionActive(sid)).toBe(false);
    expect(h.counters()).toMatchObject({ sessions_active: 0, sessions_expired: 1, sessions_closed: 1 });
  });

  it('single reject: Reply-Message reaches the app, the session is closed', () => {
    const h = harness();
    const sid = h.open();
    h.pap(sid);
    h.tick();
    const [r] = h.take();
    h.answer(r.requestId, sid, { result: 'reject', replyMessage: 'bad password' });
    h.tick();
    expect(h.results).toEqual([{ sid, result: Result.REJECT, msg: 'bad password' }]);
    expect(h.lc.sessionActive(sid)).toBe(false);
    expect(h.counters()).toMatchObject({ reject: 1, sessions_closed: 1, pending: 0 });
    expect(h.pap(sid)).toBe(Submit.NO_SESSION);
  });

  it('no answer: a synthetic TIMEOUT after timeoutMs (found by the 1 s scan); the late answer is an orphan', () => {
    const h = harness({ timeoutMs: 5000 });
    const sid = h.open();
    h.pap(sid);
    h.tick();
    const [r] = h.take();
    h.tick(4000);
    expect(h.results).toEqual([]);
    h.tick(1000);
    h.tick(1000); // the scan runs once a second
    expect(h.results).toEqual([{ sid, result: Result.TIMEOUT, msg: undefined }]);
    h.answer(r.requestId, sid, { result: 'accept' });
    h.tick();
    expect(h.counters()).toMatchObject({ timeout: 1, orphans: 1, accept: 0, pending: 0, sessions_active: 0 });
  });

  it('an answer for a closed session (PADT meanwhile) is an orphan', () => {
    const h = harness();
    const sid = h.open();
    h.pap(sid);
    h.tick();
    const [r] = h.take();
    expect(h.lc.closeSession(sid)).toBe(true);
    h.answer(r.requestId, sid, { result: 'accept' });
    h.answer(12345, 9999, { result: 'accept' }); // not even this lcore's session
    h.tick();
    expect(h.results).toEqual([]);
    expect(h.counters()).toMatchObject({ orphans: 2, pending: 0 });
  });

  it('caps: pending per session, per MAC, pending table, ring full', () => {
    const h = harness({ sessionPendingCap: 1, macPendingCap: 2, ringSize: 4, burst: 4, maxPending: 6 });
    const a = h.open(1);
    expect(h.pap(a)).toBe(Submit.OK);
    expect(h.pap(a)).toBe(Submit.SESSION_CAP);
    expect(h.pap(h.open(1))).toBe(Submit.OK);
    expect(h.pap(h.open(1))).toBe(Submit.MAC_CAP); // third pending request of MAC …:01
    expect(h.pap(h.open(2))).toBe(Submit.OK);
    expect(h.pap(h.open(3))).toBe(Submit.OK);
    expect(h.pap(h.open(4))).toBe(Submit.RING_FULL); // 4 slots, nobody consuming
    h.tick();
    expect(h.take().length).toBe(4);
    expect(h.pap(h.open(5))).toBe(Submit.OK);
    expect(h.pap(h.open(6))).toBe(Submit.OK);
    expect(h.pap(h.open(7))).toBe(Submit.PENDING_FULL); // 6 pending entries
    expect(h.counters()).toMatchObject({ submitted: 6, session_cap_drops: 1, mac_cap_drops: 1, ring_full_drops: 1, pending_full_drops: 1, pending: 6 });
  });

  it('a session id from another lcore or a freed slot is refused; credentials that do not fit are refused', () => {
    const h = harness();
    expect(h.pap(3)).toBe(Submit.NO_SESSION);
    const sid = h.open();
    expect(h.pap(sid, 'x'.repeat(129))).toBe(Submit.TOO_LONG);
    expect(h.pap(sid, 'bob', 'p'.repeat(129))).toBe(Submit.TOO_LONG);
    expect(h.counters()).toMatchObject({ too_long_drops: 2, no_session_drops: 1, pending: 0 });
    h.tick();
    expect(h.take()).toEqual([]); // nothing half-written was published
  });

  it('stalled control plane: new submissions fail at once with a clean error instead of queueing', () => {
    const h = harness({ cpStallMs: 3000 });
    const sid = h.open();
    h.tick(3500, true);
    expect(h.pap(sid)).toBe(Submit.STALLED);
    h.tick(0); // heartbeat back
    expect(h.pap(sid)).toBe(Submit.OK);
    expect(h.counters()).toMatchObject({ stalled_drops: 1, submitted: 1 });
  });

  it('session table full', () => {
    const h = harness({ maxSessions: 2 });
    expect(h.open()).not.toBe(0);
    expect(h.open()).not.toBe(0);
    expect(h.open()).toBe(0);
    expect(h.counters()).toMatchObject({ no_session_drops: 1 });
  });

  it('graceful stop: intake refused, answers still taken until the deadline, the rest become TIMEOUT', () => {
    const h = harness();
    const s1 = h.open(1);
    const s2 = h.open(2);
    h.pap(s1);
    h.pap(s2);
    h.tick();
    const [r1] = h.take();
    h.block.f64[F_DRAIN_UNTIL] = h.t + 2000;
    Atomics.store(h.block.i32, W_CMD, Cmd.STOP);
    h.tick();
    expect(Atomics.load(h.block.i32, W_STATE)).toBe(LcoreState.DRAINING);
    expect(h.pap(h.open(3))).toBe(Submit.DRAINING);
    h.answer(r1.requestId, s1, { result: 'accept' });
    h.tick(500);
    expect(h.lc.stopped).toBe(false);
    h.tick(1600);
    expect(h.lc.stopped).toBe(true);
    expect(Atomics.load(h.block.i32, W_STATE)).toBe(LcoreState.STOPPED);
    expect(h.results.map((r) => [r.sid, r.result])).toEqual([[s1, Result.ACCEPT], [s2, Result.TIMEOUT]]);
    expect(h.counters()).toMatchObject({ accept: 1, timeout: 1, pending: 0, draining_drops: 1 });
  });

  it('synthetic source: submits at the configured rate, PAP and CHAP, and closes accepted sessions', () => {
    const h = harness({ ringSize: 64, burst: 32, synthetic: { rate: 1000, count: 50, chapRatio: 0.5, macs: 1000 } });
    h.tick(20); // 20 ms at 1000/s
    let reqs = h.take();
    expect(reqs.length).toBe(20);
    expect(reqs.map((r) => r.username).slice(0, 3)).toEqual(['user0', 'user1', 'user2']);
    expect(new Set(reqs.map((r) => r.authType))).toEqual(new Set(['pap', 'chap']));
    for (const r of reqs) h.answer(r.requestId, r.sessionId, { result: 'accept' });
    h.tick(100);
    reqs = h.take();
    expect(reqs.length).toBe(30); // the count limit
    h.tick(100);
    expect(h.take()).toEqual([]);
    expect(h.counters()).toMatchObject({ submitted: 50, accept: 20, sessions_created: 20, sessions_active: 0, pending: 30 });
  });

  it('synthetic source, closed loop: submits only while the ring has room (no refusals), resumes as it drains', () => {
    const h = harness({ ringSize: 8, burst: 8, synthetic: { rate: 1_000_000, count: 100, openLoop: false } });
    for (let i = 0; i < 5; i++) h.tick(1);
    let reqs = h.take();
    expect(reqs.length).toBe(8);
    h.tick(1);
    reqs = h.take();
    expect(reqs.length).toBe(8);
    expect(h.counters()).toMatchObject({ submitted: 16, ring_full_drops: 0, pending: 16 });
  });

  it('synthetic source, closed loop: with the ring full it is not due (the lcore may sleep until answers ring it)', () => {
    const h = harness({ ringSize: 8, burst: 8, scanIntervalMs: 1000, synthetic: { rate: 1_000_000, count: 100, openLoop: false } });
    for (let i = 0; i < 4; i++) h.tick(1);
    expect(h.req.used()).toBe(8);
    expect(h.lc.nextDue(h.t)).toBeGreaterThan(h.t + 900); // full: only the scan is due
    h.take();
    expect(h.lc.nextDue(h.t)).toBe(h.t); // room again: due at once (the rate is far ahead)
    // An open-loop source stays due on time whatever the ring holds (its refusals are counted).
    const o = harness({ ringSize: 8, burst: 8, synthetic: { rate: 1_000_000, count: 100, openLoop: true } });
    for (let i = 0; i < 4; i++) o.tick(1);
    expect(o.req.used()).toBe(8);
    expect(o.lc.nextDue(o.t)).toBeLessThan(o.t + 1);
  });

  it('many sessions end at once, small ring, slow control plane: every Stop reaches the control plane exactly once, oldest first', () => {
    const h = harness({ ringSize: 16, burst: 8, maxSessions: 512 });
    const sids: number[] = [];
    for (let i = 0; i < 500; i++) sids.push(h.open(i & 255));
    // a PADT storm: 500 sessions end within one poll iteration; the ring has 16 slots
    for (const sid of sids) {
      expect(h.acct(sid)).toBe(Submit.OK);
      expect(h.lc.closeSession(sid)).toBe(true);
    }
    expect(h.lc.acctBacklog).toBe(500 - 16);
    expect(h.counters()).toMatchObject({ acct_submitted: 16, acct_backlogged: 484, acct_backlog: 484, acct_backlog_drops: 0, ring_full_drops: 0 });
    // the control plane takes 5 records per turn; a new session's Start comes in while the backlog drains
    const seen: { sid: number; status: number; requestId: number; timestamp: number }[] = [];
    const startAt = h.t;
    let late = 0;
    for (let turn = 0; turn < 500 && seen.length < 501; turn++) {
      for (const r of h.take(5)) seen.push({ sid: r.sessionId, status: r.acct!.status, requestId: r.requestId, timestamp: r.timestamp });
      if (turn === 20) {
        late = h.open(7);
        expect(h.acct(late, AcctStatus.START)).toBe(Submit.OK); // behind the backlog, not ahead of it
      }
      h.tick(1);
    }
    expect(seen.map((r) => r.sid)).toEqual([...sids, late]); // each exactly once, in the order they ended
    expect(seen.slice(0, 500).every((r) => r.status === AcctStatus.STOP)).toBe(true);
    expect(seen[500].status).toBe(AcctStatus.START);
    expect(new Set(seen.map((r) => r.requestId)).size).toBe(501);
    expect(seen.slice(0, 500).every((r) => r.timestamp === startAt)).toBe(true); // the time they ended: Acct-Delay-Time counts the wait
    expect(h.lc.acctBacklog).toBe(0);
    expect(h.counters()).toMatchObject({ acct_submitted: 501, acct_backlogged: 485, acct_retried: 485, acct_backlog: 0, acct_backlog_drops: 0, ring_full_drops: 0 });
  });

  it('accounting backlog: a full backlog refuses and counts the loss; authentication waits behind it; a graceful stop drains it', () => {
    const h = harness({ ringSize: 4, burst: 4, acctBacklog: 8 });
    const sids: number[] = [];
    for (let i = 0; i < 20; i++) sids.push(h.open(i));
    const rc = sids.map((sid) => h.acct(sid));
    expect(rc.filter((x) => x === Submit.OK).length).toBe(12); // 4 in the ring, 8 in the backlog
    expect(rc.slice(12)).toEqual(Array(8).fill(Submit.RING_FULL));
    expect(h.counters()).toMatchObject({ acct_submitted: 4, acct_backlogged: 8, acct_backlog: 8, acct_backlog_drops: 8 });
    h.tick();
    expect(h.take().map((r) => r.sessionId)).toEqual(sids.slice(0, 4));
    // an Access-Request now: the backlog takes the ring's room first
    expect(h.pap(h.open(99))).toBe(Submit.RING_FULL);
    expect(h.lc.acctBacklog).toBe(4);
    h.block.f64[F_DRAIN_UNTIL] = h.t + 2000;
    Atomics.store(h.block.i32, W_CMD, Cmd.STOP);
    h.tick(10);
    expect(h.lc.stopped).toBe(false); // nothing pending, but accounting still waits
    expect(h.take().map((r) => r.sessionId)).toEqual(sids.slice(4, 8));
    h.tick(10);
    expect(h.take().map((r) => r.sessionId)).toEqual(sids.slice(8, 12));
    h.tick(10);
    expect(h.lc.stopped).toBe(true);
    expect(h.counters()).toMatchObject({ acct_submitted: 12, acct_retried: 8, acct_backlog: 0, acct_backlog_drops: 8 });
  });

  it('latency is recorded per answered request', () => {
    const h = harness();
    const sid = h.open();
    h.pap(sid);
    h.tick();
    const [r] = h.take();
    h.tick(7);
    h.answer(r.requestId, sid, { result: 'accept' });
    h.tick(0);
    const hist = h.block.readStats().histogram;
    expect(summarize(hist)).toMatchObject({ count: 1, max: 7000 });
  });
});

describe('writeDecimal', () => {
  it('writes digits without allocating', () => {
    const b = new Uint8Array(12);
    expect(writeDecimal(b, 2, 1234509)).toBe(9);
    expect(Buffer.from(b.subarray(2, 9)).toString()).toBe('1234509');
    expect(writeDecimal(b, 0, 0)).toBe(1);
    expect(b[0]).toBe(0x30);
  });
});
