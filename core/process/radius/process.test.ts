import { describe, expect, it } from 'vitest';
import type { ModuleMethod } from '../../unlang/module-call';
import type { Rcode } from '../../request/rcode';
import { decodePacket, PacketCode as C } from '../../protocol/radius/packet';
import { Client } from '../../listen/clients';
import { buildRequest, compileSite, decodeReply, pairValue, testDict } from '../../../test/support/listen';
import type { InboundPacket } from '../../listen/types';
import { parsePairList } from '../../pair/text';
import type { InjectInput, InjectReply } from '../namespace';
import { Request } from '../../request/request';
import { createRadiusProcess, type RadiusProcess } from './process';

const dict = testDict();
const client = new Client('lo', 'lo-short', Buffer.from('testing123'), 'other', '127.0.0.1', 'yes', 'auto', 0);

function inbound(raw: Buffer, types: number[] = [1, 4, 12, 40, 43]): InboundPacket {
  const d = decodePacket(raw, { dict, secret: client.secret });
  if (!d.ok) throw new Error(d.error.message);
  return {
    raw, packet: d.packet, hasMessageAuthenticator: d.hasMessageAuthenticator, client,
    src: { address: '127.0.0.1', port: 40000 }, dst: { address: '127.0.0.1', port: 1812 },
    listener: { name: 't', transport: 'udp', types }, received: performance.now(),
  };
}

/** Runs one packet; resolves with the reply (or null). */
function run(proc: RadiusProcess, raw: Buffer, types?: number[]): Promise<Buffer | null> {
  return new Promise((resolve) => { proc.process(inbound(raw, types), resolve); });
}

function site(sections: Record<string, string>, modules: Record<string, ModuleMethod> = {}) {
  return createRadiusProcess(compileSite(sections, { modules, config: { rejectDelay: 0, maxRequestTime: 5 } }));
}

async function code(proc: RadiusProcess, pairs: string, c: number = C.AccessRequest): Promise<number | null> {
  const raw = buildRequest(c, pairs);
  const r = await run(proc, raw);
  return r ? decodeReply(r, raw).code : null;
}

