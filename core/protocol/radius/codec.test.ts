import { describe, expect, it } from 'vitest';
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { Dictionary } from '../../dict/dictionary';
import type { DictAttr } from '../../dict/attr';
import { Pair } from '../../pair/pair';
import {
  checkPacket, decodeAttributes, hmacMd5, decodePacket, decodePairs, encodePacket, encodePairs, fastRand, EncodeError,
  PacketCode, packetCodeName, type CodecContext,
} from './index';

const dict = Dictionary.load(path.join(__dirname, 'testdata', 'dictionary'));
const SECRET = Buffer.from('testing123');
const VECTOR = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const ctx = (): CodecContext => ({ dict, secret: SECRET, vector: VECTOR, rand: fastRand(6809, 2112) });
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const toHex = (b: Buffer): string => b.toString('hex');

function da(name: string): DictAttr {
  const a = dict.resolve(name);
  if (!a) throw new Error(`no attribute ${name}`);
  return a;
}
function pair(name: string, v: unknown): Pair {
  return new Pair(da(name), v as never);
}
/** Leaf pairs as `oid=value` strings, depth first (values forced). */
function flat(pairs: readonly Pair[]): string[] {
  const out: string[] = [];
  const walk = (ps: readonly Pair[], prefix: string): void => {
    for (const p of ps) {
      const name = (p.da.flags.raw ? 'raw.' : '') + p.da.name;
      if (p.children) walk(p.children, prefix + name + '.');
      else {
        const v = p.value;
        out.push(prefix + name + (p.tag ? ':' + p.tag : '') + '=' + (Buffer.isBuffer(v) ? '0x' + v.toString('hex') : String(v)));
      }
    }
  };
  walk(pairs, '');
  return out;
}

describe('packet codes', () => {
  it('names codes', () => {
    expect(packetCodeName(PacketCode.AccessRequest)).toBe('Access-Request');
    expect(packetCodeName(PacketCode.CoANAK)).toBe('CoA-NAK');
    expect(packetCodeName(99)).toBe('99');
  });
});

describe('hmacMd5', () => {
  it('equals createHmac for short, 64-byte and long keys', () => {
    for (const key of [Buffer.from('testing123'), Buffer.alloc(64, 7), Buffer.alloc(100, 9), Buffer.alloc(0)]) {
      const m = crypto.randomBytes(137);
      expect(hmacMd5(key, m.subarray(0, 50), m.subarray(50))).toEqual(crypto.createHmac('md5', key).update(m).digest());
    }
  });
});

describe('fastRand', () => {
  it('matches the fr_fast_rand recurrence', () => {
    const r = fastRand(6809, 2112);
    expect(r().toString(16)).toBe('fb051400');
    expect(r().toString(16)).toBe('aba74244');
  });
});

