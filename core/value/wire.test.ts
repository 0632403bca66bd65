import { describe, expect, it } from 'vitest';
import { DictAttr } from '../dict/attr';
import type { AttrFlags } from '../dict/types';
import type { LeafType, Value } from '../types/data-types';
import { decodeValue, encodeValue, parseValue, printValue } from './index';

function attr(type: LeafType, flags: AttrFlags = {}): DictAttr {
  return new DictAttr('Test', 1, type, null, flags);
}

function hex(b: Buffer): string {
  return b.toString('hex');
}

function rt(da: DictAttr, v: Value, wire: string): void {
  expect(hex(encodeValue(da, v))).toBe(wire);
  expect(decodeValue(da, Buffer.from(wire, 'hex'))).toEqual(v);
}

describe('fixed-size round trips', () => {
  const cases: [LeafType, Value, string][] = [
    ['uint8', 200, 'c8'],
    ['uint16', 0x1234, '1234'],
    ['uint32', 0xdeadbeef, 'deadbeef'],
    ['uint64', 0x0102030405060708n, '0102030405060708'],
    ['int8', -1, 'ff'],
    ['int16', -32768, '8000'],
    ['int32', -2, 'fffffffe'],
    ['int64', -1n, 'ffffffffffffffff'],
    ['size', 1n, '0000000000000001'],
    ['float32', 1.5, '3fc00000'],
    ['float64', -0.5, 'bfe0000000000000'],
    ['bool', true, '01'],
    ['bool', false, '00'],
    ['ipaddr', '127.0.0.1', '7f000001'],
    ['ipaddr', '255.255.255.254', 'fffffffe'],
    ['ipv6addr', '2001:db8:a0b:12f0::1', '20010db80a0b12f00000000000000001'],
    ['combo-ip', '10.0.0.1', '0a000001'],
    ['combo-ip', '::1', '00000000000000000000000000000001'],
    ['ifid', '0000:0000:3938:3737', '0000000039383737'],
    ['ether', '00:01:02:03:04:05', '000102030405'],
    ['date', 864000, '000d2f00'],
    ['time_delta', 10, '0000000a'],
    ['time_delta', -1, 'ffffffff'],
  ];
  for (const [t, v, w] of cases) it(`${t} ${String(v)}`, () => rt(attr(t), v, w));

  it('rejects wrong lengths', () => {
    const bad: [LeafType, string][] = [
      ['uint8', ''], ['uint8', '0102'], ['uint16', '01'], ['uint32', 'abcd'], ['uint64', '01020304'],
      ['int32', '0102030405'], ['float32', '01'], ['float64', '01020304'], ['bool', '0001'],
      ['ipaddr', 'abcd'], ['ipv6addr', '01020304'], ['combo-ip', '0102030405'], ['ifid', '01'],
      ['ether', '0102030405'], ['date', '0102'], ['time_delta', '010203'],
    ];
    for (const [t, w] of bad) expect(decodeValue(attr(t), Buffer.from(w, 'hex')), `${t} ${w}`).toBeUndefined();
  });
  it('decode of bool is any non-zero', () => {
    expect(decodeValue(attr('bool'), Buffer.from([2]))).toBe(true);
  });
});

describe('string and octets', () => {
  it('round-trips UTF-8 and arbitrary bytes', () => {
    const da = attr('string');
    rt(da, 'bob', '626f62');
    rt(da, 'é', 'c3a9');
    const raw = Buffer.from('d306dc109e25045a05a6fbe4ec1b8a2a', 'hex');
    const s = decodeValue(da, raw) as string;
    expect(hex(encodeValue(da, s))).toBe(hex(raw));
    expect(printValue(da, s)).toBe('"\\323\\006\\334\\020\\236\\%\\004Z\\005\\246\\373\\344\\354\\033\\212*"');
  });
  it('keeps valid multi-byte characters among invalid bytes', () => {
    const raw = Buffer.from([0xcc, 0x9c, 0xc0, 0xdc, 0x82, 0x09, 0xe1, 0xa4, 0x99, 0x88, 0xf0, 0x9f, 0x98, 0x80, 0xff]);
    const s = decodeValue(attr('string'), raw) as string;
    expect(printValue('string', s)).toBe('"\u031c\\300\u0702\\t\u1919\\210\u{1F600}\\377"');
    expect(encodeValue(attr('string'), s)).toEqual(raw);
  });
  it('rejects overlong and surrogate encodings as text', () => {
    for (const b of [[0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf8]]) {
      const s = decodeValue(attr('string'), Buffer.from(b)) as string;
      expect(encodeValue(attr('string'), s)).toEqual(Buffer.from(b));
      expect(printValue('string', s)).toMatch(/^"(\\[0-7]{3})+"$/);
    }
  });
  it('octets decode is zero-copy', () => {
    const pkt = Buffer.from('0102030405', 'hex');
    const view = pkt.subarray(1, 4);
    const v = decodeValue(attr('octets'), view) as Buffer;
    expect(v.buffer).toBe(pkt.buffer);
    expect(v.byteOffset).toBe(pkt.byteOffset + 1);
    expect(hex(v)).toBe('020304');
  });
  it('fixed length pads and truncates', () => {
    expect(hex(encodeValue(attr('octets', { length: 4 }), Buffer.from([1, 2])))).toBe('01020000');
    expect(hex(encodeValue(attr('string', { length: 2 }), 'abc'))).toBe('6162');
    expect(hex(encodeValue(attr('string', { length: 2 }), 'ab'))).toBe('6162');
  });
});

