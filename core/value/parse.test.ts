import { describe, expect, it } from 'vitest';
import { DictAttr } from '../dict/attr';
import { valueKey } from '../dict/attr';
import type { LeafType, Value } from '../types/data-types';
import { parseValue, printValue, ValueError, unescapeString, escapeString } from './index';

function attr(type: LeafType, flags: DictAttr['flags'] = {}, name = 'Test'): DictAttr {
  return new DictAttr(name, 1, type, null, flags);
}

function err(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValueError);
    return (e as Error).message;
  }
  throw new Error('expected a ValueError');
}

function withEnums(da: DictAttr, values: [string, Value][]): DictAttr {
  da.values = new Map(values.map(([n, v]) => [n.toLowerCase(), v]));
  da.valueNames = new Map(values.map(([n, v]) => [valueKey(v), n]));
  return da;
}

/** parse then print, like the `pair` command of the vectors. */
function pair(type: LeafType, text: string, da: DictAttr = attr(type)): string {
  return printValue(da, parseValue(type, text, da));
}

describe('ipaddr (rfc.txt vectors)', () => {
  it('accepts /32, *, short forms, hex and decimal integers', () => {
    expect(pair('ipaddr', '127.0.0.1/32')).toBe('127.0.0.1');
    expect(pair('ipaddr', '*')).toBe('0.0.0.0');
    expect(pair('ipaddr', '127')).toBe('0.0.0.127');
    expect(pair('ipaddr', '127.0')).toBe('127.0.0.0');
    expect(pair('ipaddr', '0x7f000003')).toBe('127.0.0.3');
    expect(pair('ipaddr', '2130706436')).toBe('127.0.0.4');
    expect(pair('ipaddr', '192.0.2.1')).toBe('192.0.2.1');
    expect(pair('ipaddr', '010.000.255.9')).toBe('10.0.255.9');
    expect(pair('ipaddr', '1.2.3')).toBe('1.2.3.0');
  });
  it('rejects bad masks with the FreeRADIUS messages', () => {
    expect(err(() => parseValue('ipaddr', '127.0.0.1/323'))).toBe('Invalid IPv4 mask length "/323".  Should be between 0-32');
    expect(err(() => parseValue('ipaddr', '127.0.0.1/30'))).toBe('Invalid IPv4 mask length "/30".  Only "/32" permitted for non-prefix types');
  });
  it('rejects garbage', () => {
    for (const t of ['bob', '1.2.3.4.5', '256.1.1.1', '4294967296', '', '1..2', '1.2.3.', '.1.2.3', '0001.1.1.1', '1.2.3.+4', '1.2.3.x']) {
      expect(() => parseValue('ipaddr', t)).toThrow(ValueError);
    }
  });
});

describe('ipv4prefix (rfc6572.txt vectors)', () => {
  const cases: [string, string][] = [
    ['127/8', '127.0.0.0/8'],
    ['127.63.1.6', '127.63.1.6/32'],
    ['127.63/8', '127.0.0.0/8'],
    ['127.63/16', '127.63.0.0/16'],
    ['127.63/15', '127.62.0.0/15'],
    ['127.63.1/24', '127.63.1.0/24'],
    ['192.0.2.2/24', '192.0.2.0/24'],
    ['0.0.0.0/0', '0.0.0.0/0'],
  ];
  for (const [i, o] of cases) it(`${i} → ${o}`, () => expect(pair('ipv4prefix', i)).toBe(o));
  it('reports unparsable prefixes', () => {
    for (const t of ['256/8', 'bob/8', '127.999/16', '127.bob/16']) {
      expect(err(() => parseValue('ipv4prefix', t))).toBe(`Failed to parse IPv4 prefix string "${t}"`);
    }
    expect(err(() => parseValue('ipv4prefix', '10/33'))).toBe('Invalid IPv4 mask length "/33".  Should be between 0-32');
  });
});

