import 'reflect-metadata';
import * as crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodePairs } from '../../core';
import { parsePairList, printPairList } from '../../core';
import chapDef from '../chap/index';
import { callCtx, loadTestModule, testDict } from '../../test/support/module-call';
import { acctSessionId, extraAttributes, hexUpper, isNatAddress, replyResult, requestPairs, resolvePppoeAttrs } from './radius-map';
import { AuthType, decodeRequest, Kind, RECORD_SIZE, REQ, RESP, writeAscii, writeBytes, writeCallingStationId, writeRequestHeader } from './records';
import { Pair, Request } from '../../core';
import { stringToBytes } from '../../core';

const dict = testDict();
const attrs = resolvePppoeAttrs(dict);
const MAC = Uint8Array.of(0x02, 0x00, 0x5e, 0x10, 0x20, 0x30);

/** Builds a request record the way an lcore does and decodes it as the control plane does. */
function record(opts: { pap?: Uint8Array; chap?: { id: number; challenge: Buffer; response: Buffer } }) {
  const sab = new SharedArrayBuffer(RECORD_SIZE);
  const dv = new DataView(sab);
  const u8 = new Uint8Array(sab);
  writeRequestHeader(dv, u8, 0, 513, 17, 1, Kind.AUTH, opts.chap ? AuthType.CHAP : AuthType.PAP, opts.chap?.id ?? 0, MAC, 0, 10, 20, 1);
  writeAscii(u8, 0, REQ.USER, REQ.USER_MAX, REQ.USER_LEN, 'bob');
  if (opts.pap) writeBytes(u8, 0, REQ.PASS, REQ.PASS_MAX, REQ.PASS_LEN, opts.pap, 0, opts.pap.length);
  if (opts.chap) {
    writeBytes(u8, 0, REQ.PASS, REQ.PASS_MAX, REQ.PASS_LEN, opts.chap.response, 0, 16);
    writeBytes(u8, 0, REQ.CHALLENGE, REQ.CHALLENGE_MAX, REQ.CHALLENGE_LEN, opts.chap.challenge, 0, opts.chap.challenge.length);
  }
  writeCallingStationId(u8, 0, MAC, 0);
  writeAscii(u8, 0, REQ.NAS_PORT_ID, REQ.NAS_PORT_ID_MAX, REQ.NAS_PORT_ID_LEN, 'pppoe1:10.20');
  return decodeRequest(dv, u8, 0);
}

describe('request record → Access-Request pairs', () => {
  it('PAP: User-Name, User-Password and the PPPoE session attributes', () => {
    const pairs = requestPairs(record({ pap: Buffer.from('hello') }), attrs);
    expect(printPairList(pairs)).toBe(
      'User-Name = "bob", User-Password = "hello", Calling-Station-Id = "02-00-5E-10-20-30", NAS-Port-Id = "pppoe1:10.20", '
      + 'NAS-Port-Type = ::Virtual, Service-Type = ::Framed-User, Framed-Protocol = ::PPP',
    );
  });

  it('NAS identity: NAS-IP-Address and NAS-Identifier when configured, nothing otherwise', () => {
    const pairs = requestPairs(record({ pap: Buffer.from('hello') }), attrs, { ipAddress: '192.0.2.1', identifier: 'bng1' });
    expect(printPairList(pairs.slice(-2))).toBe('NAS-IP-Address = 192.0.2.1, NAS-Identifier = "bng1"');
    const none = requestPairs(record({ pap: Buffer.from('hello') }), attrs, {});
    expect(none.some((p) => p.da === attrs.nasIpAddress || p.da === attrs.nasIdentifier)).toBe(false);
  });

  it('PAP: a password that is not UTF-8 keeps its bytes', () => {
    const raw = Uint8Array.of(0xff, 0x00, 0x41, 0xc3);
    const pw = requestPairs(record({ pap: raw }), attrs).find((p) => p.da === attrs.userPassword)!;
    // The codec turns the value back into exactly these bytes.
    expect(stringToBytes(pw.value as string)).toEqual(Buffer.from(raw));
  });

  it('CHAP: CHAP-Password = identifier ‖ response and CHAP-Challenge, accepted by the chap module', async () => {
    const challenge = crypto.randomBytes(16);
    const id = 0x5a;
    const response = crypto.createHash('md5').update(Buffer.of(id)).update('hello').update(challenge).digest();
    const pairs = requestPairs(record({ chap: { id, challenge, response } }), attrs);
    expect(pairs.some((p) => p.da === attrs.userPassword)).toBe(false);
    const chap = await loadTestModule(chapDef, '');
    const good = new Request({ code: 1, dict });
    good.request.push(...pairs);
    good.control.push(...parsePairList('Password.Cleartext := "hello"', dict));
    expect(chap.authenticate(good, callCtx(good, { name1: 'authenticate', name2: 'chap' }))).toBe('ok');
    const bad = new Request({ code: 1, dict });
    bad.request.push(...pairs);
    bad.control.push(...parsePairList('Password.Cleartext := "hellx"', dict));
    expect(chap.authenticate(bad, callCtx(bad, { name1: 'authenticate', name2: 'chap' }))).toBe('reject');
  });
});

