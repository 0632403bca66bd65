/**
 * Module contract v2, through the real loader: `validate` (also under checkOnly, as radiusd -C
 * runs it), typed `dict` handles, `deps`, the `env` forms, and `instantiate_timeout`.
 */
import 'reflect-metadata';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('../../modules/index', () => ({ BUILTIN_MODULES: [] }));

import { findSection } from '../config/ast';
import { ConfError } from '../config/errors';
import { parseConfigString } from '../config/parser';
import { loadDefaultDictionary } from '../dict/default';
import { MemoryLogger } from '../log/memory';
import { createRootContainer } from './container';
import { loadModules, type LoadModulesOptions, type ModuleSet } from './loader';
import { ModuleError } from './errors';
import {
  chain, checked, Checked, EnvForms, envEcho, envForms, recorder, recorderEvents, Recorder, slow, slowGate, user, User,
} from '../../test/support/module';
import { callCtx, makeRequest } from '../../test/support/module-call';
import { compileTemplate } from '../unlang/tmpl';

const dict = loadDefaultDictionary();
const FILE = path.join('/tmp', 'v2', 'radiusd.conf');
const sets: ModuleSet[] = [];
afterEach(async () => { for (const s of sets.splice(0)) await s.detachAll(); });
beforeEach(() => { recorderEvents.length = 0; });

async function load(body: string, extra: Partial<LoadModulesOptions> = {}, log = new MemoryLogger(false)): Promise<ModuleSet> {
  const root = createRootContainer({ dict, log });
  const section = findSection(parseConfigString(`modules {\n${body}\n}\n`, FILE), 'modules');
  const set = await loadModules({ section, root, registry: [recorder, checked, user, chain, envEcho, envForms, slow], ...extra });
  sets.push(set);
  return set;
}

async function loadError(body: string, extra: Partial<LoadModulesOptions> = {}): Promise<ConfError> {
  const e = await load(body, extra).then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(ConfError);
  return e as ConfError;
}

const ACCESS = { name1: 'recv', name2: 'Access-Request' };

describe('validate', () => {
  it('a cross-item rule is a located error naming module, instance and item; the same with checkOnly (radiusd -C)', async () => {
    const body = 'checked c1 {\n\tmode = b\n}';
    const start = await loadError(body);
    const check = await loadError(body, { checkOnly: true });
    expect(start.message).toBe('/tmp/v2/radiusd.conf[3]: checked c1 { mode }: mode = b needs a peer');
    expect(check.message).toBe(start.message);
    expect(start.code).toBe('ERR_CONF_VALUE');
  });
  it('a nested item is located at its line; a missing one at its section', async () => {
    expect((await loadError('checked {\n\tsub {\n\t\tn = 9\n\t}\n}')).message)
      .toBe('/tmp/v2/radiusd.conf[4]: checked { sub { n } }: at most 5, got 9');
  });
  it('detaches what was bootstrapped when validate fails', async () => {
    await loadError('recorder r { }\nchecked {\n\tmode = b\n}');
    expect(recorderEvents).toEqual(['bootstrap r', 'detach checked', 'detach r']);
  });
  it('a valid config loads', async () => {
    const set = await load('checked {\n\tmode = b\n\tpeer = x\n}');
    expect(set.get('checked')!.state).toBe('instantiated');
  });
});

describe('dict handles (MODULE_DICT)', () => {
  it('injects the resolved attributes under the declared keys; an optional missing one is undefined', async () => {
    const set = await load('checked { }');
    const m = set.get('checked')!.instance as Checked;
    expect(m.da.user).toBe(dict.resolve('User-Name'));
    expect(m.da.reply).toBe(dict.resolve('Reply-Message'));
    expect(m.da.missing).toBeUndefined();
    expect(Object.isFrozen(m.da)).toBe(true);
  });
});

