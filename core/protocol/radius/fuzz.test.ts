/**
 * Property and fuzz tests for the RADIUS codec. Seeded PRNG: a failure
 * message names the seed and case number so it reproduces.
 */
import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { Dictionary } from '../../dict/dictionary';
import type { DictAttr } from '../../dict/attr';
import { Pair } from '../../pair/pair';
import { decodeAttributes, decodePacket, decodePairs, encodePacket, encodePairs, EncodeError, PacketCode, type CodecContext } from './index';

const dict = Dictionary.load(path.join(__dirname, 'testdata', 'dictionary'));
const SECRET = Buffer.from('testing123');

/** mulberry32: small, fast, seeded. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function da(name: string): DictAttr {
  const a = dict.resolve(name);
  if (!a) throw new Error(`no attribute ${name}`);
  return a;
}

type Rnd = () => number;
const int = (r: Rnd, n: number): number => Math.floor(r() * n);
const bytes = (r: Rnd, n: number): Buffer => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(r, 256);
  return b;
};
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.@';
const text = (r: Rnd, min: number, max: number): string => {
  const n = min + int(r, max - min + 1);
  let s = '';
  for (let i = 0; i < n; i++) s += r() < 0.03 ? 'é€' : ALNUM[int(r, ALNUM.length)];
  return s;
};

/** Attribute generators: name and value maker. Each produces a leaf with a deep `da`. */
const GENS: Array<[string, (r: Rnd) => unknown]> = [
  ['User-Name', (r) => text(r, 1, 200)],
  ['User-Password', (r) => text(r, 1, 100)],
  ['NAS-IP-Address', (r) => `${int(r, 256)}.${int(r, 256)}.${int(r, 256)}.${int(r, 256)}`],
  ['NAS-Port', (r) => int(r, 0x100000000)],
  ['Class', (r) => bytes(r, 1 + int(r, 250))],
  ['Session-Timeout', (r) => int(r, 100000)],
  ['Event-Timestamp', (r) => int(r, 2000000000)],
  ['NAS-IPv6-Address', (r) => ['::1', '2001:db8::1', 'fe80::1:2:3:4'][int(r, 3)]],
  ['Framed-IPv6-Prefix', (r) => ['2001:db8::/32', '::/0', '2001:db8:a0b:12f0::/64', '::1/128'][int(r, 4)]],
  ['Tunnel-Type', (r) => int(r, 0x1000000)],
  ['Tunnel-Password', (r) => text(r, 0, 120)],
  ['Tunnel-Private-Group-Id', (r) => text(r, 1, 100)],
  ['Vendor-Specific.Cisco.AVPair', (r) => text(r, 1, 200)],
  ['Vendor-Specific.Cisco.Cisco-Int', (r) => int(r, 0x100000000)],
  ['Vendor-Specific.Lucent.Max-Shared-Users', (r) => int(r, 0x100000000)],
  ['Vendor-Specific.Starent.VPN-Name', (r) => text(r, 1, 200)],
  ['Vendor-Specific.USR.Event-Id', (r) => int(r, 0x100000000)],
  ['Vendor-Specific.WiMAX.Big-Blob', (r) => bytes(r, 1 + int(r, 700))],
  ['Vendor-Specific.WiMAX.Capability.Release', (r) => text(r, 1, 100)],
  ['Vendor-Specific.Ascend.Send-Secret', (r) => text(r, 1, 16).replace(/[^\x20-\x7e]/g, 'x').slice(0, 16)],
  ['Extended-Attribute-1.Ext-Integer', (r) => int(r, 0x100000000)],
  ['Extended-Attribute-1.Ext-TLV.Ext-TLV-Str', (r) => text(r, 1, 100)],
  ['Extended-Attribute-5.LE-Octets', (r) => bytes(r, 1 + int(r, 900))],
  ['Extended-Attribute-5.Vendor-Specific.FreeRADIUS.EVS-Octets', (r) => bytes(r, 1 + int(r, 600))],
  ['Extended-Attribute-5.Vendor-Specific.FreeRADIUS.EVS-Integer', (r) => int(r, 0x100000000)],
];
const TAGGED = new Set(['Tunnel-Type', 'Tunnel-Password', 'Tunnel-Private-Group-Id']);

function show(v: unknown): string {
  return Buffer.isBuffer(v) ? '0x' + v.toString('hex') : String(v);
}

/** Leaf pairs as sorted `path=value` strings (values forced). */
function leaves(pairs: readonly Pair[]): string[] {
  const out: string[] = [];
  const walk = (ps: readonly Pair[], group: string): void => {
    for (const p of ps) {
      if (p.children) walk(p.children, p.da.name.startsWith('Tag-') ? p.da.name : group);
      else out.push(`${p.da.flags.raw ? 'raw.' : ''}${p.da.fullName}${p.tag ? ':' + p.tag : ''}=${show(p.value)}${group}`);
    }
  };
  walk(pairs, '');
  return out.sort();
}

