import { describe, expect, it } from 'vitest';
import { DictAttr } from '../dict/attr';
import type { AttrFlags } from '../dict/types';
import type { LeafType } from '../types/data-types';
import { decodeValue, encodeValue, parseValue, printValue, unescapeString, valuesEqual } from './index';
import { mulberry32 as rng } from '../../test/support/prng';

const TYPES: [LeafType, AttrFlags][] = [
  ['string', {}], ['octets', {}], ['abinary', {}], ['ipaddr', {}], ['ipv6addr', {}], ['ipv4prefix', {}], ['ipv6prefix', {}],
  ['combo-ip', {}], ['combo-prefix', {}], ['ifid', {}], ['ether', {}], ['bool', {}],
  ['uint8', {}], ['uint16', {}], ['uint32', {}], ['uint64', {}], ['int8', {}], ['int16', {}], ['int32', {}], ['int64', {}],
  ['float32', {}], ['float64', {}], ['size', {}],
  ['date', {}], ['date', { precision: 'milliseconds' }], ['date', { subtype: 'uint64', precision: 'microseconds' }],
  ['time_delta', {}], ['time_delta', { precision: 'milliseconds', subtype: 'int16' }],
  ['time_delta', { precision: 'microseconds', subtype: 'uint32' }], ['time_delta', { precision: 'nanoseconds', subtype: 'int64' }],
];

/** Undo printValue's quoting the way the pair-list parser does. */
function unquote(text: string): string {
  return text.startsWith('"') && text.endsWith('"') ? unescapeString(text.slice(1, -1), '"') : text;
}

describe('random wire input', () => {
  for (const [type, flags] of TYPES) {
    it(`${type} ${JSON.stringify(flags)} never throws and round-trips through text`, () => {
      const da = new DictAttr('Fuzz', 1, type, null, flags);
      const r = rng(type.length * 7919 + Object.keys(flags).length);
      for (let n = 0; n < 3000; n++) {
        const len = Math.floor(r() * 20);
        const buf = Buffer.alloc(len);
        for (let i = 0; i < len; i++) buf[i] = Math.floor(r() * 256);
        // Bias towards plausible lengths.
        if (n % 3 === 0) buf[0] = 0;
        const v = decodeValue(da, buf);
        if (v === undefined) continue;
        const wire = encodeValue(da, v);
        const v2 = decodeValue(da, wire);
        expect(v2, `${type} ${buf.toString('hex')}`).toBeDefined();
        if (!(typeof v === 'number' && Number.isNaN(v))) expect(valuesEqual(v2!, v, type), `${type} ${buf.toString('hex')}`).toBe(true);
        const text = printValue(da, v);
        if (type === 'abinary' && !text.startsWith('"')) continue;
        if ((type === 'float32' || type === 'float64') && !Number.isFinite(v as number)) continue;
        const back = parseValue(type, unquote(text), da);
        // float32 prints as C's "%f" (six decimals), as FreeRADIUS does: exact to 1e-6 only.
        expect(valuesEqual(back, v, type) || (type === 'date' || type === 'time_delta' || type === 'float32') && Math.abs((back as number) - (v as number)) < 1e-6,
          `${type} ${buf.toString('hex')} → ${text}`).toBe(true);
      }
    });
  }
});

describe('random text input', () => {
  it('parseValue throws only ValueError', () => {
    const r = rng(42);
    const alphabet = '0123456789abcdefx:./-*%\\"\' TZ+sm';
    for (const [type, flags] of TYPES) {
      const da = new DictAttr('Fuzz', 1, type, null, flags);
      for (let n = 0; n < 500; n++) {
        let s = '';
        const len = Math.floor(r() * 16);
        for (let i = 0; i < len; i++) s += alphabet[Math.floor(r() * alphabet.length)];
        try {
          parseValue(type, s, da);
        } catch (e) {
          expect((e as Error).name, `${type} "${s}": ${(e as Error).message}`).toBe('ValueError');
        }
      }
    }
  });
});
