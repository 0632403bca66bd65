import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RadiusClient, runAll, type Outgoing } from './client';

/** A fake request: code 1, the given ID, length 20 + payload. */
function packet(id: number, payload = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(20 + payload.length);
  b[0] = 1; b[1] = id; b.writeUInt16BE(b.length, 2);
  payload.copy(b, 20);
  return b;
}

function reply(req: Buffer): Buffer {
  const b = Buffer.from(req);
  b[0] = 2;
  return b;
}

const echoJob = (): Outgoing => ({ build: (id) => packet(id), accept: () => true });

const closers: (() => void)[] = [];
afterEach(() => { for (const c of closers.splice(0)) c(); });

async function udpServer(onMsg: (msg: Buffer, send: (b: Buffer) => void) => void): Promise<number> {
  // The client bursts requests from the same event loop; a large buffer keeps
  // the kernel from dropping them before this server gets to read.
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
  s.on('message', (msg, rinfo) => onMsg(msg, (b) => s.send(b, rinfo.port, rinfo.address)));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  closers.push(() => s.close());
  return s.address().port;
}

describe('RadiusClient over UDP', () => {
  it('matches replies by ID and reports the round trip', async () => {
    const port = await udpServer((m, send) => send(reply(m)));
    const c = await RadiusClient.open({ host: '127.0.0.1', port, timeout: 1, attempts: 1 });
    closers.push(() => c.close());
    const r = await c.send(echoJob());
    expect(r.reply?.[0]).toBe(2);
    expect(r.reply?.[1]).toBe(r.request[1]);
    expect(r.sends).toBe(1);
    expect(r.remote).toEqual({ address: '127.0.0.1', port });
  });

  it('retransmits the same bytes after a timeout, attempts times in total', async () => {
    const seen: Buffer[] = [];
    const port = await udpServer((m, send) => { seen.push(m); if (seen.length === 3) send(reply(m)); });
    const c = await RadiusClient.open({ host: '127.0.0.1', port, timeout: 0.05, attempts: 3 });
    closers.push(() => c.close());
    const r = await c.send(echoJob());
    expect(seen).toHaveLength(3);
    expect(seen[0].equals(seen[2])).toBe(true);
    expect(r.sends).toBe(3);
    expect(r.reply).toBeDefined();
  });

  it('gives up without a reply after the last attempt', async () => {
    let n = 0;
    const port = await udpServer(() => { n++; });
    const timeouts: number[] = [];
    const c = await RadiusClient.open({ host: '127.0.0.1', port, timeout: 0.03, attempts: 2 },
      { timedOut: (_b, a) => timeouts.push(a) });
    closers.push(() => c.close());
    const r = await c.send(echoJob());
    expect(r.reply).toBeUndefined();
    expect(n).toBe(2);
    expect(timeouts).toEqual([1, 2]);
  });

  it('drops packets with an unknown ID or that the caller refuses, and keeps waiting', async () => {
    const port = await udpServer((m, send) => {
      const wrongId = reply(m); wrongId[1] ^= 0xff;
      send(wrongId);
      const bad = reply(m); bad[0] = 99;
      send(bad);
      setTimeout(() => send(reply(m)), 20);
    });
    const dropped: string[] = [];
    const c = await RadiusClient.open({ host: '127.0.0.1', port, timeout: 1, attempts: 1 },
      { dropped: (_b, why) => dropped.push(why) });
    closers.push(() => c.close());
    const r = await c.send({ build: (id) => packet(id), accept: (b) => (b[0] === 2 ? true : 'bad code') });
    expect(r.reply?.[0]).toBe(2);
    expect(dropped).toHaveLength(2);
    expect(dropped[1]).toBe('bad code');
  });

  it('opens another socket when 256 IDs are in flight', async () => {
    const held: (() => void)[] = [];
    const port = await udpServer((m, send) => { held.push(() => send(reply(m))); if (held.length === 300) held.forEach((f) => f()); });
    const c = await RadiusClient.open({ host: '127.0.0.1', port, timeout: 2, attempts: 1 });
    closers.push(() => c.close());
    const jobs = Array.from({ length: 300 }, echoJob);
    const rs = await runAll(jobs, (j) => c.send(j), 300);
    expect(rs.every((r) => r.reply !== undefined)).toBe(true);
    expect(new Set(rs.map((r) => r.local.port)).size).toBe(2);
  });

  it('keeps at most `parallel` requests in flight', async () => {
    let inFlight = 0, max = 0;
    const port = await udpServer((m, send) => {
      inFlight++; max = Math.max(max, inFlight);
      setTimeout(() => { inFlight--; send(reply(m)); }, 5);
    });
    const c = await RadiusClient.open({ host: '127.0.0.1', port, timeout: 1, attempts: 1 });
    closers.push(() => c.close());
    await runAll(Array.from({ length: 20 }, echoJob), (j) => c.send(j), 4);
    expect(max).toBeLessThanOrEqual(4);
    expect(max).toBeGreaterThan(1);
  });
});

describe('RadiusClient over TCP', () => {
  it('reassembles replies split across and packed into segments, and never retransmits', async () => {
    let received = 0;
    const srv = net.createServer((sock) => {
      let buf = Buffer.alloc(0);
      const pendingOut: Buffer[] = [];
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 20 && buf.length >= buf.readUInt16BE(2)) {
          const len = buf.readUInt16BE(2);
          const req = buf.subarray(0, len);
          buf = buf.subarray(len);
          received++;
          pendingOut.push(reply(req));
        }
        if (received === 10) {
          // All replies in one stream, cut at odd places: reassembly must cope.
          const all = Buffer.concat(pendingOut);
          sock.write(all.subarray(0, 7));
          setTimeout(() => sock.write(all.subarray(7, 123)), 5);
          setTimeout(() => sock.write(all.subarray(123)), 10);
        }
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    closers.push(() => srv.close());
    const port = (srv.address() as net.AddressInfo).port;
    const c = await RadiusClient.open({ host: '127.0.0.1', port, transport: 'tcp', timeout: 1, attempts: 3 });
    closers.push(() => c.close());
    const jobs = Array.from({ length: 10 }, () => ({
      build: (id: number) => packet(id, Buffer.alloc(30, id)), accept: () => true as const,
    }));
    const rs = await runAll(jobs, (j) => c.send(j), 10);
    expect(rs.every((r) => r.reply?.length === 50 && r.sends === 1)).toBe(true);
    expect(received).toBe(10);
  });

  it('fails outstanding requests when the server closes the stream', async () => {
    const srv = net.createServer((sock) => sock.on('data', () => sock.destroy()));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    closers.push(() => srv.close());
    const port = (srv.address() as net.AddressInfo).port;
    const c = await RadiusClient.open({ host: '127.0.0.1', port, transport: 'tcp', timeout: 5, attempts: 1 });
    closers.push(() => c.close());
    const t0 = Date.now();
    const r = await c.send(echoJob());
    expect(r.reply).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
