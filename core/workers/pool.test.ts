/**
 * Worker pools with real threads. The threads run compiled JavaScript: `task.ts` is transpiled
 * into a temp dir beside a small job script.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerPools } from './pool';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-pool-'));
const src = fs.readFileSync(path.join(__dirname, 'task.ts'), 'utf8');
fs.writeFileSync(path.join(dir, 'task.js'),
  ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText);
const script = path.join(dir, 'job.js');
fs.writeFileSync(script, `
const { threadId } = require('node:worker_threads');
require('./task.js').serveTasks(async (job) => {
  if (job.fail) throw new Error('job failed: ' + job.fail);
  let x = 0;
  for (let i = 0; i < job.spin; i++) x += i;
  return { sum: job.a + job.b, thread: threadId, x };
});
`);
const pools = new WorkerPools();
afterAll(async () => {
  await pools.closeAll();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('worker pools', () => {
  it('runs jobs in threads, spreads them round-robin and reports handler errors', async () => {
    const p = pools.open<{ a: number; b: number; spin: number; fail?: string }, { sum: number; thread: number }>(script, 2);
    expect(p.available).toBe(true);
    const out = await Promise.all([1, 2, 3, 4].map((a) => p.run({ a, b: 10, spin: 1000 })));
    expect(out.map((r) => r.sum)).toEqual([11, 12, 13, 14]);
    expect(new Set(out.map((r) => r.thread)).size).toBe(2);
    await expect(p.run({ a: 0, b: 0, spin: 0, fail: 'boom' })).rejects.toThrow('job failed: boom');
    await p.close();
    await expect(p.run({ a: 1, b: 1, spin: 0 })).rejects.toThrow(/closed/);
    expect(pools.scripts()).toEqual([]);
  });

  it('shares one pool per script between handles; the threads stop with the last handle', async () => {
    const a = pools.open<{ a: number; b: number; spin: number }, { sum: number }>(script, 1);
    const b = pools.open<{ a: number; b: number; spin: number }, { sum: number }>(script, 1);
    expect(pools.scripts()).toEqual([script]);
    expect((await a.run({ a: 1, b: 2, spin: 0 })).sum).toBe(3);
    await a.close();
    // A reload: the new instance's handle keeps the threads while the old one detaches.
    expect(b.available).toBe(true);
    expect((await b.run({ a: 2, b: 2, spin: 0 })).sum).toBe(4);
    await b.close();
    expect(pools.scripts()).toEqual([]);
  });

  it('is unavailable with size 0 or without the script', async () => {
    const none = pools.open(path.join(dir, 'missing.js'), 1);
    const zero = pools.open(script, 0);
    expect(none.available).toBe(false);
    expect(zero.available).toBe(false);
    await none.close();
    await zero.close();
  });
});
