/**
 * The npm `radius` package (1.1.4) as an oracle: our encoder against its
 * decoder and its encoder against our decoder, on what it handles correctly
 * (Access-Request/Accept with string, integer, ipaddr, User-Password, RFC 2865
 * VSAs and Message-Authenticator; Accounting-Request without one). Then the
 * places where it is wrong and we are right, checked against Debian's radclient.
 */
import * as dgram from 'node:dgram';
import radius from 'radius';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefaultDictionary } from '../../core/dict/default';
import { parsePairList, printPairLines } from '../../core/pair/text';
import { decodePacket, encodePacket, PacketCode } from '../../core/protocol/radius';
import { requireFreeRadius } from './freeradius';
import { debianRadclient } from './capture';
import { ACCEPT_TEXT, acceptLib, REQUEST_ATTRS, REQUEST_TEXT, requestLib } from '../../bench/fixtures';

const dict = loadDefaultDictionary();
const SECRET = 'testing123';
const secret = Buffer.from(SECRET);

const REQUEST_LIB = requestLib;
const ACCEPT_LIB = acceptLib;

/** Our printed form of pairs parsed from text (to compare decoded packets with). */
function printed(text: string): string {
  return printPairLines(parsePairList(text, dict));
}

function withoutMa(lines: string): string {
  return lines.split('\n').filter((l) => !l.startsWith('\tMessage-Authenticator')).join('\n');
}

function ourRequest(code = PacketCode.AccessRequest, text = REQUEST_TEXT, ma = true): Buffer {
  return encodePacket({ code, id: 7, authenticator: Buffer.alloc(0), pairs: parsePairList(text, dict) },
    { dict, secret, messageAuthenticator: ma });
}

describe('our encoder → radius.decode', () => {
  it('Access-Request with User-Password and Message-Authenticator', () => {
    const pkt = ourRequest();
    const d = radius.decode({ packet: pkt, secret: SECRET });
    expect(d.code).toBe('Access-Request');
    expect(d.identifier).toBe(7);
    const { 'Message-Authenticator': ma, ...attrs } = d.attributes;
    expect(attrs).toEqual(REQUEST_ATTRS);
    expect(Buffer.isBuffer(ma) && ma.length === 16).toBe(true);
    // radius.decode verifies the MA of requests: a wrong secret must make it throw.
    expect(() => radius.decode({ packet: pkt, secret: 'not-the-secret' })).toThrow();
  });

  it('Access-Accept with Message-Authenticator and DSL Forum VSAs, verified by radius.verify_response', () => {
    const request = radius.encode({ code: 'Access-Request', identifier: 9, secret: SECRET, attributes: REQUEST_LIB(), add_message_authenticator: true });
    const accept = encodePacket(
      { code: PacketCode.AccessAccept, id: 9, authenticator: Buffer.alloc(0), pairs: parsePairList(ACCEPT_TEXT, dict) },
      { dict, secret, requestAuthenticator: request.subarray(4, 20), messageAuthenticator: true },
    );
    expect(radius.verify_response({ request, response: accept, secret: SECRET })).toBe(true);
    const d = radius.decode({ packet: accept, secret: SECRET });
    expect(d.code).toBe('Access-Accept');
    expect(d.attributes).toMatchObject({
      'Service-Type': 'Framed-User', 'Framed-Protocol': 'PPP', 'Framed-IP-Address': '192.0.2.10',
      'Framed-IP-Netmask': '255.255.255.255', 'Session-Timeout': 3600, 'Idle-Timeout': 600,
      'Acct-Interim-Interval': 300, 'Class': Buffer.from('session-1'), 'Reply-Message': 'Welcome, bob.s',
      'Vendor-Specific': { 'Actual-Data-Rate-Upstream': 1024000, 'Actual-Data-Rate-Downstream': 16384000 },
    });
    // One flipped byte in the body and the package's check fails too.
    const bad = Buffer.from(accept);
    bad[bad.length - 1] ^= 0xff;
    expect(radius.verify_response({ request, response: bad, secret: SECRET })).toBe(false);
  });

  it('Accounting-Request without Message-Authenticator', () => {
    const text = 'User-Name = "bob"\nAcct-Status-Type = Start\nAcct-Session-Id = "s1"\nFramed-IP-Address = 192.0.2.10\nAcct-Delay-Time = 0';
    const d = radius.decode({ packet: ourRequest(PacketCode.AccountingRequest, text, false), secret: SECRET });
    expect(d.code).toBe('Accounting-Request');
    expect(d.attributes).toEqual({
      'User-Name': 'bob', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 's1', 'Framed-IP-Address': '192.0.2.10', 'Acct-Delay-Time': 0,
    });
  });
});

