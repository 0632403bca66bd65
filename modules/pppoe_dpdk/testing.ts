/**
 * Test helpers: run this folder's TypeScript worker entries in real worker threads without a build.
 *
 * vitest runs the tests from TypeScript sources, but `new Worker(file)` needs JavaScript. The worker made here
 * first installs a `.ts` loader serving JavaScript that the test process transpiled with the TypeScript compiler's
 * `transpileModule` (no decorators or DI are involved in these files, so nothing depends on decorator metadata),
 * then requires the entry. Production code uses the tsc build (`control-plane.ts` `defaultSpawner`). Not used at run time.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { LcoreSpawner } from './control-plane';

const LOADER = `
const Module = require('node:module');
const { workerData } = require('node:worker_threads');
const sources = workerData.__sources;
Module._extensions['.ts'] = (m, filename) => {
  if (!(filename in sources)) throw new Error('not transpiled for the worker: ' + filename);
  m._compile(sources[filename], filename);
};
require(workerData.__entry);
`;

const cache = new Map<string, string>();

/**
 * JavaScript for `entry` and every `.ts` file it imports by relative path, transpiled once per test process
 * (loading the TypeScript compiler in every worker takes seconds on a busy machine).
 */
function transpileClosure(entry: string): Record<string, string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof import('typescript');
  const out: Record<string, string> = {};
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    if (file in out) continue;
    const text = fs.readFileSync(file, 'utf8');
    let js = cache.get(file);
    if (js === undefined) {
      js = ts.transpileModule(text, {
        fileName: file,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, experimentalDecorators: true },
      }).outputText;
      cache.set(file, js);
    }
    out[file] = js;
    for (const m of js.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)) {
      const dep = path.resolve(path.dirname(file), m[1]!) + '.ts';
      if (fs.existsSync(dep)) todo.push(dep);
    }
  }
  return out;
}

/** A worker thread running the TypeScript file `entry` (absolute path) with `workerData`. */
export function tsWorker(entry: string, workerData: Record<string, unknown>, opts: WorkerOptions = {}): Worker {
  return new Worker(LOADER, { ...opts, eval: true, workerData: { ...workerData, __sources: transpileClosure(entry), __entry: entry } });
}

/** Spawns lcores from `lcore-worker.ts` (with worker options such as `resourceLimits`). */
export function tsLcoreSpawnerWith(opts: WorkerOptions): LcoreSpawner {
  return (data) => tsWorker(path.join(__dirname, 'lcore-worker.ts'), { ...data }, opts);
}

/** Spawns lcores from `lcore-worker.ts`. */
export const tsLcoreSpawner: LcoreSpawner = tsLcoreSpawnerWith({});
