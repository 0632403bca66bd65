import { describe, expect, it } from 'vitest';
import { RadiusFramer, type FrameError } from './framer';

function pkt(code: number, id: number, len: number): Buffer {
  const b = Buffer.alloc(len, 0xab);
  b[0] = code;
  b[1] = id;
  b.writeUInt16BE(len, 2);
  return b;
}

function framer(opts: { max?: number; copy?: boolean; known?: (c: number) => boolean } = {}) {
  const got: Buffer[] = [];
  const bad: { why: FrameError; len: number }[] = [];
  const f = new RadiusFramer({ maxPacketSize: opts.max ?? 4096, copy: opts.copy, knownCode: opts.known }, {
    packet: (p) => { got.push(p); },
    bad: (why, len) => { bad.push({ why, len }); },
  });
  return { f, got, bad };
}

describe('RadiusFramer (RFC 6613)', () => {
  it('splits packets delivered together and reassembles packets split at any byte', () => {
    const a = pkt(1, 1, 20);
    const b = pkt(4, 2, 45);
    const c = pkt(1, 3, 300);
    const all = Buffer.concat([a, b, c]);
    for (let cut = 1; cut < all.length; cut += 7) {
      const { f, got, bad } = framer();
      f.push(all.subarray(0, cut));
      f.push(all.subarray(cut));
      expect(got.map((x) => x[1])).toEqual([1, 2, 3]);
      expect(got.map((x) => x.length)).toEqual([20, 45, 300]);
      expect(bad).toEqual([]);
    }
  });

  it('byte by byte', () => {
    const { f, got } = framer();
    for (const x of Buffer.concat([pkt(2, 9, 20), pkt(3, 10, 38)])) f.push(Buffer.from([x]));
    expect(got.map((x) => x[1])).toEqual([9, 10]);
  });

  it('a length below 20, above the maximum, or a refused code stops framing for good', () => {
    for (const [b, why] of [[pkt(1, 1, 20).fill(0, 2, 4), 'length-too-small'], [pkt(1, 1, 100), 'length-too-large'], [pkt(99, 1, 20), 'unknown-code']] as const) {
      const { f, got, bad } = framer({ max: 64, known: (c) => c !== 99 });
      f.push(Buffer.concat([pkt(1, 7, 20), b]));
      f.push(pkt(1, 8, 20));
      expect(got.map((x) => x[1])).toEqual([7]);
      expect(bad.map((x) => x.why)).toEqual([why]);
    }
  });

  it('copy: packets do not share memory with the chunk', () => {
    const chunk = pkt(1, 1, 20);
    const { f, got } = framer({ copy: true });
    f.push(chunk);
    chunk[1] = 42;
    expect(got[0][1]).toBe(1);
  });

  it('stop(): later chunks are ignored; a sink returning false stops framing', () => {
    const { f, got } = framer();
    f.push(pkt(1, 1, 20).subarray(0, 10));
    f.stop();
    f.push(pkt(1, 1, 20).subarray(10));
    expect(got).toEqual([]);
    const seen: number[] = [];
    const g = new RadiusFramer({ maxPacketSize: 4096 }, { packet: (p) => { seen.push(p[1]); return false; }, bad: () => undefined });
    g.push(Buffer.concat([pkt(1, 1, 20), pkt(1, 2, 20)]));
    expect(seen).toEqual([1]);
  });
});