/** Force every lazy value in a tree. */
function touch(pairs: readonly Pair[]): number {
  let n = 0;
  for (const p of pairs) {
    if (p.children) n += touch(p.children);
    else if (p.value !== undefined) n++;
  }
  return n;
}

describe('round trip: decode(encode(x)) == x', () => {
  it('holds for 3000 generated pair lists', () => {
    const seed = 0x5eed;
    const r = prng(seed);
    for (let c = 0; c < 3000; c++) {
      const n = 1 + int(r, 8);
      const pairs: Pair[] = [];
      const expected: string[] = [];
      let eap = false;
      for (let i = 0; i < n; i++) {
        if (!eap && r() < 0.1) {
          eap = true;
          const v = bytes(r, 1 + int(r, 1200));
          pairs.push(new Pair(da('EAP-Message'), v));
          expected.push(`EAP-Message=${show(v)}`);
          continue;
        }
        const [name, gen] = GENS[int(r, GENS.length)];
        const a = da(name);
        const v = gen(r);
        const p = new Pair(a, v as never);
        let tag = 0;
        if (TAGGED.has(name) && r() < 0.5) { tag = 1 + int(r, 31); p.tag = tag; }
        pairs.push(p);
        // Tag groups in the test dictionary exist for 1 and 2 only; other tags stay on the pair.
        const group = tag === 1 || tag === 2 ? `Tag-${tag}` : '';
        expected.push(`${a.fullName}${tag && !group ? ':' + tag : ''}=${show(v)}${group}`);
      }
      const ctx: CodecContext = { dict, secret: SECRET, vector: Buffer.alloc(16, c & 0xff) };
      let wire: Buffer;
      try {
        wire = encodePairs(pairs, ctx);
      } catch (e) {
        if (e instanceof EncodeError) continue; // over 4 KiB: legitimately refused
        throw e;
      }
      const got = leaves(decodePairs(wire, ctx));
      expect(got, `seed ${seed} case ${c}`).toEqual(expected.sort());
      // and re-encoding the decoded tree gives a decodable equivalent
      const again = encodePairs(decodePairs(wire, ctx), ctx);
      expect(leaves(decodePairs(again, ctx)), `seed ${seed} case ${c} (re-encode)`).toEqual(got);
    }
  });

  it('holds for whole packets of every code', () => {
    const r = prng(77);
    const codes = [1, 2, 3, 4, 5, 11, 12, 40, 41, 42, 43, 44, 45];
    for (let c = 0; c < 500; c++) {
      const code = codes[int(r, codes.length)];
      const [name, gen] = GENS[int(r, 10)];
      const pairs = [new Pair(da('User-Name'), 'u' + c), new Pair(da(name), gen(r) as never)];
      const reqAuth = bytes(r, 16);
      const isReq = code === 1 || code === 4 || code === 12 || code === 40 || code === 43;
      const buf = encodePacket({ code, id: c & 0xff, authenticator: reqAuth, pairs }, { dict, secret: SECRET, requestAuthenticator: isReq ? undefined : reqAuth, messageAuthenticator: r() < 0.5 });
      const d = decodePacket(buf, { dict, secret: SECRET, requestAuthenticator: isReq ? undefined : reqAuth });
      expect(d.ok, `case ${c} code ${code}`).toBe(true);
    }
  });
});

const CODES = [1, 2, 3, 4, 5, 11, 12, 13, 40, 41, 42, 43, 44, 45, 52];
const INTERESTING = [1, 2, 4, 5, 26, 26, 26, 64, 69, 79, 79, 80, 89, 97, 207, 241, 241, 245, 245, 250, 250, 214];

function randomAttr(r: Rnd): Buffer {
  const t = r() < 0.8 ? INTERESTING[int(r, INTERESTING.length)] : 1 + int(r, 255);
  let body: Buffer;
  if (t === 26 && r() < 0.8) {
    const vendors = [9, 4846, 8164, 429, 24757, 529, 4874, int(r, 70000)];
    const v = Buffer.alloc(4);
    v.writeUInt32BE(vendors[int(r, vendors.length)]);
    body = Buffer.concat([v, bytes(r, int(r, 40))]);
    if (r() < 0.7 && body.length > 5) { body[4] = 1 + int(r, 3); body[5] = body.length - 4 - int(r, 2); }
  } else if ((t === 241 || t === 245) && r() < 0.8) {
    body = bytes(r, int(r, 60));
    if (body.length > 0) body[0] = [1, 2, 3, 26][int(r, 4)];
    if (t === 245 && body.length > 1 && r() < 0.5) body[1] = 0x80;
  } else {
    body = bytes(r, int(r, 30));
  }
  if (body.length > 253) body = body.subarray(0, 253);
  const h = Buffer.from([t, body.length + 2]);
  if (r() < 0.05) h[1] = int(r, 256); // broken length
  return Buffer.concat([h, body]);
}

