/**
 * The AF_PACKET addon on a real veth pair the test creates (root only; it fails loudly without CAP_NET_ADMIN):
 * batched send and receive both ways, our own frames not looped back, an 802.1Q tag the kernel strips put back
 * into the frame, the addon loading inside a worker thread (context-aware), and a wait ended by its eventfd
 * written from another thread (a frame on the veth, e.g. the kernel's own IPv6 traffic, also ends a wait and can
 * hide a broken wake; the check fails when neither comes within 10 s).
 */
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeWakeFd, openPacket, packetAddonPath, wake, wakeFd, type PacketSocket } from './index';

const A = `tpk${process.pid % 100000}a`;
const B = `tpk${process.pid % 100000}b`;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

function frame(dst: Uint8Array, src: Uint8Array, type: number, payload: number[], vlan = 0): Uint8Array {
  const tag = vlan ? 4 : 0;
  const f = new Uint8Array(14 + tag + Math.max(payload.length, 46));
  f.set(dst, 0);
  f.set(src, 6);
  if (vlan) {
    f[12] = 0x81; f[13] = 0x00; f[14] = vlan >> 8; f[15] = vlan & 255;
  }
  f[12 + tag] = type >> 8;
  f[13 + tag] = type & 255;
  f.set(payload, 14 + tag);
  return f;
}

/** Receives until `n` frames arrived or 2 s passed (bounded). */
function recvAll(s: PacketSocket, n: number): Uint8Array[] {
  const slot = 2048;
  const buf = new Uint8Array(32 * slot);
  const lens = new Uint32Array(32);
  const out: Uint8Array[] = [];
  const deadline = Date.now() + 2000;
  while (out.length < n && Date.now() < deadline) {
    const got = s.recv(buf, slot, lens, 32);
    expect(got).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < got; i++) {
      const f = buf.slice(i * slot, i * slot + lens[i]);
      const type = (f[12] << 8) | f[13];
      // keep only the test's frames (0x88b5 = local experimental), with or without a tag
      if (type === 0x88b5 || (type === 0x8100 && ((f[16] << 8) | f[17]) === 0x88b5)) out.push(f);
    }
    if (got === 0) s.wait(50);
  }
  return out;
}

describe('AF_PACKET addon', () => {
  let a: PacketSocket;
  let b: PacketSocket;
  beforeAll(() => {
    ip('link', 'add', A, 'type', 'veth', 'peer', 'name', B);
    ip('link', 'set', A, 'up');
    ip('link', 'set', B, 'up');
    a = openPacket(A);
    b = openPacket(B, { fanout: 4242 });
  });
  afterAll(() => {
    a?.close();
    b?.close();
    try { ip('link', 'del', A); } catch { /* already gone */ }
  });

  it('sends a batch one way and receives it on the peer, without echoing our own frames', () => {
    const frames = [1, 2, 3, 4, 5].map((n) => frame(b.mac, a.mac, 0x88b5, [n, n, n]));
    const buf = new Uint8Array(frames.length * 64);
    const offs = new Uint32Array(frames.length);
    const lens = new Uint32Array(frames.length);
    frames.forEach((f, i) => { buf.set(f, i * 64); offs[i] = i * 64; lens[i] = f.length; });
    expect(a.send(buf, offs, lens, frames.length)).toBe(5);
    const got = recvAll(b, 5);
    expect(got.map((f) => f[14])).toEqual([1, 2, 3, 4, 5]);
    expect(Buffer.from(got[0].subarray(6, 12))).toEqual(Buffer.from(a.mac));
    expect(recvAll(a, 1)).toEqual([]); // PACKET_IGNORE_OUTGOING
  });

  it('puts a stripped 802.1Q tag back into the received frame', () => {
    const f = frame(a.mac, b.mac, 0x88b5, [9, 8, 7], 100);
    expect(b.send(f, new Uint32Array([0]), new Uint32Array([f.length]), 1)).toBe(1);
    const [got] = recvAll(a, 1);
    expect(got).toBeDefined();
    expect([got[12], got[13]]).toEqual([0x81, 0x00]);
    expect(((got[14] << 8) | got[15]) & 0xfff).toBe(100);
    expect([got[16], got[17], got[18]]).toEqual([0x88, 0xb5, 9]);
  });

  it('loads in a worker thread', async () => {
    const w = new Worker(`const a = require(${JSON.stringify(packetAddonPath())}); const h = a.open(${JSON.stringify(A)}, {}); const i = a.info(h); a.close(h); require('node:worker_threads').parentPort.postMessage(i.ifindex);`, { eval: true });
    const ifindex = await new Promise<number>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    expect(ifindex).toBe(a.ifindex);
    await w.terminate();
  });

  it('ends a wait when its wake eventfd is written, also from another thread', async () => {
    const fd = wakeFd();
    try {
      wake(fd);
      expect(a.wait(10_000, fd)).toBe(true); // already written: returns at once
      const w = new Worker(`const a = require(${JSON.stringify(packetAddonPath())}); setTimeout(() => a.wake(${fd}), 50);`, { eval: true });
      expect(a.wait(10_000, fd)).toBe(true); // the worker's write ends it (the 10 s bound only if it never comes)
      await w.terminate();
    } finally {
      closeWakeFd(fd);
    }
  });

  it('names the interface when it does not exist', () => {
    expect(() => openPacket('nosuchif0')).toThrow(/nosuchif0: No such device/);
  });
});
