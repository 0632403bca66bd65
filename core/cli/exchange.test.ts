import * as crypto from 'node:crypto';
import * as dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefaultDictionary } from '../dict/default';
import { decodePacket, encodePacket, PacketCode } from '../protocol/radius';
import { chapResponse, defaultPort, parseRequest, runSession, splitPackets, type SessionOptions } from './exchange';
import { normalizeArgv, parseServer, radclientMain, type CliIo } from './radclient';
import { radtestMain, radtestPairs } from './radtest';

const dict = loadDefaultDictionary();
const secret = Buffer.from('s3cret');

function memIo(stdin = ''): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(...l.split('\n')), err: (l) => stderr.push(...l.split('\n')), stdin: async () => stdin };
}

describe('input handling', () => {
  it('splits packets on blank lines and ignores comment-only blocks', () => {
    expect(splitPackets('A = 1\nB = 2\n\n  \nC = 3\r\n\r\n# only a comment\n')).toEqual(['A = 1\nB = 2', 'C = 3']);
  });

  it('parses server[:port] including IPv6 literals', () => {
    expect(parseServer('127.0.0.1')).toEqual({ host: '127.0.0.1' });
    expect(parseServer('localhost:1812')).toEqual({ host: 'localhost', port: 1812 });
    expect(parseServer('[::1]:3799')).toEqual({ host: '::1', port: 3799 });
    expect(parseServer('::1')).toEqual({ host: '::1' });
    expect(() => parseServer('host:99999')).toThrow(/invalid port/);
  });

  it('maps -4/-6 to named options', () => {
    expect(normalizeArgv(['-4', '-x', '-6'])).toEqual(['--ipv4', '-x', '--ipv6']);
  });

  it('uses the RFC default ports', () => {
    expect([1, 4, 12, 40, 43].map(defaultPort)).toEqual([1812, 1813, 1812, 3799, 3799]);
  });

  it('takes the code from Packet-Type with auto and the expectation from Response-Packet-Type', () => {
    const s = parseRequest('Packet-Type = Disconnect-Request\nResponse-Packet-Type = Disconnect-NAK\nUser-Name = "bob"', dict, 'auto', 3);
    expect(s.code).toBe(PacketCode.DisconnectRequest);
    expect(s.expect).toEqual([PacketCode.DisconnectNAK]);
    expect(s.pairs.map((p) => p.da.name)).toEqual(['User-Name']);
    expect(s.index).toBe(3);
    expect(parseRequest('Acct-Status-Type = Start', dict, 'auto', 0).code).toBe(PacketCode.AccountingRequest);
    expect(() => parseRequest('User-Name = "x"', dict, 'auto', 0)).toThrow(/Packet-Type/);
  });

  it('builds the same list as FreeRADIUS radtest', () => {
    expect(radtestPairs({ user: 'bob', password: 'he"llo', nasPort: '3', nasAddress: '192.0.2.1', family: 4, method: 'chap', pppHint: '1' }))
      .toBe('User-Name = "bob"\nCHAP-Password = "he\\"llo"\nNAS-IP-Address = 192.0.2.1\nNAS-Port = 3\nMessage-Authenticator = 0x00\nFramed-Protocol = PPP');
  });
});

describe('CHAP', () => {
  it('computes ID ‖ MD5(ID ‖ password ‖ challenge) (RFC 1994)', () => {
    const challenge = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const r = chapResponse(0x2a, Buffer.from('hello'), challenge);
    const expected = crypto.createHash('md5').update(Buffer.concat([Buffer.from([0x2a]), Buffer.from('hello'), challenge])).digest();
    expect(r[0]).toBe(0x2a);
    expect(r.subarray(1).equals(expected)).toBe(true);
  });
});