describe('ipv6addr / ipv6prefix', () => {
  it('prints RFC 5952 / inet_ntop text', () => {
    expect(pair('ipv6addr', '2001:0db8:0a0b:12f0:0000:0000:0000:0001')).toBe('2001:db8:a0b:12f0::1');
    expect(pair('ipv6addr', '::')).toBe('::');
    expect(pair('ipv6addr', '::1')).toBe('::1');
    expect(pair('ipv6addr', '1:0:0:1:0:0:0:1')).toBe('1:0:0:1::1');
    expect(pair('ipv6addr', '1:0:1:1:1:1:1:1')).toBe('1:0:1:1:1:1:1:1');
    expect(pair('ipv6addr', '::ffff:192.0.2.1')).toBe('::ffff:192.0.2.1');
    expect(pair('ipv6addr', '::3938:3738')).toBe('::57.56.55.56');
    expect(pair('ipv6addr', 'FE80::ABCD')).toBe('fe80::abcd');
    expect(pair('ipv6addr', '*')).toBe('::');
    expect(pair('ipv6addr', '::1/128')).toBe('::1');
  });
  it('rejects bad addresses and masks', () => {
    for (const t of ['1:2:3:4:5:6:7:8:9', '1::2::3', ':1', '1:', 'g::1', '12345::', '1.2.3.4']) {
      expect(() => parseValue('ipv6addr', t)).toThrow(ValueError);
    }
    expect(err(() => parseValue('ipv6addr', '::1/64'))).toBe('Invalid IPv6 mask length "/64".  Only "/128" permitted for non-prefix types');
  });
  it('parses prefixes like the vectors', () => {
    expect(pair('ipv6prefix', '::1')).toBe('::1/128');
    expect(err(() => parseValue('ipv6prefix', '::1/200'))).toBe('Invalid IPv6 mask length "/200".  Should be between 0-128');
    expect(pair('ipv6prefix', '11:22:33:44:55:66:77:88/128')).toBe('11:22:33:44:55:66:77:88/128');
    expect(pair('ipv6prefix', '*')).toBe('::/128');
    expect(pair('ipv6prefix', '::198.51.100.255/112')).toBe('::198.51.0.0/112');
    expect(pair('ipv6prefix', '2001:db8:a0b:12f0::1/64')).toBe('2001:db8:a0b:12f0::/64');
  });
});

describe('combo types', () => {
  it('picks the family from the text', () => {
    expect(pair('combo-ip', '10.0.0.1')).toBe('10.0.0.1');
    expect(pair('combo-ip', '::1')).toBe('::1');
    expect(pair('combo-prefix', '10.1/8')).toBe('10.0.0.0/8');
    expect(pair('combo-prefix', 'fe80::1/10')).toBe('fe80::/10');
  });
});

describe('integers', () => {
  it('parses decimal and hex within range', () => {
    expect(parseValue('uint8', '255')).toBe(255);
    expect(parseValue('uint8', '0xff')).toBe(255);
    expect(parseValue('uint16', '65535')).toBe(65535);
    expect(parseValue('uint32', '4294967295')).toBe(4294967295);
    expect(parseValue('int8', '-128')).toBe(-128);
    expect(parseValue('int16', '-32768')).toBe(-32768);
    expect(parseValue('int32', '-2147483648')).toBe(-2147483648);
    expect(parseValue('uint64', '18446744073709551615')).toBe(18446744073709551615n);
    expect(parseValue('uint64', '0x10000000000001')).toBe(0x10000000000001n);
    expect(parseValue('int64', '-9223372036854775808')).toBe(-9223372036854775808n);
    expect(parseValue('size', '1024')).toBe(1024n);
  });
  it('range-checks', () => {
    expect(err(() => parseValue('uint8', '256'))).toBe('integer overflow');
    expect(err(() => parseValue('uint32', '-1'))).toBe('integer underflow');
    expect(() => parseValue('int8', '128')).toThrow(ValueError);
    expect(() => parseValue('uint16', '0x10000')).toThrow(ValueError);
    expect(() => parseValue('uint64', '18446744073709551616')).toThrow(ValueError);
    expect(() => parseValue('int64', '9223372036854775808')).toThrow(ValueError);
    expect(() => parseValue('uint32', '0x1ffffffffffffffffff')).toThrow(ValueError);
  });
  it('rejects non-numbers', () => {
    for (const t of ['', 'abc', '1.5', '0x', '1e3', '12abc']) expect(() => parseValue('uint32', t)).toThrow(ValueError);
  });
  it('prints as decimal', () => {
    expect(printValue('uint64', 18446744073709551615n)).toBe('18446744073709551615');
    expect(printValue('int32', -5)).toBe('-5');
  });
});

