import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Dictionary } from '../dict/dictionary';
import { Pair } from './pair';
import { PairParseError, parsePairList, parsePairListWithOps, printPair, printPairLines, printPairList } from './text';

let dict: Dictionary;
beforeAll(() => {
  dict = Dictionary.load(resolve(__dirname, '..', '..', 'dictionaries', 'radius'));
});

const roundTrip = (text: string): string => printPairList(parsePairList(text, dict));

describe('parsePairList', () => {
  it('parses simple items separated by commas or newlines, with comments', () => {
    const pairs = parsePairList('User-Name = "bob", NAS-Port = 5\n  # a comment\nFramed-IP-Address = 192.0.2.1 # trailing\n', dict);
    expect(pairs.map((p) => p.da.name)).toEqual(['User-Name', 'NAS-Port', 'Framed-IP-Address']);
    expect(pairs.map((p) => p.value)).toEqual(['bob', 5, '192.0.2.1']);
  });

  it('accepts & prefixes, blank items and a trailing comma', () => {
    expect(roundTrip('&User-Name = bob,, Session-Timeout = 10,')).toBe('User-Name = "bob", Session-Timeout = 10');
  });

  it('undoes escapes in double quotes and keeps single-quoted text literal', () => {
    const [a, b] = parsePairList('Reply-Message = "a\\tb\\"c\\101", Filter-Id = \'x\\ny\'', dict);
    expect(a.value).toBe('a\tb"cA');
    expect(b.value).toBe('x\\ny');
  });

  it('turns a quoted string into octets bytes and 0x into hex', () => {
    expect(roundTrip('Class = "ab", State = 0x0102')).toBe('Class = 0x6162, State = 0x0102');
  });

  it('resolves enumerated values written ::Name or bare', () => {
    expect(roundTrip('Framed-Protocol = PPP, Acct-Status-Type = ::Start')).toBe('Framed-Protocol = ::PPP, Acct-Status-Type = ::Start');
  });

  it('nests hierarchical names and merges their parents', () => {
    expect(roundTrip('Vendor-Specific.Cisco.AVPair = "a", Vendor-Specific.Cisco.AVPair = "b"'))
      .toBe('Vendor-Specific = { Cisco = { AVPair = "a", AVPair = "b" } }');
  });

  it('accepts v3 flat names and aliases', () => {
    expect(roundTrip('Cisco-AVPair = "x"')).toBe('Vendor-Specific = { Cisco = { AVPair = "x" } }');
    expect(roundTrip('Actual-Data-Rate-Upstream = 1024000')).toBe('Vendor-Specific = { ADSL-Forum = { Actual-Data-Rate-Upstream = 1024000 } }');
    expect(roundTrip('Cleartext-Password = "pw"')).toMatch(/^Password.Cleartext = "pw"$|^Cleartext-Password = "pw"$|= "pw"/);
  });

  it('parses nested groups; a group value always makes a new pair', () => {
    expect(roundTrip('Vendor-Specific = { Cisco = { AVPair = "a" }, Microsoft = { MPPE-Encryption-Policy = 1 } }'))
      .toBe('Vendor-Specific = { Cisco = { AVPair = "a" }, Microsoft = { MPPE-Encryption-Policy = ::Encryption-Allowed } }');
  });

  it('resolves group contents from the root (Tag-N)', () => {
    expect(roundTrip('Tag-1 = { Tunnel-Type = PPTP, Vendor-Specific.Cisco.AVPair = "x" }'))
      .toBe('Tag-1 = { Tunnel-Type = ::PPTP, Vendor-Specific = { Cisco = { AVPair = "x" } } }');
  });

  it('makes raw and unknown attributes', () => {
    expect(roundTrip('raw.NAS-Port = 0x0102')).toBe('raw.NAS-Port = 0x0102');
    expect(roundTrip('raw.26.6809.1.2 = 0xabcdef')).toBe('Vendor-Specific = { raw.6809 = { raw.1 = { raw.2 = 0xabcdef } } }');
    expect(roundTrip('Vendor-Specific = { raw.1234 = { raw.56 = 0xdeadbeef } }')).toBe('Vendor-Specific = { raw.1234 = { raw.56 = 0xdeadbeef } }');
    expect(roundTrip('raw.26 = 0x00000009abcdef')).toBe('raw.Vendor-Specific = 0x00000009abcdef');
    const [p] = parsePairList('raw.26.9.1 = 0x01', dict);
    expect(p.children![0].children![0].da.flags.raw).toBe(true);
  });

  it('resolves numeric OIDs to known attributes', () => {
    expect(roundTrip('1 = "bob", 26.9.1 = "x"')).toBe('User-Name = "bob", Vendor-Specific = { Cisco = { AVPair = "x" } }');
  });

  it('keeps v3 tags on the pair', () => {
    const [p] = parsePairList('Tunnel-Type:3 = L2TP', dict);
    expect(p.tag).toBe(3);
    expect(printPair(p)).toBe('Tunnel-Type:3 = ::L2TP');
  });

  it('reports errors with FreeRADIUS wording', () => {
    expect(() => parsePairList('No-Such-Attribute = 1', dict)).toThrow('Unknown attribute "No-Such-Attribute"');
    expect(() => parsePairList('Vendor-Specific.Cisco = 0x01', dict)).toThrow("Group list for Cisco MUST start with '{'");
    // A group may be given as a string holding its pair list.
    expect(printPairList(parsePairList(`Vendor-Specific.Cisco = 'AVPair = "a=b"'`, dict))).toContain('AVPair = "a=b"');
    // A presence test needs no value, for a structural attribute too.
    expect(parsePairListWithOps('Vendor-Specific.Cisco =* ANY', dict).map((p) => [p.leaf.da.name, p.op])).toEqual([['Cisco', '=*']]);
    expect(() => parsePairList('User-Name = "bob', dict)).toThrow(PairParseError);
    expect(() => parsePairList('User-Name bob', dict)).toThrow('Expected an operator');
    expect(() => parsePairList('Framed-IP-Address = 1.2.3.4/30', dict)).toThrow('Only "/32" permitted');
    expect(() => parsePairList('User-Name = { User-Name = "x" }', dict)).toThrow("cannot take a '{' list");
    expect(() => parsePairList('Vendor-Specific = { Cisco = { AVPair = "a" }', dict)).toThrow("Missing closing '}'");
  });

  it('looks names up in fallback dictionaries', () => {
    const other = new Dictionary('X', 99);
    expect(() => parsePairList('Nope = 1', dict, { fallback: [other] })).toThrow('Unknown attribute');
  });
});

