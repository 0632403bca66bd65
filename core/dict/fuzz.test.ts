import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { DictError, Dictionary } from './index';
import { mulberry32 } from '../../test/support/prng';
import { mutateText, randomText } from '../../test/support/mutate';

/** Small deterministic PRNG (xorshift32) so failures reproduce. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

const KEYWORDS = [
  'ATTRIBUTE', 'VALUE', 'MEMBER', 'ALIAS', 'VENDOR', 'BEGIN-VENDOR', 'END-VENDOR', 'BEGIN-TLV', 'END-TLV', 'BEGIN',
  'END', 'BEGIN-PROTOCOL', 'END-PROTOCOL', 'PROTOCOL', 'FLAGS', 'DEFINE', 'ENUM', 'STRUCT', '$INCLUDE', '$INCLUDE-',
];
const WORDS = [
  'Foo', 'Bar', 'Vendor-Specific', 'Cisco', 'Data', 'Key', '.Foo', '..Bar', '@.Foo', 'PROTOCOL', 'RADIUS', '1', '26',
  '.1', '1.2', '26.9.1', '0x1f', '256', '4294967296', '-1', '', 'x', 'string', 'octets[2]', 'bit[3]', 'uint8', 'tlv',
  'struct', 'union', 'vsa', 'auto', 'extended', 'evs', 'integer64', 'key', 'key=Key', 'clone=Foo', 'clone=.Bar',
  'enum=E', 'enum=@.E', 'encrypt=2', 'has_tag,encrypt=1', 'format=1,1,c', 'format=4,0', 'format=2', 'parent=.Foo',
  'precision=seconds', 'subtype=uint16', 'internal', 'ref=@DHCPv4', 'array', '#', 'dictionary', '*', 'E',
];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-dict-fuzz-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('throws nothing but DictError on random input', () => {
  const r = rng(6809);
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)]!;
  const prelude = 'ATTRIBUTE Vendor-Specific 26 vsa\nVENDOR Cisco 9\nATTRIBUTE Foo 1 tlv\nATTRIBUTE Key 2 struct\nMEMBER Key uint8 key\n';
  let errors = 0;
  for (let i = 0; i < 1500; i++) {
    const lines: string[] = [];
    const n = 1 + Math.floor(r() * 6);
    for (let j = 0; j < n; j++) {
      const toks = [pick(KEYWORDS)];
      const m = Math.floor(r() * 5);
      for (let k = 0; k < m; k++) toks.push(pick(WORDS));
      lines.push(toks.join(r() < 0.5 ? ' ' : '\t'));
    }
    const file = path.join(dir, 'dictionary');
    fs.writeFileSync(file, prelude + lines.join('\n') + '\n');
    try {
      Dictionary.load(file);
    } catch (e) {
      if (!(e instanceof DictError)) throw new Error(`non-DictError for:\n${lines.join('\n')}\n${String(e)}`);
      expect(e.message).toMatch(/^.+\[\d+\]: /);
      errors++;
    }
  }
  expect(errors).toBeGreaterThan(100);
});

it('throws nothing but a located DictError on mutated real dictionaries and random bytes', () => {
  const RADIUS = path.resolve(__dirname, '..', '..', 'dictionaries', 'radius');
  const samples = ['dictionary.rfc2865', 'dictionary.cisco', 'dictionary.wimax', 'dictionary.freeradius.internal']
    .map((f) => fs.readFileSync(path.join(RADIUS, f), 'utf8'))
    // Keep each sample small: mutations near the end of a long file are no more interesting.
    .map((t) => t.split('\n').slice(0, 80).join('\n'));
  const rnd = mulberry32(0xd1c7);
  const file = path.join(dir, 'dictionary');
  let errors = 0;
  for (let i = 0; i < 1200; i++) {
    const text = rnd() < 0.8 ? mutateText(samples[Math.floor(rnd() * samples.length)], rnd, KEYWORDS) : randomText(rnd, 80);
    fs.writeFileSync(file, text);
    try {
      Dictionary.load(file);
    } catch (e) {
      if (!(e instanceof DictError)) throw new Error(`non-DictError for ${JSON.stringify(text)}\n${String(e)}`);
      expect(e.message).toMatch(/^.+\[\d+\]: \S/);
      errors++;
    }
  }
  expect(errors).toBeGreaterThan(50);
});
