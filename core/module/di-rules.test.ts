/**
 * Presubmit-style checks of the DI rules (aesthetics.md §4.4), by reading the source tree:
 *
 * - only `core/module/` and `core/cli/` import tsyringe's global `container`
 *   (nor may anything else take the whole namespace: `import * as t from 'tsyringe'`);
 * - in `modules/**` and `examples/**` (non-test sources), every constructor parameter of an `@injectable()`
 *   class has an explicit `@inject(TOKEN)` (builtins.test.ts checks the same at run time for
 *   every `impl` in `modules/index.ts`), and the container-driven decorators `@singleton`, `@scoped`,
 *   `@autoInjectable` and `@registry` are not used.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(__dirname, '..', '..');
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', 'coverage']);

function walk(dir: string, out: string[] = []): string[] {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (SKIP_DIRS.has(e.name) || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.(c|m)?[tj]s$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const rel = (p: string): string => path.relative(repo, p).split(path.sep).join('/');

/** Comments removed (roughly: enough that commented-out code and TSDoc do not count). */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** Violations of the global-container rule in one file's text. */
export function containerImports(src: string): string[] {
  const text = stripComments(src);
  const found: string[] = [];
  for (const m of text.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s*from\s*['"]tsyringe['"]/g)) {
    if (m[1]) continue;
    const names = m[2].split(',').map((s) => s.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]);
    if (names.includes('container')) found.push(m[0].replace(/\s+/g, ' '));
  }
  for (const m of text.matchAll(/import\s+\*\s+as\s+\w+\s+from\s*['"]tsyringe['"]/g)) found.push(m[0]);
  for (const m of text.matchAll(/require\(\s*['"]tsyringe['"]\s*\)(\s*\.\s*container\b)?/g)) found.push(m[0]);
  for (const m of text.matchAll(/\{([^}]*)\}\s*=\s*require\(\s*['"]tsyringe['"]\s*\)/g)) {
    if (/\bcontainer\b/.test(m[1])) found.push(m[0]);
  }
  return found;
}

/**
 * Constructor parameters without `@inject(` in the `@injectable()` classes of one file's
 * text (other classes are internals built with `new`; the loader never resolves them).
 */
export function uninjectedParams(src: string): string[] {
  const text = stripComments(src);
  const bad: string[] = [];
  const ctors: RegExpMatchArray[] = [];
  for (const cls of text.matchAll(/@injectable\(\s*\)\s*(export\s+)?(default\s+)?class\b/g)) {
    const rest = text.slice(cls.index!);
    const skip = cls[0].length;
    const next = rest.slice(skip).search(/\n(export\s+)?(default\s+)?(abstract\s+)?class\b|@injectable\(/);
    const body = next < 0 ? rest : rest.slice(0, next + skip);
    const m = /\bconstructor\s*\(/.exec(body);
    if (m) ctors.push(Object.assign([m[0]], { index: cls.index! + m.index }) as RegExpMatchArray);
  }
  for (const m of ctors) {
    let depth = 1;
    let i = m.index! + m[0].length;
    const start = i;
    for (; i < text.length && depth > 0; i++) {
      const c = text[i];
      if (c === '(' || c === '{' || c === '[' || c === '<') depth++;
      else if (c === ')' || c === '}' || c === ']' || (c === '>' && text[i - 1] !== '=')) depth--;
    }
    const params = text.slice(start, i - 1);
    // Split at top-level commas.
    let d = 0;
    let cur = '';
    const parts: string[] = [];
    for (let k = 0; k < params.length; k++) {
      const c = params[k];
      if (c === '(' || c === '{' || c === '[' || c === '<') d++;
      else if (c === ')' || c === '}' || c === ']' || (c === '>' && params[k - 1] !== '=')) d--;
      if (c === ',' && d === 0) { parts.push(cur); cur = ''; } else cur += c;
    }
    parts.push(cur);
    for (const p of parts.map((s) => s.trim()).filter(Boolean)) {
      if (!p.includes('@inject(')) bad.push(p.replace(/\s+/g, ' '));
    }
  }
  return bad;
}

describe('DI rules', () => {
  const files = ['core', 'modules', 'test', 'bench', 'examples', 'bin', 'scripts'].flatMap((d) => walk(path.join(repo, d)));

  it('finds the tree', () => {
    expect(files.some((f) => rel(f) === 'core/module/loader.ts')).toBe(true);
  });

  it('only core/module/ and core/cli/ import the global tsyringe container', () => {
    const offenders: string[] = [];
    for (const f of files) {
      const r = rel(f);
      if (r.startsWith('core/module/') || r.startsWith('core/cli/')) continue;
      for (const hit of containerImports(fs.readFileSync(f, 'utf8'))) offenders.push(`${r}: ${hit}`);
    }
    expect(offenders).toEqual([]);
  });

  it('module constructors inject every parameter with an explicit token', () => {
    const offenders: string[] = [];
    for (const f of files) {
      const r = rel(f);
      if (!(r.startsWith('modules/') || r.startsWith('examples/')) || /\.test\.[tj]s$/.test(r)) continue;
      const src = fs.readFileSync(f, 'utf8');
      for (const p of uninjectedParams(src)) offenders.push(`${r}: constructor parameter "${p}" lacks @inject(TOKEN)`);
      for (const m of stripComments(src).matchAll(/@(singleton|scoped|autoInjectable|registry)\s*\(/g)) {
        offenders.push(`${r}: @${m[1]}() is not allowed in modules (the loader builds instances)`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the checks catch what they should', () => {
    expect(containerImports("import { container, inject } from 'tsyringe';")).toHaveLength(1);
    expect(containerImports("import { inject, container as c } from 'tsyringe';")).toHaveLength(1);
    expect(containerImports("import * as ts from 'tsyringe';")).toHaveLength(1);
    expect(containerImports("const { container } = require('tsyringe');")).toHaveLength(2);
    expect(containerImports("import { inject, injectable } from 'tsyringe';\n// import { container } from 'tsyringe'")).toEqual([]);
    expect(containerImports("import type { DependencyContainer } from 'tsyringe';")).toEqual([]);
    const inj = (ctor: string): string => `@injectable()\nexport class M {\n  x = 1;\n  ${ctor}\n}\n`;
    expect(uninjectedParams(inj('constructor(@inject(A) private a: A, private b: Map<string, number>) {}'))).toEqual(['private b: Map<string, number>']);
    expect(uninjectedParams(inj('constructor(\n  @inject(MODULE_CONFIG) readonly c: C,\n  @inject(MODULE_LOG) readonly log: Logger,\n) {}'))).toEqual([]);
    expect(uninjectedParams(inj('constructor() { super(); }'))).toEqual([]);
    expect(uninjectedParams(inj('constructor(@inject(A) a: A, f = (x: number) => x, @inject(B) b: B) {}'))).toEqual(['f = (x: number) => x']);
    // plain helper classes are not resolved by the container
    expect(uninjectedParams('export class Helper {\n  constructor(readonly path: string) {}\n}\n' + inj('constructor(@inject(A) a: A) {}'))).toEqual([]);
    expect(uninjectedParams(inj('constructor(@inject(A) a: A) {}') + 'class Helper {\n  constructor(readonly path: string) {}\n}\n')).toEqual([]);
  });
});