describe('parsePairListWithOps', () => {
  it('keeps operators and does not merge parents', () => {
    const items = parsePairListWithOps('User-Name == "bob", Cisco-AVPair += "a", Cisco-AVPair := "b", Session-Timeout <= 10, Reply-Message !* ANY, NAS-Port =* ""', dict);
    expect(items.map((i) => i.op)).toEqual(['==', '+=', ':=', '<=', '!*', '=*']);
    expect(items[1].pair).not.toBe(items[2].pair);
    expect(items[1].pair.da.name).toBe('Vendor-Specific');
    expect(items[1].leaf.value).toBe('a');
    expect(items[0].pair).toBe(items[0].leaf);
  });

  it('accepts regex operators with bare and quoted values', () => {
    const items = parsePairListWithOps('User-Name =~ "^b.*", Calling-Station-Id !~ "x"', dict);
    expect(items.map((i) => [i.op, i.leaf.value])).toEqual([['=~', '^b.*'], ['!~', 'x']]);
  });
});

describe('printPairList', () => {
  it('prints flat pairs with their full name', () => {
    const da = dict.resolve('Vendor-Specific.Cisco.AVPair')!;
    expect(printPairList([new Pair(da, 'x')])).toBe('Vendor-Specific.Cisco.AVPair = "x"');
  });

  it('escapes strings and prints empty groups', () => {
    const vs = new Pair(dict.resolve('Vendor-Specific')!);
    vs.children = [];
    expect(printPairList([new Pair(dict.resolve('User-Name')!, 'a"b\n%'), vs])).toBe('User-Name = "a\\"b\\n\\%", Vendor-Specific = { }');
    expect(printPair(new Pair(dict.resolve('Vendor-Specific')!))).toBe('Vendor-Specific = { }');
  });
});

