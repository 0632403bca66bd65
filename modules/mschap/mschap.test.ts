import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mschap } from './mschap';
import def from './index';
import * as c from './crypto';
import { callCtx, loadTestModule, makeRequest } from '../../test/support/module-call';
import { box, printPairList } from '../../core';
import type { Request } from '../../core';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');
const auth = (m: Mschap, r: Request) => m.authenticate(r, callCtx(r, { name1: 'authenticate', name2: 'mschap' }));

// RFC 2759 §9.2 and RFC 3079 §3.5.3.
const AUTH_CHALLENGE = hex('5B5D7C7D7B3F2F3E3C2C602132262628');
const PEER_CHALLENGE = hex('21402324255E262A28295F2B3A337C7E');

describe('mschap crypto (RFC test vectors)', () => {
  it('RFC 2759 §9.2', () => {
    const ph = c.ntPasswordHash('clientPass');
    expect(ph.toString('hex').toUpperCase()).toBe('44EBBA8D5312B8D611474411F56989AE');
    expect(c.hashNtPasswordHash(ph).toString('hex').toUpperCase()).toBe('41C00C584BD2D91C4017A2A12FA59F3F');
    expect(c.challengeHash(PEER_CHALLENGE, AUTH_CHALLENGE, 'User').toString('hex').toUpperCase()).toBe('D02E4386BCE91226');
    const nr = c.generateNtResponse(AUTH_CHALLENGE, PEER_CHALLENGE, 'User', ph);
    expect(nr.toString('hex').toUpperCase()).toBe('82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF');
    expect(c.authenticatorResponse(ph, nr, PEER_CHALLENGE, AUTH_CHALLENGE, 'User')).toBe('S=407A5589115FD0D6209F510FE9C04566932CDA56');
  });
  it('RFC 3079 §3.5.3 master and send keys', () => {
    const ph = c.ntPasswordHash('clientPass');
    const nr = c.generateNtResponse(AUTH_CHALLENGE, PEER_CHALLENGE, 'User', ph);
    expect(c.masterKey(c.hashNtPasswordHash(ph), nr).toString('hex').toUpperCase()).toBe('FDECE3717A8C838CB388E527AE3CDD31');
    expect(c.mppeV2Keys(c.hashNtPasswordHash(ph), nr).send.toString('hex').toUpperCase()).toBe('8B7CDC149B993A1BA118CB153F56DCCB');
  });
  it('RFC 2433 LM hash of a known password', () => {
    // LM hash of "password" (the widely published value).
    expect(c.lmPasswordHash('password').toString('hex').toUpperCase()).toBe('E52CAC67419A9A224A3B108F3FA6CB6D');
  });
});

