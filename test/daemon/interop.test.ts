/**
 * The embedded default configuration (raddb/ + sites/, ports moved to free loopback ports) against
 * Debian's radtest/radclient (freeradius-utils 3.2) and our own radclient, over UDP and TCP:
 * PAP, CHAP, Reject, accounting into the detail file, Status-Server, CoA/Disconnect to the
 * coa site, a retransmit answered from the duplicate cache, and the custom-module site.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  copyDefaultConfig, ourRadclient, radclient, run, startDaemon, tempDir, udpExchange, type Daemon,
} from './harness';
import { freePorts } from '../interop/freeradius';

let AUTH_PORT = 0;
let AUTH = '';
let ACCT = '';
let STATUS = '';
let COA = '';
let EXAMPLE = '';

/** An Accounting-Request built by hand (RFC 2866 Request Authenticator). */
function accountingRequest(id: number, sessionId: string, secret = 'testing123'): Buffer {
  const attr = (type: number, value: Buffer) => Buffer.concat([Buffer.from([type, value.length + 2]), value]);
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  const attrs = Buffer.concat([
    attr(1, Buffer.from('bob')),
    attr(40, u32(1)), // Acct-Status-Type = Start
    attr(44, Buffer.from(sessionId)),
    attr(4, Buffer.from([127, 0, 0, 1])),
  ]);
  const hdr = Buffer.alloc(20);
  hdr[0] = 4;
  hdr[1] = id;
  hdr.writeUInt16BE(20 + attrs.length, 2);
  const auth = crypto.createHash('md5').update(Buffer.concat([hdr, attrs, Buffer.from(secret)])).digest();
  auth.copy(hdr, 4);
  return Buffer.concat([hdr, attrs]);
}

function today(): string {
  const d = new Date();
  return `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}`;
}

