import { describe, expect, it } from 'vitest';
import { loadDefaultDictionary } from '../dict/default';
import { Pair } from '../pair/pair';
import { encodePacket, PacketCode, type DecodePacketOptions } from '../protocol/radius';
import { IdTable } from './ids';
import { answers, maCovered, verifyReply, type MaPolicy } from './reply';
import { RequestEncoder, requestAuthenticator } from './request';

const dict = loadDefaultDictionary();
const secret = Buffer.from('s3cret');

describe('IdTable', () => {
  it('hands out IDs least recently used first, from `start`, and refuses the 257th', () => {
    const t = new IdTable<{ auth: Buffer }>(250);
    const owners = Array.from({ length: 256 }, (_, i) => ({ auth: Buffer.from([i]) }));
    const ids = owners.map((o) => t.allocate(o));
    expect(ids.slice(0, 7)).toEqual([250, 251, 252, 253, 254, 255, 0]);
    expect(new Set(ids).size).toBe(256);
    expect(t.free).toBe(0);
    expect(t.inUse).toBe(256);
    expect(t.allocate({ auth: Buffer.alloc(0) })).toBeUndefined();
    // Freed 3, then 7: the next allocations reuse them in that order (the oldest free ID first).
    expect(t.release(ids[3]!, owners[3])).toBe(true);
    expect(t.release(ids[7]!, owners[7])).toBe(true);
    expect(t.allocate(owners[3])).toBe(ids[3]);
    expect(t.allocate(owners[7])).toBe(ids[7]);
  });

  it('matches by ID, releases only for the owner and remembers the freed authenticator', () => {
    const t = new IdTable<{ auth: Buffer }>();
    const a = { auth: Buffer.alloc(16, 1) };
    const id = t.allocate(a)!;
    expect(t.get(id)).toBe(a);
    expect(t.release(id, { auth: a.auth })).toBe(false);
    expect(t.release(id, a)).toBe(true);
    expect(t.release(id, a)).toBe(false);
    expect(t.get(id)).toBeUndefined();
    expect(t.retired(id)).toBe(a.auth);
    expect(t.free).toBe(256);
    expect(t.inUse).toBe(0);
  });

  it('a reserved ID leaves the free list; assign() puts owners on it and retires the previous one', () => {
    const t = new IdTable<{ auth: Buffer }>();
    const r = t.reserve()!;
    expect(t.free).toBe(255);
    const a = { auth: Buffer.alloc(16, 1) };
    const b = { auth: Buffer.alloc(16, 2) };
    t.assign(r, a);
    t.assign(r, b);
    expect(t.get(r)).toBe(b);
    expect(t.retired(r)).toBe(a.auth);
    expect(t.inUse).toBe(1);
    t.assign(r, undefined);
    expect(t.inUse).toBe(0);
    expect(t.free).toBe(255);
    for (let i = 0; i < 255; i++) expect(t.allocate(a)).not.toBe(r);
  });
});

describe('reply rules', () => {
  it('answers: codes per request, Protocol-Error answers anything', () => {
    expect(answers(PacketCode.AccessRequest, PacketCode.AccessChallenge)).toBe(true);
    expect(answers(PacketCode.AccessRequest, PacketCode.AccountingResponse)).toBe(false);
    expect(answers(PacketCode.StatusServer, PacketCode.AccessReject)).toBe(true);
    expect(answers(PacketCode.CoARequest, PacketCode.DisconnectACK)).toBe(false);
    expect(answers(PacketCode.DisconnectRequest, PacketCode.ProtocolError)).toBe(true);
    expect(maCovered(PacketCode.AccessReject)).toBe(true);
    expect(maCovered(PacketCode.AccountingResponse)).toBe(false);
  });

  const enc = new RequestEncoder(dict, secret);
  const name = new Pair(dict.resolve('User-Name'), 'bob');
  function reply(req: Buffer, code: number, ma: boolean, key = secret): Buffer {
    return encodePacket({ code, id: req[1], authenticator: Buffer.alloc(0), pairs: [] },
      { dict, secret: key, requestAuthenticator: requestAuthenticator(req), requestCode: req[0], messageAuthenticator: ma });
  }
  function opts(req: Buffer): DecodePacketOptions {
    return { dict, secret, requestAuthenticator: requestAuthenticator(req), requestCode: req[0] };
  }
  function policy(required: boolean): MaPolicy & { seen: number } {
    return { seen: 0, requireMa() { return required; }, sawMa() { this.seen++; } };
  }

  it('encodes requests with Message-Authenticator on Access-Request and Status-Server only', () => {
    const a = enc.encode(PacketCode.AccessRequest, 7, [name]);
    expect(a[1]).toBe(7);
    expect(a.subarray(20).includes(Buffer.from([80, 18]))).toBe(true);
    const acct = enc.encode(PacketCode.AccountingRequest, 8, [name]);
    expect(acct.subarray(20).includes(Buffer.from([80, 18]))).toBe(false);
    const own = Buffer.alloc(16, 9);
    expect(requestAuthenticator(enc.encode(PacketCode.AccessRequest, 1, [name], own))).toEqual(own);
    const noMa = new RequestEncoder(dict, secret, false).encode(PacketCode.AccessRequest, 1, [name]);
    expect(noMa.subarray(20).includes(Buffer.from([80, 18]))).toBe(false);
  });

  it('verifyReply: accepts a signed answer, reports why it drops the others', () => {
    const req = enc.encode(PacketCode.AccessRequest, 1, [name]);
    const p = policy(true);
    const ok = verifyReply(reply(req, PacketCode.AccessAccept, true), opts(req), p);
    expect(ok.ok && ok.packet.code).toBe(PacketCode.AccessAccept);
    expect(p.seen).toBe(1);
    const v = (buf: Buffer, pol = p) => { const r = verifyReply(buf, opts(req), pol); return r.ok ? 'ok' : r.reason; };
    expect(v(reply(req, PacketCode.AccessAccept, false))).toBe('missing_message_authenticator');
    expect(v(reply(req, PacketCode.AccessAccept, false), policy(false))).toBe('ok');
    expect(v(reply(req, PacketCode.AccessAccept, true, Buffer.from('other')))).toBe('bad_authenticator');
    expect(v(reply(req, PacketCode.CoAACK, false))).toBe('bad_code');
    expect(v(reply(req, PacketCode.AccessAccept, true).subarray(0, 19))).toBe('malformed');
    // BlastRADIUS covers Access-* replies only: an Accounting-Response never needs one.
    const acct = enc.encode(PacketCode.AccountingRequest, 2, [name]);
    const r = verifyReply(reply(acct, PacketCode.AccountingResponse, false), opts(acct), policy(true));
    expect(r.ok).toBe(true);
    const status = enc.encode(PacketCode.StatusServer, 3, []);
    expect(verifyReply(reply(status, PacketCode.AccessReject, true), opts(status), policy(true)).ok).toBe(true);
  });
});