describe('printPairLines', () => {
  it('prints one attribute per line with v3 flat names and bare enum names', () => {
    const pairs = parsePairList('Framed-Protocol = PPP, Actual-Data-Rate-Upstream = 1024000, Cisco-AVPair = "a=b", Reply-Message = "hi"', dict);
    expect(printPairLines(pairs)).toBe([
      '\tFramed-Protocol = PPP',
      '\tActual-Data-Rate-Upstream = 1024000',
      '\tCisco-AVPair = "a=b"',
      '\tReply-Message = "hi"',
    ].join('\n'));
  });

  it('matches what Debian radclient 3.2 prints for the same attributes', () => {
    // Captured from `radclient -x` (FreeRADIUS 3.2.x) sending this list. Vendor attributes are kept adjacent:
    // hierarchical parsing merges them into one Vendor-Specific pair, which moves them together.
    const text = [
      'User-Name = "b\\001ob%x"', 'Cisco-AVPair = "a=b"', 'Actual-Data-Rate-Upstream = 1024000', 'WiMAX-Release = "1.0"',
      'MS-CHAP-Challenge = 0x01', 'Tunnel-Type:1 = PPTP', 'Event-Timestamp = 864000', 'Class = 0x0102',
      'Framed-IPv6-Prefix = 2001:db8::/32', 'Reply-Message = "x\\"y"',
    ].join('\n');
    expect(printPairLines(parsePairList(text, dict))).toBe([
      '\tUser-Name = "b\\001ob%x"',
      '\tCisco-AVPair = "a=b"',
      '\tActual-Data-Rate-Upstream = 1024000',
      '\tWiMAX-Release = "1.0"',
      '\tMS-CHAP-Challenge = 0x01',
      '\tTunnel-Type:1 = PPTP',
      '\tEvent-Timestamp = "Jan 11 1970 00:00:00 UTC"',
      '\tClass = 0x0102',
      '\tFramed-IPv6-Prefix = 2001:db8::/32',
      '\tReply-Message = "x\\"y"',
    ].join('\n'));
  });

  it('prints tags v3 style', () => {
    const pairs = parsePairList('Tag-2 = { Tunnel-Type = L2TP }', dict);
    expect(printPairLines(pairs, { indent: '' })).toBe('Tunnel-Type:2 = L2TP');
  });
});

describe('robustness', () => {
  it('random input either parses or throws a plain Error (no TypeError/RangeError)', () => {
    const tokens = ['User-Name', 'Vendor-Specific', '.', 'Cisco', 'AVPair', 'raw.', '26', '9', '=', ':=', '==', '{', '}', ',', '\n', ' ',
      '"', "'", '\\', 'x', '0x', 'ab', '::', 'Framed-User', 'Service-Type', '#', 'Tag-1', ':1', '1.2.3.4', '/', '-', 'Tunnel-Type'];
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 3000; i++) {
      let s = '';
      const len = 1 + rnd(12);
      for (let j = 0; j < len; j++) s += tokens[rnd(tokens.length)];
      try {
        const pairs = parsePairList(s, dict);
        printPairList(pairs);
        printPairLines(pairs);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        if (e instanceof TypeError || e instanceof RangeError) throw new Error(`input ${JSON.stringify(s)}: ${e.stack}`);
      }
    }
  });
});
