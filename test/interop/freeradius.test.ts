/**
 * Interop with a real FreeRADIUS 3.2 (Debian's package) on loopback: our
 * radtest/radclient against it, and Debian's radclient against our decoder.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefaultDictionary } from '../../core/dict/default';
import type { Pair } from '../../core/pair/pair';
import { parsePairList, printPairLines } from '../../core/pair/text';
import { decodePacket, PacketCode } from '../../core/protocol/radius';
import type { CliIo } from '../../core/cli/radclient';
import { radclientMain } from '../../core/cli/radclient';
import { radtestMain } from '../../core/cli/radtest';
import { parseRequest, runSession, type SessionOptions } from '../../core/cli/exchange';
import { BOB_REPLY, startFreeRadius, type FreeRadiusPeer } from './freeradius';
import { debianRadclient, receivedAttributes, sentAttributes, startRelay } from './capture';

const dict = loadDefaultDictionary();
const SECRET = 'testing123';

/** Captures what a CLI run prints. */
function memIo(stdin = ''): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout, stderr,
    out: (l) => { stdout.push(...l.split('\n')); },
    err: (l) => { stderr.push(...l.split('\n')); },
    stdin: async () => stdin,
  };
}

function session(fr: FreeRadiusPeer, port: number, extra: Partial<SessionOptions> = {}): SessionOptions {
  return {
    host: '127.0.0.1', port, secret: Buffer.from(fr.secret), dict, timeout: 2, retries: 2, parallel: 1, rate: 0,
    count: 1, messageAuthenticator: true, requireMessageAuthenticator: true, debug: false, quiet: true, summary: false,
    ...extra,
  };
}

/**
 * Compares decoded pairs with the lines radclient printed, value by value:
 * radclient's lines are parsed with our dictionary and both sides are printed
 * by the same printer, so enumerated names that are aliases of each other
 * (`Interim-Update`/`Alive`) compare equal while any value difference shows.
 */
function expectSameValues(ours: readonly Pair[], theirLines: readonly string[], skip: RegExp): void {
  const mine = printPairLines(ours).split('\n').filter((l) => !skip.test(l.slice(1)));
  const theirs = printPairLines(parsePairList(theirLines.filter((l) => !skip.test(l)).join('\n'), dict)).split('\n');
  expect(mine).toEqual(theirs);
}

let fr: FreeRadiusPeer;

beforeAll(async () => {
  fr = await startFreeRadius({ requireMessageAuthenticator: true, tcp: true });
});
afterAll(async () => {
  await fr?.stop();
});

describe('our radtest against FreeRADIUS 3.2', () => {
  it('gets Access-Accept for bob (PAP) and prints the reply in FreeRADIUS form', async () => {
    const io = memIo();
    const code = await radtestMain(['bob', 'hello', `127.0.0.1:${fr.authPort}`, '0', SECRET], io);
    expect(code).toBe(0);
    const out = io.stdout.join('\n');
    expect(out).toMatch(/^Sent Access-Request Id \d+ from 127\.0\.0\.1:\d+ to 127\.0\.0\.1:\d+ length \d+$/m);
    expect(out).toMatch(/^Received Access-Accept Id \d+ from 127\.0\.0\.1:\d+ to 127\.0\.0\.1:\d+ length \d+$/m);
    expect(out).toContain('\tUser-Password = "hello"');
    expect(out).toContain('\tActual-Data-Rate-Upstream = 1024000');
    expect(out).toContain('\tActual-Data-Rate-Downstream = 16384000');
    expect(out).toMatch(/^\tMessage-Authenticator = 0x[0-9a-f]{32}$/m);
  });

  it('gets Access-Reject for a wrong password and exits 1', async () => {
    const io = memIo();
    const code = await radtestMain(['bob', 'wrong', `127.0.0.1:${fr.authPort}`, '0', SECRET], io);
    expect(code).toBe(1);
    expect(io.stdout.join('\n')).toMatch(/^Received Access-Reject Id \d+/m);
    expect(io.stderr.join('\n')).toContain('Expected Access-Accept got Access-Reject');
  });

  it('gets Access-Accept with CHAP (-t chap)', async () => {
    const io = memIo();
    const code = await radtestMain(['-t', 'chap', 'carol', 'chap-secret', `127.0.0.1:${fr.authPort}`, '7', SECRET, '1'], io);
    expect(code).toBe(0);
    const out = io.stdout.join('\n');
    expect(out).toMatch(/^\tCHAP-Password = 0x[0-9a-f]{34}$/m);
    expect(out).toContain('\tFramed-Protocol = PPP');
    expect(out).toContain('\tReply-Message = "CHAP welcome"');
    // And a wrong CHAP password is rejected.
    expect(await radtestMain(['-t', 'chap', 'carol', 'nope', `127.0.0.1:${fr.authPort}`, '7', SECRET], memIo())).toBe(1);
  });

  it('works over TCP (RFC 6613)', async () => {
    const io = memIo();
    const code = await radtestMain(['-P', 'tcp', 'bob', 'hello', `127.0.0.1:${fr.tcpAuthPort}`, '0', SECRET], io);
    expect(code).toBe(0);
    expect(io.stdout.join('\n')).toContain('\tFramed-IP-Address = 192.0.2.10');
  });

  it('runs as the packaged bin (dist build) and exits 0 on Accept', () => {
    const bin = path.resolve(__dirname, '../../bin/radtest.js');
    const built = path.resolve(__dirname, '../../dist/core/cli/radtest.js');
    expect(fs.existsSync(built), 'dist/ is missing: run `npm run build` first (npm test does)').toBe(true);
    const r = spawnSync(process.execPath, [bin, 'bob', 'hello', `127.0.0.1:${fr.authPort}`, '0', SECRET], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Received Access-Accept/);
  });
});