describe('RFC attributes', () => {
  it('encodes and lazily decodes', () => {
    const bytes = encodePairs([pair('User-Name', 'bob'), pair('NAS-Port', 1), pair('NAS-IP-Address', '10.0.0.1')], ctx());
    expect(toHex(bytes)).toBe('0105626f62' + '050600000001' + '04060a000001');
    const pairs = decodePairs(bytes, ctx());
    expect(flat(pairs)).toEqual(['User-Name=bob', 'NAS-Port=1', 'NAS-IP-Address=10.0.0.1']);
    // zero-copy: the raw view shares the input's memory
    expect(pairs[0].raw!.buffer).toBe(bytes.buffer);
    expect(pairs[0].raw!.byteOffset).toBe(bytes.byteOffset + 2);
  });

  it('forwards received values as they came until they are changed (a proxy re-encoding a request)', () => {
    // A User-Name that is not UTF-8 and a hidden password: decoded with one secret, encoded with another.
    const name = Buffer.from([0x62, 0xff, 0x6f]);
    const inbound = Buffer.concat([Buffer.from([1, 5]), name, encodePairs([pair('User-Password', 'pw'), pair('NAS-Port', 7)], ctx())]);
    const pairs = decodePairs(inbound, ctx());
    const other = { ...ctx(), secret: Buffer.from('other') };
    const out = encodePairs(pairs, other);
    expect(toHex(out.subarray(0, 5))).toBe('0105' + toHex(name));
    expect(flat(decodePairs(out, other)).slice(1)).toEqual(['User-Password=pw', 'NAS-Port=7']);
    // A value read and then replaced is encoded from the new value.
    pairs[2].value = 9;
    expect(flat(decodePairs(encodePairs(pairs, other), other))).toContain('NAS-Port=9');
  });

  it('decodes a wrong-size value as a raw attribute', () => {
    const p = decodePairs(hex('04 04 ab cd'), ctx());
    expect(p[0].da.flags.raw).toBe(true);
    expect(p[0].da.name).toBe('NAS-IP-Address');
    expect(p[0].value).toEqual(hex('abcd'));
    expect(flat(decodePairs(hex('1b 05 00 00 01'), ctx()))).toEqual(['raw.Session-Timeout=0x000001']);
  });

  it('skips zero-length attributes except Chargeable-User-Identity', () => {
    expect(decodePairs(hex('01 02'), ctx())).toEqual([]);
    expect(flat(decodePairs(hex('59 02'), ctx()))).toEqual(['Chargeable-User-Identity=0x']);
    expect(toHex(encodePairs([pair('User-Name', '')], ctx()))).toBe('');
    expect(toHex(encodePairs([pair('Chargeable-User-Identity', Buffer.alloc(0))], ctx()))).toBe('5902');
  });

  it('decodes unknown attributes as raw numbers', () => {
    const p = decodePairs(hex('d6 04 04 02'), ctx());
    expect(flat(p)).toEqual(['raw.214=0x0402']);
  });

  it('never encodes internal attributes', () => {
    expect(toHex(encodePairs([pair('Packet-Type', 2), pair('User-Name', 'a')], ctx()))).toBe('010361');
  });

  it('reports broken top-level framing', () => {
    for (const h of ['01 04 00', '01 01 00', '01 0a 01 02', '01']) {
      const r = decodeAttributes(hex(h), ctx());
      expect(r.error, h).toBeDefined();
      expect(r.error!.offset).toBe(0);
    }
    const r = decodeAttributes(hex('01 03 61 05 09 00'), ctx());
    expect(flat(r.pairs)).toEqual(['User-Name=a']);
    expect(r.error).toMatchObject({ offset: 3, attribute: 5 });
  });

  it('splits and rejoins concat attributes (EAP-Message)', () => {
    const eap = Buffer.alloc(600, 0x78);
    const bytes = encodePairs([pair('EAP-Message', eap)], ctx());
    expect(bytes.length).toBe(600 + 3 * 2);
    expect([bytes[0], bytes[1], bytes[255], bytes[256]]).toEqual([79, 255, 79, 255]);
    const p = decodePairs(bytes, ctx());
    expect(p).toHaveLength(1);
    expect(p[0].value).toEqual(eap);
  });

  it('packs array values and splits them on decode', () => {
    const b = encodePairs([pair('DNS-Servers', '192.0.2.1'), pair('DNS-Servers', '192.0.2.2'), pair('User-Name', 'a'), pair('DNS-Servers', '10.0.0.1')], ctx());
    expect(toHex(b)).toBe('f80a' + 'c0000201' + 'c0000202' + '010361' + 'f806' + '0a000001');
    expect(flat(decodePairs(b, ctx()))).toEqual(['DNS-Servers=192.0.2.1', 'DNS-Servers=192.0.2.2', 'User-Name=a', 'DNS-Servers=10.0.0.1']);
    expect(flat(decodePairs(hex('f8 07 01 02 03 04 05'), ctx()))).toEqual(['raw.DNS-Servers=0x0102030405']);
  });

  it('decodes IPv6 prefixes and validates them', () => {
    expect(flat(decodePairs(hex('61 0c 00 40 20 01 0d b8 0a 0b 12 f0'), ctx()))).toEqual(['Framed-IPv6-Prefix=2001:db8:a0b:12f0::/64']);
    expect(flat(decodePairs(hex('61 03 00'), ctx()))).toEqual(['raw.Framed-IPv6-Prefix=0x00']);
    expect(flat(decodePairs(hex('61 04 00 81'), ctx()))).toEqual(['raw.Framed-IPv6-Prefix=0x0081']);
  });
});