describe('embedded default configuration vs Debian radclient/radtest and our radclient', () => {
  let dir: string;
  let confdir: string;
  let d: Daemon;
  const detailFile = () => path.join(confdir, 'var', 'log', 'radacct', '127.0.0.1', `detail-${today()}`);

  beforeAll(async () => {
    dir = tempDir('interop');
    const [auth, acct, status, coa, example] = await freePorts(5);
    AUTH_PORT = auth;
    [AUTH, ACCT, STATUS, COA, EXAMPLE] = [auth, acct, status, coa, example].map((p) => `127.0.0.1:${p}`);
    confdir = copyDefaultConfig(dir, { auth, acct, status, coa, example });
    d = await startDaemon(['-d', confdir, '-f', '-t']);
  });

  afterAll(async () => {
    if (d) expect(await d.stop()).toBe(0);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('radtest PAP: Access-Accept with the users-file reply attributes', async () => {
    const r = await run('/usr/bin/radtest', ['bob', 'hello', AUTH, '0', 'testing123']);
    expect(r.stdout).toMatch(/Received Access-Accept/);
    expect(r.stdout).toMatch(/Reply-Message = "Hello, bob"/);
    expect(r.stdout).toMatch(/Framed-IP-Address = 192\.0\.2\.10/);
    expect(r.stdout).toMatch(/Session-Timeout = 3600/);
  });

  it('radtest CHAP: Access-Accept', async () => {
    const r = await run('/usr/bin/radtest', ['-t', 'chap', 'bob', 'hello', AUTH, '0', 'testing123']);
    expect(r.stdout).toMatch(/Received Access-Accept/);
  });

  it('radtest with a wrong password: Access-Reject (attr_filter keeps only Reply-Message)', async () => {
    const r = await run('/usr/bin/radtest', ['bob', 'wrong', AUTH, '0', 'testing123']);
    expect(r.stdout).toMatch(/Received Access-Reject/);
    expect(r.stdout).not.toMatch(/Framed-IP-Address/);
  });

  it('radtest over TCP (RFC 6613): Access-Accept', async () => {
    const r = await run('/usr/bin/radtest', ['-P', 'tcp', 'alice', 'wonderland', AUTH, '0', 'testing123']);
    expect(r.stdout).toMatch(/Received Access-Accept/);
    expect(r.stdout).toMatch(/Reply-Message = "Welcome, alice"/);
  });

  it('accounting Start / Interim-Update / Stop: answered and in the detail file', async () => {
    for (const type of ['Start', 'Interim-Update', 'Stop']) {
      const r = await radclient(ACCT, 'acct', 'testing123',
        `User-Name = "bob", Acct-Status-Type = ${type}, Acct-Session-Id = "interop-1", NAS-IP-Address = 127.0.0.1\n`);
      expect(r.stdout).toMatch(/Received Accounting-Response/);
    }
    const text = fs.readFileSync(detailFile(), 'utf8');
    for (const type of ['Start', 'Interim-Update', 'Stop']) {
      expect(text).toMatch(new RegExp(`Acct-Status-Type = ${type}`));
    }
    expect(text.match(/Acct-Session-Id = "interop-1"/g)).toHaveLength(3);
  });

  it('Status-Server on the auth port and on the status site (Message-Authenticator required there)', async () => {
    const a = await radclient(AUTH, 'status', 'testing123', 'Message-Authenticator = 0x00\n');
    expect(a.stdout).toMatch(/Received Access-Accept/);
    const b = await radclient(STATUS, 'status', 'adminsecret', 'Message-Authenticator = 0x00\n');
    expect(b.stdout).toMatch(/Received Access-Accept/);
    expect(b.stdout).toMatch(/Reply-Message = "tsradius is alive"/);
    // Counters of this process through %stats(): earlier tests sent requests.
    const total = Number(/FreeRADIUS-Total-Access-Requests = (\d+)/.exec(b.stdout)?.[1]);
    expect(total).toBeGreaterThan(5);
    expect(b.stdout).toMatch(/FreeRADIUS-Total-Auth-Dropped-Requests = \d+/);
  });

  it('CoA-Request / Disconnect-Request to the coa site: ACK for a known session, NAK otherwise', async () => {
    const ack = await radclient(COA, 'coa', 'testing123', 'Acct-Session-Id = "sess-0001", User-Name = "bob"\n');
    expect(ack.stdout).toMatch(/Received CoA-ACK/);
    const nak = await radclient(COA, 'coa', 'testing123', 'Acct-Session-Id = "sess-9999", User-Name = "bob"\n');
    expect(nak.stdout).toMatch(/Received CoA-NAK/);
    expect(nak.stdout).toMatch(/Error-Cause = Session-Context-Not-Found/);
    const dack = await radclient(COA, 'disconnect', 'testing123', 'Acct-Session-Id = "sess-0002"\n');
    expect(dack.stdout).toMatch(/Received Disconnect-ACK/);
    const missing = await radclient(COA, 'disconnect', 'testing123', 'User-Name = "bob"\n');
    expect(missing.stdout).toMatch(/Received Disconnect-NAK/);
    expect(missing.stdout).toMatch(/Error-Cause = Missing-Attribute/);
  });

  it('a retransmit (same bytes twice) is answered from the duplicate cache: one detail record', async () => {
    const pkt = accountingRequest(77, 'dup-session-1');
    const [host, port] = ACCT.split(':');
    const replies = await udpExchange({ host, port: Number(port) }, [pkt, pkt], { gapMs: 300, waitMs: 500 });
    expect(replies).toHaveLength(2);
    expect(replies[0][0]).toBe(5);
    expect(replies[1].equals(replies[0])).toBe(true);
    const text = fs.readFileSync(detailFile(), 'utf8');
    expect(text.match(/Acct-Session-Id = "dup-session-1"/g)).toHaveLength(1);
  });

  it('our radclient over UDP and over TCP', async () => {
    const udp = await ourRadclient(AUTH, 'auth', 'testing123', 'User-Name = "bob", User-Password = "hello"\n');
    expect(udp.stdout).toMatch(/Received Access-Accept/);
    expect(udp.stdout).toMatch(/Reply-Message = "Hello, bob"/);
    const tcp = await ourRadclient(AUTH, 'auth', 'testing123', 'User-Name = "bob", User-Password = "hello"\n', ['-P', 'tcp']);
    expect(tcp.stdout).toMatch(/Received Access-Accept/);
    const acct = await ourRadclient(ACCT, 'acct', 'testing123', 'User-Name = "bob", Acct-Status-Type = Start, Acct-Session-Id = "ours-1"\n');
    expect(acct.stdout).toMatch(/Received Accounting-Response/);
  });

  it('IPv6: client ::1 from clients.d/localhost6, whose secret comes from clients.d/default', async () => {
    const r = await ourRadclient(`[::1]:${AUTH_PORT}`, 'auth', 'testing123', 'User-Name = "bob", User-Password = "hello"\n');
    expect(r.stdout).toMatch(/Received Access-Accept/);
  });

  it('the example site calls the custom module (examples/mymod) loaded by path', async () => {
    const r = await run('/usr/bin/radtest', ['bob', 'hello', EXAMPLE, '0', 'testing123']);
    expect(r.stdout).toMatch(/Received Access-Accept/);
    expect(r.stdout).toMatch(/Reply-Message = "Welcome to the example site, bob"/);
  });

  it('linelog wrote one line per authentication result', () => {
    const log = fs.readFileSync(path.join(confdir, 'var', 'log', 'auth.log'), 'utf8');
    expect(log).toMatch(/Access-Accept user=bob/);
    expect(log).toMatch(/Access-Reject user=bob/);
  });
});