describe('our radclient against FreeRADIUS 3.2', () => {
  it('decodes every reply attribute of the Access-Accept, including the DSL Forum VSAs', async () => {
    const spec = parseRequest('User-Name = "bob"\nUser-Password = "hello"\nNAS-Port = 1', dict, 'auth', 0);
    const { outcomes, summary } = await runSession([spec], session(fr, fr.authPort), memIo());
    expect(summary).toMatchObject({ accepted: 1, passed: 1, lost: 0 });
    const reply = outcomes[0].reply!;
    expect(reply.code).toBe(PacketCode.AccessAccept);
    // Same values as the users file gave (compared through our parser, so enum aliases are equal).
    const expected = Object.entries(BOB_REPLY)
      .map(([k, v]) => `${k} = ${dict.resolve(k)!.type === 'string' ? JSON.stringify(v) : v}`);
    expectSameValues(reply.pairs, expected, /^Message-Authenticator /);
    // The VSAs really are vendor 3561 (DSL Forum, RFC 4679) attributes 129/130.
    const vsa = reply.pairs.find((p) => p.da.name === 'Vendor-Specific');
    const leaves: string[] = [];
    const walk = (ps: typeof reply.pairs): void => {
      for (const p of ps) { if (p.children) walk(p.children); else leaves.push(`${p.da.oid}=${String(p.value)}`); }
    };
    walk(vsa ? [vsa] : reply.pairs);
    expect(leaves).toContain('26.3561.129=1024000');
    expect(leaves).toContain('26.3561.130=16384000');
  });

  it('gets Accounting-Response, and FreeRADIUS writes the record', async () => {
    const sessionId = `tsradius-${Date.now()}`;
    const input = `User-Name = "bob"\nAcct-Status-Type = Start\nAcct-Session-Id = "${sessionId}"\nNAS-IP-Address = 192.0.2.1\nFramed-IP-Address = 192.0.2.10\n`;
    const io = memIo(input);
    const code = await radclientMain([`127.0.0.1:${fr.acctPort}`, 'acct', SECRET, '-t', '2'], io);
    expect(code).toBe(0);
    expect(io.stdout.join('\n')).toMatch(/^Received Accounting-Response Id \d+ from 127\.0\.0\.1:\d+ to 127\.0\.0\.1:\d+ length 20$/m);
    const files = fs.readdirSync(fr.detailDir, { recursive: true }).map(String).filter((f) => f.includes('detail-'));
    const detail = files.map((f) => fs.readFileSync(path.join(fr.detailDir, f), 'utf8')).join('\n');
    expect(detail).toContain(`Acct-Session-Id = "${sessionId}"`);
  });

  it('sends an Accounting-Request with Message-Authenticator that FreeRADIUS accepts', async () => {
    const input = 'User-Name = "bob"\nAcct-Status-Type = Stop\nAcct-Session-Id = "ma-acct"\nMessage-Authenticator = 0x00\n';
    const io = memIo(input);
    expect(await radclientMain(['-x', `127.0.0.1:${fr.acctPort}`, 'acct', SECRET, '-t', '2'], io)).toBe(0);
    expect(io.stdout.join('\n')).toMatch(/^\tMessage-Authenticator = 0x[0-9a-f]{32}$/m);
  });

  it('answers Status-Server', async () => {
    const io = memIo('');
    io.stdin = async () => 'NAS-Identifier = "probe"';
    expect(await radclientMain([`127.0.0.1:${fr.authPort}`, 'status', SECRET, '-t', '2'], io)).toBe(0);
    expect(io.stdout.join('\n')).toMatch(/^Received Access-Accept Id \d+/m);
  });

  it('sends several packets in parallel with counts and prints the summary', async () => {
    const input = 'User-Name = "bob", User-Password = "hello"\n\nUser-Name = "bob", User-Password = "bad"\n';
    const io = memIo(input);
    const code = await radclientMain(['-q', '-s', '-c', '3', '-p', '4', `127.0.0.1:${fr.authPort}`, 'auth', SECRET], io);
    expect(code).toBe(1);
    expect(io.stdout).toEqual([
      'Packet summary:', '\tAccepted      : 3', '\tRejected      : 3', '\tLost          : 0',
      '\tPassed filter : 3', '\tFailed filter : 3',
    ]);
  });
});