describe('attribute hiding', () => {
  it('reveals a User-Password hidden by FreeRADIUS (known answer)', () => {
    const auth = hex('2afdb090418ac6365298fbbb15e0fd2e');
    const p = decodePairs(hex('02 12 45 e8 d5 da ea d8 7e 40 15 e0 fc c0 ec 0f 08 a1'), { dict, secret: SECRET, vector: auth });
    expect(p[0].value).toBe('hello');
    const again = encodePairs([pair('User-Password', 'hello')], { dict, secret: SECRET, vector: auth });
    expect(toHex(again)).toBe('021245e8d5daead87e4015e0fcc0ec0f08a1');
  });

  it('hides long passwords in 16-byte blocks and caps them at 128', () => {
    const pw = 'x'.repeat(40);
    const b = encodePairs([pair('User-Password', pw)], ctx());
    expect(b[1]).toBe(2 + 48);
    expect(decodePairs(b, ctx())[0].value).toBe(pw);
    const big = encodePairs([pair('User-Password', 'y'.repeat(200))], ctx());
    expect(big[1]).toBe(130);
  });

  it('reveals a FreeRADIUS Tunnel-Password (known answer) and round-trips salted ones', () => {
    const p = decodePairs(hex('45 15 00 99 73 05 1d e6 c5 57 30 7d ac d5 da a5 99 f4 e2 6e 7e'), ctx());
    expect(flat(p)).toEqual(['Tunnel-Password=foo']);
    for (const pw of ['', '0', '0123456789abcde', '0123456789abcdef', 'z'.repeat(200)]) {
      const b = encodePairs([pair('Tunnel-Password', pw)], ctx());
      expect(b[2]).toBe(0); // tag byte
      expect(b[3] & 0x80).toBe(0x80); // salt high bit
      expect(flat(decodePairs(b, ctx()))).toEqual([`Tunnel-Password=${pw}`]);
    }
    // 249 octets fit (padding cut short), 250 do not
    const b = encodePairs([pair('Tunnel-Password', 'x'.repeat(249))], ctx());
    expect(b[1]).toBe(255);
    expect(flat(decodePairs(b, ctx()))).toEqual([`Tunnel-Password=${'x'.repeat(249)}`]);
    expect(() => encodePairs([pair('Tunnel-Password', 'x'.repeat(250))], ctx())).toThrow(EncodeError);
  });

  it('reveals Ascend-Send-Secret (known answer)', () => {
    const p = decodePairs(hex('1a 18 00 00 02 11 d6 12 ce 8d bb 09 a0 cd c2 9c ca f1 bd cb 25 41 f7 70'), ctx());
    expect(flat(p)).toEqual(['Vendor-Specific.Ascend.Send-Secret=foo']);
    expect(toHex(encodePairs([pair('Vendor-Specific.Ascend.Send-Secret', 'foo')], ctx())))
      .toBe('1a1800000211d612ce8dbb09a0cdc29ccaf1bdcb2541f770');
  });
});

