/**
 * The PPPoE engine driven in-thread, frame by frame, with a port made of two queues and the test playing the
 * control plane on the rings and the clock (no root, no timing): edge cases the real clients do not show.
 */
import { describe, expect, it } from 'vitest';
import { Lcore } from './lcore';
import { resolveOptions, DEFAULT_WIRE } from './options';
import { PppoeEngine, type FramePort } from './pppoe';
import { decodeRequest, Kind, RECORD_SIZE, Result, writeBareResponse, writeResponse, type AuthResult } from './records';
import { SpscRing } from './ring';
import { C, CP_BLOCK_BYTES, CP_F_BEAT, LcoreBlock } from './shared';

const AC = Uint8Array.of(2, 0xac, 0, 0, 0, 1);
const CLIENT = Uint8Array.of(2, 0xc1, 0, 0, 0, 7);

function harness(extra: { ipv6cp?: boolean } = {}, lcoreId = 0) {
  const wire = { ...DEFAULT_WIRE, interface: 'test0', cookieSecret: 'a-cookie-secret-of-some-length', localAddress: 0x0a630001, dns: [0x0a630035], ...extra };
  const o = resolveOptions({ ringSize: 16, burst: 8, maxSessions: 64, wire });
  const block = LcoreBlock.create();
  const cpSab = new SharedArrayBuffer(CP_BLOCK_BYTES);
  const cp = { i32: new Int32Array(cpSab), f64: new Float64Array(cpSab) };
  const req = SpscRing.create(o.ringSize, RECORD_SIZE);
  const resp = SpscRing.create(o.ringSize, RECORD_SIZE);
  let t = 1_000_000;
  cp.f64[CP_F_BEAT] = t;
  const lc = new Lcore(lcoreId, o, block, cp, SpscRing.attach(req.sab), SpscRing.attach(resp.sab));
  const inbox: Uint8Array[] = [];
  const sent: Uint8Array[] = [];
  const port: FramePort = {
    mac: AC,
    recv(buf, slot, lens, max) {
      let n = 0;
      while (n < max && inbox.length) {
        const f = inbox.shift()!;
        buf.set(f, n * slot);
        lens[n++] = f.length;
      }
      return n;
    },
    send(buf, offs, lens, count) {
      for (let i = 0; i < count; i++) sent.push(buf.slice(offs[i], offs[i] + lens[i]));
      return count;
    },
    wait: () => false,
  };
  const eng = new PppoeEngine(lc, port, o.wire!, 0, 1);
  lc.setApp(eng);
  lc.start(t);
  req.release(req.peek(10)); // the probe
  resp.reserve(1);
  writeBareResponse(resp.dv, resp.u8, resp.writeOffset(0), 0, 0, Kind.PROBE, Result.ACCEPT, t);
  resp.commit(1);
  const h = {
    lc, sent,
    /** Delivers frames, runs one loop iteration (engine, lcore, flush) and returns what went out. */
    step(frames: Uint8Array[] = [], ms = 0): Uint8Array[] {
      t += ms;
      cp.f64[CP_F_BEAT] = t;
      inbox.push(...frames);
      sent.length = 0;
      eng.poll(t);
      lc.poll(t);
      eng.flush();
      return sent.slice();
    },
    take() { const out = []; const n = req.peek(100); for (let i = 0; i < n; i++) out.push(decodeRequest(req.dv, req.u8, req.readOffset(i))); req.release(n); return out; },
    answer(requestId: number, sessionId: number, r: AuthResult) {
      resp.reserve(1);
      writeResponse(resp.dv, resp.u8, resp.writeOffset(0), requestId, sessionId, Kind.AUTH, r, t);
      resp.commit(1);
    },
    counters() { lc.publish(t); const s = block.readStats(); return Object.fromEntries(Object.entries(C).map(([k, i]) => [k, s.counters[i]])); },
  };
  h.step();
  return h;
}

/** An Ethernet frame from the client: optional 802.1Q tag, PPPoE header, payload. */
function frame(dst: Uint8Array, type: number, code: number, sid: number, payload: number[], vlan = 0, src = CLIENT): Uint8Array {
  const tag = vlan ? [0x81, 0x00, vlan >> 8, vlan & 255] : [];
  return Uint8Array.from([...dst, ...src, ...tag, type >> 8, type & 255, 0x11, code, sid >> 8, sid & 255, payload.length >> 8, payload.length & 255, ...payload]);
}
const tlv = (type: number, v: number[]) => [type >> 8, type & 255, v.length >> 8, v.length & 255, ...v];
const BCAST = Uint8Array.of(255, 255, 255, 255, 255, 255);