describe('against a scripted server', () => {
  const closers: (() => void)[] = [];
  afterEach(() => { for (const c of closers.splice(0)) c(); });

  /** A UDP "server" that decodes with our codec and answers via `reply`. */
  async function server(reply: (req: Buffer) => Buffer | undefined, type: 'udp4' | 'udp6' = 'udp4'): Promise<number> {
    const s = dgram.createSocket(type);
    s.on('message', (m, r) => { const b = reply(m); if (b) s.send(b, r.port, r.address); });
    await new Promise<void>((r) => s.bind(0, type === 'udp6' ? '::1' : '127.0.0.1', r));
    closers.push(() => s.close());
    return s.address().port;
  }

  const accept = (req: Buffer): Buffer => encodePacket(
    { code: PacketCode.AccessAccept, id: req[1], authenticator: Buffer.alloc(0), pairs: [] },
    { dict, secret, requestAuthenticator: req.subarray(4, 20), messageAuthenticator: true },
  );

  it('sends CHAP computed over the Request Authenticator and Message-Authenticator first', async () => {
    let seen: Buffer | undefined;
    const port = await server((req) => { seen = req; return accept(req); });
    const io = memIo('User-Name = "carol"\nCHAP-Password = "pw"\n');
    expect(await radclientMain([`127.0.0.1:${port}`, 'auth', 's3cret', '-t', '1'], io)).toBe(0);
    const d = decodePacket(seen!, { dict, secret, requireMessageAuthenticator: true });
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.packet.pairs[0].da.name).toBe('Message-Authenticator');
    const chap = d.packet.pairs.find((p) => p.da.name === 'CHAP-Password')!.value as Buffer;
    expect(chap.equals(chapResponse(chap[0], Buffer.from('pw'), seen!.subarray(4, 20)))).toBe(true);
  });

  it('drops a reply with a bad Response Authenticator, then reports the request lost', async () => {
    const port = await server((req) => { const b = accept(req); b[10] ^= 1; return b; });
    const io = memIo('User-Name = "bob"\nUser-Password = "x"\n');
    expect(await radclientMain([`127.0.0.1:${port}`, 'auth', 's3cret', '-t', '0.2', '-r', '2'], io)).toBe(1);
    expect(io.stderr.join('\n')).toMatch(/Received bad packet .*does not match/);
    expect(io.stderr.join('\n')).toMatch(/\(0\) No reply from server for ID \d+/);
  });

  it('--require-message-authenticator covers Access-Accept/Reject/Challenge only (BlastRADIUS)', async () => {
    const unsigned = (code: number) => (req: Buffer): Buffer => encodePacket(
      { code, id: req[1], authenticator: Buffer.alloc(0), pairs: [] },
      { dict, secret, requestAuthenticator: req.subarray(4, 20), requestCode: req[0] },
    );
    const auth = await server(unsigned(PacketCode.AccessAccept));
    const io = memIo('User-Name = "bob"\nUser-Password = "x"\n');
    expect(await radclientMain(['--require-message-authenticator', `127.0.0.1:${auth}`, 'auth', 's3cret', '-t', '0.2', '-r', '1'], io)).toBe(1);
    expect(io.stderr.join('\n')).toMatch(/Received bad packet .*no Message-Authenticator \(required\)/);
    // A Status-Server sent to an accounting port is answered by an Accounting-Response, which has none.
    const acct = await server(unsigned(PacketCode.AccountingResponse));
    const io2 = memIo('NAS-Identifier = "probe"\n');
    expect(await radclientMain(['--require-message-authenticator', `127.0.0.1:${acct}`, 'status', 's3cret', '-t', '1'], io2)).toBe(0);
    expect(io2.stdout.join('\n')).toMatch(/^Received Accounting-Response Id \d+/m);
  });

  it('talks to an IPv6 server with -6', async () => {
    const port = await server((req) => accept(req), 'udp6');
    const io = memIo('User-Name = "bob"\nUser-Password = "x"\n');
    expect(await radclientMain(['-6', `[::1]:${port}`, 'auth', 's3cret', '-t', '1'], io)).toBe(0);
    expect(io.stdout.join('\n')).toMatch(/^Received Access-Accept Id \d+ from \[::1\]:\d+ to /m);
  });

  it('-q -s prints only the summary; -c repeats; every request gets a fresh ID', async () => {
    const ids = new Set<number>();
    const port = await server((req) => { ids.add(req[1]); return accept(req); });
    const io = memIo('User-Name = "bob"\nUser-Password = "x"\n');
    expect(await radclientMain(['-q', '-s', '-c', '5', '-p', '5', `127.0.0.1:${port}`, 'auth', 's3cret'], io)).toBe(0);
    expect(io.stdout[0]).toBe('Packet summary:');
    expect(io.stdout).toContain('\tAccepted      : 5');
    expect(ids.size).toBe(5);
  });

  it('reads the secret from -S file and packets from -f file', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'radclient-'));
    closers.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'secret'), 's3cret\n');
    fs.writeFileSync(path.join(dir, 'packets'), 'User-Name = "a", User-Password = "x"\n\nUser-Name = "b", User-Password = "y"\n');
    let n = 0;
    const port = await server((req) => { n++; return accept(req); });
    const io = memIo();
    expect(await radclientMain(['-S', path.join(dir, 'secret'), '-f', path.join(dir, 'packets'), `127.0.0.1:${port}`, 'auth'], io)).toBe(0);
    expect(n).toBe(2);
  });

  it('rejects usage errors with exit status 2', async () => {
    expect(await radclientMain(['127.0.0.1', 'bogus', 'x'], memIo())).toBe(2);
    expect(await radclientMain(['127.0.0.1', 'auth'], memIo())).toBe(2);
    expect(await radtestMain(['bob'], memIo())).toBe(2);
    expect(await radtestMain(['-t', 'mschap', 'bob', 'pw', '127.0.0.1', '0', 'x'], memIo())).toBe(2);
  });

  it('runSession honours the rate limit', async () => {
    const port = await server((req) => accept(req));
    const spec = parseRequest('User-Name = "bob"\nUser-Password = "x"', dict, 'auth', 0);
    const o: SessionOptions = {
      host: '127.0.0.1', port, secret, dict, timeout: 1, retries: 1, parallel: 10, rate: 50, count: 6,
      messageAuthenticator: true, requireMessageAuthenticator: true, debug: false, quiet: true, summary: false,
    };
    const t0 = performance.now();
    const { summary } = await runSession([spec], o, memIo());
    expect(summary.passed).toBe(6);
    // 6 requests at 50/s: the last one leaves 100 ms after the first.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(95);
  });
});