describe('reply → Auth Result', () => {
  it('Access-Accept: every mapped attribute, NAT from the address space, the rest kept as wire attributes', () => {
    const pairs = parsePairList(
      'Framed-IP-Address = 100.64.3.4, Framed-IP-Netmask = 255.255.255.255, MS-Primary-DNS-Server = 192.0.2.53, '
      + 'MS-Secondary-DNS-Server = 192.0.2.54, Session-Timeout = 86400, Idle-Timeout = 900, Framed-MTU = 1492, '
      + 'WISPr-Bandwidth-Max-Up = 20000000, WISPr-Bandwidth-Max-Down = 100000000, Reply-Message = "welcome", '
      + 'Class = 0x0102, Acct-Interim-Interval = 300, Cisco-AVPair = "ip:addr-pool=p1"',
      dict,
    );
    const r = replyResult({ code: 2, pairs }, attrs);
    expect(r).toMatchObject({
      result: 'accept', framedIp: '100.64.3.4', framedNetmask: '255.255.255.255', dns: ['192.0.2.53', '192.0.2.54'],
      sessionTimeout: 86400, idleTimeout: 900, framedMtu: 1492, rateUp: 20_000_000, rateDown: 100_000_000, nat: true, replyMessage: 'welcome',
    });
    const extra = decodePairs(Buffer.from(r.extra!), { dict, secret: Buffer.alloc(0), vector: Buffer.alloc(16) });
    expect(printPairList(extra)).toBe('Vendor-Specific = { Cisco = { AVPair = "ip:addr-pool=p1" } }, Class = 0x0102, Acct-Interim-Interval = 300');
  });

  it('rates: RFC 4679 Actual-Data-Rate wins, then Maximum-Data-Rate, then WISPr; each direction on its own; none left in the extra area', () => {
    const r = (text: string) => replyResult({ code: 2, pairs: parsePairList(`Framed-IP-Address = 198.51.100.7, ${text}`, dict) }, attrs);
    expect(r('Actual-Data-Rate-Upstream = 250000, Actual-Data-Rate-Downstream = 1000000, Maximum-Data-Rate-Upstream = 1000000, '
      + 'Maximum-Data-Rate-Downstream = 8000000, WISPr-Bandwidth-Max-Up = 5, WISPr-Bandwidth-Max-Down = 5'))
      .toMatchObject({ rateUp: 250_000, rateDown: 1_000_000, extra: undefined });
    // mode B of the VX profiles: only the ceilings
    expect(r('Maximum-Data-Rate-Upstream = 2000000, Maximum-Data-Rate-Downstream = 16000000')).toMatchObject({ rateUp: 2_000_000, rateDown: 16_000_000 });
    expect(r('Actual-Data-Rate-Downstream = 3000000, WISPr-Bandwidth-Max-Up = 64000')).toMatchObject({ rateUp: 64_000, rateDown: 3_000_000 });
    expect(r('Actual-Data-Rate-Upstream = 0, Maximum-Data-Rate-Upstream = 512000')).toMatchObject({ rateUp: 512_000, rateDown: undefined });
  });

  it('a flat list (vendor attributes without their containers) maps the same; a lone secondary DNS is kept', () => {
    const r = replyResult({ code: 2, pairs: [new Pair(attrs.dns2, '192.0.2.9'), new Pair(attrs.framedMtu, 1400), new Pair(attrs.rateDown, 64000)] }, attrs);
    expect(r).toMatchObject({ dns: ['192.0.2.9'], framedMtu: 1400, rateDown: 64_000, rateUp: undefined, extra: undefined });
    expect(replyResult({ code: 2, pairs: [] }, attrs)).toMatchObject({ result: 'accept', framedIp: undefined, dns: undefined, extra: undefined, nat: false });
  });

  it('public address: no NAT; "NAS selects" addresses count as absent; no DNS when none is sent', () => {
    expect(replyResult({ code: 2, pairs: parsePairList('Framed-IP-Address = 198.51.100.7', dict) }, attrs)).toMatchObject({ framedIp: '198.51.100.7', nat: false, dns: undefined, extra: undefined });
    expect(replyResult({ code: 2, pairs: parsePairList('Framed-IP-Address = 255.255.255.254', dict) }, attrs)).toMatchObject({ framedIp: undefined, nat: false });
    expect(['10.1.2.3', '172.31.0.1', '192.168.9.9', '100.127.255.255'].every(isNatAddress)).toBe(true);
    expect(['172.32.0.1', '100.128.0.1', '11.0.0.1', '192.0.2.1'].some(isNatAddress)).toBe(false);
  });

  it('Access-Reject keeps the Reply-Message (all of them); no reply or another code is an error', () => {
    expect(replyResult({ code: 3, pairs: parsePairList('Reply-Message = "bad password", Reply-Message = "try again"', dict) }, attrs))
      .toEqual({ result: 'reject', replyMessage: 'bad password\ntry again' });
    expect(replyResult({ code: 0, pairs: [] }, attrs)).toEqual({ result: 'error', replyMessage: 'no reply' });
    expect(replyResult({ code: 11, pairs: [] }, attrs)).toEqual({ result: 'error', replyMessage: 'unexpected reply code 11' });
  });

  it('extra area: whole attributes up to its size, hidden attributes never copied', () => {
    const many = Array.from({ length: 20 }, (_, i) => `Class = 0x${'ab'.repeat(20)}${i.toString(16).padStart(2, '0')}`).join(', ');
    const x = extraAttributes(parsePairList(`${many}, Tunnel-Password = "s3cret"`, dict), attrs);
    expect(x.truncated).toBe(true);
    expect(x.bytes!.length).toBeLessThanOrEqual(RESP.EXTRA_MAX);
    const back = decodePairs(x.bytes!, { dict, secret: Buffer.alloc(0), vector: Buffer.alloc(16) });
    expect(back.length).toBe(Math.floor(RESP.EXTRA_MAX / 23)); // 23-byte attributes, none cut in half
    expect(back.every((p) => p.da.name === 'Class')).toBe(true);
    expect(extraAttributes(parsePairList('Tunnel-Password = "s3cret"', dict), attrs)).toEqual({ bytes: undefined, truncated: false });
  });
});

describe('hexUpper and acctSessionId', () => {
  it('format like toString(16).toUpperCase() across the 32-bit boundary and up to 2^53', () => {
    const values = [0, 1, 15, 16, 255, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 1_764_777_600_123, 2 ** 53 - 1];
    for (let i = 0; i < 2000; i++) values.push(Math.floor(Math.random() * 2 ** 53));
    for (const v of values) expect(hexUpper(v)).toBe(v.toString(16).toUpperCase());
    expect(acctSessionId(1_764_777_600_123.7, 0x2a)).toBe('19AE4F1247B-002A');
  });
});