/** Tags of a discovery frame (after an optional tag). */
function tags(f: Uint8Array): { code: number; sid: number; vlan: number; tags: Map<number, number[]> } {
  let p = 12;
  let vlan = 0;
  if (f[p] === 0x81) { vlan = ((f[p + 2] << 8) | f[p + 3]) & 0xfff; p += 4; }
  p += 2;
  const code = f[p + 1];
  const sid = (f[p + 2] << 8) | f[p + 3];
  const len = (f[p + 4] << 8) | f[p + 5];
  const out = new Map<number, number[]>();
  for (let q = p + 6; q + 4 <= p + 6 + len;) {
    const tt = (f[q] << 8) | f[q + 1];
    const tl = (f[q + 2] << 8) | f[q + 3];
    out.set(tt, [...f.subarray(q + 4, q + 4 + tl)]);
    q += 4 + tl;
  }
  return { code, sid, vlan, tags: out };
}

/** The PPP packet of a session frame: protocol, code, id, data. */
function ppp(f: Uint8Array): { proto: number; code: number; id: number; data: number[] } {
  const p = (f[12] === 0x81 ? 16 : 12) + 2 + 6;
  return { proto: (f[p] << 8) | f[p + 1], code: f[p + 2], id: f[p + 3], data: [...f.subarray(p + 6, p + 2 + ((f[p + 4] << 8) | f[p + 5]))] };
}
const sess = (sid: number, proto: number, code: number, id: number, data: number[]) =>
  frame(AC, 0x8864, 0, sid, [proto >> 8, proto & 255, code, id, 0, 4 + data.length, ...data]);

/** Discovery up to PADS (VLAN 100); returns the session id. */
function discover(h: ReturnType<typeof harness>): number {
  const [pado] = h.step([frame(BCAST, 0x8863, 0x09, 0, [...tlv(0x0101, []), ...tlv(0x0103, [1, 2, 3])], 100)]);
  const cookie = tags(pado).tags.get(0x0104)!;
  const out = h.step([frame(AC, 0x8863, 0x19, 0, [...tlv(0x0101, []), ...tlv(0x0103, [1, 2, 3]), ...tlv(0x0104, cookie)], 100)]);
  const pads = tags(out[0]);
  expect(pads.code).toBe(0x65);
  return pads.sid;
}

