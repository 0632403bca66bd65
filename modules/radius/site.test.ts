/**
 * The `radius` module loaded like an operator loads it (the built-in list, a `modules { }`
 * section) and called from compiled policy: proxying from `recv Access-Request`, fail-over
 * with `redundant { home_a  home_b }`, and `%home.stats()`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { findSection } from '../../core';
import { parseConfigString } from '../../core';
import { MemoryLogger } from '../../core';
import { createRootContainer } from '../../core';
import { loadModules, type ModuleSet } from '../../core';
import { printPairList } from '../../core';
import { compileUnlang, runSection } from '../../core';
import { BUILTIN_MODULES } from '../index';
import { makeRequest, testDict } from '../../test/support/module-call';
import type { Radius } from './radius';
import { TestHome } from './test-home';

const dict = testDict();
const cleanups: (() => unknown)[] = [];
afterEach(async () => { for (const f of cleanups.splice(0).reverse()) await f(); });

async function load(body: string): Promise<ModuleSet> {
  const tree = parseConfigString(`modules {\n${body}\n}\n`, '/tmp/x/radiusd.conf');
  const root = createRootContainer({ dict, log: new MemoryLogger(false) });
  const mods = await loadModules({ section: findSection(tree, 'modules'), root, registry: BUILTIN_MODULES });
  cleanups.push(() => mods.detachAll());
  return mods;
}

function homeSection(name: string, port: number, extra = ''): string {
  return `radius ${name} {\n type = Access-Request\n response_window = 0.2\n zombie_period = 0.5\n revive_interval = 0.5\n udp {\n  ipaddr = 127.0.0.1\n  port = ${port}\n  secret = testing123\n }\n${extra}}\n`;
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('radius in a site', () => {
  it('redundant { home_a home_b }: fails over when home_a is silent, and fails fast once it is a zombie', async () => {
    const a = await new TestHome(dict).start();
    const b = await new TestHome(dict).start();
    cleanups.push(() => a.stop(), () => b.stop());
    a.behave = () => undefined;
    b.behave = () => ({ code: 2, pairs: [] });
    const mods = await load(homeSection('home_a', a.port) + homeSection('home_b', b.port));
    const ia = mods.get('home_a')!.instance as Radius;
    const ib = mods.get('home_b')!.instance as Radius;
    await waitFor(() => ia.stats().state === 'active' && ib.stats().state === 'active');
    const opts = { dict, xlats: mods.xlats, modules: mods.modules, virtualModules: mods.virtualModules };
    const recv = compileUnlang('redundant {\n home_a\n home_b\n}\nreply.Reply-Message := "%home_b.stats(answered)"',
      { ...opts, section: { name1: 'recv', name2: 'Access-Request' } });
    const r1 = makeRequest('User-Name = "bob", User-Password = "x"');
    const t0 = Date.now();
    expect(await runSection(recv, r1)).toBe('ok');
    const first = Date.now() - t0;
    expect(first).toBeGreaterThanOrEqual(190); // waited one response_window on home_a
    expect(printPairList(r1.reply)).toBe('Packet-Type = ::Access-Accept, Reply-Message = "1"');
    expect(ia.stats().state).toBe('zombie');
    // home_a is a zombie now: the next request fails over at once.
    const r2 = makeRequest('User-Name = "bob", User-Password = "x"');
    expect(await runSection(recv, r2)).toBe('ok');
    expect(ia.stats().counters.fail_fast).toBe(1);
    expect(a.seen.length).toBe(1);
  });

  it('%home.stats(state) works unquoted (bare `state` is the State attribute), with and without State in the request', async () => {
    const h = await new TestHome(dict).start();
    cleanups.push(() => h.stop());
    const mods = await load(homeSection('home', h.port));
    const inst = mods.get('home')!.instance as Radius;
    await waitFor(() => inst.stats().state === 'active');
    const opts = { dict, xlats: mods.xlats, modules: mods.modules, virtualModules: mods.virtualModules };
    const sec = compileUnlang(`reply.Reply-Message := "%home.stats(state) %home.stats('state') %home.stats(sent) %home.stats(connections)"`,
      { ...opts, section: { name1: 'recv', name2: 'Access-Request' } });
    for (const req of ['User-Name = "bob"', 'User-Name = "bob", State = 0x0102']) {
      const r = makeRequest(req);
      await runSection(sec, r);
      expect(printPairList(r.reply)).toBe('Reply-Message = "active active 0 1"');
    }
  });

  it('a `timeout` block cancels a proxied call through onSignal: ID released at once, late reply counted', async () => {
    const h = await new TestHome(dict).start();
    cleanups.push(() => h.stop());
    h.behave = () => ({ code: 2, delay: 150 });
    const mods = await load(homeSection('home', h.port));
    const inst = mods.get('home')!.instance as Radius;
    await waitFor(() => inst.stats().state === 'active');
    const opts = { dict, xlats: mods.xlats, modules: mods.modules, virtualModules: mods.virtualModules };
    const sec = compileUnlang('timeout 0.05 {\n home\n}', { ...opts, section: { name1: 'recv', name2: 'Access-Request' } });
    const r = makeRequest('User-Name = "bob", User-Password = "x"');
    await runSection(sec, r);
    expect(inst.idsInUse()).toBe(0);
    expect(inst.stats().counters.cancelled).toBe(1);
    await waitFor(() => inst.stats().counters.late === 1);
  });

  it('the module is in the built-in list and its README examples parse through the loader', async () => {
    expect(BUILTIN_MODULES.some((d) => d.name === 'radius')).toBe(true);
    const fs = await import('node:fs');
    const text = fs.readFileSync(`${__dirname}/README.md`, 'utf8');
    const blocks = [...text.matchAll(/```\n(modules \{[\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      const tree = parseConfigString(block, '/tmp/x/radiusd.conf');
      const root = createRootContainer({ dict, log: new MemoryLogger(false) });
      const mods = await loadModules({ section: findSection(tree, 'modules'), root, registry: BUILTIN_MODULES });
      await mods.detachAll();
    }
  });
});

describe('radius README', () => {
  it('has the module README sections and the config table generated from the schema', async () => {
    const fs = await import('node:fs');
    const { describeSchema } = await import('../../core');
    const { RadiusConfig } = await import('./config');
    const text = fs.readFileSync(`${__dirname}/README.md`, 'utf8');
    expect(text.startsWith('# radius\n')).toBe(true);
    for (const h of ['## Config', '## Methods', '## xlats', '## Examples']) expect(text).toContain(`\n${h}\n`);
    expect(text).toContain(describeSchema(RadiusConfig));
  });
});
