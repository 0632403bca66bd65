import { describe, expect, it } from 'vitest';
import { loadDefaultDictionary } from '../dict/default';
import { Pair } from '../pair/pair';
import { Request } from '../request/request';
import { compileUnlang, runSection } from './index';

const dict = loadDefaultDictionary();

describe('debug trace', () => {
  it('never prints secret values (switch and foreach subjects)', async () => {
    const lines: string[] = [];
    const req = new Request({ dict, debug: true, sink: (_l, line) => lines.push(line) });
    req.request.push(new Pair(dict.resolve('User-Name')!, 'bob'));
    req.request.push(new Pair(dict.resolve('User-Password')!, 'sup3rs3cret'));
    const text = [
      'switch User-Password {',
      ' case "x" { ok }',
      ' default { noop }',
      '}',
      'foreach string p (request.User-Password[*]) {',
      ' ok',
      '}',
      'switch User-Name {',
      ' default { ok }',
      '}',
    ].join('\n');
    const r = runSection(compileUnlang(text, { dict }), req);
    if (r instanceof Promise) await r;
    const trace = lines.join('\n');
    expect(trace).toContain('bob');
    expect(trace).not.toContain('sup3rs3cret');
    expect(trace).toContain('<<< secret >>>');
  });
});
