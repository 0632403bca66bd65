/**
 * subrequest / detach / call / map at the interpreter level: ordering, yields, signals and
 * limits that the keyword tests (test/conformance/unlang/keywords) cannot observe.
 */
import { describe, expect, it } from 'vitest';
import { loadDefaultDictionary } from '../dict/default';
import type { ModuleHandle, ModuleMethod } from './module-call';
import type { Rcode } from '../request/rcode';
import { Request } from '../request/request';
import { CompileError, Execution, compileUnlang, runSection, type CompileOptions } from './index';
import type { VirtualServers } from './servers';

const dict = loadDefaultDictionary();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function compile(text: string, extra: Partial<CompileOptions> = {}) {
  return compileUnlang(text, { dict, ...extra });
}

function value(req: Request, list: 'request' | 'reply' | 'control', name: string): unknown {
  const da = dict.resolve(name)!;
  return req[list].find((p) => p.da === da)?.value;
}

describe('subrequest and detach', () => {
  it('a detached child keeps running after the parent finished', async () => {
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const wait: ModuleMethod = () => gate.then(() => { events.push('child resumed'); return 'ok' as Rcode; });
    const mark: ModuleMethod = () => { events.push('child done'); return 'ok'; };
    const modules = (n: string): ModuleHandle | undefined => (n === 'wait' ? { name: n, method: () => wait } : n === 'mark' ? { name: n, method: () => mark } : undefined);
    const sec = compile('subrequest {\n detach\n wait\n mark\n}\nreply.Reply-Message := "parent done"', { modules });
    const req = new Request({ code: 1, dict });
    const rc = await runSection(sec, req);
    events.push('parent done');
    expect(rc).toBe('noop');
    expect(value(req, 'reply', 'Reply-Message')).toBe('parent done');
    release();
    await sleep(10);
    expect(events).toEqual(['parent done', 'child resumed', 'child done']);
  });

  it('an attached child that yields makes the parent wait, and cancel reaches it', async () => {
    let aborted = false;
    const slow: ModuleMethod = (_r, ctx) => new Promise<Rcode>((resolve) => {
      ctx.signal.addEventListener('abort', () => { aborted = true; resolve('fail'); });
    });
    const modules = (n: string): ModuleHandle | undefined => (n === 'slow' ? { name: n, method: () => slow } : undefined);
    const ex = new Execution(compile('subrequest {\n slow\n}', { modules }), new Request({ code: 1, dict }));
    expect(ex.start()).toBeUndefined();
    ex.signal('cancel');
    expect(await ex.promise).toBe('fail');
    expect(aborted).toBe(true);
  });

  it('rejects an unknown packet type and other protocols at compile time', () => {
    expect(() => compile('subrequest No-Such-Packet {\n ok\n}')).toThrow(CompileError);
    expect(() => compile('subrequest dhcpv4.Discover {\n ok\n}')).toThrow(/protocol "dhcpv4"/);
    expect(() => compile('subrequest {\n uint32 x\n}\nx := 1')).toThrow(CompileError);
  });
});

describe('call', () => {
  function servers(run: VirtualServers['run']): VirtualServers {
    return { has: (n) => n === 'other' || n === 'self', run };
  }

  it('waits for an asynchronous server, then runs the body; the body rcode wins when set', async () => {
    const s = servers(async (_n, req) => {
      await sleep(5);
      req.reply.push(new (await import('../pair/pair')).Pair(dict.resolve('Reply-Message')!, 'from other'));
      return 'updated';
    });
    const req = new Request({ code: 1, dict });
    expect(await runSection(compile('call other {\n}\nif (!updated) {\n reject\n}', { servers: s }), req)).toBe('updated');
    expect(value(req, 'reply', 'Reply-Message')).toBe('from other');
    expect(await runSection(compile('call other {\n notfound\n}', { servers: s }), new Request({ code: 1, dict }))).toBe('notfound');
  });

  it('passes cancel to the called server', async () => {
    let aborted = false;
    const s = servers((_n, _req, signal) => new Promise<Rcode>((resolve) => {
      signal.addEventListener('abort', () => { aborted = true; resolve('fail'); });
    }));
    const ex = new Execution(compile('call other {\n}', { servers: s }), new Request({ code: 1, dict }));
    expect(ex.start()).toBeUndefined();
    ex.signal('cancel');
    expect(await ex.promise).toBe('fail');
    expect(aborted).toBe(true);
  });

  it('stops a server that calls itself with fail instead of recursing forever', () => {
    let calls = 0;
    const sec = compile('call self {\n}', {
      servers: servers((_n, req) => {
        calls++;
        return runSection(sec, req) as Rcode;
      }),
    });
    const req = new Request({ code: 1, dict });
    expect(runSection(sec, req)).toBe('fail');
    expect(calls).toBe(16);
  });

  it('is a compile error without servers or for an unknown one', () => {
    expect(() => compile('call other {\n}')).toThrow(/not available/);
    expect(() => compile('call nope {\n}', { servers: servers(() => 'ok') })).toThrow(/unknown virtual server "nope"/);
  });
});