describe('enumerations', () => {
  const da = withEnums(attr('uint32', {}, 'Acct-Status-Type'), [['Start', 1], ['Stop', 2], ['Interim-Update', 3], ['Alive', 3]]);
  da.valueNames!.set(valueKey(3), 'Interim-Update');
  it('looks names up with or without ::, case-insensitively', () => {
    expect(parseValue('uint32', 'Alive', da)).toBe(3);
    expect(parseValue('uint32', '::start', da)).toBe(1);
    expect(parseValue('uint32', '7', da)).toBe(7);
  });
  it('prints the canonical name', () => {
    expect(pair('uint32', 'Alive', da)).toBe('::Interim-Update');
    expect(printValue(da, 7)).toBe('7');
    expect(printValue(da, 3, { enums: false })).toBe('3');
  });
  it('rejects unknown ::names', () => {
    expect(err(() => parseValue('uint32', '::Nope', da))).toBe('Unknown enumeration value "Nope" for attribute Acct-Status-Type');
  });
  it('converts shared enumerations between integer widths (enum.txt)', () => {
    const u32 = withEnums(attr('uint32', {}, 'Test-Enum-Integer32'), [['one', 1n], ['two', 2n]]);
    expect(parseValue('uint32', 'one', u32)).toBe(1);
    expect(printValue(u32, 1)).toBe('::one');
    const u64 = withEnums(attr('uint64', {}, 'Test-Enum-Integer64'), [['one', 1n]]);
    expect(parseValue('uint64', 'one', u64)).toBe(1n);
    expect(printValue(u64, 1n)).toBe('::one');
  });
  it('only looks string enums up with ::', () => {
    const s = withEnums(attr('string'), [['foo', 'bar']]);
    expect(parseValue('string', 'foo', s)).toBe('foo');
    expect(parseValue('string', '::foo', s)).toBe('bar');
  });
});

describe('bool, float, ether, ifid', () => {
  it('bool', () => {
    for (const t of ['yes', 'true', '1', 'YES']) expect(parseValue('bool', t)).toBe(true);
    for (const t of ['no', 'false', '0']) expect(parseValue('bool', t)).toBe(false);
    expect(() => parseValue('bool', 'maybe')).toThrow(ValueError);
    expect(printValue('bool', true)).toBe('yes');
    expect(printValue('bool', false)).toBe('no');
  });
  it('float', () => {
    expect(parseValue('float64', '1.5')).toBe(1.5);
    expect(parseValue('float64', '-2e3')).toBe(-2000);
    expect(parseValue('float32', '0.1')).toBe(Math.fround(0.1));
    expect(() => parseValue('float64', 'x')).toThrow(ValueError);
    expect(printValue('float64', 1.5)).toBe('1.5');
  });
  it('ether in several forms', () => {
    for (const t of ['00:01:02:03:04:05', '00-01-02-03-04-05', '0:1:2:3:4:5', '0001.0203.0405', '000102030405', '0x000102030405']) {
      expect(parseValue('ether', t)).toBe('00:01:02:03:04:05');
    }
    expect(parseValue('ether', '00-14-22-E9-54-5E')).toBe('00:14:22:e9:54:5e');
    expect(() => parseValue('ether', '00:01:02:03:04')).toThrow(ValueError);
    expect(() => parseValue('ether', '00:01:02:03:04:0g')).toThrow(ValueError);
  });
  it('ifid', () => {
    expect(parseValue('ifid', '0000:0000:3938:3737')).toBe('0000:0000:3938:3737');
    expect(parseValue('ifid', '0:0:0:1')).toBe('0000:0000:0000:0001');
    expect(parseValue('ifid', '::1')).toBe('0000:0000:0000:0001');
    expect(parseValue('ifid', '0011223344556677')).toBe('0011:2233:4455:6677');
    expect(printValue('ifid', '0000:0000:3938:0007')).toBe('0:0:3938:7');
    expect(() => parseValue('ifid', '1:2:3')).toThrow(ValueError);
    expect(() => parseValue('ifid', '1:2:3:4:5')).toThrow(ValueError);
  });
});