describe('printing like FreeRADIUS 3.2', () => {
  it('prints enumerated values with the names radclient prints', async () => {
    const relay = await startRelay(fr.authPort);
    try {
      const run = await debianRadclient(['-x', '-r', '1', '-t', '3', `127.0.0.1:${relay.port}`, 'auth', SECRET],
        'User-Name = "bob"\nUser-Password = "hello"\nMessage-Authenticator = 0x00\n');
      const rep = relay.captured.find((c) => c.dir === 'reply')!.bytes;
      const req = relay.captured.find((c) => c.dir === 'request')!.bytes;
      const dr = decodePacket(rep, { dict, secret: Buffer.from(SECRET), requestAuthenticator: req.subarray(4, 20) });
      expect(dr.ok).toBe(true);
      if (dr.ok) expect(printPairLines(dr.packet.pairs).split('\n').map((l) => l.slice(1))).toEqual(receivedAttributes(run.stdout));
    } finally {
      relay.close();
    }
  });
});

describe('Message-Authenticator in both directions', () => {
  it('FreeRADIUS (require_message_authenticator = yes) drops our Access-Request without one', async () => {
    const spec = parseRequest('User-Name = "bob"\nUser-Password = "hello"', dict, 'auth', 0);
    const { summary } = await runSession([spec], session(fr, fr.authPort, { messageAuthenticator: false, timeout: 0.5, retries: 1 }), memIo());
    expect(summary.lost).toBe(1);
  });

  it('the reply carries a Message-Authenticator that we verify, and a tampered one is refused', async () => {
    const spec = parseRequest('User-Name = "bob"\nUser-Password = "hello"', dict, 'auth', 0);
    const { outcomes } = await runSession([spec], session(fr, fr.authPort), memIo());
    const r = outcomes[0].result!;
    const reqAuth = r.request.subarray(4, 20);
    const ok = decodePacket(r.reply!, { dict, secret: Buffer.from(SECRET), requestAuthenticator: reqAuth });
    expect(ok.ok && ok.hasMessageAuthenticator).toBe(true);
    // Flip one bit inside the Message-Authenticator value: verification must fail.
    const bad = Buffer.from(r.reply!);
    let off = 20;
    while (bad[off] !== 80) off += bad[off + 1];
    bad[off + 2 + 5] ^= 0x01;
    const res = decodePacket(bad, { dict, secret: Buffer.from(SECRET), requestAuthenticator: reqAuth });
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.code).toBe('bad-message-authenticator');
    // And a wrong secret fails too.
    expect(decodePacket(r.reply!, { dict, secret: Buffer.from('wrong'), requestAuthenticator: reqAuth }).ok).toBe(false);
  });

  it('--require-message-authenticator drops replies without one (FreeRADIUS not signing replies)', async () => {
    const plain = await startFreeRadius({ requireMessageAuthenticator: true, replyMessageAuthenticator: false });
    try {
      const spec = parseRequest('User-Name = "bob"\nUser-Password = "hello"', dict, 'auth', 0);
      const io = memIo();
      const strict = await runSession([spec], session(plain, plain.authPort, { timeout: 0.5, retries: 1 }), io);
      expect(strict.summary.lost).toBe(1);
      expect(io.stderr.join('\n')).toContain('no Message-Authenticator');
      const lax = await runSession([spec], session(plain, plain.authPort, { requireMessageAuthenticator: false }), memIo());
      expect(lax.summary.passed).toBe(1);
    } finally {
      await plain.stop();
    }
  });
});

