import 'reflect-metadata';
import { afterEach, describe, expect, it } from 'vitest';
import { Pair } from '../../core';
import { parsePairList } from '../../core';
import { PacketCode } from '../../core';
import { callCtx, instantiateCtx, loadTestModule, makeRequest, memoryLogger, parseModuleConfig, testDict } from '../../test/support/module-call';
import radius from './index';
import { RadiusConfig } from './config';
import { Radius } from './radius';
import { TestHome } from './test-home';

const dict = testDict();
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(cond: () => boolean, ms = 5000, what?: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not reached in time${what ? `: ${what()}` : ''}`);
    await sleep(5);
  }
}

async function home(transport: 'udp' | 'tcp' = 'udp'): Promise<TestHome> {
  const h = await new TestHome(dict).start(transport);
  cleanups.push(() => h.stop());
  return h;
}

function make(h: TestHome, body: string, opts: { transport?: 'udp' | 'tcp'; name?: string } = {}) {
  const transport = opts.transport ?? 'udp';
  const name = opts.name ?? 'home';
  const text = `transport = ${transport}\n${transport} {\n ipaddr = 127.0.0.1\n port = ${h.port}\n secret = testing123\n}\n${body}`;
  const cfg = parseModuleConfig(RadiusConfig, text, `radius ${name}`);
  const log = memoryLogger();
  const inst = new Radius(cfg, log, name);
  inst.instantiate(instantiateCtx(name, log));
  cleanups.push(() => inst.detach());
  return { inst, log };
}

const auth = (text = 'User-Name = "bob", User-Password = "hello"') => makeRequest(text, { code: PacketCode.AccessRequest });
const acct = (text: string) => makeRequest(text, { code: PacketCode.AccountingRequest });
const attr = (name: string) => dict.resolve(name)!;

describe('radius: proxy mode', () => {
  it('forwards the pairs with our Proxy-State and Message-Authenticator, copies the reply and maps rcodes', async () => {
    const h = await home();
    h.behave = (p) => {
      const user = p.pairs.find((x) => x.da.name === 'User-Name')?.value;
      if (user === 'reject') return { code: PacketCode.AccessReject };
      if (user === 'chal') return { code: PacketCode.AccessChallenge, pairs: parsePairList('State = 0x01', dict) };
      if (user === 'perr') return { code: PacketCode.ProtocolError };
      return { code: p.code === 1 ? 2 : 5, pairs: [...parsePairList('Reply-Message = "hi"', dict), new Pair(attr('Proxy-State'), Buffer.from('zz'))] };
    };
    const { inst } = make(h, 'type = Access-Request\ntype = Accounting-Request\nresponse_window = 0.3');
    await waitFor(() => inst.stats().state === 'active');
    const r = auth('User-Name = "bob", User-Password = "hello", Proxy-State = 0x6e6173');
    expect(await inst.send(r, callCtx(r))).toBe('ok');
    const seen = h.seen[0].packet;
    const ps = seen.pairs.filter((p) => p.da.name === 'Proxy-State').map((p) => (p.value as Buffer).toString('hex'));
    expect(ps.length).toBe(2);
    expect(ps[0]).toBe('6e6173');
    expect(seen.pairs.find((p) => p.da.name === 'User-Password')?.value).toBe('hello');
    expect(h.seen[0].raw.includes(Buffer.from([80, 18]))).toBe(true);
    expect(r.reply.map((p) => p.da.name)).toEqual(['Reply-Message', 'Packet-Type']);
    expect(r.reply[1].value).toBe(PacketCode.AccessAccept);
    for (const [u, rc] of [['reject', 'reject'], ['chal', 'updated'], ['perr', 'fail']] as const) {
      const x = auth(`User-Name = "${u}"`);
      expect(await inst.send(x, callCtx(x))).toBe(rc);
    }
    const a = acct('User-Name = "bob", Acct-Status-Type = Start');
    expect(await inst.send(a, callCtx(a))).toBe('ok');
    const s = inst.stats();
    expect(s.counters.sent).toBe(5);
    expect(s.counters.answered).toBe(5);
    expect(inst.idsInUse()).toBe(0);
  });

  it('no reply: fail after one response_window, counted as timed_out', async () => {
    const h = await home();
    h.behave = () => undefined;
    const { inst } = make(h, 'type = Access-Request\nresponse_window = 0.15');
    await waitFor(() => inst.stats().state === 'active');
    const r = auth();
    const t0 = Date.now();
    expect(await inst.send(r, callCtx(r))).toBe('fail');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(h.seen.length).toBe(1); // no retransmission of our own in proxy mode
    expect(inst.stats().counters.timed_out).toBe(1);
    expect(inst.idsInUse()).toBe(0);
  });

  it('a NAS retransmission (dup) causes exactly one upstream retransmission of the same bytes and ID', async () => {
    const h = await home();
    h.behave = (_p, n) => (n === 0 ? undefined : { code: 2 });
    const { inst } = make(h, 'type = Access-Request\nresponse_window = 2');
    await waitFor(() => inst.stats().state === 'active');
    const r = auth();
    const ctx = callCtx(r);
    const p = inst.send(r, ctx);
    await waitFor(() => h.seen.length === 1);
    ctx.fire('dup');
    expect(await p).toBe('ok');
    expect(h.seen.length).toBe(2);
    expect(h.seen[1].raw.equals(h.seen[0].raw)).toBe(true);
    expect(inst.stats().counters.retransmitted).toBe(1);
  });

  it('loop detection: two copies of our Proxy-State fail the call', async () => {
    const h = await home();
    const { inst } = make(h, 'type = Access-Request');
    await waitFor(() => inst.stats().state === 'active');
    const r1 = auth();
    await inst.send(r1, callCtx(r1));
    const ours = h.seen[0].packet.pairs.find((p) => p.da.name === 'Proxy-State')!.value as Buffer;
    const r = auth();
    r.request.push(new Pair(attr('Proxy-State'), ours), new Pair(attr('Proxy-State'), ours));
    expect(await inst.send(r, callCtx(r))).toBe('fail');
    expect(inst.stats().counters.loops).toBe(1);
    expect(h.seen.length).toBe(1);
  });

  it('cancel frees the ID at once; the late reply is dropped and counted', async () => {
    const h = await home();
    h.behave = () => ({ code: 2, delay: 120 });
    const { inst } = make(h, 'type = Access-Request\nresponse_window = 1');
    await waitFor(() => inst.stats().state === 'active');
    const r = auth();
    // The interpreter delivers cancel through onSignal; the module must not need ctx.signal
    // (reading it creates an AbortController per call).
    let signalRead = false;
    const ctx = callCtx(r);
    const cctx = Object.defineProperty({ ...ctx }, 'signal', { get: () => { signalRead = true; return ctx.signal; } }) as typeof ctx;
    const p = inst.send(r, cctx);
    await waitFor(() => h.seen.length === 1);
    expect(inst.idsInUse()).toBe(1);
    ctx.fire('cancel');
    expect(await p).toBe('fail');
    expect(signalRead).toBe(false);
    expect(inst.idsInUse()).toBe(0);
    await waitFor(() => inst.stats().counters.late === 1);
    expect(inst.stats().counters.cancelled).toBe(1);
    expect(r.reply.length).toBe(0);
  });

  it('drops replies with a wrong Response Authenticator, or without Message-Authenticator when required', async () => {
    const h = await home();
    h.behave = () => ({ code: 2, badAuth: true });
    const a = make(h, 'type = Access-Request\nresponse_window = 0.15').inst;
    await waitFor(() => a.stats().state === 'active');
    let r = auth();
    expect(await a.send(r, callCtx(r))).toBe('fail');
    expect(a.stats().counters.dropped_by_reason.bad_authenticator).toBe(1);
    const h2 = await home();
    h2.behave = () => ({ code: 2, ma: false });
    const b = make(h2, 'type = Access-Request\nresponse_window = 0.15\nrequire_message_authenticator = yes').inst;
    await waitFor(() => b.stats().state === 'active');
    r = auth();
    expect(await b.send(r, callCtx(r))).toBe('fail');
    expect(b.stats().counters.dropped_by_reason.missing_message_authenticator).toBe(1);
    // The connection never answered anything valid for response_window: it is a zombie now.
    expect(b.stats().state).toBe('zombie');
  });

  it('require_message_authenticator = auto: required once the home server sent one', async () => {
    const h = await home();
    let ma = true;
    h.behave = () => ({ code: 2, ma });
    const { inst } = make(h, 'type = Access-Request\nresponse_window = 0.15');
    await waitFor(() => inst.stats().state === 'active');
    let r = auth();
    expect(await inst.send(r, callCtx(r))).toBe('ok');
    ma = false;
    r = auth();
    expect(await inst.send(r, callCtx(r))).toBe('fail');
    expect(inst.stats().counters.dropped_by_reason.missing_message_authenticator).toBe(1);
  });

  it('proxies over TCP (RFC 6613 framing) and does not resend on dup', async () => {
    const h = await home('tcp');
    h.behave = (_p, n) => (n === 0 ? { code: 2, delay: 80 } : { code: 2 });
    const { inst } = make(h, 'type = Access-Request\nresponse_window = 1', { transport: 'tcp' });
    await waitFor(() => inst.stats().state === 'active');
    const r = auth();
    const ctx = callCtx(r);
    const p = inst.send(r, ctx);
    await waitFor(() => h.seen.length === 1);
    ctx.fire('dup');
    expect(await p).toBe('ok');
    expect(h.seen.length).toBe(1);
    const many = await Promise.all(Array.from({ length: 50 }, () => { const x = auth(); return inst.send(x, callCtx(x)); }));
    expect(many.every((x) => x === 'ok')).toBe(true);
  });
});

describe('radius: client mode', () => {
  it('RFC 5080 schedule; Acct-Delay-Time updated with a new ID and authenticator when it changes', async () => {
    const h = await home();
    h.behave = (_p, n) => (n < 2 ? undefined : { code: 5 });
    const { inst } = make(h, `mode = client\ntype = Accounting-Request\nresponse_window = 5
Accounting-Request {\n initial_rtx_time = 0.6\n max_rtx_time = 1.5\n max_rtx_count = 5\n max_rtx_duration = 10\n}`);
    await waitFor(() => inst.stats().state === 'active');
    const r = acct('User-Name = "bob", Acct-Status-Type = Start, Acct-Delay-Time = 0, Event-Timestamp = 1700000000');
    expect(await inst.send(r, callCtx(r, { name1: 'recv', name2: 'Accounting-Request' }))).toBe('ok');
    expect(h.seen.length).toBe(3);
    const [a, b, c] = h.seen;
    const delay = (s: typeof a) => s.packet.pairs.find((p) => p.da.name === 'Acct-Delay-Time')!.value;
    const ts = (s: typeof a) => s.packet.pairs.find((p) => p.da.name === 'Event-Timestamp')!.value;
    // First retransmission ~IRT (0.54..0.66 s) later, unchanged: same bytes, same ID.
    expect(b.at - a.at).toBeGreaterThanOrEqual(500);
    expect(b.at - a.at).toBeLessThan(800);
    expect(b.raw.equals(a.raw)).toBe(true);
    // Second ~2·RT later (capped by MRT·(1±0.1)): Acct-Delay-Time is now 1 → new ID, new authenticator.
    expect(c.at - a.at).toBeGreaterThanOrEqual(1500);
    expect(delay(a)).toBe(0);
    expect(delay(c)).toBe(1);
    expect(c.packet.id).not.toBe(a.packet.id);
    expect(c.packet.authenticator.equals(a.packet.authenticator)).toBe(false);
    expect(ts(c)).toEqual(ts(a));
    const s = inst.stats().counters;
    expect(s.sent).toBe(1);
    expect(s.retransmitted).toBe(2);
    expect(inst.idsInUse()).toBe(0);
  }, 10000);

  it('gives up after max_rtx_count transmissions', async () => {
    const h = await home();
    h.behave = () => undefined;
    const { inst } = make(h, `mode = client\ntype = Access-Request\nresponse_window = 5
Access-Request {\n initial_rtx_time = 0.05\n max_rtx_time = 0.1\n max_rtx_count = 3\n max_rtx_duration = 5\n}`);
    await waitFor(() => inst.stats().state === 'active');
    const r = auth();
    expect(await inst.send(r, callCtx(r))).toBe('fail');
    expect(h.seen.length).toBe(3);
    expect(h.seen[2].raw.equals(h.seen[0].raw)).toBe(true);
    expect(inst.stats().counters.timed_out).toBe(1);
  });

  it('originates a CoA-Request / Disconnect-Request from control pairs and maps ACK / NAK', async () => {
    const h = await home();
    h.behave = (p) => ({ code: p.code === PacketCode.CoARequest ? PacketCode.CoAACK : PacketCode.DisconnectNAK });
    const { inst } = make(h, `mode = client\ntype = CoA-Request\ntype = Disconnect-Request\nCoA-Request {\n initial_rtx_time = 0.1\n}`, { name: 'radius_coa' });
    await waitFor(() => inst.stats().state === 'active');
    const r = makeRequest('User-Name = "bob", Acct-Status-Type = Start', { code: 4, control: 'Packet-Type = CoA-Request, User-Name = "bob", Session-Timeout = 60' });
    expect(await inst.send(r, callCtx(r, { name1: 'recv', name2: 'Accounting-Request' }))).toBe('ok');
    expect(h.seen[0].packet.code).toBe(PacketCode.CoARequest);
    expect(h.seen[0].packet.pairs.map((p) => p.da.name)).toEqual(['User-Name', 'Session-Timeout']);
    expect(r.reply.length).toBe(0);
    const d = makeRequest('User-Name = "bob"', { code: 4, control: 'Packet-Type = Disconnect-Request, User-Name = "bob"' });
    expect(await inst.send(d, callCtx(d))).toBe('reject');
    // A CoA-Request being processed is sent as it is.
    const c = makeRequest('User-Name = "carol"', { code: PacketCode.CoARequest });
    expect(await inst.send(c, callCtx(c, { name1: 'recv', name2: 'CoA-Request' }))).toBe('ok');
    expect(h.seen[2].packet.pairs.find((p) => p.da.name === 'User-Name')?.value).toBe('carol');
  });
});

describe('radius: connections, zombies and limits', () => {
  it('opening -> active after num_answers_to_alive; silent -> zombie with Status-Server pings, fail fast; back -> active', async () => {
    const h = await home();
    let silent = false;
    h.behave = (p) => (silent ? undefined : { code: p.code === PacketCode.StatusServer ? 2 : 2 });
    const { inst, log } = make(h, `type = Access-Request\nresponse_window = 0.2
status_check {\n type = Status-Server\n num_answers_to_alive = 2\n}
Status-Server {\n initial_rtx_time = 0.05\n max_rtx_time = 0.1\n max_rtx_count = 10\n max_rtx_duration = 30\n}`);
    await waitFor(() => inst.stats().state === 'active');
    expect(h.seen.filter((s) => s.packet.code === PacketCode.StatusServer).length).toBe(2);
    await sleep(220);
    silent = true;
    const r = auth();
    expect(await inst.send(r, callCtx(r))).toBe('fail');
    expect(inst.stats().state).toBe('zombie');
    const before = h.seen.length;
    await sleep(300);
    const pings = h.seen.slice(before).filter((s) => s.packet.code === PacketCode.StatusServer);
    expect(pings.length).toBeGreaterThanOrEqual(2);
    // All pings use the reserved ID.
    expect(new Set(pings.map((s) => s.packet.id)).size).toBe(1);
    // Failed fast: counted as such, and nothing went to the home server (no wait for a response window).
    const ff = inst.stats().counters.fail_fast;
    const sent = h.seen.filter((s) => s.packet.code !== PacketCode.StatusServer).length;
    const r2 = auth();
    expect(await inst.send(r2, callCtx(r2))).toBe('fail');
    expect(inst.stats().counters.fail_fast).toBe(ff + 1);
    expect(h.seen.filter((s) => s.packet.code !== PacketCode.StatusServer).length).toBe(sent);
    silent = false;
    await waitFor(() => inst.stats().state === 'active');
    const r3 = auth();
    expect(await inst.send(r3, callCtx(r3))).toBe('ok');
    const text = log.lines.join('\n');
    expect(text).toMatch(/opening -> active \(2 consecutive answers/);
    expect(text).toMatch(/active -> zombie \(no reply/);
    expect(text).toMatch(/zombie -> active \(2 consecutive answers/);
    expect(inst.stats().counters.fail_fast).toBeGreaterThanOrEqual(1);
  });

  it('a home server slower than the status-check retry interval still passes the checks', async () => {
    const h = await home();
    h.behave = () => ({ code: 2, delay: 100 });
    const { inst, log } = make(h, `type = Access-Request
status_check {\n num_answers_to_alive = 2\n}
Status-Server {\n initial_rtx_time = 0.04\n max_rtx_time = 0.05\n max_rtx_count = 10\n max_rtx_duration = 2\n}`);
    await waitFor(() => inst.stats().state === 'active', 3000, () => log.lines.join('\n'));
    expect(inst.stats().connections[0].retransmitted).toBeGreaterThan(0);
  });

  it('status checks unanswered -> dead -> reopened connection', async () => {
    const h = await home();
    let silent = false;
    h.behave = () => (silent ? undefined : { code: 2 });
    const { inst, log } = make(h, `type = Access-Request\nresponse_window = 0.1
status_check {\n num_answers_to_alive = 1\n}
pool {\n reconnect_delay = 0.05\n}
Status-Server {\n initial_rtx_time = 0.03\n max_rtx_time = 0.05\n max_rtx_count = 3\n max_rtx_duration = 1\n}`);
    await waitFor(() => inst.stats().state === 'active');
    await sleep(120);
    silent = true;
    const r = auth();
    expect(await inst.send(r, callCtx(r))).toBe('fail');
    await waitFor(() => /zombie -> dead \(status checks unanswered/.test(log.lines.join('\n')), 5000, () => log.lines.join('\n'));
    silent = false;
    await waitFor(() => inst.stats().state === 'active', 5000, () => log.lines.join('\n'));
    expect(log.lines.join('\n')).toMatch(/opening \(reopening after a failure\)/);
  });

  it('without status_check: zombie for zombie_period, then fail at once for revive_interval, then reopened', async () => {
    const h = await home();
    let silent = false;
    h.behave = () => (silent ? undefined : { code: 2 });
    const { inst, log } = make(h, 'type = Access-Request\nresponse_window = 0.1\nzombie_period = 0.2\nrevive_interval = 0.3');
    await waitFor(() => inst.stats().state === 'active');
    silent = true;
    const r = auth();
    expect(await inst.send(r, callCtx(r))).toBe('fail');
    expect(inst.stats().state).toBe('zombie');
    await waitFor(() => inst.stats().state === 'dead');
    // Failed fast: counted as such, and nothing went to the home server (no wait for a response window).
    const ff = inst.stats().counters.fail_fast;
    const sent = h.seen.filter((s) => s.packet.code !== PacketCode.StatusServer).length;
    const r2 = auth();
    expect(await inst.send(r2, callCtx(r2))).toBe('fail');
    expect(inst.stats().counters.fail_fast).toBe(ff + 1);
    expect(h.seen.filter((s) => s.packet.code !== PacketCode.StatusServer).length).toBe(sent);
    silent = false;
    await waitFor(() => inst.stats().state === 'active', 2000);
    const r3 = auth();
    expect(await inst.send(r3, callCtx(r3))).toBe('ok');
    expect(log.lines.join('\n')).toMatch(/zombie -> dead \(zombie_period/);
  });

  it('TCP: the home server going away makes the connection dead (calls fail at once); it is reopened when the server is back', async () => {
    const h = await home('tcp');
    h.behave = () => ({ code: 2, delay: 300 });
    const { inst, log } = make(h, 'type = Access-Request\nresponse_window = 1\npool {\n reconnect_delay = 0.05\n}', { transport: 'tcp' });
    await waitFor(() => inst.stats().state === 'active');
    const r = auth();
    const p = inst.send(r, callCtx(r));
    await waitFor(() => h.seen.length === 1);
    const port = h.port;
    await h.stop();
    expect(await p).toBe('fail'); // failed when the connection closed, not after response_window
    expect(inst.idsInUse()).toBe(0);
    await waitFor(() => /-> dead \(/.test(log.lines.join('\n')));
    const ff = inst.stats().counters.fail_fast;
    const r2 = auth();
    expect(await inst.send(r2, callCtx(r2))).toBe('fail');
    // Dead: failed at once (fail-fast), not after response_window.
    expect(inst.stats().counters.fail_fast).toBe(ff + 1);
    const h2 = await new TestHome(dict).start('tcp', port);
    cleanups.push(() => h2.stop());
    await waitFor(() => inst.stats().state === 'active', 5000, () => log.lines.join('\n'));
    const r3 = auth();
    expect(await inst.send(r3, callCtx(r3))).toBe('ok');
  });

  it('each connection is judged on its own: a zombie connection\'s packets move to a live one', async () => {
    const h = await home();
    const deaf = new Set<number>();
    h.behave = (_p, n) => (deaf.has(h.seen[n].port) ? undefined : { code: 2 });
    const { inst } = make(h, 'type = Access-Request\nresponse_window = 0.2\npool {\n start = 2\n max = 2\n}');
    await waitFor(() => inst.stats().connections.filter((c) => c.state === 'active').length === 2);
    // Make connection A the most lively one, then deafen it (a firewall dropping that flow).
    let r = auth();
    await inst.send(r, callCtx(r));
    const portA = h.seen[0].port;
    const portB = inst.stats().connections.map((c) => c.local_port).find((p) => p !== portA)!;
    await sleep(250);
    deaf.add(portA);
    r = auth();
    const p1 = inst.send(r, callCtx(r));   // goes to A, unanswered
    await sleep(100);
    const r2 = auth();
    const p2 = inst.send(r2, callCtx(r2)); // A is still the most lively: also unanswered for now
    expect(await p1).toBe('fail');         // response_window on A → A is a zombie; r2 moves to B
    expect(await p2).toBe('ok');
    const s = inst.stats();
    expect(s.connections.find((c) => c.local_port === portA)!.state).toBe('zombie');
    expect(s.connections.find((c) => c.local_port === portB)!.state).toBe('active');
    const r3 = auth();
    expect(await inst.send(r3, callCtx(r3))).toBe('ok');
    expect(h.seen[h.seen.length - 1].port).toBe(portB);
  });

  it('full -> a second connection; pool.max and max_backlog are enforced', async () => {
    const h = await home();
    h.behave = () => ({ code: 2, delay: 100 });
    const { inst } = make(h, 'type = Access-Request\nresponse_window = 2\npool {\n max = 2\n per_connection_max = 2\n max_backlog = 3\n}');
    await waitFor(() => inst.stats().state === 'active');
    const reqs = Array.from({ length: 6 }, () => auth());
    const ps = reqs.map((r) => inst.send(r, callCtx(r)));
    await sleep(20);
    const s = inst.stats();
    expect(s.connections.length).toBe(2);
    const rcs = await Promise.all(ps);
    // 2 on the first connection (full: a second one opens), 3 wait in the backlog, 1 is refused.
    expect(rcs.filter((x) => x === 'ok').length).toBe(5);
    expect(rcs.filter((x) => x === 'fail').length).toBe(1);
    expect(new Set(h.seen.map((x) => x.port)).size).toBe(2);
    expect(inst.stats().counters.backlog_failed).toBe(1);
    expect(inst.idsInUse()).toBe(0);
  });

  it('cancel while waiting in the backlog: leaves the backlog at once and is never sent', async () => {
    const h = await home();
    h.behave = () => ({ code: 2, delay: 80 });
    const { inst } = make(h, 'type = Access-Request\nresponse_window = 2\npool {\n max = 1\n per_connection_max = 2\n max_backlog = 3\n}');
    await waitFor(() => inst.stats().state === 'active');
    const ctxs = Array.from({ length: 3 }, () => { const r = auth(); return { r, ctx: callCtx(r) }; });
    const ps = ctxs.map(({ r, ctx }) => inst.send(r, ctx));
    await sleep(10);
    expect(inst.stats().backlog).toBe(1);
    ctxs[2].ctx.fire('cancel');
    expect(inst.stats().backlog).toBe(0);
    expect(await Promise.all(ps)).toEqual(['ok', 'ok', 'fail']);
    await sleep(20);
    expect(h.seen.length).toBe(2);
    expect(inst.stats().counters.cancelled).toBe(1);
    expect(inst.stats().counters.backlog_failed).toBe(0);
    expect(inst.idsInUse()).toBe(0);
  });

  it('max_outstanding is enforced', async () => {
    const h = await home();
    h.behave = () => ({ code: 2, delay: 50 });
    const { inst } = make(h, 'type = Access-Request\nmax_outstanding = 3');
    await waitFor(() => inst.stats().state === 'active');
    const rcs = await Promise.all(Array.from({ length: 5 }, () => { const r = auth(); return inst.send(r, callCtx(r)); }));
    expect(rcs.filter((x) => x === 'ok').length).toBe(3);
    expect(inst.stats().counters.limit_outstanding).toBe(2);
  });

  it('the most lively connection gets new packets', async () => {
    const h = await home();
    h.behave = () => ({ code: 2 });
    const { inst } = make(h, 'type = Access-Request\npool {\n start = 3\n max = 3\n}');
    await waitFor(() => inst.stats().connections.filter((c) => c.state === 'active').length === 3);
    for (let i = 0; i < 5; i++) { const r = auth(); await inst.send(r, callCtx(r)); }
    // Sequential requests: the connection that just answered is chosen again.
    expect(new Set(h.seen.map((x) => x.port)).size).toBe(1);
  });

  it('IDs never leak: many requests with drops, delays and cancels', async () => {
    const h = await home();
    h.behave = (_p, n) => (n % 3 === 0 ? undefined : n % 3 === 1 ? { code: 2, delay: n % 7 } : { code: 2, badAuth: n % 2 === 0 });
    const { inst } = make(h, 'type = Access-Request\nresponse_window = 0.1\npool {\n max = 4\n}');
    await waitFor(() => inst.stats().state === 'active');
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 1500; i++) {
      const r = auth();
      const ctx = callCtx(r);
      all.push(Promise.resolve(inst.send(r, ctx)));
      if (i % 10 === 0) setTimeout(() => ctx.fire('cancel'), 5);
      if (i % 200 === 0) await sleep(1);
    }
    await Promise.all(all);
    expect(inst.idsInUse()).toBe(0);
    expect(inst.stats().outstanding).toBe(0);
  }, 15000);

  it('replicate: returns ok after the write', async () => {
    const h = await home();
    const { inst } = make(h, 'mode = replicate\ntype = Accounting-Request');
    await waitFor(() => inst.stats().state === 'active');
    const r = acct('User-Name = "bob", Acct-Status-Type = Start');
    expect(await inst.send(r, callCtx(r))).toBe('ok');
    await waitFor(() => h.seen.length === 1);
  });

  it('%<inst>.stats() xlat and the stats accessor', async () => {
    const h = await home();
    const { inst } = make(h, 'type = Access-Request');
    let fn: ((x: unknown, a: unknown[][]) => unknown) | undefined;
    inst.bootstrap({ name: 'home', dict, log: memoryLogger(), registerXlat: (_n, f) => { fn = f as typeof fn; } });
    await waitFor(() => inst.stats().state === 'active');
    const r = auth();
    await inst.send(r, callCtx(r));
    expect(fn!({}, [[{ type: 'string', value: 'sent' }]])).toEqual([{ type: 'uint32', value: 1 }]);
    expect(fn!({}, [[{ type: 'string', value: 'state' }]])).toEqual([{ type: 'string', value: 'active' }]);
    const all = JSON.parse((fn!({}, []) as { value: string }[])[0].value);
    expect(all.connections[0].state).toBe('active');
  });
});

describe('radius: config errors are located', () => {
  const h = { port: 1812 } as TestHome;
  // Through the loader: the definition's validate runs at start-up and under radiusd -C alike.
  const expectErr = (body: string, re: RegExp) =>
    expect(loadTestModule(radius, body, { name: 'home', file: 'radius.conf' })).rejects.toThrow(re);
  it('refuses Status-Server as a type, a missing transport section, bad status checks', async () => {
    void h;
    await expectErr('type = Status-Server\nudp {\n ipaddr = 127.0.0.1\n secret = x\n}', /radius\.conf\[2\]: .*Status-Server is not allowed/);
    await expectErr('type = Access-Request\ntransport = tcp\nudp {\n ipaddr = 127.0.0.1\n secret = x\n}', /needs a "tcp \{ … \}" section/);
    await expectErr('type = Access-Request\nudp {\n secret = x\n}', /radius\.conf\[3\]: .*exactly one of ipaddr/);
    await expectErr('type = Access-Request\nudp {\n ipaddr = 127.0.0.1\n}', /secret is required/);
    await expectErr('type = Access-Request\nudp {\n ipaddr = 127.0.0.1\n secret = x\n}\nstatus_check {\n type = auto\n}', /needs User-Name and User-Password/);
    await expectErr('type = Accounting-Request\nudp {\n ipaddr = 127.0.0.1\n secret = x\n}\nstatus_check {\n type = Accounting-Request\n update request {\n User-Name = "x"\n User-Password = "y"\n }\n}', /User-Password is only allowed/);
    await expectErr('type = Access-Request\nudp {\n ipaddr = 127.0.0.1\n secret = x\n}\nstatus_check {\n update request {\n User-Name = "%{User-Name}"\n }\n}', /radius\.conf\[9\]: .*only static values/);
    await expectErr('type = Access-Request\nudp {\n ipaddr = 127.0.0.1\n secret = x\n}\nstatus_check {\n update request {\n Proxy-State = 0x01\n }\n}', /Proxy-State is not allowed/);
    expect(() => parseModuleConfig(RadiusConfig, 'type = Access-Request\nresponse_window = 500', 'radius home', 'radius.conf')).toThrow(/radius\.conf\[3\]: radius home \{ response_window \}/);
  });
});