describe('PPPoE engine (in-thread)', () => {
  it('discovery: PADO on the client VLAN with the cookie and Host-Uniq; a forged cookie is dropped; PADI floods are limited per MAC', () => {
    const h = harness();
    const out = h.step([frame(BCAST, 0x8863, 0x09, 0, [...tlv(0x0101, []), ...tlv(0x0103, [9, 9])], 100)]);
    expect(out).toHaveLength(1);
    const pado = tags(out[0]);
    expect(pado).toMatchObject({ code: 0x07, sid: 0, vlan: 100 });
    expect(Buffer.from(pado.tags.get(0x0102)!).toString()).toBe('tsradius');
    expect(pado.tags.get(0x0103)).toEqual([9, 9]);
    const cookie = pado.tags.get(0x0104)!;
    expect(cookie).toHaveLength(20);
    const forged = [...cookie];
    forged[10] ^= 1;
    expect(h.step([frame(AC, 0x8863, 0x19, 0, [...tlv(0x0101, []), ...tlv(0x0104, forged)], 100)])).toEqual([]);
    // the same cookie from another VLAN is not valid either (the cookie binds MAC and VLANs)
    expect(h.step([frame(AC, 0x8863, 0x19, 0, [...tlv(0x0101, []), ...tlv(0x0104, cookie)], 200)])).toEqual([]);
    expect(h.counters().wire_cookie_invalid).toBe(2);
    // burst 10 per MAC (3 used above): a flood of 20 PADIs gets 7 answers
    const flood = h.step(Array.from({ length: 20 }, () => frame(BCAST, 0x8863, 0x09, 0, tlv(0x0101, []))));
    expect(flood).toHaveLength(7);
    expect(h.counters().wire_discovery_limited).toBe(13);
  });

  it('LCP: ACCM and PFC are rejected, a looped-back magic is Naked, a clean request is acked', () => {
    const h = harness();
    const sid = discover(h);
    const ours = h.sent.map(ppp).find((p) => p.proto === 0xc021 && p.code === 1);
    expect(ours, 'our Configure-Request follows PADS').toBeDefined();
    const magic = ours!.data.slice(-4);
    // the peer's first request: our request is resent once, BEFORE the answer (see the renegotiation test)
    let out = h.step([sess(sid, 0xc021, 1, 7, [1, 4, 5, 0xd4, 2, 6, 0, 0, 0, 0, 7, 2])]).map(ppp);
    expect(out.map((p) => p.code)).toEqual([1, 4]);
    expect(out[0]).toEqual(ours);
    expect(out[1]).toEqual({ proto: 0xc021, code: 4, id: 7, data: [2, 6, 0, 0, 0, 0, 7, 2] });
    out = h.step([sess(sid, 0xc021, 1, 8, [1, 4, 5, 0xd4, 5, 6, ...magic])]).map(ppp);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ code: 3, id: 8 });
    out = h.step([sess(sid, 0xc021, 1, 9, [1, 4, 5, 0xd4, 5, 6, 1, 2, 3, 4])]).map(ppp);
    expect(out).toEqual([{ proto: 0xc021, code: 2, id: 9, data: [1, 4, 5, 0xd4, 5, 6, 1, 2, 3, 4] }]);
  });

  it('LCP: a copy of our request reaching an opened peer (it renegotiates before authenticating) restarts LCP instead of ending the session', () => {
    const h = harness();
    const sid = discover(h);
    const first = h.sent.map(ppp).find((p) => p.proto === 0xc021 && p.code === 1)!;
    // the peer (pppd) missed the copy sent with PADS; our Restart timer sends it again
    const retx = h.step([], 3000).map(ppp);
    expect(retx).toEqual([first]);
    // its own request crossed that copy: it acks the copy, and we ack its request
    let out = h.step([sess(sid, 0xc021, 1, 1, [1, 4, 5, 0xd4, 5, 6, 1, 2, 3, 4]), sess(sid, 0xc021, 2, first.id, first.data)]).map(ppp);
    expect(out.map((p) => [p.proto, p.code])).toEqual([[0xc021, 1], [0xc021, 2], [0xc223, 1]]); // resent request, Ack, then LCP up: Challenge
    // the peer opened on our Ack and saw the resent copy after it (an old peer, or a slow one): Opened + RCR
    out = h.step([sess(sid, 0xc021, 1, 2, [1, 4, 5, 0xd4, 5, 6, 1, 2, 3, 5]), sess(sid, 0xc021, 2, first.id, first.data)]).map(ppp);
    const again = out[0];
    expect(again).toMatchObject({ proto: 0xc021, code: 1 });
    expect(again.id).not.toBe(first.id);
    expect(out[1]).toMatchObject({ proto: 0xc021, code: 2, id: 2 });
    expect(out).toHaveLength(2); // no Terminate-Request, no PADT; the stale Ack of the old id is ignored
    out = h.step([sess(sid, 0xc021, 2, again.id, again.data)]).map(ppp);
    expect(out.map((p) => [p.proto, p.code])).toEqual([[0xc223, 1]]);
    expect(h.counters()).toMatchObject({ wire_lcp_up: 2, wire_padt_out: 0, sessions_closed: 0 });
  });

  it('sessions are keyed by client MAC and session id: ids beyond 16 bits wrap on the wire, another MAC with the same id is not the session', () => {
    // lcore 1024 of 64-session lcores owns internal ids 65537 …: on the wire they are 3 …
    const h = harness({}, 1024);
    const sid = discover(h);
    expect(sid).toBe(3);
    const OTHER = Uint8Array.of(2, 0xc1, 0, 0, 0, 8);
    const lcpReq = [1, 4, 5, 0xd4, 5, 6, 1, 2, 3, 4];
    // the same session id from another MAC: not this session (no answer), and a PADT from it ends nothing
    expect(h.step([frame(AC, 0x8864, 0, sid, [0xc0, 0x21, 1, 1, 0, 14, ...lcpReq], 100, OTHER)])).toEqual([]);
    expect(h.step([frame(AC, 0x8863, 0xa7, sid, [], 100, OTHER)])).toEqual([]);
    // the right MAC with another session id: dropped too
    expect(h.step([sess(sid + 1, 0xc021, 1, 1, lcpReq)])).toEqual([]);
    expect(h.counters()).toMatchObject({ wire_unknown_session: 1, wire_mac_mismatch: 1, wire_padt_in: 0, sessions_closed: 0 });
    // the right pair: answered on the wire id
    const out = h.step([sess(sid, 0xc021, 1, 2, lcpReq)]);
    expect(out.map((f) => tags(f).sid)).toEqual([3, 3]);
    expect(out.map(ppp).map((p) => p.code)).toEqual([1, 2]);
    // the accounting and the control plane still see the internal id
    expect(h.lc.sidBase).toBe(65537);
    h.step([frame(AC, 0x8863, 0xa7, sid, [], 100)]);
    expect(h.counters()).toMatchObject({ wire_padt_in: 1, sessions_closed: 1 });
  });

  it('timers: an unanswered LCP request is resent on the Restart timer up to Max-Configure, then the session ends (PADT)', () => {
    const h = harness();
    discover(h);
    let resent = 0;
    let padt = 0;
    for (let i = 0; i < 40 && padt === 0; i++) {
      for (const f of h.step([], 1000)) {
        const type = f[12] === 0x81 ? (f[16] << 8) | f[17] : (f[12] << 8) | f[13];
        if (type === 0x8863 && tags(f).code === 0xa7) padt++;
        else if (ppp(f).proto === 0xc021 && ppp(f).code === 1) resent++;
      }
    }
    expect(resent + 1).toBe(DEFAULT_WIRE.maxConfigure);
    expect(padt).toBe(1);
    expect(h.counters()).toMatchObject({ sessions_closed: 1, wire_padt_out: 1 });
  });

  it('CHAP and IPCP retransmissions keep their identifier: an answer to an earlier copy still counts', () => {
    const h = harness();
    const sid = discover(h);
    const ours = h.sent.map(ppp).find((p) => p.proto === 0xc021 && p.code === 1)!;
    let out = h.step([sess(sid, 0xc021, 1, 1, [1, 4, 5, 0xd4, 5, 6, 1, 2, 3, 4]), sess(sid, 0xc021, 2, ours.id, ours.data)]).map(ppp);
    const ch = out.find((p) => p.proto === 0xc223)!;
    const ch2 = h.step([], 3000).map(ppp);
    expect(ch2).toEqual([ch]); // same identifier, same value
    // the response to the first copy arrives after the retransmission
    const value = Array.from({ length: 16 }, (_, i) => i);
    h.step([sess(sid, 0xc223, 2, ch.id, [16, ...value, ...Buffer.from('alice')])]);
    const [r] = h.take();
    expect(r).toMatchObject({ sessionId: sid, authType: 'chap', username: 'alice' });
    expect(r.chap!.id).toBe(ch.id);
    h.answer(r.requestId, sid, { result: 'accept', framedIp: '10.99.0.78' });
    out = h.step().map(ppp);
    const ipcpReq = out.find((p) => p.proto === 0x8021)!;
    expect(h.step([], 3000).map(ppp)).toEqual([ipcpReq]);
    h.step([sess(sid, 0x8021, 1, 1, [3, 6, 10, 99, 0, 78]), sess(sid, 0x8021, 2, ipcpReq.id, ipcpReq.data)]);
    expect(h.counters()).toMatchObject({ wire_ipcp_up: 1, wire_acct_sent: 1 });
  });

  it('IPV6CP (enabled): our identifier requested after authentication; a zero identifier is Naked with a fresh one, then acked; unknown options rejected', () => {
    const h = harness({ ipv6cp: true });
    const sid = discover(h);
    const ours = h.sent.map(ppp).find((p) => p.proto === 0xc021 && p.code === 1)!;
    let out = h.step([sess(sid, 0xc021, 1, 1, [1, 4, 5, 0xd4, 5, 6, 1, 2, 3, 4]), sess(sid, 0xc021, 2, ours.id, ours.data)]).map(ppp);
    const ch = out.find((p) => p.proto === 0xc223)!;
    h.step([sess(sid, 0xc223, 2, ch.id, [16, ...Array.from({ length: 16 }, (_, i) => i), ...Buffer.from('alice')])]);
    const [r] = h.take();
    h.answer(r.requestId, sid, { result: 'accept', framedIp: '10.99.0.79' });
    out = h.step().map(ppp);
    const v6 = out.find((p) => p.proto === 0x8057)!;
    expect(v6).toMatchObject({ code: 1 });
    expect(v6.data.slice(0, 2)).toEqual([1, 10]);
    expect(v6.data.slice(2).some((x) => x !== 0)).toBe(true);
    // the peer asks for a zero identifier and a compression option
    out = h.step([sess(sid, 0x8057, 1, 3, [1, 10, 0, 0, 0, 0, 0, 0, 0, 0, 2, 4, 0, 0x4f])]).map(ppp);
    expect(out[0]).toEqual({ proto: 0x8057, code: 4, id: 3, data: [2, 4, 0, 0x4f] });
    out = h.step([sess(sid, 0x8057, 1, 4, [1, 10, 0, 0, 0, 0, 0, 0, 0, 0])]).map(ppp);
    expect(out[0]).toMatchObject({ proto: 0x8057, code: 3, id: 4 });
    const offered = out[0].data;
    expect(offered.slice(2).some((x) => x !== 0)).toBe(true);
    out = h.step([sess(sid, 0x8057, 1, 5, offered), sess(sid, 0x8057, 2, v6.id, v6.data)]).map(ppp);
    expect(out[0]).toEqual({ proto: 0x8057, code: 2, id: 5, data: offered });
    // IPv6 data is dropped quietly (no Protocol-Reject); IPCP is independent of IPV6CP
    expect(h.step([sess(sid, 0x0057, 0x60, 0, [])])).toEqual([]);
    expect(h.counters()).toMatchObject({ wire_ipv6cp_up: 1, wire_protocol_rejects: 0 });
  });

  it('PAP through the ring: the reply address is Naked into IPCP, and IPCP up queues an accounting Start', () => {
    const h = harness();
    const sid = discover(h);
    const ours = h.sent.map(ppp).find((p) => p.proto === 0xc021 && p.code === 1)!;
    // the peer Naks CHAP for PAP, then both sides ack
    let out = h.step([sess(sid, 0xc021, 3, ours.id, [3, 4, 0xc0, 0x23])]);
    const again = ppp(out[0]);
    expect(again.data).toEqual(expect.arrayContaining([3, 4, 0xc0, 0x23]));
    h.step([sess(sid, 0xc021, 2, again.id, again.data), sess(sid, 0xc021, 1, 1, [1, 4, 5, 0xd4, 5, 6, 1, 2, 3, 4])]);
    h.step([sess(sid, 0xc023, 1, 5, [3, ...Buffer.from('bob'), 2, ...Buffer.from('pw')])]);
    const [r] = h.take();
    expect(r).toMatchObject({ sessionId: sid, kind: Kind.AUTH, authType: 'pap', username: 'bob', svlan: 0, cvlan: 100 });
    expect(r.password!.toString()).toBe('pw');
    h.answer(r.requestId, sid, { result: 'accept', framedIp: '10.99.0.77', replyMessage: 'hi' });
    out = h.step();
    expect(ppp(out[0])).toEqual({ proto: 0xc023, code: 2, id: 5, data: [2, ...Buffer.from('hi')] });
    const ipcpReq = ppp(out[1]);
    expect(ipcpReq).toMatchObject({ proto: 0x8021, code: 1, data: [3, 6, 10, 99, 0, 1] });
    // the client asks 0.0.0.0 and DNS 0.0.0.0: Nak with the reply's address and the configured DNS
    [out[0]] = h.step([sess(sid, 0x8021, 1, 1, [3, 6, 0, 0, 0, 0, 0x81, 6, 0, 0, 0, 0])]);
    expect(ppp(out[0])).toEqual({ proto: 0x8021, code: 3, id: 1, data: [3, 6, 10, 99, 0, 77, 0x81, 6, 10, 99, 0, 0x35] });
    h.step([sess(sid, 0x8021, 1, 2, [3, 6, 10, 99, 0, 77, 0x81, 6, 10, 99, 0, 0x35]), sess(sid, 0x8021, 2, ipcpReq.id, ipcpReq.data)]);
    const [start] = h.take();
    expect(start).toMatchObject({ kind: Kind.ACCT, sessionId: sid, username: 'bob', acct: { status: 1, framedIp: 0x0a63004d } });
    expect(h.counters()).toMatchObject({ wire_lcp_up: 1, wire_ipcp_up: 1, wire_acct_sent: 1, accept: 1 });
  });
});
