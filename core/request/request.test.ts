import { describe, expect, it } from 'vitest';
import { loadDefaultDictionary } from '../dict/default';
import { Request } from './request';
import { deletePairs, findAllPairs } from '../pair/list';
import { addValue, getValue, setValue } from '../pair/values';

const dict = loadDefaultDictionary();
const fid = dict.resolve('Filter-Id')!;

describe('Request', () => {
  it('numbers requests and prefixes log lines with (N)', () => {
    const lines: string[] = [];
    const r = new Request({ number: 7, debug: true, sink: (_l, line) => lines.push(line) });
    r.log.debug('hello');
    r.log.child('ldap').info('bound');
    r.log.error('oops');
    expect(lines).toEqual(['(7) hello', '(7) ldap: bound', '(7) oops']);
    expect(r.log.errors).toEqual(['(7) oops']);
  });

  it('builds no debug lines when debug is off', () => {
    const lines: string[] = [];
    const r = new Request({ sink: (_l, line) => lines.push(line) });
    r.log.debug('x');
    expect(lines).toEqual([]);
    expect(r.debug).toBe(false);
  });

  it('list operations', () => {
    const r = new Request({ dict });
    addValue(r.list('reply'), fid, 'a');
    addValue(r.list('reply'), fid, 'b');
    expect(findAllPairs(r.reply, fid).map((p) => p.value)).toEqual(['a', 'b']);
    expect(getValue(r.reply, fid)).toBe('a');
    setValue(r.reply, fid, 'z');
    expect(findAllPairs(r.reply, fid).map((p) => p.value)).toEqual(['z']);
    expect(deletePairs(r.reply, fid)).toBe(1);
    const same = r.list('control');
    r.setList('control', [...r.reply]);
    expect(r.list('control')).toBe(same);
  });
});
