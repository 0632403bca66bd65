import { describe, expect, it } from 'vitest';
import { DictAttr } from '../dict/attr';
import { decodeValue, encodeValue, parseAscendFilter, parseValue, printAscendFilter, printValue, ValueError } from './index';

const da = new DictAttr('Data-Filter', 242, 'abinary', null);
const spaced = (h: string) => h.replace(/ /g, '');

describe('Ascend filters (ascend.txt)', () => {
  const vectors: [string, string, string?][] = [
    ['ip in drop tcp dstport > 1023', '01 00 01 00 00 00 00 00 00 00 00 00 00 00 06 00 00 00 03 ff 00 03 00 00 00 00 00 00 00 00 00 00'],
    ['ip in forward srcip 1.2.3.4/5 dstip 10.11.12.13/32 tcp srcport = 5 dstport = 1234',
      '01 01 01 00 01 02 03 04 0a 0b 0c 0d 05 20 06 00 00 05 04 d2 02 02 00 00 00 00 00 00 00 00 00 00'],
    ['ipv6 in forward srcip ::1 dstip ::1 tcp srcport = 5 dstport = 1234',
      '03 01 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 80 80 06 00 00 05 04 d2 02 02 00 00',
      'ipv6 in forward srcip ::1/128 dstip ::1/128 tcp srcport = 5 dstport = 1234'],
  ];
  for (const [text, wire, printed] of vectors) {
    it(text, () => {
      const v = parseValue('abinary', text, da) as Buffer;
      expect(encodeValue(da, v).toString('hex')).toBe(spaced(wire));
      const back = decodeValue(da, Buffer.from(spaced(wire), 'hex'))!;
      expect(printValue(da, back)).toBe(`"${printed ?? text}"`);
    });
  }
  it('more forms round-trip', () => {
    for (const t of [
      'ip out drop 0',
      'ip in forward udp srcport < 1024 est',
      'ip in forward 47',
      'generic in forward 12 ffff 0800 ==',
      'generic out drop 0 ff 01 != more',
      'ipx in forward srcipxnet 0x00000001 srcipxnode 0x0a0b0c0d0e0f srcipxsock = 0x0451',
    ]) {
      expect(printAscendFilter(parseAscendFilter(t))).toBe(t);
    }
    expect(printAscendFilter(parseAscendFilter('ip in forward dstport = www tcp'))).toBe('ip in forward tcp dstport = 80');
  });
  it('rejects bad filters', () => {
    for (const t of ['', 'tcp in forward', 'ip sideways forward', 'ip in maybe', 'ip in forward srcip 1.2.3/8',
      'ip in forward dstport ~ 5', 'ip in forward srcip ::1', 'generic in forward 1 ff 0800', 'ip in forward bogus']) {
      expect(() => parseAscendFilter(t), t).toThrow(ValueError);
    }
  });
  it('prints undecodable bytes as hex', () => {
    expect(printValue(da, Buffer.from('0102', 'hex'))).toBe('0x0102');
    expect(printValue(da, Buffer.alloc(48, 0xff))).toBe('0x' + 'ff'.repeat(48));
    expect(parseValue('abinary', '0x0102', da)).toEqual(Buffer.from([1, 2]));
  });
});
