import { describe, expect, it } from 'vitest';
import { DictAttr, valueKey } from '../dict/attr';
import {
  castValue, compareOp, compareValues, isTruthy, toNetwork, typeOfJsValue, valueLength, valuesEqual, ValueError,
  leafTypeSize, printValueUnquoted,
} from './index';

describe('compareValues / valuesEqual', () => {
  it('orders each type', () => {
    expect(compareValues('a', 'b', 'string')).toBe(-1);
    expect(compareValues('b', 'a', 'string')).toBe(1);
    expect(compareValues('é', 'z', 'string')).toBe(1);
    expect(compareValues(Buffer.from([1]), Buffer.from([1, 0]), 'octets')).toBe(-1);
    expect(compareValues(2, 10, 'uint32')).toBe(-1);
    expect(compareValues(2n, 2n, 'uint64')).toBe(0);
    expect(compareValues('10.0.0.2', '9.0.0.1', 'ipaddr')).toBe(1);
    expect(compareValues('::2', '::10', 'ipv6addr')).toBe(-1);
    expect(compareValues('10.0.0.0/8', '10.0.0.0/16', 'ipv4prefix')).toBe(-1);
    expect(compareValues('10.0.0.1', '::1', 'combo-ip')).toBe(-1);
    expect(compareValues(false, true, 'bool')).toBe(-1);
    expect(compareValues('00:00:00:00:00:0a', '00:00:00:00:00:09', 'ether')).toBe(1);
  });
  it('equality', () => {
    expect(valuesEqual(Buffer.from('ab'), Buffer.from('ab'), 'octets')).toBe(true);
    expect(valuesEqual(5, 5, 'uint32')).toBe(true);
    expect(valuesEqual('a', 'A', 'string')).toBe(false);
  });
});

describe('compareOp', () => {
  it('compares numbers across types', () => {
    expect(compareOp('==', 257, 'uint32', 257n, 'uint64')).toBe(true);
    expect(compareOp('<', 1, 'uint8', 2n, 'int64')).toBe(true);
    expect(compareOp('>=', 1.5, 'float64', 1, 'uint32')).toBe(true);
  });
  it('converts the right-hand side to the left type', () => {
    expect(compareOp('==', '::198.51.0.0/112', 'ipv6prefix', '::198.51.0.0/112', 'string')).toBe(true);
    expect(compareOp('==', '198.51.0.0/16', 'ipv4prefix', '198.51.0.0/16', 'string')).toBe(true);
    expect(compareOp('==', '127.0.0.1', 'ipaddr', '127.0.0.1', 'string')).toBe(true);
    expect(compareOp('!=', 'bob', 'string', 'bob', 'string')).toBe(false);
    expect(compareOp('==', 'Framed-User', 'string', 2, 'uint32')).toBe(false);
  });
  it('uses containment for prefixes (keywords/ipprefix)', () => {
    expect(compareOp('<', '198.51.0.0/16', 'ipv4prefix', '198.0.0.0/8', 'ipv4prefix')).toBe(true);
    expect(compareOp('<', '198.51.0.1', 'ipaddr', '198.51.0.0/16', 'ipv4prefix')).toBe(true);
    expect(compareOp('<', '198.52.0.1', 'ipaddr', '198.51.0.0/16', 'ipv4prefix')).toBe(false);
    expect(compareOp('<', '198.0.0.0/8', 'ipv4prefix', '198.0.0.0/8', 'ipv4prefix')).toBe(false);
    expect(compareOp('<=', '198.0.0.0/8', 'ipv4prefix', '198.0.0.0/8', 'ipv4prefix')).toBe(true);
    expect(compareOp('>', '10.0.0.0/8', 'ipv4prefix', '10.1.2.3', 'ipaddr')).toBe(true);
    expect(compareOp('<', '2001:db8::1', 'ipv6addr', '2001:db8::/32', 'ipv6prefix')).toBe(true);
    expect(compareOp('<', '10.0.0.1', 'ipaddr', '::/0', 'ipv6prefix')).toBe(false);
    expect(compareOp('<', '198.51.0.1', 'ipaddr', '198.51.0.0/16', 'string')).toBe(true);
  });
});