function randomPacket(r: Rnd): Buffer {
  const parts: Buffer[] = [];
  const n = int(r, 12);
  for (let i = 0; i < n; i++) parts.push(randomAttr(r));
  const attrs = Buffer.concat(parts);
  const hdr = Buffer.alloc(20);
  hdr[0] = r() < 0.95 ? CODES[int(r, CODES.length)] : int(r, 256);
  hdr[1] = int(r, 256);
  hdr.writeUInt16BE(r() < 0.9 ? 20 + attrs.length : int(r, 65536), 2);
  bytes(r, 16).copy(hdr, 4);
  return Buffer.concat([hdr, attrs]);
}

function mutate(r: Rnd, b: Buffer): Buffer {
  const out = Buffer.from(b);
  const k = 1 + int(r, 4);
  for (let i = 0; i < k; i++) {
    switch (int(r, 5)) {
      case 0: out[int(r, out.length)] ^= 1 << int(r, 8); break;
      case 1: out[int(r, out.length)] = int(r, 256); break;
      case 2: if (out.length > 21) out[20 + int(r, out.length - 20)] = [0, 1, 2, 3, 255][int(r, 5)]; break;
      case 3: return out.subarray(0, int(r, out.length + 1));
      default: if (out.length > 20) out.writeUInt16BE(Math.min(out.length, 20 + int(r, out.length)), 2);
    }
  }
  return out;
}

describe('fuzz: malformed input never throws or hangs', () => {
  const ctx: CodecContext = { dict, secret: SECRET, vector: Buffer.alloc(16, 7) };
  const seeds: Buffer[] = [];
  {
    const r = prng(1);
    for (let i = 0; i < 60; i++) {
      const [name, gen] = GENS[i % GENS.length];
      const pairs = [new Pair(da('User-Name'), 'bob'), new Pair(da(name), gen(r) as never), new Pair(da('EAP-Message'), bytes(r, 300))];
      seeds.push(encodePacket({ code: CODES[i % 6], id: i, authenticator: bytes(r, 16), pairs }, { dict, secret: SECRET, requestAuthenticator: bytes(r, 16), messageAuthenticator: i % 2 === 0 }));
    }
  }

  function exercise(buf: Buffer, i: number): void {
    const d = decodePacket(buf, { dict, secret: SECRET, verify: (i & 1) === 0, requestAuthenticator: ctx.vector });
    if (d.ok) {
      touch(d.packet.pairs);
      try {
        encodePairs(d.packet.pairs, ctx);
      } catch (e) {
        if (!(e instanceof EncodeError)) throw e;
      }
    }
    if ((i & 3) === 0) {
      const a = decodeAttributes(buf.subarray(20), ctx);
      touch(a.pairs);
    }
  }

  it('survives 60k random packets', () => {
    const seed = 0xf00d;
    const r = prng(seed);
    for (let i = 0; i < 60000; i++) {
      const buf = randomPacket(r);
      try {
        exercise(buf, i);
      } catch (e) {
        throw new Error(`seed ${seed} case ${i} (${buf.toString('hex')}): ${(e as Error).stack}`);
      }
    }
  }, 60000);

  it('survives 60k mutated valid packets', () => {
    const seed = 0xbeef;
    const r = prng(seed);
    for (let i = 0; i < 60000; i++) {
      const buf = mutate(r, seeds[int(r, seeds.length)]);
      try {
        exercise(buf, i);
      } catch (e) {
        throw new Error(`seed ${seed} case ${i} (${buf.toString('hex')}): ${(e as Error).stack}`);
      }
    }
  }, 60000);

  it('survives random attribute soup without a header', () => {
    const r = prng(0xabc);
    for (let i = 0; i < 20000; i++) {
      const b = Buffer.concat([randomAttr(r), randomAttr(r), randomAttr(r)]);
      const res = decodeAttributes(r() < 0.5 ? b : b.subarray(0, int(r, b.length + 1)), ctx);
      touch(res.pairs);
    }
  });

  it('rejects every single-bit flip of a signed response', () => {
    const req = Buffer.alloc(16, 3);
    const buf = encodePacket({ code: PacketCode.AccessAccept, id: 1, authenticator: req, pairs: [new Pair(da('Reply-Message'), 'hello'), new Pair(da('Class'), Buffer.from('abc'))] },
      { dict, secret: SECRET, requestAuthenticator: req, messageAuthenticator: true });
    expect(decodePacket(buf, { dict, secret: SECRET, requestAuthenticator: req }).ok).toBe(true);
    for (let bit = 0; bit < buf.length * 8; bit++) {
      const b = Buffer.from(buf);
      b[bit >> 3] ^= 1 << (bit & 7);
      expect(decodePacket(b, { dict, secret: SECRET, requestAuthenticator: req }).ok, `bit ${bit}`).toBe(false);
    }
  });
});