describe('mschap module', () => {
  let m!: Mschap;
  beforeAll(async () => { m = await loadTestModule(def, ''); });
  const v2req = (pw: string, name = 'example\\john') => {
    const peer = Buffer.alloc(16, 7);
    const nt = c.generateNtResponse(AUTH_CHALLENGE, peer, name.split('\\').pop()!, c.ntPasswordHash(pw));
    const resp = Buffer.concat([Buffer.from([0x42, 0]), peer, Buffer.alloc(8), nt]);
    return makeRequest(`User-Name = "${name.replace(/\\/g, '\\\\')}", Vendor-Specific.Microsoft.CHAP-Challenge = 0x${AUTH_CHALLENGE.toString('hex')}, Vendor-Specific.Microsoft.CHAP2-Response = 0x${resp.toString('hex')}`, { control: 'Password.Cleartext := "secret"' });
  };
  it('authorize sets Auth-Type only with challenge and response', () => {
    const r = v2req('secret');
    expect(m.authorize(r, callCtx(r))).toBe('updated');
    expect(printPairList(r.control)).toContain('Auth-Type = ::');
    const r2 = makeRequest('User-Name = "x", Vendor-Specific.Microsoft.CHAP-Challenge = 0x00112233445566778899aabbccddeeff');
    expect(m.authorize(r2, callCtx(r2))).toBe('noop');
  });
  it('MS-CHAPv2 accept: CHAP2-Success with the identifier and MPPE keys', () => {
    const r = v2req('secret');
    expect(auth(m, r)).toBe('ok');
    const reply = printPairList(r.reply);
    expect(reply).toMatch(/CHAP2-Success = 0x42533d[0-9a-f]{80}/);
    expect(reply).toContain('MPPE-Send-Key');
    expect(reply).toContain('MPPE-Recv-Key');
    expect(reply).toContain('Encryption-Allowed');
  });
  it('the FreeRADIUS corpus request (password "secret", user example\\john)', () => {
    const r = makeRequest('User-Name = "example\\\\john", Vendor-Specific.Microsoft.CHAP-Challenge = 0x16d2833f4239256dd2b2bb26f2ecb2a3, Vendor-Specific.Microsoft.CHAP2-Response = 0x0001502feeee9495a353cddbd1efc40072820000000000000000e866286bb30d0215ed16cf425b6a29d206667a9853e23ca4', { control: 'Password.Cleartext := "secret"' });
    expect(auth(m, r)).toBe('ok');
    expect(printPairList(r.reply)).toContain('CHAP2-Success = 0x00533d36383634394236373633333031444436354643323535394632443137323934333139364541383841');
  });
  it('MS-CHAPv2 reject: MS-CHAP-Error and Module-Failure-Message', () => {
    const r = v2req('wrong');
    expect(auth(m, r)).toBe('reject');
    expect(printPairList(r.reply)).toContain('E=691 R=1');
    expect(printPairList(r.request)).toContain('Module-Failure-Message');
  });
  it('Password.NT works like the cleartext password', () => {
    const r = v2req('secret');
    r.control.length = 0;
    r.control.push(...makeRequest('', { control: `Password.NT := 0x${c.ntPasswordHash('secret').toString('hex')}` }).control);
    expect(auth(m, r)).toBe('ok');
  });
  it('MS-CHAPv1 with the NT response, and the MPPE keys', () => {
    const ch = hex('0102030405060708');
    const nt = c.challengeResponse(ch, c.ntPasswordHash('secret'));
    const resp = Buffer.concat([Buffer.from([1, 1]), Buffer.alloc(24), nt]);
    const r = makeRequest(`User-Name = "bob", Vendor-Specific.Microsoft.CHAP-Challenge = 0x${ch.toString('hex')}, Vendor-Specific.Microsoft.CHAP-Response = 0x${resp.toString('hex')}`, { control: 'Password.Cleartext := "secret"' });
    expect(auth(m, r)).toBe('ok');
    expect(printPairList(r.reply)).toContain('CHAP-MPPE-Keys');
    const bad = makeRequest(`User-Name = "bob", Vendor-Specific.Microsoft.CHAP-Challenge = 0x${ch.toString('hex')}, Vendor-Specific.Microsoft.CHAP-Response = 0x${resp.toString('hex')}`, { control: 'Password.Cleartext := "other"' });
    expect(auth(m, bad)).toBe('reject');
  });
  it('%mschap(): user name, domain, challenge hash, NT-Response, NT-Hash', async () => {
    const x = m.$set.xlats.get('mschap')!;
    const r = v2req('secret');
    const call = async (...args: string[]) => (await x.fn({ request: r }, args.map((a) => [box('string', a)])))[0]?.value;
    expect(await call('User-Name')).toBe('john');
    expect(await call('NT-Domain')).toBe('example');
    const peer = Buffer.alloc(16, 7);
    expect(await call('Challenge')).toBe(c.challengeHash(peer, AUTH_CHALLENGE, 'john').toString('hex'));
    expect(await call('NT-Response')).toBe(c.generateNtResponse(AUTH_CHALLENGE, peer, 'john', c.ntPasswordHash('secret')).toString('hex'));
    expect(await call('NT-Hash', 'clientPass')).toBe('44EBBA8D5312B8D611474411F56989AE');
    expect(await call('NT-Hash clientPass')).toBe('44EBBA8D5312B8D611474411F56989AE');
  });
  it('no password: fail', () => {
    const r = v2req('secret');
    r.control.length = 0;
    expect(auth(m, r)).toBe('fail');
  });
});

/** An MS-CHAP2-CPW request changing `oldPw` to `newPw` (RFC 2759 §8.9–8.12, RFC 2548 §2.3.2–2.3.3). */
function cpwRequest(oldPw: string, newPw: string, control: string, name = 'example\\john') {
  const oldNt = c.ntPasswordHash(oldPw);
  const newNt = c.ntPasswordHash(newPw);
  const clear = Buffer.alloc(516, 0x5a);
  const pw = Buffer.from(newPw, 'utf16le');
  pw.copy(clear, 512 - pw.length);
  clear.writeUInt32LE(pw.length, 512);
  const block = c.rc4(oldNt, clear);
  const peer = Buffer.alloc(16, 9);
  const nt = c.generateNtResponse(AUTH_CHALLENGE, peer, name.split('\\').pop()!, newNt);
  const cpw = Buffer.concat([Buffer.from([7, 0x33]), c.oldHashEncryptedWithNewHash(oldNt, newNt), peer, Buffer.alloc(8), nt, Buffer.alloc(2)]);
  const chunk = (seq: number, part: Buffer) => `Vendor-Specific.Microsoft.CHAP-NT-Enc-PW = 0x${Buffer.concat([Buffer.from([6, 0x33, 0, seq]), part]).toString('hex')}`;
  // Sent out of order: the sequence numbers put them together.
  const pairs = [
    `User-Name = "${name.replace(/\\/g, '\\\\')}"`,
    `Vendor-Specific.Microsoft.CHAP-Challenge = 0x${AUTH_CHALLENGE.toString('hex')}`,
    `Vendor-Specific.Microsoft.CHAP2-CPW = 0x${cpw.toString('hex')}`,
    chunk(2, block.subarray(243, 486)), chunk(1, block.subarray(0, 243)), chunk(3, block.subarray(486)),
  ];
  return { r: makeRequest(pairs.join(', '), { control }), peer, nt, newNt };
}