describe('tags (RFC 2868)', () => {
  it('puts tagged values in Tag-N groups and encodes them back', () => {
    const p = decodePairs(hex('40 06 01 00 00 01 40 06 02 00 00 03 51 06 01 66 6f 6f'), ctx());
    expect(p.map((x) => x.da.name)).toEqual(['Tag-1', 'Tag-2']);
    expect(flat(p)).toEqual(['Tag-1.Tunnel-Type=1', 'Tag-1.Tunnel-Private-Group-Id=foo', 'Tag-2.Tunnel-Type=3']);
    const b = encodePairs(p, ctx());
    expect(toHex(b)).toBe('400601000001' + '510601666f6f' + '400602000003');
  });

  it('honours pair.tag and zero-tags strings that look like tags', () => {
    const t = pair('Tunnel-Type', 3);
    t.tag = 2;
    expect(toHex(encodePairs([t], ctx()))).toBe('400602000003');
    expect(toHex(encodePairs([pair('Tunnel-Type', 1)], ctx()))).toBe('400600000001');
    expect(toHex(encodePairs([pair('Tunnel-Private-Group-Id', '\u0001\u0002')], ctx()))).toBe('4205000102'.replace('42', '51'));
    expect(toHex(encodePairs([pair('Tunnel-Type', 0x1000000)], ctx()))).toBe('');
    expect(flat(decodePairs(hex('40 06 20 00 00 01'), ctx()))).toEqual(['raw.Tunnel-Type=0x20000001']);
  });

  it('tags vendor attributes inside the group', () => {
    const p = decodePairs(hex('1a 12 00 00 13 0a 41 0c 01 55 4e 50 4f 4c 49 43 45 44'), ctx());
    expect(flat(p)).toEqual(['Tag-1.Vendor-Specific.Unisphere.Service-Activate=UNPOLICED']);
    expect(toHex(encodePairs(p, ctx()))).toBe('1a120000130a410c01554e504f4c49434544');
  });
});

describe('vendor-specific attributes', () => {
  it('encodes flat and nested VSAs, one VSA per sub-attribute', () => {
    const b1 = encodePairs([pair('Vendor-Specific.Cisco.AVPair', 'foo'), pair('Vendor-Specific.Cisco.AVPair', 'bar')], ctx());
    expect(toHex(b1)).toBe('1a0b0000000901' + '05666f6f' + '1a0b0000000901' + '05626172');
    const p = decodePairs(b1, ctx());
    expect(p).toHaveLength(1); // merged under one Vendor-Specific / Cisco
    expect(flat(p)).toEqual(['Vendor-Specific.Cisco.AVPair=foo', 'Vendor-Specific.Cisco.AVPair=bar']);
    expect(toHex(encodePairs(p, ctx()))).toBe(toHex(b1));
  });

  it('handles format=2,1 / 2,2 / 4,0', () => {
    const cases: Array<[string, unknown, string]> = [
      ['Vendor-Specific.Lucent.Max-Shared-Users', 1, '1a0d000012ee00020700000001'],
      ['Vendor-Specific.Starent.VPN-Name', 'foo', '1a0d00001fe400020007666f6f'],
      ['Vendor-Specific.USR.Event-Id', 1234, '1a0e000001ad0000bfbe000004d2'],
    ];
    for (const [name, v, h] of cases) {
      const b = encodePairs([pair(name, v)], ctx());
      expect(toHex(b), name).toBe(h);
      expect(flat(decodePairs(b, ctx())), name).toEqual([`${name}=${String(v)}`]);
    }
  });

  it('fragments WiMAX (format=1,1,c) values and reassembles them', () => {
    const blob = Buffer.alloc(600, 0xab);
    const b = encodePairs([pair('Vendor-Specific.WiMAX.Big-Blob', blob)], ctx());
    expect(b[0]).toBe(26);
    expect(b[8] & 0x80).toBe(0x80); // continuation on the first fragment
    const p = decodePairs(b, ctx());
    expect(p[0].children![0].children![0].value).toEqual(blob);
    const w = encodePairs([pair('Vendor-Specific.WiMAX.Capability.Release', '1.0')], ctx());
    expect(toHex(w)).toBe('1a0e000060b5010800010531' + '2e30');
  });

  it('decodes malformed VSAs as raw Vendor-Specific', () => {
    for (const h of ['1a 05 ab cd ef', '1a 0b 00 00 00 09 ab cd ef 00 00', '1a 09 00 00 00 09 01 08 61', '1a 11 00 00 60 b5 01 0a 00 01 05 31 2e 30 02 03 01', '1a 07 01 00 00 09 01']) {
      const p = decodePairs(hex(h), ctx());
      expect(p.length, h).toBe(1);
      expect(p[0].da.flags.raw, h).toBe(true);
      expect(p[0].da.attr, h).toBe(26);
    }
  });

  it('decodes unknown vendors and attributes as raw, nesting TLV-looking data', () => {
    expect(flat(decodePairs(hex('1a 0d 00 00 1a 99 01 07 02 05 ab cd ef'), ctx()))).toEqual(['Vendor-Specific.raw.6809.raw.1.raw.2=0xabcdef']);
    expect(flat(decodePairs(hex('1a 0b 00 00 00 09 c8 05 ab cd ef'), ctx()))).toEqual(['Vendor-Specific.Cisco.raw.200=0xabcdef']);
  });
});