describe('ipv4prefix (rfc6572.txt)', () => {
  const da = attr('ipv4prefix');
  it('encodes reserved, length, address', () => {
    expect(hex(encodeValue(da, parseValue('ipv4prefix', '127.63.1/24')))).toBe('00187f3f0100');
    expect(hex(encodeValue(da, parseValue('ipv4prefix', '0.0.0.0/0')))).toBe('002000000000');
    expect(hex(encodeValue(da, parseValue('ipv4prefix', '0.0.0.0/32')))).toBe('002000000000');
    expect(hex(encodeValue(da, parseValue('ipv4prefix', '127.0.0.1/32')))).toBe('00207f000001');
    expect(hex(encodeValue(da, parseValue('ipv4prefix', '127.0.0.1/24')))).toBe('00187f000000');
  });
  it('decodes, masking extra bits', () => {
    expect(decodeValue(da, Buffer.from('002000000000', 'hex'))).toBe('0.0.0.0/32');
    expect(decodeValue(da, Buffer.from('00207f000001', 'hex'))).toBe('127.0.0.1/32');
    expect(decodeValue(da, Buffer.from('00187f0000ad', 'hex'))).toBe('127.0.0.0/24');
  });
  it('rejects bad prefix length, reserved byte and size', () => {
    expect(decodeValue(da, Buffer.from('00217f000000', 'hex'))).toBeUndefined();
    expect(decodeValue(da, Buffer.from('01207f000000', 'hex'))).toBeUndefined();
    expect(decodeValue(da, Buffer.from('00207f0000', 'hex'))).toBeUndefined();
    expect(decodeValue(da, Buffer.from('00207f00000000', 'hex'))).toBeUndefined();
  });
});

describe('ipv6prefix (packet_rfc3162.txt)', () => {
  const da = attr('ipv6prefix');
  it('decodes short, padded and dirty forms', () => {
    expect(decodeValue(da, Buffer.from('0000', 'hex'))).toBe('::/0');
    expect(decodeValue(da, Buffer.from('004020010db80a0b12f0', 'hex'))).toBe('2001:db8:a0b:12f0::/64');
    expect(decodeValue(da, Buffer.from('004020010db80a0b12f00000000000000000', 'hex'))).toBe('2001:db8:a0b:12f0::/64');
    expect(decodeValue(da, Buffer.from('004020010db80a0b12f00000000000000001', 'hex'))).toBe('2001:db8:a0b:12f0::/64');
  });
  it('rejects invalid forms', () => {
    expect(decodeValue(da, Buffer.from('00', 'hex'))).toBeUndefined();
    expect(decodeValue(da, Buffer.from('004020010db80a0b12f0000000000000000000', 'hex'))).toBeUndefined();
    expect(decodeValue(da, Buffer.from('008120010db80a0b12f00000000000000001', 'hex'))).toBeUndefined();
    expect(decodeValue(da, Buffer.from('01400000000000000000', 'hex'))).toBeUndefined();
    expect(decodeValue(da, Buffer.from('00402001', 'hex'))).toBeUndefined();
  });
  it('encodes only the prefix bytes', () => {
    expect(hex(encodeValue(da, '2001:db8:a0b:12f0::/64'))).toBe('004020010db80a0b12f0');
    expect(hex(encodeValue(da, '::/0'))).toBe('0000');
    expect(hex(encodeValue(da, '::1/128'))).toBe('008000000000000000000000000000000001');
    expect(hex(encodeValue(da, '2001:db8::/33'))).toBe('002120010db800');
  });
  it('combo-prefix picks the family', () => {
    const c = attr('combo-prefix');
    expect(hex(encodeValue(c, '10.0.0.0/8'))).toBe('00080a000000');
    expect(decodeValue(c, Buffer.from('00080a000000', 'hex'))).toBe('10.0.0.0/8');
    expect(decodeValue(c, Buffer.from('0000', 'hex'))).toBe('::/0');
    expect(hex(encodeValue(c, '2001:db8::/32'))).toBe('002020010db8' + '00'.repeat(12));
    expect(decodeValue(c, encodeValue(c, '2001:db8::/32'))).toBe('2001:db8::/32');
    expect(decodeValue(c, Buffer.from('00210a000000', 'hex'))).toBeUndefined();
  });
});