describe('date', () => {
  const ms = attr('date', { precision: 'milliseconds' }, 'Milliseconds');
  it('parses RFC 3339 with offsets (unit.txt)', () => {
    expect(pair('date', '2019-08-21T07:40:31.123-04:00', ms)).toBe('"2019-08-21T11:40:31.123Z"');
    expect(pair('date', '2019-08-21T07:40:31.123+05:30', ms)).toBe('"2019-08-21T02:10:31.123Z"');
    expect(parseValue('date', '1970-01-11T00:00:00Z')).toBe(864000);
    expect(parseValue('date', '2019-08-21')).toBe(Date.UTC(2019, 7, 21) / 1000);
    expect(parseValue('date', '2019-08-21 07:40:31')).toBe(Date.UTC(2019, 7, 21, 7, 40, 31) / 1000);
  });
  it('takes bare integers in precision units', () => {
    expect(parseValue('date', '864000')).toBe(864000);
    expect(parseValue('date', '1', ms)).toBe(0.001);
  });
  it('parses the v3 style', () => {
    const t = Date.UTC(2019, 7, 21, 7, 40, 31) / 1000;
    expect(parseValue('date', 'Aug 21 2019 07:40:31 UTC')).toBe(t);
    expect(parseValue('date', 'Aug 21 2019 07:40:31 GMT')).toBe(t);
    expect(parseValue('date', 'Wed, 21 Aug 2019 07:40:31 +0000')).toBe(t);
    expect(parseValue('date', 'August 21 2019 09:40:31 +02:00')).toBe(t);
    expect(parseValue('date', 'Aug 21 2019')).toBe(Date.UTC(2019, 7, 21) / 1000);
  });
  it('prints RFC 3339 UTC, quoted, digits per precision', () => {
    expect(printValue(attr('date'), 864000)).toBe('"1970-01-11T00:00:00Z"');
    expect(printValue(attr('date'), 864000, { quote: false })).toBe('1970-01-11T00:00:00Z');
    expect(printValue(ms, 864000)).toBe('"1970-01-11T00:00:00.000Z"');
    expect(printValue(attr('date', { precision: 'microseconds' }), 1.000001)).toBe('"1970-01-01T00:00:01.000001Z"');
    expect(printValue(attr('date'), 4e11)).toBe('"400000000000"');
    expect(parseValue('date', '400000000000')).toBe(4e11);
  });
  it('rejects garbage', () => {
    for (const t of ['yesterday', '2019-13-01T00:00:00Z', '2019-08-21T25:00:00Z', 'Foo 21 2019', '2019-08-21T07:40:31+99:00']) {
      expect(() => parseValue('date', t)).toThrow(ValueError);
    }
  });
});

describe('time_delta', () => {
  const ms = attr('time_delta', { precision: 'milliseconds' });
  const sec = attr('time_delta');
  it('parses units', () => {
    expect(parseValue('time_delta', '1.5', sec)).toBe(1.5);
    expect(parseValue('time_delta', '10s', sec)).toBe(10);
    expect(parseValue('time_delta', '100ms', sec)).toBe(0.1);
    expect(parseValue('time_delta', '1us', sec)).toBe(1e-6);
    expect(parseValue('time_delta', '1ns', sec)).toBe(1e-9);
    expect(parseValue('time_delta', '2m', sec)).toBe(120);
    expect(parseValue('time_delta', '1h', sec)).toBe(3600);
    expect(parseValue('time_delta', '1d', sec)).toBe(86400);
    expect(parseValue('time_delta', '-5', sec)).toBe(-5);
    expect(parseValue('time_delta', '1:30', sec)).toBe(90);
    expect(parseValue('time_delta', '1:00:05', sec)).toBe(3605);
  });
  it('uses the precision for bare numbers', () => {
    expect(parseValue('time_delta', '5', ms)).toBe(0.005);
    expect(parseValue('time_delta', '65ms', ms)).toBe(0.065);
  });
  it('prints in precision units (time_delta.txt)', () => {
    expect(pair('time_delta', '5', ms)).toBe('5');
    expect(pair('time_delta', '65ms', ms)).toBe('65');
    expect(pair('time_delta', '-32768', ms)).toBe('-32768');
    expect(pair('time_delta', '9223372036853', ms)).toBe('9223372036853');
    expect(pair('time_delta', '10', sec)).toBe('10');
    expect(pair('time_delta', '1.5', sec)).toBe('1.5');
    expect(pair('time_delta', '1500us', ms)).toBe('1.5');
    expect(pair('time_delta', '-5', attr('time_delta', { subtype: 'uint32' }))).toBe('0');
    expect(pair('time_delta', '-0.5', sec)).toBe('-0.5');
  });
  it('rejects garbage', () => {
    for (const t of ['', 'abc', '5 parsecs', '1:99']) expect(() => parseValue('time_delta', t, sec)).toThrow(ValueError);
  });
});

