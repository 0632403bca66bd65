/**
 * The fault server itself: each fault does what it says, counters count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PacketCode } from '../../core/protocol/radius';
import { startFaultServer, type FaultServer } from './fault-server';
import { pairValue, TestNas } from './nas';

const AR = PacketCode.AccessRequest;

describe('fault server', () => {
  let fs: FaultServer;
  let nas: TestNas;

  beforeAll(async () => {
    fs = await startFaultServer({ plan: { users: { bob: 'hello' }, replyAttrs: 'Reply-Message = "hi", Session-Timeout = 60' } });
    nas = await TestNas.open(fs.port);
  });
  afterAll(async () => {
    await nas?.close();
    await fs?.stop();
  });

  it('answers PAP Accept with the reply attributes, Reject otherwise, echoes Proxy-State', async () => {
    const a = await nas.request(AR, 'User-Name = "bob", User-Password = "hello", Proxy-State = 0x0102, Proxy-State = 0x0304');
    expect(a?.code).toBe(PacketCode.AccessAccept);
    expect(pairValue(a!.pairs, 'Reply-Message')).toBe('hi');
    const ps = a!.pairs.filter((p) => p.da.name === 'Proxy-State').map((p) => (p.value as Buffer).toString('hex'));
    expect(ps).toEqual(['0102', '0304']);
    const r = await nas.request(AR, 'User-Name = "bob", User-Password = "nope"');
    expect(r?.code).toBe(PacketCode.AccessReject);
    const acct = await nas.request(PacketCode.AccountingRequest, 'User-Name = "bob", Acct-Status-Type = Start, Acct-Session-Id = "x"');
    expect(acct?.code).toBe(PacketCode.AccountingResponse);
    const st = await nas.request(PacketCode.StatusServer, 'NAS-Identifier = "t"');
    expect(st?.code).toBe(PacketCode.AccessAccept);
    expect(fs.stats.byCode[AR]).toBe(2);
    expect(fs.stats.badRequests).toBe(0);
    expect(fs.stats.missingMessageAuthenticator).toBe(0);
  });

  it('drops the first N, counts retransmissions as duplicates', async () => {
    fs.reset();
    fs.set({ dropNext: 2 });
    const req = nas.send(AR, 'User-Name = "bob", User-Password = "hello"', { timeoutMs: 2000 });
    await new Promise((r) => setTimeout(r, 50));
    req.retransmit();
    await new Promise((r) => setTimeout(r, 50));
    req.retransmit();
    expect((await req.reply)?.code).toBe(PacketCode.AccessAccept);
    expect(fs.stats.received).toBe(3);
    expect(fs.stats.duplicates).toBe(2);
    expect(fs.stats.dropped).toBe(2);
    expect(fs.stats.replied).toBe(1);
  });

  it('delays replies', async () => {
    fs.set({ delayMs: 150, jitterMs: 20 });
    const a = await nas.request(AR, 'User-Name = "bob", User-Password = "hello"');
    expect(a!.ms).toBeGreaterThanOrEqual(140);
    fs.set({ delayMs: 0, jitterMs: 0 });
  });

  it('sabotaged replies fail verification at the NAS', async () => {
    for (const p of [{ garbage: 1 }, { wrongAuthenticator: 1 }, { messageAuthenticator: 'corrupt' as const }]) {
      fs.set({ garbage: 0, wrongAuthenticator: 0, messageAuthenticator: 'valid', ...p });
      const before = nas.invalidReplies;
      expect(await nas.request(AR, 'User-Name = "bob", User-Password = "hello"', 300)).toBeNull();
      expect(nas.invalidReplies).toBe(before + 1);
    }
    fs.set({ garbage: 0, wrongAuthenticator: 0, messageAuthenticator: 'omit' });
    const a = await nas.request(AR, 'User-Name = "bob", User-Password = "hello"');
    expect(a?.code).toBe(PacketCode.AccessAccept);
    expect(a!.raw.includes(Buffer.from([80, 18]))).toBe(false);
    fs.set({ messageAuthenticator: 'valid' });
  });

  it('only Status-Server, then silent, then back; counts what arrives while silent', async () => {
    fs.reset();
    fs.set({ onlyStatusServer: true });
    expect(await nas.request(AR, 'User-Name = "bob", User-Password = "hello"', 200)).toBeNull();
    expect((await nas.request(PacketCode.StatusServer, 'NAS-Identifier = "t"'))?.code).toBe(PacketCode.AccessAccept);
    fs.set({ onlyStatusServer: false });
    fs.silence(300);
    expect(await nas.request(PacketCode.StatusServer, 'NAS-Identifier = "t"', 200)).toBeNull();
    expect(fs.stats.whileSilent[PacketCode.StatusServer]).toBe(1);
    await new Promise((r) => setTimeout(r, 150));
    expect((await nas.request(AR, 'User-Name = "bob", User-Password = "hello"'))?.code).toBe(PacketCode.AccessAccept);
    expect(fs.events().filter((e) => e.silent)).toHaveLength(1);
  });

  it('stop and restart on the same port', async () => {
    const port = fs.port;
    await fs.stop();
    expect(await nas.request(AR, 'User-Name = "bob", User-Password = "hello"', 200)).toBeNull();
    await fs.restart();
    expect(fs.port).toBe(port);
    expect((await nas.request(AR, 'User-Name = "bob", User-Password = "hello"'))?.code).toBe(PacketCode.AccessAccept);
  });

  it('TCP (RFC 6613 framing)', async () => {
    const net = await import('node:net');
    const { encodePacket, decodePacket } = await import('../../core/protocol/radius');
    const { parsePairList } = await import('../../core/pair/text');
    const { dict } = await import('./nas');
    const t = await startFaultServer({ tcp: true });
    try {
      const sock = net.connect(t.tcpPort!, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      const pkts = [1, 2].map((id) => encodePacket({ code: AR, id, authenticator: Buffer.alloc(0), pairs: parsePairList('User-Name = "x"', dict()) },
        { dict: dict(), secret: Buffer.from('testing123'), messageAuthenticator: true }));
      const got = new Promise<Buffer>((resolve) => {
        let acc = Buffer.alloc(0);
        sock.on('data', (d) => { acc = Buffer.concat([acc, d]); if (acc.length >= 2 * 38) resolve(acc); });
      });
      sock.write(Buffer.concat(pkts)); // two frames in one segment
      const data = await got;
      const len1 = data.readUInt16BE(2);
      const r1 = decodePacket(data.subarray(0, len1), { dict: dict(), secret: Buffer.from('testing123'), requestAuthenticator: pkts[0].subarray(4, 20) });
      expect(r1.ok && r1.packet.code).toBe(PacketCode.AccessAccept);
      expect(t.stats.tcpConnections).toBe(1);
      sock.destroy();
    } finally {
      await t.stop();
    }
  });
});
