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

  it('shows each expansion and its result (EXPAND / -->), but not a result that reads a secret', async () => {
    const lines: string[] = [];
    const req = new Request({ dict, debug: true, sink: (_l, line) => lines.push(line) });
    req.request.push(new Pair(dict.resolve('User-Name')!, 'bob'));
    req.request.push(new Pair(dict.resolve('User-Password')!, 'sup3rs3cret'));
    const text = [
      'reply.Reply-Message := "hi %{User-Name}"',
      'reply.Reply-Message += "pw %{User-Password}"',
      'ok',
    ].join('\n');
    const r = runSection(compileUnlang(text, { dict }), req);
    if (r instanceof Promise) await r;
    const trace = lines.join('\n');
    expect(trace).toMatch(/^\(\d+\) {3}reply\.Reply-Message := "hi %\{User-Name\}"\n\(\d+\) {5}EXPAND hi %\{User-Name\}\n\(\d+\) {5}--> hi bob$/m);
    expect(trace).toMatch(/EXPAND pw %\{User-Password\}\n\(\d+\) +--> <<< secret >>>$/m);
    expect(trace).not.toContain('sup3rs3cret');
    expect(trace).toMatch(/^\(\d+\) {3}ok \(ok\)$/m); // one line per rcode/module call
    expect(trace).not.toMatch(/# ok \(ok\) →/);
  });
});
