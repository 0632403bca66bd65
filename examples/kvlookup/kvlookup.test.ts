/**
 * The `kvlookup` example, loaded through the real loader against a real TCP key/value server
 * on a free loopback port.
 */
import * as net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeSchema, MetricsRegistry, printPairList, sampleValue } from '../../core';
import { callCtx, loadTestModule, makeRequest, type TestModule } from '../../test/support/module-call';
import kvlookup from './index';
import { KvlookupConfig, parseServer } from './config';
import type { Kvlookup } from './kvlookup';

/** A line-protocol key/value server: `GET key` → `VALUE text` or `NONE`. */
async function kvServer(data: Record<string, string>): Promise<{ port: number; gets: string[]; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const gets: string[] = [];
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.setEncoding('utf8');
    let buf = '';
    s.on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const key = /^GET (.*)$/.exec(buf.slice(0, i))?.[1];
        buf = buf.slice(i + 1);
        if (key !== undefined) gets.push(key);
        const v = key === undefined ? undefined : data[key];
        s.write(v === undefined ? 'NONE\n' : `VALUE ${v}\n`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    gets,
    stop: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

const count = (m: MetricsRegistry, result: string): number =>
  sampleValue(m.snapshot(), 'tsradius_kvlookup_lookups_total', { instance: 'kvlookup', result });

async function lookup(m: TestModule<Kvlookup>, user: string): Promise<{ rc: string; reply: string }> {
  const r = makeRequest(`User-Name = "${user}"`);
  const rc = await m.authorize(r, callCtx(r));
  return { rc, reply: printPairList(r.reply) };
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => { for (const f of cleanup.splice(0).reverse()) await f(); });

describe('examples/kvlookup', () => {
  it('hit → ok with Reply-Message, miss → notfound, counted in the metrics', async () => {
    const kv = await kvServer({ bob: 'Hello from the kv store' });
    cleanup.push(kv.stop);
    const metrics = new MetricsRegistry();
    const m = await loadTestModule(kvlookup, `server = "127.0.0.1:${kv.port}"`, { metrics });
    cleanup.push(() => m.detach());
    expect(await lookup(m, 'bob')).toEqual({ rc: 'ok', reply: 'Reply-Message = "Hello from the kv store"' });
    expect(await lookup(m, 'alice')).toEqual({ rc: 'notfound', reply: '' });
    expect(await lookup(m, 'bob')).toEqual({ rc: 'ok', reply: 'Reply-Message = "Hello from the kv store"' });
    // the health check asked first, on the connection's way to active
    expect(kv.gets).toEqual(['.health', 'bob', 'alice', 'bob']);
    expect([count(metrics, 'hit'), count(metrics, 'miss'), count(metrics, 'error')]).toEqual([2, 1, 0]);
    expect(m.trunk.state()).toBe('active');
    expect(m.$log.lines.some((l) => l.includes('opening → active (1 consecutive answers to status checks)'))).toBe(true);
  });

  it('a User-Name that cannot be a key is invalid and never sent', async () => {
    const kv = await kvServer({});
    cleanup.push(kv.stop);
    const m = await loadTestModule(kvlookup, `server = "127.0.0.1:${kv.port}"`);
    cleanup.push(() => m.detach());
    expect((await lookup(m, 'a b')).rc).toBe('invalid');
    expect(kv.gets.filter((k) => k !== '.health')).toEqual([]);
  });

  it('fails fast while the server is down', async () => {
    const kv = await kvServer({ bob: 'hi' });
    const metrics = new MetricsRegistry();
    const m = await loadTestModule(kvlookup, `server = "127.0.0.1:${kv.port}"`, { metrics });
    cleanup.push(() => m.detach());
    expect((await lookup(m, 'bob')).rc).toBe('ok');
    await kv.stop();
    await vi.waitFor(() => expect(m.trunk.state()).toBe('dead'), { timeout: 10_000, interval: 20 });
    expect(await lookup(m, 'bob')).toEqual({ rc: 'fail', reply: '' });
    expect(m.trunk.counters.fail_fast).toBe(1);
    expect([count(metrics, 'hit'), count(metrics, 'error')]).toEqual([1, 1]);
  });

  it('a bad server is a located validate error', async () => {
    await expect(loadTestModule(kvlookup, 'server = "localhost"', { file: 'radiusd.conf' }))
      .rejects.toThrow('radiusd.conf[2]: kvlookup { server }: "localhost" is not host:port');
    await expect(loadTestModule(kvlookup, 'server = "127.0.0.1:70000"'))
      .rejects.toThrow(/test\.conf\[2\]: kvlookup \{ server \}: "127.0.0.1:70000" is not host:port/);
  });

  it('parses host:port and documents its schema', () => {
    expect(parseServer('[::1]:7070')).toEqual({ host: '::1', port: 7070 });
    expect(parseServer('kv.example.org:1')).toEqual({ host: 'kv.example.org', port: 1 });
    expect(parseServer('kv.example.org')).toBeUndefined();
    expect(describeSchema(KvlookupConfig)).toContain('`server`');
  });
});