describe('RFC 6929 extended attributes', () => {
  it('encodes extended, TLV and struct children', () => {
    const b = encodePairs([pair('Extended-Attribute-1.Ext-Integer', 6809)], ctx());
    expect(toHex(b)).toBe('f1070100001a99');
    const t = new Pair(da('Extended-Attribute-1.Ext-TLV'));
    t.children = [pair('Extended-Attribute-1.Ext-TLV.Ext-TLV-Int', 1), pair('Extended-Attribute-1.Ext-TLV.Ext-TLV-Str', 'ab')];
    const bt = encodePairs([t], ctx());
    expect(toHex(bt)).toBe('f10d02' + '010600000001' + '02046162');
    expect(flat(decodePairs(bt, ctx()))).toEqual(['Extended-Attribute-1.Ext-TLV.Ext-TLV-Int=1', 'Extended-Attribute-1.Ext-TLV.Ext-TLV-Str=ab']);
  });

  it('fragments long-extended values with the More flag and reassembles them', () => {
    const v = Buffer.alloc(700, 0x61);
    const b = encodePairs([pair('Extended-Attribute-5.LE-Octets', v)], ctx());
    expect([b[0], b[1], b[2], b[3]]).toEqual([245, 255, 1, 0x80]);
    const p = decodePairs(b, ctx());
    expect(p[0].children![0].value).toEqual(v);
    expect(flat(decodePairs(hex('f5 04 01 00'), ctx()))).toEqual(['raw.Extended-Attribute-5=0x0100']);
  });

  it('encodes Extended-Vendor-Specific', () => {
    const b = encodePairs([pair('Extended-Attribute-5.Vendor-Specific.FreeRADIUS.EVS-Octets', hex('deadbeef'))], ctx());
    expect(toHex(b)).toBe('f50d1a0000002c5001deadbeef');
    expect(flat(decodePairs(b, ctx()))).toEqual(['Extended-Attribute-5.Vendor-Specific.FreeRADIUS.EVS-Octets=0xdeadbeef']);
    expect(flat(decodePairs(hex('f5 09 1a 00 00 00 00 01 ad'), ctx()))).toEqual(['Extended-Attribute-5.raw.Vendor-Specific=0x00000001ad']);
  });
});