describe('process_radius state machine', () => {
  it('maps recv rcodes for Access-Request and honours reply.Packet-Type', async () => {
    const p = site({
      'recv Access-Request': `
        if (User-Name == "rej") {
          reject
        } elsif (User-Name == "to") {
          timeout_mod
        } elsif (User-Name == "chal") {
          reply.Packet-Type := ::Access-Challenge
        } elsif (User-Name == "nf") {
          notfound
        } elsif (User-Name == "r4") {
          control.Auth-Type := ::Reject
        } elsif (User-Name == "other") {
          control.Auth-Type := ::CHAP
        } elsif (User-Name == "hand") {
          control.Auth-Type := ::PAP
        }
        ok`,
      'authenticate pap': 'reply.Packet-Type := ::Access-Challenge\nhandled',
      'send Access-Challenge': 'reply.State := 0x01',
    }, { timeout_mod: () => 'timeout' });
    expect(await code(p, 'User-Name = "rej"')).toBe(C.AccessReject);
    expect(await code(p, 'User-Name = "nf"')).toBe(C.AccessReject);
    expect(await code(p, 'User-Name = "to"')).toBeNull();
    expect(await code(p, 'User-Name = "chal"')).toBe(C.AccessChallenge);
    expect(await code(p, 'User-Name = "r4"')).toBe(C.AccessReject);
    expect(await code(p, 'User-Name = "other"')).toBe(C.AccessReject); // no authenticate chap section
    expect(await code(p, 'User-Name = "none"')).toBe(C.AccessReject); // no Auth-Type
    const raw = buildRequest(C.AccessRequest, 'User-Name = "hand"');
    const d = decodeReply((await run(p, raw))!, raw);
    expect(d.code).toBe(C.AccessChallenge);
    expect((pairValue(d, 'State') as Buffer).toString('hex')).toBe('01');
  });

  it('a failing send Access-Accept turns into Access-Reject and runs send Access-Reject', async () => {
    const p = site({
      'recv Access-Request': 'control.Auth-Type := ::Accept',
      'send Access-Accept': 'reply.Reply-Message := "accepted"\nfail',
      'send Access-Reject': 'reply.Filter-Id := "rejected"',
    });
    const raw = buildRequest(C.AccessRequest, 'User-Name = "x"');
    const d = decodeReply((await run(p, raw))!, raw);
    expect(d.code).toBe(C.AccessReject);
    expect(pairValue(d, 'Reply-Message')).toBe('accepted');
    expect(pairValue(d, 'Filter-Id')).toBe('rejected');
  });

  it('Do-Not-Respond from reply.Packet-Type runs send Do-Not-Respond and sends nothing', async () => {
    let ran = 0;
    const p = site({
      'recv Access-Request': 'reply.Packet-Type := ::Do-Not-Respond',
      'send Do-Not-Respond': 'mark',
    }, { mark: () => { ran++; return 'ok'; } });
    expect(await code(p, 'User-Name = "x"')).toBeNull();
    expect(ran).toBe(1);
  });

  it('sets the internal request attributes for policies', async () => {
    const p = site({
      'recv Access-Request': `
        reply.Reply-Message := "%{Packet-Src-IP-Address}:%{Packet-Src-Port} %{Client-Shortname} %{Client-IP-Address} %{Packet-Dst-Port} %{Packet-Type}"
        control.Auth-Type := ::Accept`,
    });
    const raw = buildRequest(C.AccessRequest, 'User-Name = "x"');
    const d = decodeReply((await run(p, raw))!, raw);
    expect(pairValue(d, 'Reply-Message')).toBe('127.0.0.1:40000 lo-short 127.0.0.1 1812 Access-Request');
  });

  it('Status-Server: recv section ok → Accept, noop → Reject', async () => {
    const p = site({ 'recv Status-Server': 'if (User-Name == "up") {\n ok\n}' });
    expect(await code(p, 'User-Name = "up"', C.StatusServer)).toBe(C.AccessAccept);
    expect(await code(p, 'User-Name = "down"', C.StatusServer)).toBe(C.AccessReject);
  });

  it('accounting <Acct-Status-Type> is chosen by value name; a failing one means no response', async () => {
    const p = site({
      'recv Accounting-Request': 'ok',
      'accounting interim-update': 'fail',
      'accounting Start': 'reply.Reply-Message := "s"',
    });
    expect(await code(p, 'Acct-Status-Type = Start', C.AccountingRequest)).toBe(C.AccountingResponse);
    expect(await code(p, 'Acct-Status-Type = Interim-Update', C.AccountingRequest)).toBeNull();
    expect(await code(p, 'Acct-Status-Type = Stop', C.AccountingRequest)).toBe(C.AccountingResponse);
  });

  it('replies carry Message-Authenticator when the request had one, or for Access-* always', async () => {
    const p = site({ 'recv Accounting-Request': 'ok', 'recv CoA-Request': 'ok' });
    const acct = buildRequest(C.AccountingRequest, 'Acct-Status-Type = Start', { ma: false });
    expect(decodeReply((await run(p, acct))!, acct).hasMa).toBe(false);
    const coa = buildRequest(C.CoARequest, 'User-Name = "x"', { ma: true });
    const r = (await run(p, coa))!;
    expect(decodeReply(r, coa).hasMa).toBe(true);
    expect(r[20]).toBe(80);
  });

  it('a cancel from the listener ends a yielded request without a reply', async () => {
    let cancelled = false;
    const p = site({ 'recv Access-Request': 'wait' }, {
      wait: (_r, ctx) => new Promise<Rcode>((res) => ctx.signal.addEventListener('abort', () => { cancelled = true; res('ok'); })),
    });
    const raw = buildRequest(C.AccessRequest, 'User-Name = "x"');
    let reply: Buffer | null | undefined;
    const h = p.process(inbound(raw), (r) => { reply = r; });
    expect(h).toBeDefined();
    h!.signal('cancel');
    await new Promise((r) => setTimeout(r, 10));
    expect(cancelled).toBe(true);
    expect(reply).toBeNull();
    expect(p.counters.active).toBe(0);
  });

  it('-X trace shows received and sent pairs, with passwords hidden', async () => {
    const lines: string[] = [];
    const p = createRadiusProcess(compileSite({ 'recv Access-Request': 'control.Auth-Type := ::Accept', 'send Access-Accept': 'reply.Reply-Message := "hi"' },
      { config: { rejectDelay: 0, maxRequestTime: 5 } }), { debug: true, requestLogSink: (_l, line) => lines.push(line) });
    await run(p, buildRequest(C.AccessRequest, 'User-Name = "bob", User-Password = "s3cret"'));
    const text = lines.join('\n');
    expect(text).toMatch(/Received Access-Request ID 1 from 127\.0\.0\.1:40000/);
    expect(text).toMatch(/User-Name = "bob"/);
    expect(text).toMatch(/User-Password = <hidden>/);
    expect(text).not.toMatch(/s3cret/);
    expect(text).toMatch(/Sending Access-Accept ID 1/);
    expect(text).toMatch(/Reply-Message = "hi"/);
  });

  it('sets request.authenticator to the Request Authenticator (the CHAP challenge), no extra pair', async () => {
    let seen: Buffer | undefined;
    let pairs = -1;
    const p = site({ 'recv Access-Request': 'look\ncontrol.Auth-Type := ::Accept' }, {
      look: (r) => { seen = r.authenticator; pairs = r.request.filter((x) => x.da.name === 'Packet-Authentication-Vector').length; return 'ok'; },
    });
    const raw = buildRequest(C.AccessRequest, 'User-Name = "x"');
    expect(decodeReply((await run(p, raw))!, raw).code).toBe(C.AccessAccept);
    expect(seen!.equals(raw.subarray(4, 20))).toBe(true);
    expect(pairs).toBe(0);
  });

  describe('a missing section runs as its default rcode (noop)', () => {
    const empty = () => site({});
    it('no recv Accounting-Request → Accounting-Response', async () => {
      expect(await code(empty(), 'Acct-Status-Type = Start', C.AccountingRequest)).toBe(C.AccountingResponse);
    });
    it('no recv Access-Request → Auth-Type handling: none → Reject; Accept via other sections', async () => {
      expect(await code(empty(), 'User-Name = "x"')).toBe(C.AccessReject);
      const p = site({ 'send Access-Reject': 'reply.Reply-Message := "r"' });
      const raw = buildRequest(C.AccessRequest, 'User-Name = "x"');
      expect(pairValue(decodeReply((await run(p, raw))!, raw), 'Reply-Message')).toBe('r');
    });
    it('no authenticate <Auth-Type> → Reject', async () => {
      expect(await code(site({ 'recv Access-Request': 'control.Auth-Type := ::PAP' }), 'User-Name = "x"')).toBe(C.AccessReject);
    });
    it('no accounting <Acct-Status-Type> → Accounting-Response', async () => {
      expect(await code(site({ 'recv Accounting-Request': 'ok' }), 'Acct-Status-Type = Stop', C.AccountingRequest)).toBe(C.AccountingResponse);
    });
    it('no recv CoA-Request / Disconnect-Request → ACK', async () => {
      expect(await code(empty(), 'User-Name = "x"', C.CoARequest)).toBe(C.CoAACK);
      expect(await code(empty(), 'User-Name = "x"', C.DisconnectRequest)).toBe(C.DisconnectACK);
    });
    it('no recv Status-Server → Access-Accept', async () => {
      expect(await code(empty(), 'User-Name = "x"', C.StatusServer)).toBe(C.AccessAccept);
    });
    it('no send <reply> section → the reply still goes out', async () => {
      expect(await code(site({ 'recv Access-Request': 'control.Auth-Type := ::Accept' }), 'User-Name = "x"')).toBe(C.AccessAccept);
    });
  });

  it('close() sends replies held by reject_delay at once', async () => {
    const p = createRadiusProcess(compileSite({ 'recv Access-Request': 'reject' }, { config: { rejectDelay: 30, maxRequestTime: 5 } }));
    const raw = buildRequest(C.AccessRequest, 'User-Name = "x"');
    let reply: Buffer | null | undefined;
    p.process(inbound(raw), (r) => { reply = r; });
    expect(reply).toBeUndefined();
    p.close();
    expect(decodeReply(reply!, raw).code).toBe(C.AccessReject);
  });

  it('an exception inside the machinery never escapes: no reply, counted', async () => {
    const p = site({ 'recv Access-Request': 'control.Auth-Type := ::Accept', 'send Access-Accept': 'reply.Reply-Message := "%{0}"' });
    const raw = buildRequest(C.AccessRequest, 'User-Name = "x"');
    // Whatever the section does, the callback is called exactly once.
    let calls = 0;
    await new Promise<void>((res) => { p.process(inbound(raw), () => { calls++; res(); }); });
    expect(calls).toBe(1);
  });

  describe('inject (in-process requests)', () => {
    const inject = (p: RadiusProcess, c: number, pairs: string, extra: Partial<InjectInput> = {}) => {
      let reply: InjectReply | undefined;
      const handle = p.inject({ code: c, pairs: parsePairList(pairs, dict), received: performance.now(), ...extra }, (r) => { reply = r; });
      return { handle, get reply() { return reply; } };
    };

    it('runs the same decisions as packets and hands back the reply list, not bytes', () => {
      const p = site({
        'recv Access-Request': 'if (User-Name == "bob") {\n control.Auth-Type := ::Accept\n}',
        'send Access-Accept': 'reply.Reply-Message := "hi %{Client-Shortname}"',
        'recv CoA-Request': 'if (User-Name == "nak") {\n reject\n}\nok',
        'accounting Start': 'ok',
      });
      const a = inject(p, C.AccessRequest, 'User-Name = "bob"', { client: 'nas1', src: { address: '192.0.2.1', port: 1 } });
      expect(a.handle).toBeUndefined(); // synchronous site: finished at once
      expect(a.reply!.code).toBe(C.AccessAccept);
      expect(a.reply!.name).toBe('Access-Accept');
      expect(a.reply!.pairs.map((x) => `${x.da.name}=${x.value}`)).toEqual(['Reply-Message=hi nas1']);
      expect(inject(p, C.AccessRequest, 'User-Name = "eve"').reply!.name).toBe('Access-Reject');
      expect(inject(p, C.CoARequest, 'User-Name = "x"').reply!.name).toBe('CoA-ACK');
      expect(inject(p, C.CoARequest, 'User-Name = "nak"').reply!.name).toBe('CoA-NAK');
      expect(inject(p, C.AccountingRequest, 'Acct-Status-Type = Start').reply!.name).toBe('Accounting-Response');
      expect(inject(p, C.StatusServer, '').reply!.name).toBe('Access-Accept');
      expect(p.counters).toMatchObject({ requests: 6, replies: 6, noReply: 0, active: 0 });
    });

    it('reject_delay holds packets but not in-process requests; no reply is code null', () => {
      const p = createRadiusProcess(compileSite({ 'recv Access-Request': 'reject', 'recv CoA-Request': 'timeout_mod' },
        { modules: { timeout_mod: () => 'timeout' }, config: { rejectDelay: 30, maxRequestTime: 5 } }));
      const r = inject(p, C.AccessRequest, 'User-Name = "x"');
      expect(r.reply!.name).toBe('Access-Reject');
      const none = inject(p, C.CoARequest, 'User-Name = "x"');
      expect(none.reply).toMatchObject({ code: null, name: 'Do-Not-Respond', pairs: [] });
      expect(p.counters).toMatchObject({ requests: 2, replies: 1, noReply: 1 });
    });
  });
});