describe('date and time_delta wire forms (time_delta.txt, unit.txt)', () => {
  const T = (flags: AttrFlags) => attr('time_delta', flags);
  it('milliseconds, default 4 bytes signed', () => {
    const da = T({ precision: 'milliseconds' });
    expect(hex(encodeValue(da, parseValue('time_delta', '5', da)))).toBe('00000005');
    expect(printValue(da, decodeValue(da, Buffer.from('00000005', 'hex'))!)).toBe('5');
  });
  it('subtypes clamp to their range', () => {
    const u16 = T({ precision: 'milliseconds', subtype: 'uint16' });
    expect(hex(encodeValue(u16, parseValue('time_delta', '65ms', u16)))).toBe('0041');
    expect(printValue(u16, decodeValue(u16, Buffer.from('0041', 'hex'))!)).toBe('65');
    expect(hex(encodeValue(u16, parseValue('time_delta', '9223372036853', u16)))).toBe('ffff');
    expect(hex(encodeValue(u16, -1))).toBe('0000');
    expect(printValue(u16, decodeValue(u16, Buffer.from('ffff', 'hex'))!)).toBe('65535');
    const u32 = T({ precision: 'milliseconds', subtype: 'uint32' });
    expect(hex(encodeValue(u32, parseValue('time_delta', '9223372036853', u32)))).toBe('ffffffff');
    expect(printValue(u32, decodeValue(u32, Buffer.from('ffffffff', 'hex'))!)).toBe('4294967295');
    const i16 = T({ precision: 'milliseconds', subtype: 'int16' });
    expect(hex(encodeValue(i16, parseValue('time_delta', '-32768', i16)))).toBe('8000');
    expect(printValue(i16, decodeValue(i16, Buffer.from('8000', 'hex'))!)).toBe('-32768');
    expect(hex(encodeValue(i16, parseValue('time_delta', '32767', i16)))).toBe('7fff');
    expect(hex(encodeValue(i16, 100))).toBe('7fff');
    const i32 = T({ precision: 'milliseconds', subtype: 'int32' });
    expect(hex(encodeValue(i32, parseValue('time_delta', '-32768', i32)))).toBe('ffff8000');
    expect(printValue(i32, decodeValue(i32, Buffer.from('ffff8000', 'hex'))!)).toBe('-32768');
    expect(hex(encodeValue(i32, parseValue('time_delta', '2147483647', i32)))).toBe('7fffffff');
  });
  it('seconds precision', () => {
    const da = T({ precision: 'seconds' });
    expect(hex(encodeValue(da, 10))).toBe('0000000a');
    expect(hex(encodeValue(da, 1.9))).toBe('00000001');
    expect(decodeValue(T({ subtype: 'uint16' }), Buffer.from('ffff', 'hex'))).toBe(65535);
  });
  it('64-bit subtypes', () => {
    const da = T({ precision: 'nanoseconds', subtype: 'int64' });
    expect(hex(encodeValue(da, -1e-9))).toBe('ffffffffffffffff');
    expect(decodeValue(da, Buffer.from('ffffffffffffffff', 'hex'))).toBe(-1e-9);
  });
  it('dates: 4-byte unsigned seconds by default, precision scales', () => {
    const ev = attr('date');
    expect(hex(encodeValue(ev, 864000))).toBe('000d2f00');
    expect(printValue(ev, decodeValue(ev, Buffer.from('000d2f00', 'hex'))!)).toBe('"1970-01-11T00:00:00Z"');
    expect(decodeValue(ev, Buffer.from('ffffffff', 'hex'))).toBe(4294967295);
    expect(hex(encodeValue(ev, -5))).toBe('00000000');
    expect(hex(encodeValue(ev, 2 ** 40))).toBe('ffffffff');
    const ms = attr('date', { precision: 'milliseconds' });
    expect(hex(encodeValue(ms, parseValue('date', '1', ms)))).toBe('00000001');
    const d8 = attr('date', { subtype: 'uint64', precision: 'milliseconds' });
    expect(hex(encodeValue(d8, 1566387631.123))).toBe(hex(Buffer.from('0000016cb3fa7413', 'hex')));
    expect(decodeValue(d8, Buffer.from('0000016cb3fa7413', 'hex'))).toBe(1566387631.123);
  });
});