describe('isTruthy', () => {
  it('follows FreeRADIUS', () => {
    expect(isTruthy('', 'string')).toBe(false);
    expect(isTruthy('x', 'string')).toBe(true);
    expect(isTruthy(Buffer.alloc(0), 'octets')).toBe(false);
    expect(isTruthy(Buffer.alloc(1), 'octets')).toBe(true);
    expect(isTruthy(0, 'uint32')).toBe(false);
    expect(isTruthy(3, 'uint32')).toBe(true);
    expect(isTruthy(0n, 'uint64')).toBe(false);
    expect(isTruthy(false, 'bool')).toBe(false);
    expect(isTruthy('0.0.0.0', 'ipaddr')).toBe(false);
    expect(isTruthy('10.0.0.1', 'ipaddr')).toBe(true);
    expect(isTruthy('::', 'ipv6addr')).toBe(false);
    expect(isTruthy('::1', 'ipv6addr')).toBe(true);
    expect(isTruthy('0.0.0.0/0', 'ipv4prefix')).toBe(false);
    expect(isTruthy(undefined, 'string')).toBe(false);
  });
});

describe('toNetwork / valueLength (keywords/hex, keywords/length)', () => {
  const cases: [Parameters<typeof toNetwork>[0], Parameters<typeof toNetwork>[1], string, number][] = [
    ['string', '9870', '39383730', 4],
    ['octets', Buffer.from('9871'), '39383731', 4],
    ['ipaddr', '57.56.55.50', '39383732', 4],
    ['uint32', 959985460, '39383734', 4],
    ['ifid', '0000:0000:3938:3737', '0000000039383737', 8],
    ['ipv6addr', '::57.56.55.56', '00000000000000000000000039383738', 16],
    ['ipv6prefix', '::57.56.55.57/128', '008000000000000000000000000039383739', 17],
    ['uint8', 58, '3a', 1],
    ['uint16', 14139, '373b', 2],
    ['ether', '00:00:39:38:37:3c', '00003938373c', 6],
    ['uint64', 1152921505566832445n, '100000003938373d', 8],
    ['ipv4prefix', '57.56.55.62/32', '203938373e', 5],
  ];
  for (const [t, v, h, len] of cases) {
    it(t, () => {
      expect(toNetwork(t, v).toString('hex')).toBe(h);
      expect(valueLength(t, v)).toBe(len);
    });
  }
  it('string length is in bytes', () => {
    expect(valueLength('string', 'é')).toBe(2);
  });
});

