/**
 * The layering rules of the tree (issue 9 §1, core/README.md "Boundaries"), checked on the
 * import statements of the sources:
 *
 * 1. `core/**` never imports `modules/**` (nor `main/`, the composition root). Core's runtime
 *    files import only core (and packages); core's tests may also use `test/support/`, which is
 *    where the built-in module list reaches them (test/support/builtins.ts).
 * 2. `modules/**` and `examples/**` import core only through its public surface `core/index.ts`
 *    (package.json `exports` "."), or `core/thread.ts` ("./thread") from a worker-thread script.
 *    Their tests may also import `test/support/` and `test/`.
 * 3. No import cycle between core folders (core/<folder>); `KNOWN_CYCLES` below is empty and
 *    stays so.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');

/** Relative import specifiers of a source file: static, dynamic, require, `import('…')` types, re-exports. */
const IMPORT = /(?:\bfrom\s+|\bimport\s+|\bimport\(\s*|\brequire\(\s*)['"](\.{1,2}\/[^'"]*)['"]/g;

interface Edge { readonly file: string; readonly spec: string; readonly target: string }

function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(path.join(ROOT, d), { withFileTypes: true })) {
      const rel = path.posix.join(d, e.name);
      if (e.isDirectory()) { if (e.name !== 'node_modules' && e.name !== 'dist') walk(rel); }
      else if (/\.(ts|mts)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(rel);
    }
  };
  walk(dir);
  return out;
}

/** Strips comments so that examples in doc comments are not taken for imports. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function edges(dir: string): Edge[] {
  const out: Edge[] = [];
  for (const file of sources(dir)) {
    const text = code(fs.readFileSync(path.join(ROOT, file), 'utf8'));
    for (const m of text.matchAll(IMPORT)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]!)).replace(/\.(js|ts)$/, '');
      out.push({ file, spec: m[1]!, target });
    }
  }
  return out;
}

const isTest = (f: string): boolean => /\.test\.ts$/.test(f);
const under = (t: string, dir: string): boolean => t === dir || t.startsWith(`${dir}/`);
const show = (e: Edge): string => `${e.file}: '${e.spec}'`;

/** The public entries: `core/index.ts` (".") and, for worker-thread scripts, `core/thread.ts` ("./thread"). */
const PUBLIC = new Set(['core', 'core/index', 'core/thread']);

/**
 * Cycles between core folders that remain, each with why: none. The three that were here are
 * broken by layering (core/README.md "Boundaries"): the data type names and `Value` live in the
 * leaf `core/types/` (dict and value both build on it; value imports dict, never the reverse);
 * the module-call contract lives in `core/unlang/module-call.ts` beside the interpreter that
 * calls it (module imports unlang, never the reverse); the namespace contract lives in
 * `core/process/namespace.ts` beside the state machines that implement it (server imports
 * process, never the reverse). A new cycle fails the test; one that must stay for a while is
 * listed here with its reason, and removed once it is gone.
 */
const KNOWN_CYCLES: Record<string, string> = {};

/** Strongly connected components (size > 1) of a folder graph, each sorted, as 'a b c'. */
function cycles(graph: Map<string, Set<string>>): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[] = [];
  let n = 0;
  const visit = (v: string): void => {
    index.set(v, n); low.set(v, n); n++;
    stack.push(v); on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      for (;;) { const w = stack.pop()!; on.delete(w); scc.push(w); if (w === v) break; }
      if (scc.length > 1) out.push(scc.sort().join(' '));
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out.sort();
}

describe('structure: import boundaries', () => {
  const core = edges('core');

  it('core never imports modules/ or the composition root; core runtime files import only core', () => {
    const bad = core.filter((e) => under(e.target, 'modules') || under(e.target, 'main') || under(e.target, 'examples')
      || (!isTest(e.file) && !under(e.target, 'core')));
    expect(bad.map(show)).toEqual([]);
  });

  it('modules/ and examples/ import core only through core/index.ts (or core/thread.ts)', () => {
    const bad = [...edges('modules'), ...edges('examples')].filter((e) => under(e.target, 'core') && !PUBLIC.has(e.target));
    expect(bad.map(show)).toEqual([]);
  });

  it('runtime files of modules/ and examples/ import no test helpers', () => {
    const bad = [...edges('modules'), ...edges('examples')]
      .filter((e) => !isTest(e.file) && under(e.target, 'test'));
    // Test-only files that live beside their tests (a slapd fixture, a worker-thread ring peer) may use test/.
    const fixtures = new Set(['modules/ldap/fixture.ts', 'modules/pppoe_dpdk/ring-peer.ts']);
    expect(bad.filter((e) => !fixtures.has(e.file)).map(show)).toEqual([]);
  });

  it('no import cycle between core folders', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of core) {
      if (isTest(e.file) || !under(e.target, 'core')) continue;
      const from = e.file.split('/')[1]!;
      const to = e.target.split('/')[1]!;
      if (!to || from === to || from.includes('.') || to === 'index') continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)!.add(to);
    }
    expect(cycles(graph)).toEqual(Object.keys(KNOWN_CYCLES).sort());
  });

  it('detects what it is meant to detect', () => {
    // The checker itself: a core → modules edge and a two-folder cycle are seen.
    const g = new Map([['a', new Set(['b'])], ['b', new Set(['a', 'c'])], ['c', new Set<string>()]]);
    expect(cycles(g)).toEqual(['a b']);
    expect(under('modules/pap/pap', 'modules')).toBe(true);
    expect(under('modulesx/pap', 'modules')).toBe(false);
    const sample = code("import { x } from '../../modules/index';\n// import { y } from '../z';\n");
    expect([...sample.matchAll(IMPORT)].map((m) => m[1])).toEqual(['../../modules/index']);
  });
});
