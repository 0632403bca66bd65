import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Exec, envName, pairsToEnv, runProgram, splitCommand } from './exec';
import def from './index';
import { callCtx, loadTestModule, makeRequest, testDict, type TestModule } from '../../test/support/module-call';
import type { XlatRegistry } from '../../core';
import { compileTemplate } from '../../core';
import { printPairList } from '../../core';

/** An `exec { body }` instance loaded through the loader (`call` gets `program` through `env`). */
async function exec(body: string): Promise<{ m: TestModule<Exec>; reg: XlatRegistry }> {
  const m = await loadTestModule(def, body);
  return { m, reg: m.$set.xlats };
}

describe('exec', () => {
  it('splits commands and names environment variables like FreeRADIUS', () => {
    expect(splitCommand(`/bin/echo "a b" c 'd e'`)).toEqual(['/bin/echo', 'a b', 'c', 'd e']);
    expect(() => splitCommand('/bin/echo "a')).toThrow(/unterminated/);
    // An expansion stays one word, blanks and quotes inside it included (expanded per request later).
    expect(splitCommand(`/bin/x --u=%{Stripped-User-Name || User-Name || 'None'} --c=%mschap('Challenge') "%{A} b"`))
      .toEqual(['/bin/x', `--u=%{Stripped-User-Name || User-Name || 'None'}`, `--c=%mschap('Challenge')`, '%{A} b']);
    expect(() => splitCommand('/bin/echo %{User-Name')).toThrow(/unterminated expansion/);
    expect(envName('Calling-Station-Id')).toBe('CALLING_STATION_ID');
    expect(pairsToEnv(makeRequest('User-Name = "bob", NAS-Port = 7').request)).toEqual({ USER_NAME: 'bob', NAS_PORT: '7' });
  });
  it('%exec(program, args…) returns the output without trailing newlines; a non-zero exit fails', async () => {
    const { reg } = await exec('');
    const r = makeRequest('User-Name = "bob"');
    const t = compileTemplate(`%exec('/bin/echo', "%{User-Name} exec")`, { dict: testDict(), xlats: reg });
    expect(await t.expand(r)).toBe('bob exec');
    const bad = compileTemplate(`%exec('/bin/sh', '-c', 'exit 3')`, { dict: testDict(), xlats: reg });
    await expect(Promise.resolve().then(() => bad.expand(r))).rejects.toThrow(/returned code \(3\)/);
  });
  it('a section call maps the exit status to an rcode and reads output_pairs', async () => {
    const r = makeRequest('User-Name = "bob"');
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'exec-')), 'reply.sh');
    fs.writeFileSync(script, 'echo "Reply-Message = \\"hi $USER_NAME $1\\""\n');
    const ok = (await exec(`program = "/bin/sh ${script} %{User-Name}"\ninput_pairs = request\noutput_pairs = reply`)).m;
    expect(await ok.call(r, callCtx(r))).toBe('ok');
    expect(printPairList(r.reply)).toContain('Reply-Message = "hi bob bob"');
    fs.rmSync(path.dirname(script), { recursive: true, force: true });
    for (const [code, rc] of [[1, 'reject'], [4, 'handled'], [7, 'notfound'], [42, 'fail']] as const) {
      const m = (await exec(`program = "/bin/sh -c 'exit ${code}'"`)).m;
      expect(await m.call(r, callCtx(r))).toBe(rc);
    }
  });
  it('program: an unterminated quote is a located config error (so radiusd -C reports it); no program fails the call', async () => {
    await expect(exec('program = "/bin/echo \'a"')).rejects.toThrow(/^test\.conf\[2\]: exec \{ program \}: unterminated quote in program$/);
    const { m } = await exec('');
    const r = makeRequest('User-Name = "bob"');
    expect(await m.call(r, callCtx(r))).toBe('fail');
  });
  it('the timeout kills the program', async () => {
    const res = await runProgram(['/bin/sleep', '5'], { env: {}, timeout: 0.2, maxOutput: 100, wait: true });
    expect(res.status).toBeNull();
    expect(res.error).toMatch(/timed out/);
  });
  it('binds every section', () => {
    expect(def.methods['* *']).toBe('call');
  });
});