describe('deps (MODULE_DEPS)', () => {
  it('injects the named instance and instantiates it first, whatever the config order', async () => {
    const set = await load('user u {\n\tstore = r2\n}\nrecorder r1 { }\nrecorder r2 { }');
    expect(recorderEvents.filter((e) => e.startsWith('instantiate'))).toEqual(['instantiate r2', 'instantiate u (store r2)', 'instantiate r1']);
    const u = set.get('u')!.instance as User;
    expect(u.deps.store).toBe(set.get('r2')!.instance);
    const r = makeRequest('User-Name = "bob"');
    expect(set.handle('u')!.method(ACCESS)!(r, callCtx(r, ACCESS))).toBe('ok');
    expect((set.get('r2')!.instance as Recorder).count).toBe(1);
    expect(set.list().map((m) => m.name)).toEqual(['u', 'r1', 'r2']);
    recorderEvents.length = 0;
    await set.detachAll();
    expect(recorderEvents).toEqual(['detach r1', 'detach r2']);
  });
  it('without the naming item: the instance named like the module', async () => {
    const set = await load('recorder { }\nuser { }');
    expect((set.get('user')!.instance as User).deps.store).toBe(set.get('recorder')!.instance);
  });
  it('a missing instance, an instance of another module, a cycle: located ERR_MODULE_DEPENDENCY', async () => {
    const missing = await loadError('user u {\n\tstore = nope\n}');
    expect(missing).toBeInstanceOf(ModuleError);
    expect((missing as ModuleError).moduleCode).toBe('ERR_MODULE_DEPENDENCY');
    expect(missing.message).toBe('/tmp/v2/radiusd.conf[3]: user u { store }: needs a "recorder" instance named "nope" (deps.store), which "modules { }" does not configure');
    const wrong = await loadError('checked c { }\nuser u {\n\tstore = c\n}');
    expect(wrong.message).toBe('/tmp/v2/radiusd.conf[4]: user u { store }: instance "c" is a "checked" module, deps.store needs "recorder"');
    const cycle = await loadError('chain a {\n\tnext = b\n}\nchain b {\n\tnext = a\n}');
    expect(cycle.message).toMatch(/^\/tmp\/v2\/radiusd\.conf\[\d\]: chain [ab]: dependency cycle: (a → b → a|b → a → b)$/);
    expect((await loadError('chain a {\n\tnext = a\n}')).message).toMatch(/deps\.next names the instance itself/);
  });
});

describe('env forms', () => {
  it('strftime and escape on a value, a template handed over, sections of templates; constants cost nothing per call', async () => {
    const set = await load('env_forms {\n\tlines {\n\t\tAccess-Accept = "yes %{User-Name}"\n\t\tsub {\n\t\t\tx = \'lit %{x}\'\n\t\t}\n\t}\n\tother {\n\t\ty = "%{No-Such-Attr}"\n\t}\n}');
    const m = set.get('env_forms')!.instance as EnvForms;
    const r = makeRequest('User-Name = "a/b"');
    expect(set.handle('env_forms')!.method(ACCESS)!(r, callCtx(r, ACCESS))).toBe('ok');
    const env = m.seen[0];
    expect(env.file).toBe(`/x/a_b-${new Date(r.received * 1000).getFullYear()}`);
    expect('unset' in env).toBe(false);
    expect(env.line!.isConstant).toBe(false);
    expect(env.line!.canYield).toBe(false);
    expect(env.line!.expand(r)).toBe('line a/b');
    expect([...env.lines.keys()]).toEqual(['lines.access-accept', 'lines.sub.x']);
    expect(env.lines.get('lines.access-accept')!.expand(r)).toBe('yes a/b');
    expect(env.lines.get('lines.sub.x')!.expand(r)).toBe('lit %{x}');
    expect(m.compiled!.call!.line).toBe(env.line);
  });
  it('attrRef: an unquoted attribute name is a reference, used raw; quoted text is a string; split gives expanded words', async () => {
    const r = makeRequest('User-Name = "a/b", NAS-Port = 7');
    const env = async (ref: string) => {
      const set = await load(`env_forms {\n\tref = ${ref}\n\targv = "/bin/x %{User-Name} y"\n\tlines {\n\t\tr = NAS-Port\n\t\tw = word\n\t}\n}`);
      const m = set.get('env_forms')!.instance as EnvForms;
      set.handle('env_forms')!.method(ACCESS)!(r, callCtx(r, ACCESS));
      return m.seen[0];
    };
    const bare = await env('User-Name');
    expect(bare.ref).toBe('a/b');
    expect(bare.argv).toEqual(['/bin/x', 'a/b', 'y']);
    expect(bare.lines.get('lines.r')!.expand(r)).toBe('7');
    expect(bare.lines.get('lines.w')!.expand(r)).toBe('word');
    expect((await env('"User-Name"')).ref).toBe('User-Name');
    expect((await env('"%{User-Name}"')).ref).toBe('a_b');
  });
  it('a split error is located at its item (also with checkOnly)', async () => {
    for (const checkOnly of [false, true]) {
      const e = await load('env_forms {\n\targv = \'say "hi"\'\n}', { checkOnly }).then(() => undefined, (x: unknown) => x as Error);
      expect(e?.message).toBe('/tmp/v2/radiusd.conf[3]: env_forms { argv }: no quotes here');
    }
  });
  it('a bad template in a section is located at its line (also with checkOnly)', async () => {
    const body = 'env_forms {\n\tlines {\n\t\tok = "fine"\n\t\tbad = "%{No-Such-Attr}"\n\t}\n}';
    for (const checkOnly of [false, true]) {
      const e = await load(body, { checkOnly }).then(() => undefined, (x: unknown) => x as Error);
      expect(e?.message).toMatch(/^\/tmp\/v2\/radiusd\.conf\[5\]: env_forms \{ lines \{ bad \} \}: .*No-Such-Attr/);
    }
  });
  it('a bad template names its setting: file[line]: setting: message (also with checkOnly)', async () => {
    for (const checkOnly of [false, true]) {
      const e = await load('env_forms f {\n\tline = "x %{No-Such-Attr}"\n}', { checkOnly }).then(() => undefined, (x: unknown) => x as Error);
      expect(e?.message).toMatch(/^\/tmp\/v2\/radiusd\.conf\[3\]: env_forms f \{ line \}: \S.*No-Such-Attr/);
      const w = await load('env_forms {\n\targv = "/bin/x %{No-Such-Attr}"\n}', { checkOnly }).then(() => undefined, (x: unknown) => x as Error);
      expect(w?.message).toMatch(/^\/tmp\/v2\/radiusd\.conf\[3\]: env_forms \{ argv \}: \S.*No-Such-Attr/);
    }
  });
  it('a yielding expansion makes the call yield, and gets the call\'s signal', async () => {
    const set = await load('env_echo e {\n\tmsg = "%e.slow()"\n}');
    const r = makeRequest('User-Name = "bob"');
    const ac = new AbortController();
    let asked = 0;
    const ctx = callCtx(r, ACCESS, { signal: ac.signal });
    const spy = new Proxy(ctx, { get: (t, p, rc) => { if (p === 'signal') asked++; return Reflect.get(t, p, rc); } });
    const res = set.handle('e')!.method(ACCESS)!(r, spy);
    expect(res).toBeInstanceOf(Promise);
    expect(await res).toBe('ok');
    expect(asked).toBe(1);
  });
});

