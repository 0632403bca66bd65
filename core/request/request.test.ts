import { describe, expect, it } from 'vitest';
import { loadDefaultDictionary } from '../dict/default';
import { Request } from './request';
import { addValue, deleteAll, getAll, getValue, setDefault, setValue } from './pair-list';

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
    addValue(r, 'reply', fid, 'a');
    addValue(r, 'reply', fid, 'b');
    expect(getAll(r, 'reply', fid).map((p) => p.value)).toEqual(['a', 'b']);
    setDefault(r, 'reply', fid, 'c');
    expect(getValue(r, 'reply', fid)).toBe('a');
    setValue(r, 'reply', fid, 'z');
    expect(getAll(r, 'reply', fid).map((p) => p.value)).toEqual(['z']);
    expect(deleteAll(r, 'reply', fid)).toBe(1);
    const same = r.list('control');
    r.setList('control', [...r.reply]);
    expect(r.list('control')).toBe(same);
  });
});
