import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';

// Keep these tests independent of the built-in modules (written in parallel).
vi.mock('../../modules/index', () => ({ BUILTIN_MODULES: [] }));

import { findSection, type ConfSection } from '../config/ast';
import { ConfError } from '../config/errors';
import { parseConfigString } from '../config/parser';
import { conf } from '../config/schema';
import { loadDefaultDictionary } from '../dict/default';
import { MemoryLogger } from '../log/memory';
import { createRootContainer } from './container';
import { defineModule, type ModuleInstance } from './define';
import type { MapResult } from '../unlang/module-call';
import { Request } from '../request/request';
import { Pair } from '../pair/pair';
import { compileUnlang, runSection } from '../unlang/index';
import { ModuleError } from './errors';
import { loadModules, type LoadModulesOptions } from './loader';
import { BoundModule } from './binding';
import { MODULE_NAME } from './tokens';
import { envBad, envEcho, EnvEcho, needsMissing, recorder, recorderEvents, Recorder, type RecorderConfig } from '../../test/support/module';
import { callCtx, makeRequest } from '../../test/support/module-call';
import { CompileError } from '../unlang/compile/errors';

const dict = loadDefaultDictionary();
const events = recorderEvents;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-loader-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function modulesSection(body: string, file = path.join(tmp, 'radiusd.conf')): ConfSection {
  const root = parseConfigString(`modules {\n${body}\n}\n`, file);
  return findSection(root, 'modules')!;
}

async function load(body: string, extra: Partial<LoadModulesOptions> = {}, log = new MemoryLogger(false)) {
  const root = createRootContainer({ dict, log });
  return loadModules({ section: modulesSection(body), root, registry: [recorder, needsMissing, envEcho, envBad], ...extra });
}

async function loadError(body: string, extra: Partial<LoadModulesOptions> = {}): Promise<ConfError> {
  try {
    await load(body, extra);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfError);
    return e as ConfError;
  }
  throw new Error('expected an error');
}

beforeEach(() => { events.length = 0; });

