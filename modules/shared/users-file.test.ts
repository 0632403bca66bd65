import { describe, expect, it } from 'vitest';
import { ConfError } from '../../core';
import { parseUsersText, splitItems } from './users-file';
import { testDict } from '../../test/support/module-call';

describe('users-file parser', () => {
  const dict = testDict();
  it('splits items with quotes, regexes, groups, tags and comments', () => {
    expect(splitItems('A := "x, y", B =~ /a,b/i, C == 1 # c').map((i) => [i.name, i.op, i.raw])).toEqual([
      ['A', ':=', '"x, y"'], ['B', '=~', '/a,b/i'], ['C', '==', '1'],
    ]);
    expect(splitItems('Tunnel-Type:1 := VLAN, &Foo-=3, G = { a = 1 }').map((i) => [i.name, i.op, i.raw])).toEqual([
      ['Tunnel-Type:1', ':=', 'VLAN'], ['Foo', '-=', '3'], ['G', '=', '{ a = 1 }'],
    ]);
  });
  it('quoted entry names, tags and structural values', () => {
    const f = parseUsersText('"john smith"\tCleartext-Password := "x"\n\tTunnel-Type:1 := VLAN,\n\tVendor-Specific = { Cisco = { AVPair = "a=b" } }\n', 'u', { dict });
    expect(f.byName.get('john smith')?.[0].reply.length).toBe(2);
  });
  it('only located ConfErrors escape on junk', () => {
    const alphabet = ['bob', 'DEFAULT', '\t', ' ', ':=', '==', '=~', '"', "'", '/', ',', '{', '}', 'User-Name', 'Cleartext-Password',
      'Session-Timeout', '1', 'x', '\n', '#', '$INCLUDE', '%{', 'Fall-Through = yes', '=*', '!*', '\\'];
    let seed = 42;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    for (let i = 0; i < 3000; i++) {
      let text = '';
      const len = 1 + rnd(25);
      for (let j = 0; j < len; j++) text += alphabet[rnd(alphabet.length)];
      try {
        parseUsersText(text, 'fuzz', { dict });
      } catch (e) {
        if (!(e instanceof ConfError)) throw new Error(`non-located error for ${JSON.stringify(text)}: ${(e as Error).stack}`);
        expect(e.message).toMatch(/^fuzz\[\d+\]: |^.*\[\d+\]: /);
      }
    }
  });
});