describe('castValue', () => {
  it('octets → integers big-endian (keywords/cast-integer)', () => {
    expect(castValue(Buffer.from('00000101', 'hex'), 'octets', 'uint32')).toBe(257);
    expect(castValue(Buffer.from('0101', 'hex'), 'octets', 'uint32')).toBe(257);
    expect(castValue(Buffer.from('ff', 'hex'), 'octets', 'int8')).toBe(-1);
    expect(castValue(Buffer.from('0010000000000000', 'hex'), 'octets', 'uint64')).toBe(0x10000000000000n);
    expect(() => castValue(Buffer.from('0102030405', 'hex'), 'octets', 'uint32')).toThrow(ValueError);
  });
  it('integers → octets at their width (keywords/range)', () => {
    expect(castValue(1n, 'uint64', 'octets')).toEqual(Buffer.from('0000000000000001', 'hex'));
    expect(castValue(257, 'uint16', 'octets')).toEqual(Buffer.from('0101', 'hex'));
  });
  it('integer widening and narrowing', () => {
    expect(castValue(0x10000000000000n, 'uint64', 'uint64')).toBe(0x10000000000000n);
    expect(castValue(5, 'uint32', 'uint64')).toBe(5n);
    expect(castValue(5n, 'uint64', 'uint8')).toBe(5);
    expect(() => castValue(256, 'uint32', 'uint8')).toThrow(ValueError);
    expect(() => castValue(-1, 'int32', 'uint32')).toThrow(ValueError);
    expect(castValue(2.9, 'float64', 'uint32')).toBe(2);
    expect(castValue(true, 'bool', 'uint32')).toBe(1);
    expect(castValue(0, 'uint32', 'bool')).toBe(false);
    expect(castValue(7, 'uint32', 'float64')).toBe(7);
    expect(castValue(100, 'uint32', 'date')).toBe(100);
    expect(castValue(100, 'date', 'uint64')).toBe(100n);
  });
  it('string ↔ anything', () => {
    expect(castValue('2', 'string', 'uint32')).toBe(2);
    expect(castValue(' 2 ', 'string', 'uint32')).toBe(2);
    expect(castValue('abc', 'string', 'octets')).toEqual(Buffer.from('abc'));
    expect(castValue('0x41', 'string', 'octets')).toEqual(Buffer.from('0x41'));
    expect(castValue(Buffer.from('abc'), 'octets', 'string')).toBe('abc');
    expect(castValue(2, 'uint32', 'string')).toBe('2');
    expect(castValue('10.0.0.1', 'ipaddr', 'string')).toBe('10.0.0.1');
    expect(castValue(864000, 'date', 'string')).toBe('1970-01-11T00:00:00Z');
    expect(castValue(true, 'bool', 'string')).toBe('yes');
    expect(castValue(Buffer.from([1]), 'octets', 'string')).toBe('\x01');
    expect(() => castValue('x', 'string', 'uint32')).toThrow(ValueError);
  });
  it('enum names when casting to string (keywords/cast-string)', () => {
    const da = new DictAttr('Service-Type', 6, 'uint32', null);
    da.values = new Map([['framed-user', 2]]);
    da.valueNames = new Map([[valueKey(2), 'Framed-User']]);
    expect(castValue(2, 'uint32', 'string', da)).toBe('Framed-User');
    expect(castValue(2, 'uint32', 'string')).toBe('2');
    expect(printValueUnquoted(da, 2)).toBe('Framed-User');
  });
  it('addresses', () => {
    expect(castValue('127.0.0.1', 'ipaddr', 'uint32')).toBe(0x7f000001);
    expect(castValue(0x7f000001, 'uint32', 'ipaddr')).toBe('127.0.0.1');
    expect(castValue('127.0.0.1', 'ipaddr', 'ipv4prefix')).toBe('127.0.0.1/32');
    expect(castValue('127.0.0.1/32', 'ipv4prefix', 'ipaddr')).toBe('127.0.0.1');
    expect(() => castValue('127.0.0.0/8', 'ipv4prefix', 'ipaddr')).toThrow(ValueError);
    expect(castValue('192.0.2.1', 'ipaddr', 'ipv6addr')).toBe('::ffff:192.0.2.1');
    expect(castValue('::ffff:192.0.2.1', 'ipv6addr', 'ipaddr')).toBe('192.0.2.1');
    expect(() => castValue('2001:db8::1', 'ipv6addr', 'ipaddr')).toThrow(ValueError);
    expect(castValue('::1', 'ipv6addr', 'ipv6prefix')).toBe('::1/128');
    expect(castValue('::1', 'combo-ip', 'ipv6addr')).toBe('::1');
    expect(castValue('10.0.0.1', 'ipaddr', 'combo-prefix')).toBe('10.0.0.1/32');
    expect(castValue(Buffer.from('7f000001', 'hex'), 'octets', 'ipaddr')).toBe('127.0.0.1');
    expect(castValue(Buffer.from('203938373e', 'hex'), 'octets', 'ipv4prefix')).toBe('57.56.55.62/32');
    expect(castValue('00:00:00:00:00:0a', 'ether', 'uint64')).toBe(10n);
    expect(castValue(10n, 'uint64', 'ether')).toBe('00:00:00:00:00:0a');
    expect(castValue(1n, 'uint64', 'ifid')).toBe('0000:0000:0000:0001');
  });
  it('abinary casts use the filter language', () => {
    const f = castValue('ip in drop tcp dstport > 1023', 'string', 'abinary') as Buffer;
    expect(f.length).toBe(32);
    expect(castValue(f, 'abinary', 'string')).toBe('ip in drop tcp dstport > 1023');
    expect(castValue(f, 'abinary', 'octets')).toBe(f);
  });
  it('impossible casts throw', () => {
    expect(() => castValue('10.0.0.1', 'ipaddr', 'ether')).toThrow(ValueError);
    expect(() => castValue(true, 'bool', 'ipv6addr')).toThrow(ValueError);
  });
});

describe('type helpers', () => {
  it('typeOfJsValue', () => {
    expect(typeOfJsValue('x')).toBe('string');
    expect(typeOfJsValue(Buffer.alloc(0))).toBe('octets');
    expect(typeOfJsValue(true)).toBe('bool');
    expect(typeOfJsValue(1n)).toBe('uint64');
    expect(typeOfJsValue(-1n)).toBe('int64');
    expect(typeOfJsValue(5)).toBe('uint32');
    expect(typeOfJsValue(-5)).toBe('int32');
    expect(typeOfJsValue(2 ** 40)).toBe('int64');
    expect(typeOfJsValue(1.5)).toBe('float64');
  });
  it('leafTypeSize', () => {
    expect(leafTypeSize('uint32')).toBe(4);
    expect(leafTypeSize('ipv6addr')).toBe(16);
    expect(leafTypeSize('ipv4prefix')).toBe(6);
    expect(leafTypeSize('string')).toBeUndefined();
  });
});