describe('mschap with ntlm_auth and password change', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mschap-ntlm-'));
  const script = (file: string, body: string) => {
    fs.writeFileSync(path.join(dir, file), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return path.join(dir, file);
  };
  // The NT key ntlm_auth reports: the hash of the NT hash of "secret" (which the server never sees).
  const hh = c.hashNtPasswordHash(c.ntPasswordHash('secret'));
  const ok = script('ok.sh', `printf '%s\\n' "$@" > ${dir}/args\necho "NT_KEY: ${hh.toString('hex').toUpperCase()}"`);
  const fails = (file: string, text: string) => script(file, `echo "${text}"\nexit 1`);
  const cmd = (prog: string) => `ntlm_auth = "${prog} --request-nt-key --username=%{Stripped-User-Name || User-Name || 'None'} --challenge=%mschap('Challenge') --nt-response=%mschap('NT-Response')"`;
  const v2 = (pw: string) => {
    const peer = Buffer.alloc(16, 7);
    const nt = c.generateNtResponse(AUTH_CHALLENGE, peer, 'john', c.ntPasswordHash(pw));
    const resp = Buffer.concat([Buffer.from([0x42, 0]), peer, Buffer.alloc(8), nt]);
    return { r: makeRequest(`User-Name = "example\\\\john", Vendor-Specific.Microsoft.CHAP-Challenge = 0x${AUTH_CHALLENGE.toString('hex')}, Vendor-Specific.Microsoft.CHAP2-Response = 0x${resp.toString('hex')}`), peer, nt };
  };
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs ntlm_auth without a shell, each word expanded; NT_KEY gives MS-CHAP2-Success and the MPPE keys', async () => {
    const m = await loadTestModule(def, cmd(ok));
    const { r, peer, nt } = v2('secret');
    expect(await auth(m, r)).toBe('ok');
    const args = fs.readFileSync(path.join(dir, 'args'), 'utf8').split('\n');
    expect(args.slice(0, 4)).toEqual(['--request-nt-key', '--username=example\\john',
      `--challenge=${c.challengeHash(peer, AUTH_CHALLENGE, 'john').toString('hex')}`, `--nt-response=${nt.toString('hex')}`]);
    const success = c.authenticatorResponse(c.ntPasswordHash('secret'), nt, peer, AUTH_CHALLENGE, 'john');
    const reply = printPairList(r.reply);
    expect(reply).toContain(`CHAP2-Success = 0x42${Buffer.from(success).toString('hex')}`);
    const keys = c.mppeV2Keys(hh, nt);
    expect(reply).toContain(`MPPE-Send-Key = 0x${keys.send.toString('hex')}`);
  });

  it('maps ntlm_auth failures to MS-CHAP errors and rcodes', async () => {
    const cases: [string, string, string, string][] = [
      ['expired.sh', 'NT_STATUS_PASSWORD_EXPIRED: Password expired (0xC0000224)', 'reject', 'E=648 R=0'],
      ['locked.sh', 'Account locked out (0xc0000234)', 'disallow', 'E=647 R=0'],
      ['disabled.sh', 'Account disabled', 'notfound', 'E=691 R=0'],
      ['wrong.sh', 'Logon failure (0xc000006d)', 'reject', 'E=691 R=1'],
    ];
    for (const [file, text, rcode, error] of cases) {
      const m = await loadTestModule(def, cmd(fails(file, text)));
      const { r } = v2('secret');
      expect(await auth(m, r), file).toBe(rcode);
      expect(printPairList(r.reply)).toContain(error);
      if (file === 'wrong.sh') expect(printPairList(r.request)).toContain(`External script says: ${text}`);
    }
    const m = await loadTestModule(def, cmd(script('junk.sh', 'echo hello')));
    const { r } = v2('secret');
    expect(await auth(m, r)).toBe('reject');
    expect(printPairList(r.request)).toContain('NT_KEY');
  });

  it('ntlm_auth_timeout outside 1 to 10 seconds is a config error', async () => {
    await expect(loadTestModule(def, `${cmd(ok)}\nntlm_auth_timeout = 20`)).rejects.toThrow(/ntlm_auth_timeout/);
    await expect(loadTestModule(def, `${cmd(ok)}\nntlm_auth_timeout = 5`)).resolves.toBeDefined();
  });

  it('control.MS-CHAP-Use-NTLM-Auth := No uses the local password instead', async () => {
    const m = await loadTestModule(def, cmd(fails('never.sh', 'must not run')));
    const { r } = v2('secret');
    r.control.push(...makeRequest('', { control: 'Password.Cleartext := "secret", MS-CHAP-Use-NTLM-Auth := No' }).control);
    expect(await auth(m, r)).toBe('ok');
  });

  it('password change through the ntlm_auth helper: the lines on its input, then the CPW response authenticates', async () => {
    const cpw = script('cpw.sh', `cat > ${dir}/cpw-input\necho "Password-Change: Yes"`);
    const m = await loadTestModule(def, `${cmd(ok)}\npasschange {\nntlm_auth = "${cpw}"\nntlm_auth_username = "username: %mschap('User-Name')"\nntlm_auth_domain = "nt-domain: %mschap('NT-Domain')"\n}`);
    // The stand-in answers with the key of "secret": the change is to "secret".
    const { r, peer, nt } = cpwRequest('old-one', 'secret', 'Password.Cleartext := "old-one"');
    expect(await auth(m, r)).toBe('ok');
    const lines = fs.readFileSync(path.join(dir, 'cpw-input'), 'utf8').split('\n');
    expect(lines[0]).toBe('username: john');
    expect(lines[1]).toBe('nt-domain: example');
    expect(lines[2]).toMatch(/^new-nt-password-blob: [0-9a-f]{1032}$/);
    expect(lines[3]).toBe(`old-nt-hash-blob: ${c.oldHashEncryptedWithNewHash(c.ntPasswordHash('old-one'), c.ntPasswordHash('secret')).toString('hex')}`);
    expect(lines[4]).toBe(`new-lm-password-blob: ${'0'.repeat(1032)}`);
    expect(lines[5]).toBe(`old-lm-hash-blob: ${'0'.repeat(32)}`);
    expect(lines[6]).toBe('.');
    const success = c.authenticatorResponse(c.ntPasswordHash('secret'), nt, peer, AUTH_CHALLENGE, 'john');
    expect(printPairList(r.reply)).toContain(`CHAP2-Success = 0x33${Buffer.from(success).toString('hex')}`);
  });

  it('a refused change: MS-CHAP-Error 709 and reject', async () => {
    const cpw = script('cpw-no.sh', 'cat > /dev/null\necho "Password-Change: No"\necho "Password-Change-Error: too short"');
    const m = await loadTestModule(def, `${cmd(ok)}\npasschange {\nntlm_auth = "${cpw}"\nntlm_auth_username = "username: %mschap('User-Name')"\n}`);
    const { r } = cpwRequest('old-one', 'secret', 'Password.Cleartext := "old-one"');
    expect(await auth(m, r)).toBe('reject');
    expect(printPairList(r.reply)).toContain('E=709 R=0');
    expect(printPairList(r.request)).toContain('too short');
  });

  it('local_cpw: the new password decrypted with the old NT hash, then authentication with the new one', async () => {
    const m = await loadTestModule(def, `passchange {\nlocal_cpw = "%{MS-CHAP-New-Cleartext-Password}"\n}`);
    const { r, peer, nt, newNt } = cpwRequest('old-one', 'Neu Pässwort', 'Password.Cleartext := "old-one"', 'bob');
    expect(await auth(m, r)).toBe('ok');
    expect(printPairList(r.request)).toContain('MS-CHAP-New-NT-Password = 0x' + newNt.toString('hex'));
    const success = c.authenticatorResponse(newNt, nt, peer, AUTH_CHALLENGE, 'bob');
    expect(printPairList(r.reply)).toContain(`CHAP2-Success = 0x33${Buffer.from(success).toString('hex')}`);
    // The old password is not the one the client encrypted with: fail, nothing changed.
    const bad = cpwRequest('old-one', 'Neu Pässwort', 'Password.Cleartext := "other"', 'bob').r;
    expect(await auth(m, bad)).toBe('fail');
    // No old password at all.
    expect(await auth(m, cpwRequest('old-one', 'x', '', 'bob').r)).toBe('fail');
  });
});