describe('templates report whether they can yield', () => {
  it('constants, attribute references and strftime never yield; a function call may; pure functions do not', async () => {
    const set = await load('env_echo e { }');
    const c = (t: string, strftime = false) => compileTemplate(t, { dict, xlats: set.xlats, strftime });
    expect(c('plain').isConstant).toBe(true);
    expect(c('plain').canYield).toBe(false);
    expect(c('%{User-Name}').canYield).toBe(false);
    expect(c('%Y-%m %{User-Name}', true).canYield).toBe(false);
    expect(c('%e.slow()').canYield).toBe(true);
    expect(c('x %{User-Name || "%e.slow()"}').canYield).toBe(true);
    expect(c('%str.upper(%{User-Name})').canYield).toBe(!set.xlats.get('str.upper')?.pure);
  });
});

describe('instantiate_timeout', () => {
  it('a module whose instantiate hangs starts anyway, fails calls fast, and serves once instantiate finishes', async () => {
    const log = new MemoryLogger(false);
    const set = await load('slow s {\n\tinstantiate_timeout = 50ms\n}\nrecorder r { }', {}, log);
    expect(set.get('s')!.pending).toBe(true);
    expect(set.get('r')!.state).toBe('instantiated');
    expect(log.text().join('\n')).toMatch(/s: instantiate did not finish within 0\.05s .*calls fail until it finishes/);
    const r = makeRequest('User-Name = "bob"');
    const call = () => set.handle('s')!.method(ACCESS)!(r, callCtx(r, ACCESS));
    expect(call()).toBe('fail');
    slowGate.get('s')!.release();
    await new Promise((res) => setImmediate(res));
    expect(set.get('s')!.pending).toBe(false);
    expect(call()).toBe('ok');
    expect(log.text().join('\n')).toMatch(/s: instantiate finished; calls are served/);
  });
  it('a late failure keeps calls failing; detach aborts a pending instantiate', async () => {
    const log = new MemoryLogger(false);
    const set = await load('slow a {\n\tinstantiate_timeout = 20ms\n}\nslow b {\n\tinstantiate_timeout = 20ms\n}', {}, log);
    slowGate.get('a')!.fail(new Error('no route to host'));
    await new Promise((res) => setImmediate(res));
    const r = makeRequest('User-Name = "bob"');
    expect(set.handle('a')!.method(ACCESS)!(r, callCtx(r, ACCESS))).toBe('fail');
    expect(log.text().join('\n')).toMatch(/a: instantiate failed after the start: no route to host; calls keep failing/);
    const b = slowGate.get('b')!;
    expect(b.signal.aborted).toBe(false);
    await set.detachAll();
    expect(b.signal.aborted).toBe(true);
  });
  it('default: a few seconds; a bad value is a located error', async () => {
    expect((await loadError('slow s {\n\tinstantiate_timeout = soon\n}')).message).toMatch(/^\/tmp\/v2\/radiusd\.conf\[3\]: slow s \{ instantiate_timeout \}: /);
  });
});