describe('process_radius with an injected clock', () => {
  it('request receive time comes from the packet reading; reject_delay waits for the clock', async () => {
    const { FakeClock } = await import('../../clock/fake');
    const clock = new FakeClock(5000, Date.UTC(2026, 2, 1, 12, 0, 0));
    let seen: { at: number; wall: number } | undefined;
    const proc = createRadiusProcess(compileSite({
      'recv Access-Request': 'look\nreject',
    }, { modules: { look: (r) => { seen = { at: r.receivedAt, wall: r.received }; return 'noop'; } }, config: { rejectDelay: 1, maxRequestTime: 5 } }), { clock });
    const raw = buildRequest(C.AccessRequest, 'User-Name = "x"');
    let reply: Buffer | null | undefined;
    proc.process({ ...inbound(raw), received: clock.now() }, (r) => { reply = r; });
    expect(seen).toEqual({ at: 5000, wall: Date.UTC(2026, 2, 1, 12, 0, 0) / 1000 });
    expect(reply).toBeUndefined(); // held by reject_delay
    clock.advance(999);
    expect(reply).toBeUndefined();
    clock.advance(1);
    expect(reply && decodeReply(reply, raw).code).toBe(C.AccessReject);
  });
});

describe('finally [<request type>] (FreeRADIUS v4)', () => {
  it('runs last, sees the previous rcode, may edit the reply, and its rcode does not change the reply code', async () => {
    const p = site({
      'recv Access-Request': 'if (User-Name == "bad") {\nreject\n}\ncontrol.Auth-Type := ::Accept',
      'send Access-Reject': 'notfound',
      'finally Access-Request': 'if (notfound) {\nreply.Reply-Message := "was rejected"\n} else {\nreply.Reply-Message := "was accepted"\n}\nreject',
      'finally': 'reply.Reply-Message := "generic"',
    });
    const ok = buildRequest(C.AccessRequest, 'User-Name = "good"');
    const r1 = decodeReply((await run(p, ok))!, ok);
    expect(r1.code).toBe(C.AccessAccept);
    expect(pairValue(r1, 'Reply-Message')).toBe('was accepted');
    const bad = buildRequest(C.AccessRequest, 'User-Name = "bad"');
    const r2 = decodeReply((await run(p, bad))!, bad);
    expect(r2.code).toBe(C.AccessReject);
    expect(pairValue(r2, 'Reply-Message')).toBe('was rejected');
    // Other request types use the unqualified section.
    const acct = buildRequest(C.AccountingRequest, 'Acct-Status-Type = Start');
    expect(pairValue(decodeReply((await run(p, acct))!, acct), 'Reply-Message')).toBe('generic');
  });

  it('runs after max_request_time cancelled the request, with rcode timeout, and is not cancelled itself', async () => {
    let seen: string | undefined;
    let tailAborted = false;
    let tailDone = false;
    const slow: ModuleMethod = (_r, ctx) => new Promise<Rcode>((resolve) => { ctx.signal.addEventListener('abort', () => resolve('fail')); });
    const tail: ModuleMethod = (req, ctx) => new Promise<Rcode>((resolve) => {
      seen = req.rcode;
      ctx.signal.addEventListener('abort', () => { tailAborted = true; });
      setTimeout(() => { tailDone = true; resolve('ok'); }, 1200);
    });
    const p = createRadiusProcess(compileSite({ 'recv Access-Request': 'slow', finally: 'tail' }, { modules: { slow, tail }, config: { rejectDelay: 0, maxRequestTime: 1 } }));
    const raw = buildRequest(C.AccessRequest, 'User-Name = "x"');
    expect(await run(p, raw)).toBeNull();
    expect(seen).toBe('timeout');
    // The finally section's module call (longer than max_request_time) ran to its end.
    expect(tailDone).toBe(true);
    expect(tailAborted).toBe(false);
    expect(p.counters.active).toBe(0);
  });

  it('runs for in-process requests too (inject): last, reply code unchanged; after max_request_time with rcode timeout', async () => {
    const p = site({
      'recv Access-Request': 'if (User-Name == "bad") {\nreject\n}\ncontrol.Auth-Type := ::Accept',
      'finally Access-Request': 'reply.Reply-Message := "finally %{User-Name}"\nreject',
    });
    const injected = (user: string) => new Promise<InjectReply>((resolve) => {
      p.inject({ code: C.AccessRequest, pairs: parsePairList(`User-Name = "${user}"`, dict), received: performance.now() }, resolve);
    });
    const ok = await injected('good');
    expect(ok.name).toBe('Access-Accept');
    expect(ok.pairs.map((x) => `${x.da.name}=${x.value}`)).toEqual(['Reply-Message=finally good']);
    expect(ok.rcode).toBe('reject'); // the last section that ran
    expect((await injected('bad')).name).toBe('Access-Reject');

    let seen: string | undefined;
    let tailAborted = false;
    const slow: ModuleMethod = (_r, ctx) => new Promise<Rcode>((resolve) => { ctx.signal.addEventListener('abort', () => resolve('fail')); });
    const tail: ModuleMethod = (req, ctx) => new Promise<Rcode>((resolve) => {
      seen = req.rcode;
      ctx.signal.addEventListener('abort', () => { tailAborted = true; });
      setTimeout(() => resolve('ok'), 1200);
    });
    const q = createRadiusProcess(compileSite({ 'recv Access-Request': 'slow', finally: 'tail' }, { modules: { slow, tail }, config: { rejectDelay: 0, maxRequestTime: 1 } }));
    const r = await new Promise<InjectReply>((resolve) => {
      q.inject({ code: C.AccessRequest, pairs: parsePairList('User-Name = "x"', dict), received: performance.now() }, resolve);
    });
    expect(r.code).toBeNull();
    expect(seen).toBe('timeout');
    expect(tailAborted).toBe(false);
    expect(q.counters).toMatchObject({ cancelled: 1, noReply: 1, active: 0 });
  });
});

