/**
 * The example custom module, loaded the way an operator loads it: through the module loader,
 * from a `module = "…"` path in a `modules { }` section, then called from compiled policy.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  compileUnlang, createRootContainer, describeSchema, findSection, loadDefaultDictionary, loadModules, MemoryLogger,
  Pair, parseConfigString, printPairList, Request, runSection, type ModuleSet,
} from '../../core';
import mymod from './index';
import { MymodConfig } from './config';

const dict = loadDefaultDictionary();
const here = __dirname;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-mymod-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Loads `modules { <body> }` as if it were in `<dir>/radiusd.conf`. */
async function load(body: string, dir = tmp): Promise<ModuleSet> {
  const tree = parseConfigString(`modules {\n${body}\n}\n`, path.join(dir, 'radiusd.conf'));
  const root = createRootContainer({ dict, log: new MemoryLogger(false) });
  return loadModules({ section: findSection(tree, 'modules'), root, registry: [] });
}

function request(user: string): Request {
  const r = new Request({ code: 1, dict });
  r.request.push(new Pair(dict.resolve('User-Name')!, user));
  return r;
}

/** Runs `recv Access-Request { … }` then `send Access-Accept { … }` like a small site. */
async function site(mods: ModuleSet, user: string): Promise<{ recv: string; send?: string; reply: string }> {
  const opts = { dict, xlats: mods.xlats, modules: mods.modules, virtualModules: mods.virtualModules };
  const recv = compileUnlang('greeter\nreply.Filter-Id := "seen %greeter.count()"', { ...opts, section: { name1: 'recv', name2: 'Access-Request' } });
  const send = compileUnlang('greeter', { ...opts, section: { name1: 'send', name2: 'Access-Accept' } });
  const r = request(user);
  const rc = await runSection(recv, r);
  const out: { recv: string; send?: string; reply: string } = { recv: rc, reply: '' };
  if (rc === 'ok' || rc === 'updated') out.send = await runSection(send, r);
  out.reply = printPairList(r.reply);
  return out;
}

describe('examples/mymod', () => {
  it('loads by absolute path and greets from the policy', async () => {
    const mods = await load(`mymod greeter {\n module = "${path.join(here, 'index.ts')}"\n message = "Welcome, %{User-Name}"\n}`);
    expect(mods.get('greeter')!.definition.name).toBe('mymod');
    expect(await site(mods, 'bob')).toEqual({ recv: 'ok', send: 'updated', reply: 'Filter-Id = "seen 1", Reply-Message = "Welcome, bob"' });
    expect((await site(mods, 'bob')).reply).toContain('"seen 2"');
    await mods.detachAll();
  });

  it('loads by a path relative to the config directory and enforces the limit per user', async () => {
    const mods = await load('mymod greeter {\n module = "mymod/index.ts"\n limit = 2\n}', path.dirname(here));
    expect((await site(mods, 'alice')).send).toBe('updated');
    expect((await site(mods, 'alice')).reply).toContain('Reply-Message = "Hello, alice"');
    expect(await site(mods, 'alice')).toEqual({ recv: 'reject', reply: 'Reply-Message = "Too many requests, try again later"' });
    expect((await site(mods, 'carol')).recv).toBe('ok'); // another user has its own window
    await mods.detachAll();
  });

  it('yields when delay is set', async () => {
    const mods = await load(`mymod greeter {\n module = "${path.join(here, 'index.ts')}"\n delay = 0.02\n}`);
    const fn = mods.handle('greeter')!.method({ name1: 'send', name2: 'Access-Accept' })!;
    const r = request('dave');
    const ac = new AbortController();
    const ctx = { instance: 'greeter', section: { name1: 'send', name2: 'Access-Accept' }, env: undefined, signal: ac.signal, log: r.log, onSignal: () => undefined };
    const pending = fn(r, ctx);
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toBe('updated');
    expect(printPairList(r.reply)).toBe('Reply-Message = "Hello, dave"');
    // cancelled while waiting: the Promise rejects and nothing is set
    const r2 = request('erin');
    const ac2 = new AbortController();
    const p2 = fn(r2, { ...ctx, signal: ac2.signal }) as Promise<string>;
    ac2.abort();
    await expect(p2).rejects.toThrow('cancelled');
    expect(r2.reply).toEqual([]);
    await mods.detachAll();
  });

  it('reports config errors with their location', async () => {
    await expect(load(`mymod {\n module = "${path.join(here, 'index.ts')}"\n limt = 3\n}`))
      .rejects.toThrow(/radiusd\.conf\[4\]: mymod \{ limt \}: unknown item; did you mean "limit"\?/);
  });

  it('the schema documents itself', () => {
    expect(describeSchema(MymodConfig)).toContain('| `limit` | integer (0..…) | `0` |');
    expect(mymod.methods['send Access-Accept']).toBe('greet');
  });

  const built = path.resolve(here, '..', '..', 'dist', 'examples', 'mymod', 'index.js');
  it('the compiled module (dist/examples/mymod/index.js) loads too', async () => {
    expect(fs.existsSync(built), `${built} is missing: run npm run build first (npm test does)`).toBe(true);
    const mods = await load(`mymod greeter {\n module = "${built}"\n}`);
    expect(mods.get('greeter')!.file).toBe(built);
    expect((await site(mods, 'frank')).reply).toBe('Filter-Id = "seen 1", Reply-Message = "Hello, frank"');
    await mods.detachAll();
  });
});