describe('lifecycle', () => {
  it('bootstraps all, then instantiates all in config order; detaches in reverse', async () => {
    const set = await load('recorder a { }\nrecorder b { }\nrecorder c { }');
    expect(events).toEqual(['bootstrap a', 'bootstrap b', 'bootstrap c', 'instantiate a', 'instantiate b', 'instantiate c']);
    expect(set.list().map((m) => [m.name, m.state])).toEqual([['a', 'instantiated'], ['b', 'instantiated'], ['c', 'instantiated']]);
    events.length = 0;
    await set.detachAll();
    await set.detachAll(); // idempotent
    expect(events).toEqual(['detach c', 'detach b', 'detach a']);
    expect(set.handle('a')).toBeUndefined();
    expect(() => set.get('a')!.container.resolve(MODULE_NAME)).toThrow(/disposed/);
  });

  it('detaches the instantiated ones and the failing one, in reverse, when instantiate throws', async () => {
    const e = await loadError('recorder a { }\nrecorder b {\n fail = instantiate\n}\nrecorder c { }');
    expect(events).toEqual([
      'bootstrap a', 'bootstrap b', 'bootstrap c',
      'instantiate a', 'instantiate b',
      'detach b', 'detach a',
    ]);
    expect(e).toBeInstanceOf(ModuleError);
    expect((e as ModuleError).moduleCode).toBe('ERR_MODULE_INSTANTIATE');
    expect(e.message).toBe(`${path.join(tmp, 'radiusd.conf')}[3]: recorder b: instantiate failed: instantiate boom`);
    expect((e as Error & { cause?: Error }).cause?.message).toBe('instantiate boom');
  });

  it('detaches the bootstrapped ones and the failing one when bootstrap throws', async () => {
    const e = await loadError('recorder a { }\nrecorder b {\n fail = bootstrap\n}\nrecorder c { }');
    expect(events).toEqual(['bootstrap a', 'bootstrap b', 'detach b', 'detach a']);
    expect(e.code).toBe('ERR_MODULE_BOOTSTRAP');
  });

  it('logs detach errors and goes on', async () => {
    const log = new MemoryLogger(false);
    const set = await load('recorder a { }\nrecorder b {\n fail = detach\n}', {}, log);
    await set.detachAll();
    expect(events.slice(-2)).toEqual(['detach b', 'detach a']);
    expect(log.text()).toContain('b: detach failed: detach boom');
  });

  it('accepts a triggers { } section in any instance, with a located warning', async () => {
    const log = new MemoryLogger(false);
    const set = await load('recorder a {\n triggers {\n  foo = "bar"\n }\n}', {}, log);
    expect(log.text().join('\n')).toMatch(/radiusd\.conf\[3\]: recorder a \{ triggers \}: triggers are not run by this server/);
    await set.detachAll();
  });

  it('FreeRADIUS pool items the module\'s pool schema lacks are left out with a located warning; its own items still parse', async () => {
    class Pooled implements ModuleInstance {}
    const pooled = defineModule({
      name: 'pooled', kind: 'rlm', impl: Pooled, methods: {},
      config: conf.section({ pool: conf.subsection({ max: conf.integer({ default: 4, min: 1 }) }) }),
    });
    const log = new MemoryLogger(false);
    const set = await load('pooled {\n pool {\n  max = 2\n  connecting = 2\n  connection {\n   reconnect_delay = 1\n  }\n  nonsense = 1\n }\n}', { registry: [pooled] }, log)
      .catch((e: Error) => e);
    // An item that is no FreeRADIUS pool item is still an error.
    expect((set as Error).message).toMatch(/radiusd\.conf\[9\]: pooled \{ pool \{ nonsense \} \}: unknown item/);
    const ok = await load('pooled {\n pool {\n  max = 2\n  connecting = 2\n  connection {\n   reconnect_delay = 1\n  }\n }\n}', { registry: [pooled] }, log);
    const text = log.text().join('\n');
    expect(text).toMatch(/radiusd\.conf\[5\]: pooled \{ pool \{ connecting \} \}: a FreeRADIUS connection-pool item this module does not use/);
    expect(text).toMatch(/radiusd\.conf\[6\]: pooled \{ pool \{ connection \} \}/);
    expect((ok.get('pooled')!.config as { pool: { max: number } }).pool.max).toBe(2);
    await ok.detachAll();
  });

  it('checkOnly stops after bootstrap', async () => {
    const set = await load('recorder a { }', { checkOnly: true });
    expect(events).toEqual(['bootstrap a']);
    await set.detachAll();
    expect(events).toEqual(['bootstrap a', 'detach a']);
  });

  it('deep-freezes config after instantiate', async () => {
    const set = await load('recorder a {\n list = x\n list = y\n sub {\n n = 3\n }\n}');
    const cfg = set.get('a')!.config as RecorderConfig;
    expect(cfg.sub.n).toBe(3);
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.sub)).toBe(true);
    expect(Object.isFrozen(cfg.list)).toBe(true);
    expect(() => { (cfg as { greeting: string }).greeting = 'x'; }).toThrow(TypeError);
    // the instance holds the same (frozen) object
    expect((set.get('a')!.instance as Recorder).config).toBe(cfg);
    await set.detachAll();
  });
});

describe('child containers', () => {
  it('give every instance its own config, name, logger and state', async () => {
    const log = new MemoryLogger(true);
    const set = await load('recorder one {\n greeting = hello\n}\nrecorder two {\n greeting = bye\n}', {}, log);
    const one = set.get('one')!.instance as Recorder;
    const two = set.get('two')!.instance as Recorder;
    expect(one).not.toBe(two);
    expect(one.config.greeting).toBe('hello');
    expect(two.config.greeting).toBe('bye');
    one.log.info('x');
    two.log.info('y');
    expect(log.text().slice(-2)).toEqual(['one: x', 'two: y']);
    const m = set.handle('one')!.method({ name1: 'recv', name2: 'Access-Request' })!;
    m(undefined as never, undefined as never);
    m(undefined as never, undefined as never);
    expect(one.count).toBe(2);
    expect(two.count).toBe(0);
    // xlats registered in bootstrap land in the generation's registry
    expect(set.xlats.get('one.greeting')).toBeDefined();
    expect(set.xlats.get('two.greeting')).toBeDefined();
    await set.detachAll();
  });

  it('instance names: name1 alone, or name2', async () => {
    const set = await load('recorder { }\nrecorder other { }');
    expect(set.list().map((m) => m.name)).toEqual(['recorder', 'other']);
    expect(set.get('recorder')!.definition.name).toBe('recorder');
    await set.detachAll();
  });

  it('rejects duplicate instance names', async () => {
    const e = await loadError('recorder { }\nrecorder recorder { }');
    expect(e.code).toBe('ERR_MODULE_DUPLICATE');
    expect(e.line).toBe(3);
  });
});

