import { describe, expect, it } from 'vitest';
import { compileTemplate, ctime, rewriteStrftime, rewriteV3 } from './tmpl';
import { makeRequest, testDict } from '../../test/support/module-call';
import { parsePairList } from '../pair/text';

describe('compileTemplate', () => {
  const dict = testDict();
  it('expands attributes and keeps constants constant', () => {
    const r = makeRequest('User-Name = "bob", NAS-Port = 7');
    expect(compileTemplate('Hello, %{User-Name} on %{NAS-Port}', { dict }).expand(r)).toBe('Hello, bob on 7');
    const c = compileTemplate('plain', { dict });
    expect(c.constant).toBe('plain');
  });
  it('rewrites v3 alternation', () => {
    expect(rewriteV3('%{%{Stripped-User-Name}:-%{User-Name}}')).toBe('%{Stripped-User-Name || User-Name}');
    expect(rewriteV3('%{Realm:-DEFAULT}')).toBe('%{Realm || "DEFAULT"}');
    const t = compileTemplate('%{%{Stripped-User-Name}:-%{User-Name}}', { dict });
    const r = makeRequest('User-Name = "bob"');
    expect(t.expand(r)).toBe('bob');
    r.request.push(...parsePairList('Stripped-User-Name = "b"', dict));
    expect(t.expand(r)).toBe('b');
    expect(compileTemplate('%{Stripped-User-Name || User-Name}', { dict }).expand(r)).toBe('b');
  });
  it('a chain of string attributes gives the first non-empty value, else the empty string', () => {
    const t = compileTemplate('%{Stripped-User-Name || User-Name}', { dict });
    const e = compileTemplate('%{Stripped-User-Name || User-Name}', { dict, escape: (s) => `<${s}>` });
    const cases: [string, string][] = [
      ['', ''],
      ['User-Name = ""', ''],
      ['Stripped-User-Name = ""', ''],
      ['Stripped-User-Name = "", User-Name = "bob"', 'bob'],
      ['User-Name = "bob", Stripped-User-Name = "b"', 'b'],
      ['Stripped-User-Name = "", User-Name = ""', ''],
    ];
    for (const [pairs, want] of cases) {
      expect(t.expand(makeRequest(pairs))).toBe(want);
      expect(e.expand(makeRequest(pairs))).toBe(`<${want}>`);
    }
    // The first instance of each attribute, as the general evaluation reads it.
    expect(t.expand(makeRequest('User-Name = "", User-Name = "second"'))).toBe('');
    expect(compileTemplate('%{User-Name || NAS-Port}', { dict }).expand(makeRequest('NAS-Port = 7'))).toBe('7');
  });
  it('strftime letters and escaping', () => {
    const r = makeRequest('User-Name = "a/b"');
    const d = new Date(r.received * 1000);
    const t = compileTemplate('x/%{User-Name}/detail-%Y%m%d:%H', { dict, strftime: true, escape: (s) => s.replace(/\//g, '_') });
    const p = (n: number) => String(n).padStart(2, '0');
    expect(t.expand(r)).toBe(`x/a_b/detail-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}:${p(d.getHours())}`);
    expect(compileTemplate('%{Packet-Src-IP-Address}', { dict }).expand(r)).toBe('');
  });
  it('errors on unknown attributes', () => {
    expect(() => compileTemplate('%{No-Such-Attr}', { dict, loc: { file: 'f', line: 3 } })).toThrow(/f\[3\]|Unknown/);
  });
});

describe('strftime rewrite', () => {
  it('rewrites only one-letter escapes', () => {
    expect(rewriteStrftime('%Y.log %%Y %t %{User-Name} %str.upper(x)')).toBe("%strftime('Y').log %%Y %strftime('t') %{User-Name} %str.upper(x)");
    const r = makeRequest('');
    expect(compileTemplate('%t', { dict: testDict(), strftime: true }).expand(r)).toBe(ctime(new Date(r.received * 1000)));
  });
});
