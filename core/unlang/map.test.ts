/**
 * `map <module> …` with a result of rows (each row applied in turn with the lines' operators),
 * and the safe-for mark: values a module's `%x.safe()` marked pass its escape unchanged, also
 * after an assignment to a local variable or an attribute.
 */
import { describe, expect, it } from 'vitest';
import { compileUnlang, runSection } from './index';
import { compileTemplate } from './tmpl';
import { box, escapeBoxes, type ValueEscape } from './xlat/box';
import { globalXlats } from './xlat/registry';
import type { MapResult, ModuleHandle } from './module-call';
import { makeRequest, testDict } from '../../test/support/module-call';
import { copyPair } from '../pair/list';

const dict = testDict();
/** Escapes quotes as `\'`, except values marked `q`. */
const quote: ValueEscape = (s, safeFor) => (safeFor === 'q' ? s : s.replace(/'/g, "\\'"));
const xlats = globalXlats.child();
xlats.register('q.safe', (_c, args) => {
  const b = box('string', args.map((a) => a.map((v) => String(v.value)).join('')).join(''));
  b.safeFor = 'q';
  return [b];
}, { minArgs: 1, maxArgs: 1, returnType: 'string', pure: true });

/** A module `rows` whose map records the query and returns `result`. */
function rowsModule(result: MapResult) {
  const queries: string[] = [];
  const handle: ModuleHandle = {
    method: () => undefined,
    map: (_r, _c, q) => { queries.push(q); return result; },
    mapEscape: quote,
  };
  const run = async (policy: string, r = makeRequest('User-Name = "o\'brien"')) => {
    const rcode = await runSection(compileUnlang(policy, { dict, xlats, modules: (n) => (n === 'rows' ? handle : undefined) }), r);
    return { rcode, r };
  };
  return { queries, run };
}

const two: MapResult = { columns: ['Name', 'port'], rows: [['bob', '0'], ['oof', '1']] };
const names = (r: ReturnType<typeof makeRequest>) => r.control.filter((p) => p.da.name === 'User-Name').map((p) => p.value);
const ports = (r: ReturnType<typeof makeRequest>) => r.control.filter((p) => p.da.name === 'NAS-Port').map((p) => p.value);

describe('map with rows', () => {
  it('applies every row in turn: := keeps the last, = the first, += adds each, ^= prepends row by row', async () => {
    const m = rowsModule(two);
    const line = (op: string) => `map rows 'q' {\n control.User-Name ${op} 'name'\n control.NAS-Port ${op} 'PORT'\n}`;
    for (const [op, n, p] of [[':=', ['oof'], [1]], ['=', ['bob'], [0]], ['+=', ['bob', 'oof'], [0, 1]], ['^=', ['oof', 'bob'], [1, 0]]] as const) {
      const { rcode, r } = await m.run(line(op));
      expect(rcode, op).toBe('updated');
      expect(names(r), op).toEqual(n);
      expect(ports(r), op).toEqual(p);
    }
  });

  it('a NULL column leaves its attribute alone; lines naming no column are skipped; none matching is noop; no row notfound', async () => {
    const nulls = rowsModule({ columns: ['name', 'port'], rows: [['bob', null], [null, '7']] });
    const { rcode, r } = await nulls.run("map rows 'q' {\n control.User-Name := 'name'\n control.NAS-Port := 'port'\n control.Filter-Id := 'nosuch'\n}");
    expect(rcode).toBe('updated');
    expect(names(r)).toEqual(['bob']);
    expect(ports(r)).toEqual([7]);
    expect((await nulls.run("map rows 'q' {\n control.Filter-Id := 'nosuch'\n}")).rcode).toBe('noop');
    const empty = rowsModule({ columns: ['name'], rows: [] });
    expect((await empty.run("map rows 'q' {\n control.User-Name := 'name'\n}")).rcode).toBe('notfound');
    expect((await empty.run("map rows 'q' {\n control.Filter-Id := 'nosuch'\n}")).rcode).toBe('noop');
  });

  it('a value that does not fit its attribute fails the map and changes nothing', async () => {
    const m = rowsModule({ columns: ['name', 'port'], rows: [['bob', '1'], ['oof', 'not-a-number']] });
    const { rcode, r } = await m.run("map rows 'q' {\n control.User-Name += 'name'\n control.NAS-Port += 'port'\n}");
    expect(rcode).toBe('fail');
    expect(r.control).toEqual([]);
  });
});

describe('safe-for mark', () => {
  it('a value marked safe for the escape passes it unchanged, also from a local variable; unmarked values are escaped', async () => {
    const m = rowsModule(two);
    const none = "{\n control.User-Name := 'name'\n}";
    await m.run(`map rows "a='%{User-Name}'" ${none}`);
    await m.run(`map rows "a='%q.safe(%{User-Name})'" ${none}`);
    await m.run(`string cmd\ncmd := %q.safe("a='%{User-Name}'")\nmap rows cmd ${none}`);
    await m.run(`string cmd\ncmd := "a='%{User-Name}'"\nmap rows cmd ${none}`);
    await m.run(`string cmd\ncmd := %q.safe("a='%{User-Name}'")\nmap rows "%{cmd} AND b='%{User-Name}'" ${none}`);
    // Through an attribute, and through a string of that attribute alone.
    await m.run(`control.Filter-Id := %q.safe("x'y")\nmap rows "%{control.Filter-Id}" ${none}`);
    await m.run(`control.Filter-Id := %q.safe("x'y")\nmap rows control.Filter-Id ${none}`);
    // A new value replaces the mark.
    await m.run(`control.Filter-Id := %q.safe("x'y")\ncontrol.Filter-Id := "%{User-Name}"\nmap rows control.Filter-Id ${none}`);
    // The loop variable of a foreach over marked values.
    await m.run(`control.Filter-Id := %q.safe("x'y")\nforeach string c (control.Filter-Id) {\nmap rows c ${none}\n}`);
    expect(m.queries).toEqual([
      "a='o\\'brien'",
      "a='o'brien'",
      "a='o'brien'",
      "a=\\'o\\'brien\\'",
      "a='o'brien' AND b='o\\'brien'",
      "x'y",
      "x'y",
      "o\\'brien",
      "x'y",
    ]);
  });

  it('templates with an escape honour the mark; copies of a pair keep it', async () => {
    const r = makeRequest('User-Name = "o\'brien"');
    await runSection(compileUnlang(`control.Filter-Id := %q.safe("it's")`, { dict, xlats }), r);
    const t = compileTemplate("%{control.Filter-Id}/%{User-Name}", { dict, escape: quote, xlats });
    expect(t.expand(r)).toBe("it's/o\\'brien");
    expect(compileTemplate('%{control.Filter-Id}', { dict, escape: quote, xlats }).expand(r)).toBe("it's");
    expect(copyPair(r.control[0]).safeFor).toBe('q');
    expect(escapeBoxes([box('string', "a'"), { ...box('string', "b'"), safeFor: 'q' }], quote)).toBe("a\\'b'");
    expect(escapeBoxes([box('string', "a'"), box('string', "b'")], quote)).toBe("a\\'b\\'");
  });
});
