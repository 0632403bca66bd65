/**
 * Quick cross-check against the npm `radius` package (test oracle only) on
 * what it handles correctly: Access-Request and Access-Accept with
 * Message-Authenticator. The fuller interop suite lives in test/interop/.
 */
import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { Dictionary } from '../../dict/dictionary';
import { Pair } from '../../pair/pair';
import { decodePacket, encodePacket, PacketCode } from './index';

const radius = require('radius') as {
  decode(a: { packet: Buffer; secret: string }): { code: string; identifier: number; authenticator: Buffer; attributes: Record<string, unknown> };
  encode(a: { code: string; identifier: number; secret: string; attributes: unknown[]; add_message_authenticator?: boolean }): Buffer;
  verify_response(a: { request: Buffer; response: Buffer; secret: string }): boolean;
};

const dict = Dictionary.load(path.join(__dirname, 'testdata', 'dictionary'));
const secret = 'testing123';
const SECRET = Buffer.from(secret);
const p = (name: string, v: unknown): Pair => new Pair(dict.resolve(name)!, v as never);

describe('npm radius as oracle', () => {
  it('decodes our Access-Request (password, MA)', () => {
    const req = encodePacket({ code: PacketCode.AccessRequest, id: 42, authenticator: Buffer.alloc(0), pairs: [
      p('User-Name', 'bob'), p('User-Password', 'hello there, world!'), p('NAS-IP-Address', '192.0.2.1'), p('NAS-Port', 7),
    ] }, { dict, secret: SECRET, messageAuthenticator: true });
    const d = radius.decode({ packet: req, secret });
    expect(d.code).toBe('Access-Request');
    expect(d.identifier).toBe(42);
    expect(d.attributes['User-Name']).toBe('bob');
    expect(d.attributes['User-Password']).toBe('hello there, world!');
    expect(d.attributes['NAS-IP-Address']).toBe('192.0.2.1');
    expect(d.attributes['NAS-Port']).toBe(7);
  });

  it('verifies and decodes its Access-Request, and it verifies our Access-Accept', () => {
    const req = radius.encode({ code: 'Access-Request', identifier: 9, secret, add_message_authenticator: true, attributes: [
      ['User-Name', 'alice'], ['User-Password', 'pa55word'], ['NAS-Port', 3],
    ] });
    const d = decodePacket(req, { dict, secret: SECRET, requireMessageAuthenticator: true });
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    const values = d.packet.pairs.map((x) => `${x.da.name}=${String(x.value)}`);
    expect(values).toEqual(expect.arrayContaining(['User-Name=alice', 'User-Password=pa55word', 'NAS-Port=3']));
    const resp = encodePacket({ code: PacketCode.AccessAccept, id: d.packet.id, authenticator: Buffer.alloc(0), pairs: [
      p('Reply-Message', 'welcome'), p('Session-Timeout', 3600), p('Class', Buffer.from('c1')),
    ] }, { dict, secret: SECRET, requestAuthenticator: d.packet.authenticator, messageAuthenticator: true });
    expect(radius.verify_response({ request: req, response: resp, secret })).toBe(true);
    const bad = Buffer.from(resp);
    bad[bad.length - 1] ^= 1;
    expect(radius.verify_response({ request: req, response: bad, secret })).toBe(false);
    const rd = radius.decode({ packet: resp, secret });
    expect(rd.attributes['Reply-Message']).toBe('welcome');
    expect(rd.attributes['Session-Timeout']).toBe(3600);
  });
});
