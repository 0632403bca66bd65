import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { CryptPool } from './crypt-pool';
import def from './index';
import { callCtx, loadTestModule, makeRequest } from '../shared/testing';

// The pool runs compiled JavaScript; transpile the worker and what it imports into a temp dir.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crypt-pool-'));
for (const f of ['crypt-worker', 'crypt', 'des-crypt', 'bcrypt']) {
  const src = fs.readFileSync(path.join(__dirname, `${f}.ts`), 'utf8');
  const out = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
  fs.writeFileSync(path.join(dir, `${f}.js`), out.outputText);
}
const pools: CryptPool[] = [];
afterAll(async () => {
  for (const p of pools) await p.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
const pool = (n: number) => {
  const p = new CryptPool(n, path.join(dir, 'crypt-worker.js'));
  pools.push(p);
  return p;
};
const SHA512 = '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1';

describe('crypt pool', () => {
  it('verifies in worker threads', async () => {
    const p = pool(2);
    expect(p.available).toBe(true);
    const results = await Promise.all([
      p.verify(Buffer.from('Hello world!'), SHA512),
      p.verify(Buffer.from('Hello world'), SHA512),
      p.verify(Buffer.from('password'), 'abJnggxhB/yWI'),
      p.verify(Buffer.from('x'), '$y$j9T$abcdefghijklmnop$7asOTx5b6Exfl3myM6K0pLBn.I2hsEvu7G0F7NMfaO.'),
    ]);
    expect(results).toEqual([true, false, true, undefined]);
  });
  it('is unavailable without the compiled worker or with size 0', () => {
    expect(new CryptPool(1, path.join(dir, 'nope.js')).available).toBe(false);
    expect(new CryptPool(0, path.join(dir, 'crypt-worker.js')).available).toBe(false);
  });
  it('pap yields for crypt checks and keeps the event loop free', async () => {
    const m = await loadTestModule(def, 'crypt_workers = 0');
    m.useCryptPool(pool(1));
    const r = makeRequest('User-Password = "Hello world!"', { control: `Password.Crypt := "${SHA512}"` });
    const res = m.authenticate(r, callCtx(r, { name1: 'authenticate', name2: 'pap' }));
    expect(res).toBeInstanceOf(Promise);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    expect(await res).toBe('ok');
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
    const bad = makeRequest('User-Password = "nope"', { control: `Password.Crypt := "${SHA512}"` });
    expect(await m.authenticate(bad, callCtx(bad, { name1: 'authenticate', name2: 'pap' }))).toBe('reject');
    await m.detach();
  });
});