describe('structs and unions', () => {
  it('decodes members, partial structs and keyed unions', () => {
    expect(flat(decodePairs(hex('f1 0c 03 00 00 00 01 00 02 66 6f 6f'), ctx())))
      .toEqual(['Extended-Attribute-1.Ext-Struct.Ext-Struct-A=1', 'Extended-Attribute-1.Ext-Struct.Ext-Struct-B=2', 'Extended-Attribute-1.Ext-Struct.Ext-Struct-Rest=foo']);
    expect(flat(decodePairs(hex('f1 07 03 00 00 00 01'), ctx()))).toEqual(['Extended-Attribute-1.Ext-Struct.Ext-Struct-A=1']);
    const p = decodePairs(hex('fa 08 01 00 05 07 08 09'), ctx());
    expect(flat(p)).toEqual(['Test-Struct.Key-Field=1', 'Test-Struct.Filler=5', 'Test-Struct.Sub-Struct.Sub-A=7', 'Test-Struct.Sub-Struct.Sub-B=8']);
    expect(toHex(encodePairs(p, ctx()))).toBe('fa0701000507' + '08');
    expect(flat(decodePairs(hex('fa 07 09 00 05 aa bb'), ctx()))).toEqual(['Test-Struct.Key-Field=9', 'Test-Struct.Filler=5', 'Test-Struct.Data.raw.9=0xaabb']);
  });

  it('decodes and encodes bit fields MSB first', () => {
    const p = decodePairs(hex('f9 05 d5 01 02'), ctx());
    expect(flat(p)).toEqual(['Bits-Struct.Flag-A=1', 'Bits-Struct.Level=5', 'Bits-Struct.Rest-Bits=5', 'Bits-Struct.Count=258']);
    expect(toHex(encodePairs(p, ctx()))).toBe('f905d50102');
    const s = new Pair(da('Bits-Struct'));
    s.children = [pair('Bits-Struct.Level', 7), pair('Bits-Struct.Count', 1)];
    expect(toHex(encodePairs([s], ctx()))).toBe('f905700001');
  });

  it('fills the union key from the chosen member', () => {
    const s = new Pair(da('Test-Struct'));
    const sub = new Pair(da('Test-Struct.Data.Sub-Text'), 'hi');
    s.children = [pair('Test-Struct.Filler', 1), sub];
    expect(toHex(encodePairs([s], ctx()))).toBe('fa07020001' + '6869');
  });
});

describe('encode limits', () => {
  it('throws EncodeError with the shortfall', () => {
    try {
      encodePairs([pair('User-Name', 'x'.repeat(61))], ctx(), 32);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(EncodeError);
      expect((e as EncodeError).needed).toBe(31);
    }
  });

  it('truncates over-long non-concat values to one attribute', () => {
    const b = encodePairs([pair('Reply-Message', 'r'.repeat(300))], ctx());
    expect(b.length).toBe(255);
  });
});

describe('checkPacket', () => {
  const base = '01 00 00 14 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f';
  const cases: Array<[string, string, string, number?]> = [
    ['01 00 00 13 00 01 02', 'too-short', 'packet is smaller than the minimum packet length'],
    ['00 00 00 14 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f', 'unknown-code', 'unknown packet code'],
    ['01 00 00 13 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f', 'length-too-small', "header 'length' field has a value smaller than the minimum packet length"],
    ['01 00 00 64 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f', 'length-too-large', "header 'length' field has a value larger than the received data"],
    ['01 00 00 15 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f ff', 'attr-header-overflow', 'attribute header overflows the packet', 20],
    ['01 00 00 16 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 00 02', 'attr-zero', 'attribute number 0 is invalid', 20],
    ['01 00 00 16 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 01 00', 'attr-length-invalid', "attribute 'length' field contains invalid value", 20],
    ['01 00 00 16 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 01 01', 'attr-length-invalid', "attribute 'length' field contains invalid value", 20],
    ['01 00 00 16 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 01 0a', 'attr-overflow', "attribute 'length' field overflows the packet", 20],
    ['01 00 00 1a 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 01 04 68 69 04 0a', 'attr-overflow', "attribute 'length' field overflows the packet", 24],
    ['01 00 00 19 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 50 05 00 00 00', 'ma-invalid-length', 'Message-Authenticator has invalid length', 20],
    ['0c 00 00 14 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f', 'ma-missing', 'Message-Authenticator is required for this packet, but it is missing'],
    ['01 00 00 18 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 4f 04 01 01', 'ma-missing', 'Message-Authenticator is required for this packet, but it is missing'],
  ];
  for (const [h, code, message, offset] of cases) {
    it(`${code}: ${h.slice(0, 20)}…`, () => {
      const e = checkPacket(hex(h));
      expect(e).toMatchObject({ code, message });
      if (offset !== undefined) expect(e!.offset).toBe(offset);
      const d = decodePacket(hex(h), { dict, secret: SECRET });
      expect(d.ok).toBe(false);
    });
  }

  it('rejects packets over 4096 bytes and too many attributes', () => {
    const big = Buffer.alloc(5000);
    big[0] = 1;
    big.writeUInt16BE(4100, 2);
    for (let p = 20; p + 100 <= 4100; p += 100) { big[p] = 1; big[p + 1] = 100; }
    expect(checkPacket(big)?.code).toBe('too-long');
    const many = Buffer.alloc(20 + 3 * 300);
    many[0] = 4;
    many.writeUInt16BE(many.length, 2);
    for (let p = 20; p < many.length; p += 3) { many[p] = 1; many[p + 1] = 3; many[p + 2] = 0x61; }
    expect(checkPacket(many)?.code).toBe('too-many-attributes');
    expect(checkPacket(many, { maxAttributes: 0 })).toBeNull();
  });

  it('requires Message-Authenticator on Access-Request when asked to', () => {
    const b = hex(base);
    expect(checkPacket(b)).toBeNull();
    expect(checkPacket(b, { requireMessageAuthenticator: true })?.code).toBe('ma-missing');
  });

  it('ignores bytes after the length field (truncation)', () => {
    expect(checkPacket(Buffer.concat([hex(base), hex('ffff')]))).toBeNull();
  });
});