describe('radius.encode → our decoder', () => {
  it('Access-Request with User-Password and Message-Authenticator', () => {
    const pkt = radius.encode({ code: 'Access-Request', identifier: 3, secret: SECRET, attributes: REQUEST_LIB(), add_message_authenticator: true });
    const d = decodePacket(pkt, { dict, secret, requireMessageAuthenticator: true });
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.hasMessageAuthenticator).toBe(true);
    expect(withoutMa(printPairLines(d.packet.pairs))).toBe(printed(REQUEST_TEXT));
    expect(decodePacket(pkt, { dict, secret: Buffer.from('nope') }).ok).toBe(false);
  });

  it('Access-Accept from encode_response (Message-Authenticator, VSAs)', () => {
    const reqBuf = radius.encode({ code: 'Access-Request', identifier: 4, secret: SECRET, attributes: REQUEST_LIB(), add_message_authenticator: true });
    const req = radius.decode({ packet: reqBuf, secret: SECRET });
    const accept = radius.encode_response({ packet: req, code: 'Access-Accept', secret: SECRET, attributes: ACCEPT_LIB() });
    const d = decodePacket(accept, { dict, secret, requestAuthenticator: reqBuf.subarray(4, 20) });
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.hasMessageAuthenticator).toBe(true);
    expect(withoutMa(printPairLines(d.packet.pairs))).toBe(printed(ACCEPT_TEXT));
  });

  it('Accounting-Request without Message-Authenticator', () => {
    const pkt = radius.encode({
      code: 'Accounting-Request', identifier: 5, secret: SECRET,
      attributes: [['User-Name', 'bob'], ['Acct-Status-Type', 'Stop'], ['Acct-Session-Id', 's2'], ['Acct-Session-Time', 61]],
    });
    const d = decodePacket(pkt, { dict, secret });
    expect(d.ok).toBe(true);
    if (d.ok) expect(printPairLines(d.packet.pairs)).toBe(printed('User-Name = "bob"\nAcct-Status-Type = Stop\nAcct-Session-Id = "s2"\nAcct-Session-Time = 61'));
  });
});

describe('where the radius package is wrong', () => {
  const closers: (() => void)[] = [];
  afterEach(() => { for (const c of closers.splice(0)) c(); });

  /**
   * A one-shot accounting "server": records what Debian's radclient sends and
   * answers with `answer(request)`.
   */
  async function sink(answer: (req: Buffer) => Buffer): Promise<{ port: number; got: Buffer[] }> {
    const s = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    s.on('message', (m, r) => { got.push(Buffer.from(m)); s.send(answer(m), r.port, r.address); });
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    closers.push(() => s.close());
    return { port: s.address().port, got };
  }

  const ACCT_INPUT = 'User-Name = "bob"\nAcct-Status-Type = Start\nAcct-Session-Id = "ma-1"\nMessage-Authenticator = 0x00\n';

  it("Accounting-Request + Message-Authenticator from radclient: we verify it and radclient accepts our response; radius.decode rejects it", async () => {
    requireFreeRadius();
    const { port, got } = await sink((req) => {
      const d = decodePacket(req, { dict, secret });
      if (!d.ok) return Buffer.alloc(0);
      return encodePacket({ code: PacketCode.AccountingResponse, id: req[1], authenticator: Buffer.alloc(0), pairs: [] },
        { dict, secret, requestAuthenticator: req.subarray(4, 20), messageAuthenticator: true });
    });
    const run = await debianRadclient(['-x', '-r', '1', '-t', '2', `127.0.0.1:${port}`, 'acct', SECRET], ACCT_INPUT);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Received Accounting-Response Id \d+ .* length 38/);
    const req = got[0];
    const ours = decodePacket(req, { dict, secret });
    expect(ours.ok && ours.hasMessageAuthenticator).toBe(true);
    // The package computes the HMAC over the real Request Authenticator, where
    // RFC 5176 §3.3 / FreeRADIUS use zeros: it calls radclient's packet invalid.
    expect(() => radius.decode({ packet: Buffer.from(req), secret: SECRET })).toThrow();
  });

  it("radclient refuses the radius package's Accounting-Response + Message-Authenticator", async () => {
    requireFreeRadius();
    const { port } = await sink((req) => {
      const d = radius.decode_without_secret({ packet: Buffer.from(req) });
      return radius.encode_response({ packet: d, code: 'Accounting-Response', secret: SECRET });
    });
    const run = await debianRadclient(['-r', '1', '-t', '1', `127.0.0.1:${port}`, 'acct', SECRET], ACCT_INPUT);
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).not.toMatch(/Received Accounting-Response/);
  });

  it('a one-bit change in the Message-Authenticator: we always refuse, the package often accepts', () => {
    let libAccepted = 0;
    let oursAccepted = 0;
    const trials = 400;
    for (let i = 0; i < trials; i++) {
      const pkt = ourRequest();
      // Message-Authenticator is the first attribute: value at bytes 22..37.
      const bit = i % 128;
      pkt[22 + (bit >> 3)] ^= 1 << (bit & 7);
      try { radius.decode({ packet: Buffer.from(pkt), secret: SECRET }); libAccepted++; } catch { /* refused */ }
      if (decodePacket(pkt, { dict, secret }).ok) oursAccepted++;
    }
    expect(oursAccepted).toBe(0);
    // Lossy UTF-8 string comparison: distinct digests compare equal (deps.md §1, bug 1).
    expect(libAccepted).toBeGreaterThan(0);
  });
});
