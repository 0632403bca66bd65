/**
 * pap's crypt checks in worker threads through the core pool service (WORKER_POOLS). The
 * threads run compiled JavaScript: the worker script and what it imports are transpiled into
 * a temp dir with the repository layout, and the pool service is pointed there.
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerPools, type TaskPool } from '../../core';
import def from './index';
import { callCtx, loadTestModule, makeRequest } from '../../test/support/module-call';

const repo = path.resolve(__dirname, '..', '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crypt-pool-'));
for (const f of ['modules/pap/crypt-worker', 'modules/pap/crypt', 'modules/pap/des-crypt', 'modules/pap/bcrypt', 'core/thread', 'core/workers/task']) {
  const src = fs.readFileSync(path.join(repo, `${f}.ts`), 'utf8');
  const out = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
  fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
  fs.writeFileSync(path.join(dir, `${f}.js`), out.outputText);
}

/** The real pool service, with scripts looked up in the transpiled tree instead of beside the sources. */
class CompiledPools extends WorkerPools {
  opened: string[] = [];
  override open<J, R>(file: string, size: number): TaskPool<J, R> {
    this.opened.push(path.relative(repo, file));
    return super.open<J, R>(path.join(dir, path.relative(repo, file)), size);
  }
}
const pools = new CompiledPools();
afterAll(async () => {
  await pools.closeAll();
  fs.rmSync(dir, { recursive: true, force: true });
});
const SHA512 = '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1';

const pap = (body = '', name = 'pap') => loadTestModule(def, body, { name, workers: pools });

describe('pap crypt checks in worker threads', () => {
  it('pap yields for crypt checks and keeps the event loop free', async () => {
    const m = await pap('crypt_workers = 1');
    expect(pools.opened).toEqual(['modules/pap/crypt-worker.js']);
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
    const yescrypt = makeRequest('User-Password = "x"', { control: 'Password.Crypt := "$y$j9T$abcdefghijklmnop$7asOTx5b6Exfl3myM6K0pLBn.I2hsEvu7G0F7NMfaO."' });
    expect(await m.authenticate(yescrypt, callCtx(yescrypt, { name1: 'authenticate', name2: 'pap' }))).not.toBe('ok');
    await m.detach();
    expect(pools.scripts()).toEqual([]);
  });

  it('two instances share the threads; crypt_workers = 0 verifies on the event loop', async () => {
    const a = await pap('crypt_workers = 2', 'pap_a');
    const b = await pap('crypt_workers = 1', 'pap_b');
    expect(pools.scripts()).toHaveLength(1);
    const r = makeRequest('User-Password = "password"', { control: 'Password.Crypt := "abJnggxhB/yWI"' });
    expect(await b.authenticate(r, callCtx(r, { name1: 'authenticate', name2: 'pap' }))).toBe('ok');
    await a.detach();
    expect(pools.scripts()).toHaveLength(1);
    await b.detach();
    expect(pools.scripts()).toHaveLength(0);
    const sync = await pap('crypt_workers = 0', 'pap_sync');
    const s = makeRequest('User-Password = "password"', { control: 'Password.Crypt := "abJnggxhB/yWI"' });
    expect(sync.authenticate(s, callCtx(s, { name1: 'authenticate', name2: 'pap' }))).toBe('ok');
    await sync.detach();
  });
});