describe('authenticators and Message-Authenticator', () => {
  it('verifies a FreeRADIUS Disconnect-Request with Message-Authenticator (known answer)', () => {
    const b = hex('28 01 00 26 e1 79 2d 2b 4a b3 49 f1 a4 c0 fc c7 33 d0 91 c1 50 12 58 51 3d 66 28 47 e5 f8 73 4a 30 db da c8 e4 af');
    const r = decodePacket(b, { dict, secret: SECRET });
    expect(r.ok).toBe(true);
    expect(r.ok && r.hasMessageAuthenticator).toBe(true);
    const bad = decodePacket(b, { dict, secret: Buffer.from('wrong') });
    expect(bad.ok).toBe(false);
  });

  it('signs Access-Accept like FreeRADIUS (known answer)', () => {
    const b = encodePacket({ code: PacketCode.AccessAccept, id: 0, authenticator: VECTOR, pairs: [] }, { dict, secret: SECRET, requestAuthenticator: VECTOR });
    expect(toHex(b)).toBe('02000014fe5b5a242fa776cb615ff2620a20e2d9');
  });

  const codes = [
    [PacketCode.AccessRequest, PacketCode.AccessAccept],
    [PacketCode.AccessRequest, PacketCode.AccessChallenge],
    [PacketCode.AccountingRequest, PacketCode.AccountingResponse],
    [PacketCode.CoARequest, PacketCode.CoANAK],
    [PacketCode.DisconnectRequest, PacketCode.DisconnectACK],
    [PacketCode.StatusServer, PacketCode.AccessAccept],
  ];
  for (const [req, resp] of codes) {
    for (const withMa of [false, true]) {
      it(`${packetCodeName(req)} → ${packetCodeName(resp)}${withMa ? ' with MA' : ''}`, () => {
        const ma = withMa || req === PacketCode.StatusServer;
        const rq = encodePacket({ code: req, id: 7, authenticator: Buffer.alloc(0), pairs: [pair('User-Name', 'bob'), pair('User-Password', 'secret')] },
          { dict, secret: SECRET, messageAuthenticator: ma });
        if (ma) expect(rq[20]).toBe(80); // MA first
        const d = decodePacket(rq, { dict, secret: SECRET, requireMessageAuthenticator: ma });
        expect(d.ok).toBe(true);
        if (!d.ok) return;
        expect(d.hasMessageAuthenticator).toBe(ma);
        if (req === PacketCode.AccessRequest) expect(flat(d.packet.pairs)).toContain('User-Password=secret');
        const tampered = Buffer.from(rq);
        tampered[tampered.length - 1] ^= 1;
        const tamperedCopy = Buffer.from(tampered);
        const rqCopy = Buffer.from(rq);
        expect(decodePacket(tampered, { dict, secret: SECRET }).ok).toBe(req === PacketCode.AccessRequest && !ma);
        expect(decodePacket(rq, { dict, secret: Buffer.from('other') }).ok).toBe(req === PacketCode.AccessRequest && !ma);
        // Verification never changes the packet (the MA is zeroed in place for the hash and restored).
        expect(tampered.equals(tamperedCopy) && rq.equals(rqCopy)).toBe(true);

        const rs = encodePacket({ code: resp, id: 7, authenticator: Buffer.alloc(16), pairs: [pair('Reply-Message', 'hi'), pair('Tunnel-Password', 'tp')] },
          { dict, secret: SECRET, requestAuthenticator: d.packet.authenticator, messageAuthenticator: withMa });
        if (withMa) expect(rs[20]).toBe(80);
        const dr = decodePacket(rs, { dict, secret: SECRET, requestAuthenticator: d.packet.authenticator });
        expect(dr.ok).toBe(true);
        if (dr.ok) expect(flat(dr.packet.pairs).filter((x) => !x.startsWith('Message-Authenticator'))).toEqual(['Reply-Message=hi', 'Tunnel-Password=tp']);
        expect(decodePacket(rs, { dict, secret: SECRET, requestAuthenticator: Buffer.alloc(16) }).ok).toBe(false);
        expect(decodePacket(rs, { dict, secret: SECRET }).ok).toBe(false);
        const t2 = Buffer.from(rs);
        t2[t2.length - 1] ^= 0x80;
        expect(decodePacket(t2, { dict, secret: SECRET, requestAuthenticator: d.packet.authenticator }).ok).toBe(false);
      });
    }
  }

  it('computes the MA of Accounting-Response over a zero vector, of CoA-ACK over the request vector', () => {
    const ra = Buffer.alloc(16, 0x42);
    const zeroedMa = (b: Buffer, vec: Buffer): Buffer => {
      const t = Buffer.from(b);
      vec.copy(t, 4);
      t.fill(0, 22, 38);
      return crypto.createHmac('md5', SECRET).update(t).digest();
    };
    const acct = encodePacket({ code: PacketCode.AccountingResponse, id: 1, authenticator: Buffer.alloc(0), pairs: [] }, { dict, secret: SECRET, requestAuthenticator: ra, messageAuthenticator: true });
    expect(acct.subarray(22, 38)).toEqual(zeroedMa(acct, Buffer.alloc(16)));
    const toStatus = encodePacket({ code: PacketCode.AccountingResponse, id: 1, authenticator: Buffer.alloc(0), pairs: [] }, { dict, secret: SECRET, requestAuthenticator: ra, requestCode: PacketCode.StatusServer, messageAuthenticator: true });
    expect(toStatus.subarray(22, 38)).toEqual(zeroedMa(toStatus, ra));
    expect(decodePacket(toStatus, { dict, secret: SECRET, requestAuthenticator: ra, requestCode: PacketCode.StatusServer }).ok).toBe(true);
    expect(decodePacket(toStatus, { dict, secret: SECRET, requestAuthenticator: ra }).ok).toBe(false);
    const ack = encodePacket({ code: PacketCode.CoAACK, id: 1, authenticator: Buffer.alloc(0), pairs: [] }, { dict, secret: SECRET, requestAuthenticator: ra, messageAuthenticator: true });
    expect(ack.subarray(22, 38)).toEqual(zeroedMa(ack, ra));
  });

  it('does not send Tunnel-Password in requests', () => {
    const b = encodePacket({ code: 1, id: 0, authenticator: VECTOR, pairs: [pair('User-Name', 'bob'), pair('Tunnel-Password', 'foo')] }, { dict, secret: SECRET });
    expect(b.length).toBe(25);
  });

  it('moves a Message-Authenticator pair to the front and signs it', () => {
    const b = encodePacket({ code: 1, id: 0, authenticator: VECTOR, pairs: [pair('User-Name', 'bob'), pair('Message-Authenticator', Buffer.alloc(16))] }, { dict, secret: SECRET });
    expect(b[20]).toBe(80);
    expect(b.subarray(22, 38).equals(Buffer.alloc(16))).toBe(false);
    const d = decodePacket(b, { dict, secret: SECRET, requireMessageAuthenticator: true });
    expect(d.ok).toBe(true);
  });
});