describe('call (a request from another site, through inject)', () => {
  it('edits the caller\'s lists, adds no Packet-* pairs, resolves with the last rcode (finally\'s)', async () => {
    const p = site({
      'recv Access-Request': 'control.Auth-Type := ::Accept\nreply.Reply-Message := "from called"',
      'finally': 'reply.Filter-Id := "called finally"\nupdated',
    });
    const req = new Request({ code: C.AccessRequest, dict });
    req.request.push(...parsePairList('User-Name = "bob"', dict));
    const rc = await p.call(req, new AbortController().signal);
    expect(rc).toBe('updated');
    expect(req.request.map((x) => x.da.name)).toEqual(['User-Name']);
    expect(req.reply.map((x) => `${x.da.name}=${x.value}`)).toEqual(expect.arrayContaining(['Reply-Message=from called', 'Filter-Id=called finally']));
    expect(p.counters).toMatchObject({ requests: 1, replies: 1, active: 0 });
  });

  it('the caller\'s cancel reaches it: fail, no own max_request_time, finally still runs', async () => {
    let finallyRan = false;
    let release!: () => void;
    const slow: ModuleMethod = (_r, ctx) => new Promise<Rcode>((resolve) => {
      release = () => resolve('ok');
      ctx.signal.addEventListener('abort', () => resolve('fail'));
    });
    const mark: ModuleMethod = () => { finallyRan = true; return 'ok'; };
    // maxRequestTime 1 s would cancel a request of its own; a called one only stops on the caller's signal.
    const p = createRadiusProcess(compileSite({ 'recv Access-Request': 'slow', finally: 'mark' }, { modules: { slow, mark }, config: { rejectDelay: 0, maxRequestTime: 1 } }));
    const req = new Request({ code: C.AccessRequest, dict });
    const ac = new AbortController();
    const pending = p.call(req, ac.signal);
    await new Promise((r) => setTimeout(r, 1300));
    expect(p.counters.active).toBe(1); // still running after the site's own max_request_time
    ac.abort();
    expect(await pending).toBe('fail');
    expect(finallyRan).toBe(true);
    expect(p.counters.active).toBe(0);
    release();
    // an already-aborted signal does not start it
    expect(await p.call(new Request({ code: C.AccessRequest, dict }), ac.signal)).toBe('fail');
    expect(p.counters.requests).toBe(1);
  });
});
