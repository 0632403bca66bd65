/**
 * The batched UDP socket on both backends: the native addon (when built with
 * `npm run build:native`) and the node:dgram fallback, which must behave alike
 * for everything the fallback supports.
 */
import * as fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { META_SIZE, SendQueue, addonPath, localOf, openDgram, openUdp, peerOf, putPeer, udpBackend, type BatchUdpSocket } from './index';

// The addon is optional (`npm run build:native`): its own tests exist only where it is built; the fallback is always tested.
const disabled = process.env.TSRADIUS_NATIVE_UDP === '0';
const built = fs.existsSync(addonPath()) && !disabled;

function received(): { got: Buffer[]; peers: { address: string; port: number }[]; locals: (string | undefined)[]; on: (s: BatchUdpSocket, n: number) => void; wait: (n: number) => Promise<void> } {
  const got: Buffer[] = [];
  const peers: { address: string; port: number }[] = [];
  const locals: (string | undefined)[] = [];
  let waiter: (() => void) | undefined;
  let want = 0;
  return {
    got, peers, locals,
    on: (s, n) => {
      for (let i = 0; i < n; i++) {
        got.push(Buffer.from(s.buffer.subarray(i * s.slotSize, i * s.slotSize + s.lengths[i])));
        if (s.meta) { peers.push(peerOf(s.meta, i * META_SIZE)); locals.push(localOf(s.meta, i * META_SIZE)?.address); }
      }
      if (got.length >= want && waiter) waiter();
    },
    wait: (n) => new Promise<void>((resolve, reject) => {
      want = n;
      if (got.length >= n) { resolve(); return; }
      const t = setTimeout(() => reject(new Error(`only ${got.length} of ${n} datagrams`)), 5000);
      waiter = () => { clearTimeout(t); resolve(); };
    }),
  };
}

function batch(...msgs: string[]): [Buffer, Uint32Array, Uint32Array] {
  const buf = Buffer.from(msgs.join(''));
  const off = new Uint32Array(msgs.length);
  const len = new Uint32Array(msgs.length);
  let o = 0;
  msgs.forEach((m, i) => { off[i] = o; len[i] = m.length; o += m.length; });
  return [buf, off, len];
}

describe('udpBackend', () => {
  it('reports the addon when it is built and the fallback (with the reason) when not or when disabled', () => {
    const b = udpBackend();
    if (built) expect(b.backend).toBe('native');
    else expect(b).toEqual({ backend: 'dgram', why: expect.stringContaining(disabled ? 'disabled by TSRADIUS_NATIVE_UDP=0' : 'not built') });
  });
});

const backends: [string, (o: Parameters<typeof openUdp>[0]) => Promise<BatchUdpSocket>][] = [['dgram', openDgram]];
if (built) backends.push(['native', openUdp]);

describe.each(backends)('%s backend', (name, open) => {
  it('sends a batch from a connected socket and answers each datagram to its source', async () => {
    const srv = received();
    const cli = received();
    const server = await open({ bind: { address: '127.0.0.1' }, pktinfo: name === 'native', rcvbuf: 1 << 20, onMessages: srv.on });
    const port = server.info().port;
    const client = await open({ connect: { address: '127.0.0.1', port }, onMessages: cli.on });
    try {
      expect(server.backend).toBe(name);
      expect(server.info().rcvbuf).toBeGreaterThan(0);
      expect(client.sendBatch(...batch('one', 'two', 'three'), 3)).toBe(3);
      await srv.wait(3);
      expect(srv.got.map(String)).toEqual(['one', 'two', 'three']);
      expect(srv.peers.every((p) => p.address === '127.0.0.1' && p.port === client.info().port)).toBe(true);
      if (name === 'native') expect(srv.locals).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']); // IP_PKTINFO
      const meta = Buffer.alloc(2 * META_SIZE);
      putPeer(meta, 0, '127.0.0.1', client.info().port);
      putPeer(meta, META_SIZE, '127.0.0.1', client.info().port);
      expect(server.sendBatch(...batch('r1', 'r2'), 2, meta)).toBe(2);
      await cli.wait(2);
      expect(cli.got.map(String)).toEqual(['r1', 'r2']);
    } finally {
      server.close();
      client.close();
    }
  });

  it('SendQueue: copies datagrams in, sends them in order in batches of its capacity, counts what could not go', async () => {
    const srv = received();
    const server = await open({ bind: { address: '127.0.0.1' }, onMessages: srv.on });
    const client = await open({ connect: { address: '127.0.0.1', port: server.info().port }, onMessages: () => undefined });
    try {
      const q = new SendQueue(2, 8, false);
      const scratch = Buffer.from('xxdgram-1');
      expect(q.add(client, scratch, 2, 7)).toBe(0);
      scratch.write('dgram-2', 2); // the caller may reuse its buffer at once
      expect(q.add(client, scratch, 2, 7)).toBe(1);
      expect(q.add(client, Buffer.from('third'), 0, 5)).toBe(0); // the full queue was sent first
      expect(q.add(client, Buffer.from('far too long'), 0, 12)).toBe(-1);
      expect(q.size).toBe(1);
      expect(q.flush(client)).toBe(1); // the one too long for a slot
      await srv.wait(3);
      expect(srv.got.map(String)).toEqual(['dgram-1', 'dgram-2', 'third']);
      q.add(client, Buffer.from('lost'), 0, 4);
      expect(q.flush(undefined)).toBe(1); // no socket (closed): lost, no error code
      expect(q.lastError).toBe(0);
      expect(q.flush(client)).toBe(0);
    } finally {
      server.close();
      client.close();
    }
  });
});

