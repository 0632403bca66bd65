/**
 * Values longer than one attribute holds: split where the dictionary allows it (`concat`,
 * long-extended, `format=…,c` vendors), otherwise truncated and reported in `ctx.warnings`.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Dictionary } from '../../dict/dictionary';
import { Pair } from '../../pair/pair';
import { decodePairs, encodePacket, encodePairs, PacketCode, type CodecContext, type EncodeWarning } from './index';

const dict = Dictionary.load(path.join(__dirname, 'testdata', 'dictionary'));
const pair = (name: string, v: unknown): Pair => new Pair(dict.resolve(name)!, v as never);
const ctx = (warnings: EncodeWarning[]): CodecContext => ({ dict, secret: Buffer.from('s'), vector: Buffer.alloc(16), warnings });
const text = (n: number): string => 'x'.repeat(n - 3) + 'END';

/** Top-level (type, length) headers of encoded attribute bytes. */
function headers(b: Buffer): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < b.length; i += b[i + 1]) out.push([b[i], b[i + 1]]);
  return out;
}

describe('long values', () => {
  it('a 300-byte Reply-Message is truncated to 253 bytes and reported', () => {
    const w: EncodeWarning[] = [];
    const b = encodePairs([pair('Reply-Message', text(300))], ctx(w));
    expect(headers(b)).toEqual([[18, 255]]);
    expect(w).toEqual([{ attr: 'Reply-Message', length: 300, sent: 253 }]);
  });
  it('a value that fits is not reported', () => {
    const w: EncodeWarning[] = [];
    encodePairs([pair('Reply-Message', text(253))], ctx(w));
    expect(w).toEqual([]);
  });
  it('concat (EAP-Message) is split over consecutive attributes, not reported, and decodes whole', () => {
    const w: EncodeWarning[] = [];
    const v = Buffer.alloc(600, 7);
    const b = encodePairs([pair('EAP-Message', v)], ctx(w));
    expect(headers(b)).toEqual([[79, 255], [79, 255], [79, 96]]);
    expect(w).toEqual([]);
    const back = decodePairs(b, ctx([]));
    expect(back.map((p) => p.value)).toEqual([v]);
  });
  it('long-extended is split with the More flag, not reported', () => {
    const w: EncodeWarning[] = [];
    const b = encodePairs([pair('LE-Octets', Buffer.alloc(600, 1))], ctx(w));
    expect(headers(b).map(([t]) => t)).toEqual([245, 245, 245]);
    expect(w).toEqual([]);
  });
  it('format=1,1,c vendor (WiMAX) is split with the continuation flag, not reported', () => {
    const w: EncodeWarning[] = [];
    encodePairs([pair('Big-Blob', Buffer.alloc(600, 1))], ctx(w));
    expect(w).toEqual([]);
  });
  it('a VSA and a short-extended attribute are truncated and reported', () => {
    const w: EncodeWarning[] = [];
    const b = encodePairs([pair('AVPair', text(300)), pair('Ext-TLV.Ext-TLV-Str', text(300))], ctx(w));
    expect(headers(b)).toEqual([[26, 255], [241, 255]]);
    // The TLV child is cut to 253, then the TLV itself to what an extended attribute holds.
    expect(w.map((x) => x.attr)).toEqual(['AVPair', 'Ext-TLV-Str', 'Ext-TLV']);
    expect(w[0]).toEqual({ attr: 'AVPair', length: 300, sent: 247 });
  });
  it('encodePacket passes the warnings through', () => {
    const warnings: EncodeWarning[] = [];
    encodePacket({ code: PacketCode.AccessAccept, id: 1, authenticator: Buffer.alloc(16), pairs: [pair('Reply-Message', text(400))] },
      { dict, secret: Buffer.from('s'), requestAuthenticator: Buffer.alloc(16), warnings });
    expect(warnings).toEqual([{ attr: 'Reply-Message', length: 400, sent: 253 }]);
  });
});
