import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDefaultDictionary } from '../../dict/default';
import { PacketCode, decodePacket, md5 } from '../../protocol/radius';
import { Workload, generateUsers, parseMix, readUsers } from './workload';

const dict = loadDefaultDictionary();
const secret = Buffer.from('testing123');

function value(pairs: { da: { name: string }; value?: unknown }[], name: string): unknown {
  return pairs.find((p) => p.da.name === name)?.value;
}

describe('sandstorm workload', () => {
  const users = generateUsers(3);
  const w = new Workload({ dict, secret, users, interims: 1 }, ['pap', 'chap', 'acct', 'status', 'coa']);
  const out = Buffer.alloc(w.maxLength + secret.length + 16);

  it('generates user0001…/pass0001… as the peer benchmark', () => {
    expect(users).toEqual([{ name: 'user0001', password: 'pass0001' }, { name: 'user0002', password: 'pass0002' }, { name: 'user0003', password: 'pass0003' }]);
    expect(generateUsers(12345)[12344]).toEqual({ name: 'user12345', password: 'pass12345' });
  });

  it('patches PAP requests into valid, signed Access-Requests with a fresh authenticator each time', () => {
    const len = w.encode('pap', 1, 0, 77, false, out);
    const a = Buffer.from(out.subarray(0, len));
    const d = decodePacket(a, { dict, secret, requireMessageAuthenticator: true });
    expect(d.ok && d.packet.code).toBe(PacketCode.AccessRequest);
    if (!d.ok) return;
    expect(d.packet.id).toBe(77);
    expect(value(d.packet.pairs, 'User-Name')).toBe('user0002');
    expect(value(d.packet.pairs, 'User-Password')).toBe('pass0002');
    const len2 = w.encode('pap', 1, 0, 77, true, out);
    const b = decodePacket(Buffer.from(out.subarray(0, len2)), { dict, secret });
    expect(b.ok).toBe(true);
    if (b.ok) expect(value(b.packet.pairs, 'User-Password')).not.toBe('pass0002');
    expect(a.subarray(4, 20).equals(out.subarray(4, 20))).toBe(false);
  });

  it('computes CHAP-Password from the ID, the password and the Request Authenticator', () => {
    const len = w.encode('chap', 0, 0, 9, false, out);
    const d = decodePacket(Buffer.from(out.subarray(0, len)), { dict, secret, requireMessageAuthenticator: true });
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    const chap = value(d.packet.pairs, 'CHAP-Password') as Buffer;
    const expected = md5(Buffer.concat([Buffer.from([chap[0]]), Buffer.from('pass0001'), out.subarray(4, 20)]));
    expect(chap.subarray(1).equals(expected)).toBe(true);
  });

  it('runs accounting sessions Start, Interim-Update, Stop with one Acct-Session-Id and a valid Request Authenticator', () => {
    const seen: [unknown, unknown][] = [];
    for (let seq = 0; seq < 6; seq++) {
      const len = w.encode('acct', 2, seq, seq, false, out);
      const d = decodePacket(Buffer.from(out.subarray(0, len)), { dict, secret });
      expect(d.ok).toBe(true);
      if (d.ok) seen.push([value(d.packet.pairs, 'Acct-Status-Type'), value(d.packet.pairs, 'Acct-Session-Id')]);
    }
    expect(seen.map((s) => s[0])).toEqual([1, 3, 2, 1, 3, 2]); // Start, Interim-Update, Stop
    expect(new Set(seen.slice(0, 3).map((s) => s[1])).size).toBe(1);
    expect(seen[3][1]).not.toBe(seen[0][1]);
  });

  it('signs Status-Server and CoA-Request', () => {
    for (const [kind, code] of [['status', PacketCode.StatusServer], ['coa', PacketCode.CoARequest]] as const) {
      const len = w.encode(kind, 0, 0, 1, false, out);
      const d = decodePacket(Buffer.from(out.subarray(0, len)), { dict, secret });
      expect(d.ok && d.packet.code).toBe(code);
    }
    const bad = Buffer.from(out.subarray(0, w.encode('coa', 0, 0, 1, false, out)));
    bad[bad.length - 1] ^= 1;
    expect(decodePacket(bad, { dict, secret }).ok).toBe(false);
  });

  it('interleaves a weighted mix', () => {
    expect(parseMix('pap=2,acct=1')).toEqual(['pap', 'acct', 'pap']);
    expect(parseMix('status')).toEqual(['status']);
    expect(() => parseMix('pap=1,eap=1')).toThrow(/unknown request kind 'eap'/);
  });

  it('reads users from "name password" lines and from a users file, with located errors', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandstorm-users-'));
    const f = path.join(dir, 'users');
    fs.writeFileSync(f, '# comment\nalice secret1\nbob,secret2\ncarol\tCleartext-Password := "a \\"b\\""\n\tReply-Message = "hi"\n');
    expect(readUsers(f)).toEqual([{ name: 'alice', password: 'secret1' }, { name: 'bob', password: 'secret2' }, { name: 'carol', password: 'a "b"' }]);
    fs.writeFileSync(f, 'alice secret1\njust-a-name\n');
    expect(() => readUsers(f)).toThrow(`${f}[2]: expected`);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
