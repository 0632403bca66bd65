import { describe, expect, it } from 'vitest';
import { DictAttr } from '../dict/attr';
import { Pair } from './pair';
import {
  appendPair, copyPair, countLeaves, deletePairs, findAllPairs, findByPath, findOrAppendStructural, findPair,
  findPairDeep, forEachLeaf, removePair,
} from './list';
import { rawOf, unknownAttr, vendorAttr } from './raw';

const root = new DictAttr('RADIUS', 1, 'root', null);
const userName = new DictAttr('User-Name', 1, 'string', root);
const vsa = new DictAttr('Vendor-Specific', 26, 'vsa', root);
const cisco = new DictAttr('Cisco', 9, 'vendor', vsa);
const avpair = new DictAttr('AVPair', 1, 'string', cisco);

function nested(v: string): Pair {
  const top = new Pair(vsa);
  const c = new Pair(cisco);
  c.children = [new Pair(avpair, v)];
  top.children = [c];
  return top;
}

describe('pair list helpers', () => {
  it('finds, appends, deletes', () => {
    const list: Pair[] = [];
    appendPair(list, new Pair(userName, 'a'));
    appendPair(list, nested('x'));
    appendPair(list, new Pair(userName, 'b'));
    expect(findPair(list, userName)?.value).toBe('a');
    expect(findAllPairs(list, userName).map((p) => p.value)).toEqual(['a', 'b']);
    expect(findPairDeep(list, avpair)?.value).toBe('x');
    expect(findByPath(list, avpair)?.value).toBe('x');
    expect(countLeaves(list)).toBe(3);
    expect(deletePairs(list, userName)).toBe(2);
    expect(list.length).toBe(1);
    expect(removePair(list, list[0])).toBe(true);
    expect(removePair(list, new Pair(userName))).toBe(false);
  });

  it('finds or creates structural parents and walks leaves', () => {
    const list: Pair[] = [];
    const a = findOrAppendStructural(list, vsa);
    expect(findOrAppendStructural(list, vsa)).toBe(a);
    a.children!.push(new Pair(cisco));
    const seen: string[] = [];
    forEachLeaf([nested('y')], (leaf, parents) => seen.push(parents.map((p) => p.da.name).join('/') + ':' + String(leaf.value)));
    expect(seen).toEqual(['Vendor-Specific/Cisco:y']);
  });

  it('deep-copies pairs', () => {
    const p = new Pair(new DictAttr('Class', 25, 'octets', root), Buffer.from([1, 2]));
    p.tag = 3;
    const c = copyPair(p);
    (p.value as Buffer)[0] = 9;
    expect(c.value).toEqual(Buffer.from([1, 2]));
    expect(c.tag).toBe(3);
    expect(copyPair(nested('z')).children![0].children![0].value).toBe('z');
  });

  it('caches raw and unknown definitions per parent', () => {
    expect(rawOf(userName)).toBe(rawOf(userName));
    expect(rawOf(userName).flags.raw).toBe(true);
    expect(rawOf(userName).type).toBe('octets');
    expect(rawOf(rawOf(userName))).toBe(rawOf(userName));
    const u = unknownAttr(vsa, 6809, 'vendor');
    expect(u).toBe(unknownAttr(vsa, 6809, 'vendor'));
    expect(u.name).toBe('6809');
    expect(u.format).toBeDefined();
    expect(vendorAttr(vsa, 'Nokia-SR', 6527).name).toBe('Nokia-SR');
    expect(vendorAttr(vsa, 'Nokia-SR', 6527).flags.raw).toBeUndefined();
  });
});
