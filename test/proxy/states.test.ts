/**
 * The `radius` module in proxy mode against the fault server, in-process (real UDP sockets
 * on loopback): connection states opening → active → zombie → (Status-Server) → active,
 * the dead/revive cycle with and without status checks, fail-fast while unwell, Status-Server
 * traffic seen on the wire while the home server is silent, synchronous proxying (one
 * upstream retransmission per NAS retransmission), reply validation, cancel and late replies.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PacketCode } from '../../core/protocol/radius';
import { startFaultServer, type FaultServer } from './fault-server';
import { instance, proxyBody, sleep, type Instance } from './module';

const PAP = 'User-Name = "bob", User-Password = "hello"';

describe('radius module: connection states against the fault server', () => {
  let fs: FaultServer;
  let inst: Instance | undefined;

  beforeAll(async () => {
    fs = await startFaultServer({ plan: { users: { bob: 'hello' }, replyAttrs: 'Reply-Message = "from home"' } });
  });
  afterEach(() => {
    inst?.detach();
    inst = undefined;
    fs.reset();
    fs.set({ silent: false, onlyStatusServer: false, delayMs: 0, jitterMs: 0, dropNext: 0, dropRate: 0, garbage: 0, wrongAuthenticator: 0, messageAuthenticator: 'valid', duplicateReply: false });
  });
  afterAll(async () => {
    await fs?.stop();
  });

  it('opening → active (2 Status-Server answers) → zombie → (Status-Server) → active; Status-Server seen while silent', async () => {
    inst = instance(proxyBody(fs.port));
    expect(inst.m.stats().connections[0].state).toBe('opening');
    await inst.until((s) => s.state === 'active', 3000, 'active');
    expect(fs.stats.byCode[PacketCode.StatusServer]).toBeGreaterThanOrEqual(2);
    const ok = await inst.call(PAP);
    expect(ok.rc).toBe('ok');
    expect(ok.reply).toContain('Reply-Message=from home');

    // The home server goes silent: the next request times out after response_window and the
    // connection becomes a zombie, which starts pinging at once.
    fs.silence();
    const silentFrom = Date.now();
    const lost = await inst.call(PAP);
    expect(lost.rc).toBe('fail');
    expect(lost.ms).toBeGreaterThanOrEqual(280);
    await inst.until((s) => s.connections[0]?.state === 'zombie', 1000, 'zombie');
    // While zombie, calls fail at once instead of waiting for response_window.
    const fffast = inst.m.stats().counters.fail_fast;
    const fast = await inst.call(PAP);
    expect(fast.rc).toBe('fail');
    // Failed at once (fail-fast), not after response_window: counted as such.
    expect(inst.m.stats().counters.fail_fast).toBe(fffast + 1);
    await sleep(150);
    const pingsWhileSilent = fs.stats.whileSilent[PacketCode.StatusServer] ?? 0;
    expect(pingsWhileSilent).toBeGreaterThanOrEqual(1);
    const firstPing = fs.events().find((e) => e.silent && e.code === PacketCode.StatusServer)!;
    // The first ping follows the zombie decision (response_window after the lost request) closely.
    expect(firstPing.t - silentFrom).toBeLessThan(300 + 200);

    fs.comeBack();
    await inst.until((s) => s.state === 'active', 2000, 'active again');
    expect((await inst.call(PAP)).rc).toBe('ok');
    const p = inst.path();
    expect(p.slice(0, 3)).toEqual(['opening->active', 'active->zombie', 'zombie->active']);
    expect(inst.transitions()[1].reason).toMatch(/response_window/);
    expect(inst.transitions()[2].reason).toMatch(/answers/);
    const c = inst.m.stats().counters;
    expect(c.timed_out).toBe(1);
    expect(c.fail_fast).toBeGreaterThanOrEqual(1);
  });

  it('dead/revive with status checks: unanswered checks → dead → reopened → active after the home server returns', async () => {
    inst = instance(proxyBody(fs.port));
    await inst.until((s) => s.state === 'active', 3000, 'active');
    fs.silence();
    expect((await inst.call(PAP)).rc).toBe('fail');
    // Status-Server MRD is 600 ms: the zombie dies, the pool reopens a socket every reconnect_delay.
    await inst.until(() => inst!.path().includes('zombie->dead'), 3000, 'dead');
    const deadAt = Date.now();
    expect(inst.m.stats().counters.state_changes).toBeGreaterThanOrEqual(3);
    // A reopened socket is not trusted until it answers: calls still fail fast.
    const fffast = inst.m.stats().counters.fail_fast;
    const fast = await inst.call(PAP);
    expect(fast.rc).toBe('fail');
    // Failed at once (fail-fast), not after response_window: counted as such.
    expect(inst.m.stats().counters.fail_fast).toBe(fffast + 1);
    fs.comeBack();
    await inst.until((s) => s.state === 'active', 3000, 'revived');
    expect(Date.now() - deadAt).toBeLessThan(2500);
    expect((await inst.call(PAP)).rc).toBe('ok');
    const t = inst.transitions();
    const dead = t.findIndex((x) => x.to === 'dead');
    // The revived connection is a new one (a fresh socket), judged on its own.
    const revived = t.slice(dead).find((x) => x.to === 'active')!;
    expect(revived.conn).not.toBe(t[dead].conn);
    expect(t[dead].reason).toMatch(/status checks unanswered/);
    // Sockets changed: the home server saw more than one source port.
    expect(Object.keys(fs.stats.bySource).length).toBeGreaterThanOrEqual(2);
  });

  it('dead/revive without status checks: zombie_period → dead (fail fast for revive_interval) → reopened → active', async () => {
    inst = instance(proxyBody(fs.port, '', { statusCheck: false }));
    await inst.until((s) => s.state === 'active', 2000, 'active');
    expect(inst.path()).toEqual(['opening->active']);
    fs.silence();
    expect((await inst.call(PAP)).rc).toBe('fail');
    await inst.until(() => inst!.path().includes('active->zombie'), 1000, 'zombie');
    await inst.until(() => inst!.path().includes('zombie->dead'), 2000, 'dead');
    fs.comeBack();
    // revive_interval (600 ms): calls fail at once although the home server is back.
    const ffheld = inst.m.stats().counters.fail_fast;
    const held = await inst.call(PAP);
    expect(held.rc).toBe('fail');
    // Failed at once (fail-fast), not after response_window: counted as such.
    expect(inst.m.stats().counters.fail_fast).toBe(ffheld + 1);
    await inst.until((s) => s.state === 'active', 3000, 'revived');
    expect((await inst.call(PAP)).rc).toBe('ok');
    const t = inst.transitions();
    const dead = t.find((x) => x.to === 'dead')!;
    const back = t.find((x) => x.to === 'active' && x.t > dead.t)!;
    expect(back.t - dead.t).toBeGreaterThanOrEqual(550);
    expect(dead.reason).toMatch(/zombie_period/);
  });

  it('a late reply during zombie_period (no status checks) makes the connection active again and requests are answered', async () => {
    // zombie_period long enough that only a reply can end the zombie state within the test.
    inst = instance(proxyBody(fs.port, '', { statusCheck: false }).replace('zombie_period = 400ms', 'zombie_period = 5s'));
    await inst.until((s) => s.state === 'active', 2000, 'active');
    // The home server freezes: the request times out (response_window 300 ms) → zombie; the reply
    // comes 900 ms after the request, i.e. late (nobody waits for it any more).
    fs.set({ delayMs: 900 });
    expect((await inst.call(PAP)).rc).toBe('fail');
    await inst.until((s) => s.connections[0]?.state === 'zombie', 1000, 'zombie');
    const fast = await inst.call(PAP);
    expect(fast.rc).toBe('fail'); // zombie: fail fast
    fs.set({ delayMs: 0 });
    await inst.until((s) => s.state === 'active', 2000, 'active after the late reply');
    expect(inst.m.stats().counters.late).toBe(1);
    expect((await inst.call(PAP)).rc).toBe('ok');
    expect(inst.path()).toEqual(['opening->active', 'active->zombie', 'zombie->active']);
    expect(inst.transitions()[2].reason).toMatch(/late reply/);
  });

  it('a Protocol-Error reply (RFC 7930) is never passed on: the call fails, nothing reaches reply, counted, logged at a limited rate', async () => {
    inst = instance(proxyBody(fs.port));
    await inst.until((s) => s.state === 'active', 3000, 'active');
    fs.set({ replyCode: (code) => (code === PacketCode.StatusServer ? PacketCode.AccessAccept : PacketCode.ProtocolError) });
    try {
      const auth = await inst.call(PAP);
      expect(auth.rc).toBe('fail');
      expect(auth.reply).toEqual([]); // no Packet-Type = Protocol-Error for the NAS, no pairs copied
      const acct = await inst.call('User-Name = "bob", Acct-Status-Type = Start, Acct-Session-Id = "pe"', { code: PacketCode.AccountingRequest });
      expect(acct.rc).toBe('fail'); // never acknowledged to the NAS (it would be Accounting-Response on `handled`)
      const more = await Promise.all(Array.from({ length: 20 }, () => inst!.call(PAP)));
      expect(more.every((r) => r.rc === 'fail')).toBe(true);
      const st = inst.m.stats();
      expect(st.counters.protocol_error).toBe(22);
      expect(st.counters.timed_out).toBe(0);
      expect(st.state).toBe('active'); // a Protocol-Error is still an answer: the home server is alive
      expect(inst.lines.filter((l) => l.includes('Protocol-Error')).length).toBeLessThanOrEqual(5);
      expect(inst.lines.some((l) => /answered Access-Request with Protocol-Error/.test(l))).toBe(true);
    } finally {
      fs.set({ replyCode: undefined });
    }
  });

  it('proxy mode: each NAS retransmission (dup) causes exactly one upstream retransmission, same ID and authenticator', async () => {
    inst = instance(proxyBody(fs.port, '', { rw: '2s' }));
    await inst.until((s) => s.state === 'active', 3000, 'active');
    fs.reset();
    fs.set({ delayMs: 300 });
    const one = await inst.call(PAP, { dupAfter: [100] });
    expect(one.rc).toBe('ok');
    expect(fs.stats.byCode[PacketCode.AccessRequest]).toBe(2);
    expect(fs.stats.duplicates).toBe(1);
    expect(inst.m.stats().counters.retransmitted).toBe(1);
    // Two NAS retransmissions → two upstream retransmissions; none without a dup.
    fs.reset();
    const two = await inst.call(PAP, { dupAfter: [80, 160] });
    expect(two.rc).toBe('ok');
    expect(fs.stats.duplicates).toBe(2);
    fs.reset();
    fs.set({ delayMs: 0 });
    expect((await inst.call(PAP)).rc).toBe('ok');
    await sleep(50);
    expect(fs.stats.duplicates).toBe(0);
    expect(fs.stats.byCode[PacketCode.AccessRequest]).toBe(1);
  });

  it('replies that fail validation are dropped and counted; the call times out; the ID is freed', async () => {
    inst = instance(proxyBody(fs.port).replace('require_message_authenticator = auto', 'require_message_authenticator = yes'));
    await inst.until((s) => s.state === 'active', 2000, 'active');
    const cases: [Partial<FaultServer['plan']>, string][] = [
      [{ wrongAuthenticator: 1 }, 'bad_authenticator'],
      [{ messageAuthenticator: 'corrupt' }, 'bad_authenticator'],
      [{ messageAuthenticator: 'omit' }, 'missing_message_authenticator'],
      [{ garbage: 1 }, '*'],
    ];
    for (const [plan, reason] of cases) {
      fs.set({ wrongAuthenticator: 0, messageAuthenticator: 'valid', garbage: 0, ...plan });
      const before = inst.m.stats().counters;
      const sabotaged = fs.stats.sabotaged;
      const r = await inst.call(PAP);
      expect(r.rc, JSON.stringify(plan)).toBe('fail');
      expect(fs.stats.sabotaged).toBe(sabotaged + 1);
      const after = inst.m.stats().counters;
      expect(after.dropped, JSON.stringify(after)).toBe(before.dropped + 1);
      if (reason !== '*') expect(after.dropped_by_reason[reason]).toBe((before.dropped_by_reason[reason] ?? 0) + 1);
      // A lost reply may make the connection a zombie; Status-Server brings it back.
      fs.set({ wrongAuthenticator: 0, messageAuthenticator: 'valid', garbage: 0 });
      await inst.until((st) => st.state === 'active', 2000, 'active again');
      expect((await inst.call(PAP)).rc).toBe('ok');
    }
    const s = inst.m.stats();
    expect(s.outstanding).toBe(0);
    expect(inst.m.idsInUse()).toBe(0);
  });

  it('cancel releases the ID at once; the late reply is dropped cleanly and counted as late', async () => {
    inst = instance(proxyBody(fs.port, '', { rw: '2s' }));
    await inst.until((s) => s.state === 'active', 3000, 'active');
    fs.set({ delayMs: 200 });
    const r = await inst.call(PAP, { cancelAfter: 50 });
    expect(r.rc).toBe('fail');
    // Cancelled before the (delayed) reply came: nothing has arrived for it yet.
    expect(inst.m.stats().counters.late).toBe(0);
    expect(inst.m.idsInUse()).toBe(0);
    expect(inst.m.stats().counters.cancelled).toBe(1);
    await sleep(250);
    expect(inst.m.stats().counters.late).toBe(1);
    expect(inst.m.stats().counters.dropped_by_reason.unsolicited ?? 0).toBe(0);
    fs.set({ delayMs: 0 });
    expect((await inst.call(PAP)).rc).toBe('ok');
  });

  it('home server stopped (port unreachable) and restarted: the instance recovers', async () => {
    inst = instance(proxyBody(fs.port));
    await inst.until((s) => s.state === 'active', 3000, 'active');
    await fs.stop();
    const failing = await inst.call(PAP);
    expect(failing.rc).toBe('fail');
    await inst.until((s) => s.state !== 'active', 3000, 'not active');
    await fs.restart();
    await inst.until((s) => s.state === 'active', 4000, 'active after restart');
    expect((await inst.call(PAP)).rc).toBe('ok');
  });

  it('accounting is proxied (Accounting-Response → ok)', async () => {
    inst = instance(proxyBody(fs.port));
    await inst.until((s) => s.state === 'active', 3000, 'active');
    const r = await inst.call('User-Name = "bob", Acct-Status-Type = Start, Acct-Session-Id = "s1"', { code: PacketCode.AccountingRequest });
    expect(r.rc).toBe('ok');
    expect(fs.stats.byCode[PacketCode.AccountingRequest]).toBe(1);
    expect(fs.stats.badRequests).toBe(0);
  });
});