if (built) describe('native addon only', () => {
  it('SO_REUSEPORT lets two sockets share a port; without it the second bind fails', async () => {
    const noop = () => undefined;
    const a = await openUdp({ bind: { address: '127.0.0.1' }, reusePort: true, onMessages: noop });
    const port = a.info().port;
    const b = await openUdp({ bind: { address: '127.0.0.1', port }, reusePort: true, onMessages: noop });
    expect(b.info().port).toBe(port);
    await expect(openUdp({ bind: { address: '127.0.0.1', port }, onMessages: noop })).rejects.toThrow(/bind: Address already in use/);
    a.close();
    b.close();
  });

  it('spread: one source port, the group of two sockets splits by byte 1 (the RADIUS ID) mod 2', async () => {
    const ra = received();
    const rb = received();
    const a = await openUdp({ bind: { address: '127.0.0.1' }, reusePort: true, spread: 2, onMessages: ra.on });
    const port = a.info().port;
    const b = await openUdp({ bind: { address: '127.0.0.1', port }, reusePort: true, spread: 2, onMessages: rb.on });
    const cli = await openUdp({ connect: { address: '127.0.0.1', port }, onMessages: () => undefined });
    // Datagrams "c<id>…" with ids 0..7 from one socket (one flow: the flow hash would pick one socket for all).
    const msgs = Array.from({ length: 8 }, (_, id) => 'c' + String.fromCharCode(0x30 + id) + 'xyz');
    cli.sendBatch(...batch(...msgs), msgs.length);
    await ra.wait(4);
    await rb.wait(4);
    const ids = (r: ReturnType<typeof received>): number[] => r.got.map((m) => m[1] - 0x30).sort();
    // Sockets are numbered in the order they joined the group: a gets the even IDs, b the odd ones.
    expect(ids(ra)).toEqual([0, 2, 4, 6]);
    expect(ids(rb)).toEqual([1, 3, 5, 7]);
    a.close();
    b.close();
    cli.close();
  });

  it('loads and echoes in a worker thread', async () => {
    const code = `
      const { parentPort } = require('node:worker_threads');
      const a = require(${JSON.stringify(addonPath())});
      const buf = Buffer.alloc(4 * 64), lens = new Uint32Array(4), meta = Buffer.alloc(4 * 48);
      const s = a.create({ family: 4, bindAddress: '127.0.0.1' }, buf, lens, meta, (n) => {
        parentPort.postMessage(buf.subarray(0, lens[0]).toString()); a.close(s);
      });
      const port = a.info(s).port;
      const c = a.create({ family: 4, connectAddress: '127.0.0.1', connectPort: port }, Buffer.alloc(64), new Uint32Array(1), null, () => {});
      a.sendBatch(c, Buffer.from('from worker'), new Uint32Array([0]), new Uint32Array([11]), 1, null);
      a.close(c);`;
    const w = new Worker(code, { eval: true });
    const msg = await new Promise<string>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    expect(msg).toBe('from worker');
    await w.terminate();
  });
});