describe('bindings', () => {
  it('resolve exact, then name1 *, then * *; named methods', async () => {
    const set = await load('recorder { }');
    const h = set.handle('recorder')!;
    const call = (name1: string, name2?: string, method?: string) => h.method({ name1, name2 }, method)?.(undefined as never, undefined as never);
    expect(call('recv', 'Access-Request')).toBe('ok');
    expect(call('recv', 'access-request')).toBe('ok');
    expect(call('authenticate', 'PAP')).toBe('handled');
    expect(call('accounting', 'Start')).toBe('updated');
    expect(call('accounting', 'Stop')).toBe('noop');
    expect(call('send', 'Access-Accept')).toBe('noop');
    expect(call('unlang')).toBe('noop');
    // explicit instance.method: a named method, or a section name1
    expect(call('send', 'Access-Accept', 'auth')).toBe('handled');
    expect(call('recv', 'Access-Request', 'authenticate')).toBe('handled');
    expect(call('recv', 'Accounting-Request', 'accounting')).toBeUndefined();
    expect(h.method({ name1: 'recv' }, 'nosuch')).toBeUndefined();
    expect(set.handle('nosuch')).toBeUndefined();
    await set.detachAll();
  });

  it('v3-style dotted instance names are reachable as name.suffix', async () => {
    const set = await load('recorder recorder.one { }\nrecorder recorder.two {\n greeting = x\n}');
    const h = set.handle('recorder')!;
    expect(h).toBeDefined();
    const one = set.get('recorder.one')!.instance as Recorder;
    const two = set.get('recorder.two')!.instance as Recorder;
    h.method({ name1: 'recv', name2: 'Access-Request' }, 'two')!(undefined as never, undefined as never);
    expect([one.count, two.count]).toEqual([0, 1]);
    expect(h.method({ name1: 'authenticate', name2: 'PAP' }, 'one')!(undefined as never, undefined as never)).toBe('handled');
    expect(h.method({ name1: 'recv' }, 'three')).toBeUndefined();
    expect(h.method({ name1: 'recv' })).toBeUndefined();
    expect(set.handle('recorder.one')).toBe(set.get('recorder.one')!.handle);
    // a plain instance with the prefix name keeps its own methods
    const set2 = await load('recorder { }\nrecorder recorder.x { }');
    expect(set2.handle('recorder')!.method({ name1: 'recv', name2: 'Access-Request' })!(undefined as never, undefined as never)).toBe('ok');
    expect(set2.handle('recorder')!.method({ name1: 'recv', name2: 'Access-Request' }, 'auth')!(undefined as never, undefined as never)).toBe('handled');
    await set.detachAll();
    expect(set.handle('recorder')).toBeUndefined();
    await set2.detachAll();
  });

  it('a definition\'s map method reaches the compiler handle: map <instance> "query" { … } runs it', async () => {
    class Rows implements ModuleInstance {
      queries: string[] = [];
      lookup(_r: unknown, _c: unknown, query: string): MapResult {
        this.queries.push(query);
        return query === 'bob' ? { fields: new Map([['msg', ['hello bob']]]) } : 'notfound';
      }
    }
    const rows = defineModule({ name: 'rows', kind: 'rlm', config: conf.section({}), impl: Rows, methods: {}, map: 'lookup' });
    const set = await load('rows { }\nrows rows.alt { }', { registry: [rows] });
    expect(set.handle('rows')!.map).toBeTypeOf('function');
    expect(set.handle('recorder')).toBeUndefined();
    const req = new Request({ code: 1, dict });
    const run = (text: string) => runSection(compileUnlang(text, { dict, modules: set.modules }), req);
    expect(await run('map rows "bob" {\n reply.Reply-Message := \'msg\'\n}')).toBe('updated');
    expect(await run('map rows "nobody" {\n reply.Filter-Id := \'msg\'\n}')).toBe('notfound');
    expect(req.reply.map((p) => [p.da.name, p.value])).toEqual([['Reply-Message', 'hello bob']]);
    expect((set.get('rows')!.instance as Rows).queries).toEqual(['bob', 'nobody']);
    // a module without a map method is a compile error naming it
    const set2 = await load('recorder { }');
    expect(() => compileUnlang('map recorder "x" {\n reply.Reply-Message := \'msg\'\n}', { dict, modules: set2.modules })).toThrow(/no map method/);
    await set.detachAll();
    await set2.detachAll();
  });

  it('mapEscape escapes every value expanded into the map query, not its literal text', async () => {
    class Quoted implements ModuleInstance {
      queries: string[] = [];
      lookup(_r: unknown, _c: unknown, query: string): MapResult {
        this.queries.push(query);
        return 'notfound';
      }
      quote(value: string): string {
        return value.replace(/'/g, "''");
      }
    }
    const quoted = defineModule({ name: 'quoted', kind: 'rlm', config: conf.section({}), impl: Quoted, methods: {}, map: 'lookup', mapEscape: 'quote' });
    const set = await load('quoted { }', { registry: [quoted] });
    const req = new Request({ code: 1, dict });
    req.request.push(new Pair(dict.resolve('User-Name')!, "o'brien"));
    const run = (text: string) => runSection(compileUnlang(text, { dict, modules: set.modules }), req);
    expect(await run(`map quoted "WHERE a = 'x' AND b = '%{User-Name}'" {\n reply.Reply-Message := 'm'\n}`)).toBe('notfound');
    expect(await run(`map quoted 'lit %{User-Name}' {\n reply.Reply-Message := 'm'\n}`)).toBe('notfound');
    expect((set.get('quoted')!.instance as Quoted).queries).toEqual(["WHERE a = 'x' AND b = 'o''brien'", 'lit %{User-Name}']);
    await set.detachAll();
  });

  it('a map naming a missing method is a located definition error', async () => {
    const bad = defineModule({ name: 'bad', kind: 'rlm', config: conf.section({}), impl: Recorder, methods: {}, map: 'nosuch' as never });
    const e = await loadError('bad { }', { registry: [bad] });
    expect(e.code).toBe('ERR_MODULE_DEFINITION');
    expect(e.message).toMatch(/map names method "nosuch"/);
  });

  it('a table naming a missing method is a located definition error', async () => {
    const bad = defineModule({ name: 'bad', kind: 'rlm', config: conf.section({}), impl: Recorder, methods: { 'recv *': 'nosuch' as never } });
    const e = await loadError('bad { }', { registry: [bad] });
    expect(e.code).toBe('ERR_MODULE_DEFINITION');
    expect(e.message).toMatch(/\[2\]: bad: module "bad": methods\["recv \*"\] names method "nosuch"/);
  });
});

describe('config errors', () => {
  it('unknown module → located error with suggestion', async () => {
    const e = await loadError('recorder { }\nrecordr x {\n}');
    expect(e.code).toBe('ERR_MODULE_NOT_FOUND');
    expect(e.message).toBe(`${path.join(tmp, 'radiusd.conf')}[3]: modules { recordr x }: unknown module "recordr"; did you mean "recorder"? (or give module = "/path/to/module.js")`);
  });

  it('unknown config item → located error with suggestion', async () => {
    const e = await loadError('recorder a {\n  greetin = x\n}');
    expect(e.code).toBe('ERR_CONF_UNKNOWN_ITEM');
    expect(e.message).toBe(`${path.join(tmp, 'radiusd.conf')}[3]: recorder a { greetin }: unknown item; did you mean "greeting"?`);
  });

  it('bad value → located error', async () => {
    const e = await loadError('recorder a {\n  fail = sometimes\n}');
    expect(e.code).toBe('ERR_CONF_VALUE');
    expect(e.line).toBe(3);
  });

  it('missing dictionary attribute → located error', async () => {
    const e = await loadError('recorder { }\nneedy {\n}');
    expect(e.code).toBe('ERR_DICT_ATTR_MISSING');
    expect(e.message).toBe(`${path.join(tmp, 'radiusd.conf')}[3]: needy: module "needy" needs attribute "No-Such-Attribute-Here", which the dictionary does not define`);
  });

  it('stray pair in modules { } → located error', async () => {
    const e = await loadError('foo = bar');
    expect(e.code).toBe('ERR_CONF_UNKNOWN_ITEM');
    expect(e.line).toBe(2);
  });

  it('no hooks run and every container is disposed when a later section is bad', async () => {
    await loadError('recorder a { }\nnosuch { }');
    expect(events).toEqual([]);
  });
});

describe('virtual modules', () => {
  it('are passed through by name and not instantiated', async () => {
    const set = await load('recorder a { }\nrecorder b { }\nredundant both {\n a\n b\n}\nload-balance lb {\n a\n b\n}\nredundant-load-balance rlb {\n a\n}');
    expect([...set.virtualModules.keys()]).toEqual(['both', 'lb', 'rlb']);
    expect(set.virtualModules.get('both')!.name1).toBe('redundant');
    expect(set.list().map((m) => m.name)).toEqual(['a', 'b']);
    await set.detachAll();
  });

  it('need a name that is not taken', async () => {
    expect((await loadError('redundant {\n}')).code).toBe('ERR_MODULE_DEFINITION');
    expect((await loadError('recorder a { }\nredundant a {\n}')).code).toBe('ERR_MODULE_DUPLICATE');
  });
});

describe('custom modules by path', () => {
  const cjs = `
class Hello {
  constructor() { this.calls = 0; this.detached = false; }
  hello() { this.calls++; return 'ok'; }
  detach() { this.detached = true; }
}
module.exports = {
  name: 'hello', kind: 'rlm',
  config: { kind: 'section', allowUnknown: false, fields: {
    word: { kind: 'scalar', typeName: 'string', required: false, secret: false, defaultValue: 'hi', convert: (v) => v },
  } },
  impl: Hello,
  methods: { '* *': 'hello' },
};
`;
  fs.mkdirSync(path.join(tmp, 'mods'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'mods', 'hello.js'), cjs);
  fs.writeFileSync(path.join(tmp, 'mods', 'hello-esm.mjs'), cjs.replace('module.exports =', 'export default'));
  fs.writeFileSync(path.join(tmp, 'mods', 'nothing.js'), 'module.exports = { x: 1 };\n');
  // Decorated by "another copy" of tsyringe: only the reflect-metadata tokens are there.
  fs.writeFileSync(path.join(tmp, 'mods', 'foreign.js'), `
class Foreign {
  constructor(config, name) { this.config = config; this.name = name; }
  m() { return 'ok'; }
}
Reflect.defineMetadata('injectionTokens', { 0: Symbol.for('tsradius.ModuleConfig'), 1: Symbol.for('tsradius.ModuleName') }, Foreign);
module.exports = { default: {
  name: 'foreign', kind: 'rlm', config: { kind: 'section', allowUnknown: false, fields: {} }, impl: Foreign, methods: { '* *': 'm' },
} };
`);
  fs.writeFileSync(path.join(tmp, 'mods', 'throws.js'), 'throw new Error("load boom");\n');

  it('loads a CommonJS file by relative path (relative to the config dir)', async () => {
    const set = await load('greeter {\n module = "mods/hello.js"\n word = hey\n}');
    const m = set.get('greeter')!;
    expect(m.definition.name).toBe('hello');
    expect(m.file).toBe(path.join(tmp, 'mods', 'hello.js'));
    expect((m.config as { word: string }).word).toBe('hey');
    expect(set.handle('greeter')!.method({ name1: 'recv', name2: 'Access-Request' })!(undefined as never, undefined as never)).toBe('ok');
    await set.detachAll();
    expect((m.instance as unknown as { detached: boolean }).detached).toBe(true);
  });

  it('loads by absolute path, with an explicit confDir, and an ES module file', async () => {
    const abs = path.join(tmp, 'mods', 'hello-esm.mjs');
    const set = await load(`a {\n module = "${abs}"\n}\nb {\n module = hello.js\n}`, { confDir: path.join(tmp, 'mods') });
    expect(set.list().map((m) => m.definition.name)).toEqual(['hello', 'hello']);
    await set.detachAll();
  });

  it('builds a class decorated by another tsyringe copy from its inject tokens', async () => {
    const set = await load('f {\n module = mods/foreign.js\n}');
    const inst = set.get('f')!.instance as unknown as { name: string; config: object };
    expect(inst.name).toBe('f');
    expect(inst.config).toBe(set.get('f')!.config);
    await set.detachAll();
  });

  it('bad path → located error at the module item', async () => {
    const e = await loadError('x {\n  word = a\n  module = "mods/nope.js"\n}');
    expect(e.code).toBe('ERR_MODULE_LOAD');
    expect(e.message).toBe(`${path.join(tmp, 'radiusd.conf')}[4]: x { module }: module file "mods/nope.js" not found (looked for ${path.join(tmp, 'mods', 'nope.js')})`);
  });

  it('a file without a definition, or that throws, → located error', async () => {
    const e1 = await loadError('x {\n module = mods/nothing.js\n}');
    expect(e1.code).toBe('ERR_MODULE_LOAD');
    expect(e1.message).toMatch(/\[3\]: x \{ module \}: "mods\/nothing.js" does not export a module definition/);
    const e2 = await loadError('x {\n module = mods/throws.js\n}');
    expect(e2.message).toMatch(/\[3\]: x \{ module \}: cannot load "mods\/throws.js": load boom/);
  });

  it('the module item is not part of the schema; other unknown items still fail', async () => {
    const e = await loadError('x {\n module = mods/hello.js\n wrd = a\n}');
    expect(e.message).toMatch(/\[4\]: x \{ wrd \}: unknown item; did you mean "word"\?/);
  });
});

describe('per-call env', () => {
  it('expands the named config templates before each call', async () => {
    const set = await load('env_echo e {\n msg = "Hi %{User-Name}!"\n}');
    const inst = set.get('e')!.instance as EnvEcho;
    const fn = set.handle('e')!.method({ name1: 'recv', name2: 'Access-Request' })!;
    const r1 = makeRequest('User-Name = "bob"');
    expect(fn(r1, callCtx(r1))).toBe('ok');
    const r2 = makeRequest('User-Name = "alice"');
    const ctx = callCtx(r2, { name1: 'recv', name2: 'Access-Request' }, { instance: 'e' });
    expect(fn(r2, ctx)).toBe('ok');
    expect(inst.seen).toEqual([{ msg: 'Hi bob!', fixed: 'constant' }, { msg: 'Hi alice!', fixed: 'constant' }]);
    await set.detachAll();
  });

  it('yields when an xlat in a template yields', async () => {
    const set = await load('env_echo e {\n msg = "%e.slow() %{User-Name}"\n}');
    const fn = set.handle('e')!.method({ name1: 'recv' })!;
    const r = makeRequest('User-Name = "bob"');
    const out = fn(r, callCtx(r));
    expect(out).toBeInstanceOf(Promise);
    expect(await out).toBe('ok');
    expect((set.get('e')!.instance as EnvEcho).seen).toEqual([{ msg: 'later bob', fixed: 'constant' }]);
    await set.detachAll();
  });

  it('a bad template is a located compile error, and bootstrapped instances are detached', async () => {
    let err: unknown;
    try {
      await load('recorder a { }\nenv_echo e {\n fixed = x\n msg = "%{No-Such-Attr-Xyz}"\n}');
    } catch (e) { err = e; }
    expect(err).toBeInstanceOf(CompileError);
    expect((err as CompileError).line).toBe(5);
    expect(events).toEqual(['bootstrap a', 'detach a']);
  });

  it('env naming a non-string item is a definition error', async () => {
    const e = await loadError('env_bad { }');
    expect(e.code).toBe('ERR_MODULE_DEFINITION');
    expect(e.message).toMatch(/env\["echo"\]\.n names config item "num", which is not a string/);
  });
});

describe('BoundModule.setEnv', () => {
  it('passes a context that forwards to the interpreter context', () => {
    const seen: unknown[] = [];
    const inst = {
      m(_r: unknown, c: import('../unlang/module-call').CallContext<Record<string, string>>): 'ok' {
        c.onSignal((s) => seen.push(s));
        seen.push(c.instance, c.method, c.section.name1, c.env.a, c.log === ctx.log, c.signal === ctx.signal);
        return 'ok';
      },
    };
    const h = new BoundModule('x', defineModule({ name: 'x', kind: 'rlm', config: conf.section({}), impl: class {}, methods: { '* *': 'm' } }) as never, inst as never);
    h.setEnv('m', () => ({ a: '1' }));
    const r = makeRequest('');
    const ctx = callCtx(r, { name1: 'recv', name2: 'X' }, { instance: 'x' });
    expect(h.method({ name1: 'recv', name2: 'X' })!(r, ctx)).toBe('ok');
    ctx.fire('dup');
    expect(seen).toEqual(['x', undefined, 'recv', '1', true, true, 'dup']);
  });
});