describe("Debian's radclient and our decoder agree on a captured exchange", () => {
  it('Access-Request / Access-Accept', async () => {
    const relay = await startRelay(fr.authPort);
    try {
      const input = [
        'User-Name = "bob"', 'User-Password = "hello"', 'NAS-IP-Address = 192.0.2.1', 'NAS-Port = 42',
        'Calling-Station-Id = "02-00-00-00-00-01"', 'Framed-Route = "10.1.0.0/16 192.0.2.1 1"',
        'Message-Authenticator = 0x00', '',
      ].join('\n');
      const run = await debianRadclient(['-x', '-r', '1', '-t', '3', `127.0.0.1:${relay.port}`, 'auth', SECRET], input);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const req = relay.captured.find((c) => c.dir === 'request')!.bytes;
      const rep = relay.captured.find((c) => c.dir === 'reply')!.bytes;

      // The request radclient built: we verify its Message-Authenticator and reveal the password.
      const dq = decodePacket(req, { dict, secret: Buffer.from(SECRET), requireMessageAuthenticator: true });
      expect(dq.ok).toBe(true);
      if (!dq.ok) return;
      // radclient prints the MA placeholder it was given, and its internal Cleartext-Password.
      expectSameValues(dq.packet.pairs, sentAttributes(run.stdout), /^(Message-Authenticator|Cleartext-Password) /);

      // The reply FreeRADIUS sent: same attributes, same values, same order as radclient printed.
      const dr = decodePacket(rep, { dict, secret: Buffer.from(SECRET), requestAuthenticator: req.subarray(4, 20) });
      expect(dr.ok).toBe(true);
      if (!dr.ok) return;
      expectSameValues(dr.packet.pairs, receivedAttributes(run.stdout), /^$/);
      expect(printPairLines(dr.packet.pairs)).toContain('\tActual-Data-Rate-Downstream = 16384000');
      expect(receivedAttributes(run.stdout)).toContain('Actual-Data-Rate-Downstream = 16384000');
    } finally {
      relay.close();
    }
  });

  it('Accounting-Request with Message-Authenticator / Accounting-Response', async () => {
    const relay = await startRelay(fr.acctPort);
    try {
      const input = [
        'User-Name = "bob"', 'Acct-Status-Type = Interim-Update', 'Acct-Session-Id = "cap-1"',
        'Acct-Input-Octets = 123456', 'Acct-Output-Octets = 654321', 'Acct-Session-Time = 60',
        'NAS-IP-Address = 192.0.2.1', 'Event-Timestamp = "Nov 21 2026 03:00:00 UTC"', 'Message-Authenticator = 0x00', '',
      ].join('\n');
      const run = await debianRadclient(['-x', '-r', '1', '-t', '3', `127.0.0.1:${relay.port}`, 'acct', SECRET], input);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const req = relay.captured.find((c) => c.dir === 'request')!.bytes;
      const rep = relay.captured.find((c) => c.dir === 'reply')!.bytes;
      const dq = decodePacket(req, { dict, secret: Buffer.from(SECRET) });
      expect(dq.ok, JSON.stringify(!dq.ok && dq.error)).toBe(true);
      if (!dq.ok) return;
      expect(dq.hasMessageAuthenticator).toBe(true);
      expectSameValues(dq.packet.pairs, sentAttributes(run.stdout), /^Message-Authenticator /);
      const dr = decodePacket(rep, { dict, secret: Buffer.from(SECRET), requestAuthenticator: req.subarray(4, 20) });
      expect(dr.ok).toBe(true);
      if (dr.ok) expect(dr.packet.code).toBe(PacketCode.AccountingResponse);
    } finally {
      relay.close();
    }
  });
});