describe('string and octets', () => {
  it('octets from hex or text', () => {
    expect(parseValue('octets', '0xdeadBEEF')).toEqual(Buffer.from('deadbeef', 'hex'));
    expect(parseValue('octets', '0x')).toEqual(Buffer.alloc(0));
    expect(parseValue('octets', 'abc')).toEqual(Buffer.from('abc'));
    expect(() => parseValue('octets', '0xabc')).toThrow(ValueError);
    expect(() => parseValue('octets', '0xzz')).toThrow(ValueError);
    expect(printValue('octets', Buffer.from([0xab, 0xcd]))).toBe('0xabcd');
    expect(printValue('octets', Buffer.alloc(0))).toBe('0x');
  });
  it('strings print quoted and escaped like the vectors', () => {
    expect(printValue('string', 'bob')).toBe('"bob"');
    expect(printValue('string', 'Hello, %u')).toBe('"Hello, \\%u"');
    expect(printValue('string', 'a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(printValue('string', '\x01\x02\x03')).toBe('"\\001\\002\\003"');
    expect(printValue('string', 'a\r\n\tb\x7f')).toBe('"a\\r\\n\\tb\\177"');
    expect(printValue('string', "it's $x")).toBe('"it\'s $x"');
    expect(printValue('string', 'Λ é')).toBe('"Λ é"');
    expect(printValue('string', 'bob', { quote: false })).toBe('bob');
  });
  it('escapeString for other quotes', () => {
    expect(escapeString("it's 100%", "'")).toBe("it\\'s 100%");
    expect(escapeString('say "hi"', "'")).toBe('say "hi"');
  });
  it('unescapeString handles FreeRADIUS escapes', () => {
    expect(unescapeString('a\\\\b\\"c\\\'d\\n\\r\\t', '"')).toBe('a\\b"c\'d\n\r\t');
    expect(unescapeString('\\101\\000', '"')).toBe('A\0');
    expect(unescapeString('\\x41\\x7a', '"')).toBe('Az');
    expect(unescapeString('\\303\\251', '"')).toBe('é');
    expect(unescapeString('Hello, \\%u', '"')).toBe('Hello, %u');
    expect(unescapeString('\\q', '"')).toBe('\\q');
    expect(unescapeString('end\\', '"')).toBe('end\\');
    expect(unescapeString("it\\'s \\n \\\\", "'")).toBe("it's \\n \\");
    expect(unescapeString('plain', '"')).toBe('plain');
  });
  it('round-trips arbitrary bytes through print and unescape', () => {
    const bytes = Buffer.from('d306dc109e25045a05a6fbe4ec1b8a2a', 'hex');
    const s = parseValue('string', unescapeString('\\323\\006\\334\\020\\236\\%\\004Z\\005\\246\\373\\344\\354\\033\\212*', '"'));
    expect(printValue('string', s)).toBe('"\\323\\006\\334\\020\\236\\%\\004Z\\005\\246\\373\\344\\354\\033\\212*"');
    expect(parseValue('octets', s as string)).toEqual(bytes);
  });
});

describe('abinary text', () => {
  it('accepts 0x hex', () => {
    expect(parseValue('abinary', '0x0102')).toEqual(Buffer.from([1, 2]));
  });
});
