/**
 * The ldap module when directories fail: one of two killed, one frozen with SIGSTOP, a slow
 * directory whose lookups outlive their requests (seed 002, scaled down), and a start-up with
 * the directory down. Bounded in count and time; loopback only.
 */
import 'reflect-metadata';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Request } from '../../core';
import { startSlapd, type Slapd } from '../../test/support/slapd';
import { startSlowLdap } from '../../test/support/slow-ldap';
import { freePorts } from '../../test/interop/freeradius';
import { callCtx, makeRequest } from '../../test/support/module-call';
import { eventually, fixtureLdif, makeLdap, moduleBody } from './fixture';
import type { Ldap } from './ldap';

const req = (user: string) => makeRequest(`User-Name = "${user}"`);
const authz = (m: Ldap, r: Request) => m.authorize(r, callCtx(r, { name1: 'recv', name2: 'Access-Request' }, { instance: 'ldap' }));
/** A call cancelled after `ms` the way the interpreter cancels one: `cancel` to its handlers and its signal aborted. */
const authzCancelled = (m: Ldap, r: Request, ms: number) => {
  const ac = new AbortController();
  const ctx = callCtx(r, { name1: 'recv', name2: 'Access-Request' }, { instance: 'ldap', signal: ac.signal });
  const t = setTimeout(() => { ac.abort(); ctx.fire('cancel'); }, ms);
  return m.authorize(r, ctx).finally(() => clearTimeout(t));
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


describe('ldap fail-over between two directories', () => {
  let a: Slapd;
  let b: Slapd;
  beforeAll(async () => {
    [a, b] = await Promise.all([startSlapd({ ldif: fixtureLdif() }), startSlapd({ ldif: fixtureLdif() })]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('a killed directory: every lookup is answered by the other one, and the first takes over again when back', async () => {
    const m = await makeLdap(moduleBody([a.url, b.url], 'options {\n  res_timeout = 1\n  reconnection_delay = 0.2\n}'));
    try {
      expect(await authz(m, req('john'))).toBe('updated');
      expect(m.stats().servers[0].state).toBe('active');
      // Kill the first one with lookups in flight.
      const inflight = Array.from({ length: 20 }, () => authz(m, req('john')));
      a.signal('SIGKILL');
      const results = [...await Promise.all(inflight)];
      for (let i = 0; i < 20; i++) results.push(await authz(m, req('john')));
      // Lookups already answered before the kill are fine too: nothing may fail.
      expect(results.filter((x) => x !== 'updated')).toEqual([]);
      expect(m.stats().servers[0].state).not.toBe('active');
      // Fail-back: once the first directory is back, it is used again.
      await a.restart();
      await eventually(() => m.stats().servers[0].state === 'active');
      const before = m.stats().failover;
      expect(await authz(m, req('john'))).toBe('updated');
      expect(m.stats().failover).toBe(before);
    } finally {
      m.detach();
    }
  }, 60_000);

  it('a frozen directory (SIGSTOP): timeouts, zombie, lookups move to the other one; back to active after SIGCONT', async () => {
    const m = await makeLdap(moduleBody([a.url, b.url], 'options {\n  res_timeout = 0.4\n  net_timeout = 0.5\n  reconnection_delay = 0.2\n}'));
    try {
      expect(await authz(m, req('john'))).toBe('updated');
      a.signal('SIGSTOP');
      try {
        const results = await Promise.all(Array.from({ length: 10 }, () => authz(m, req('john'))));
        expect(results.every((x) => x === 'updated')).toBe(true);
        const s = m.stats();
        expect(s.timeouts).toBeGreaterThan(0);
        expect(s.failover).toBeGreaterThan(0);
        expect(s.servers[0].state).not.toBe('active');
        // While it stays frozen, new lookups go straight to the second directory.
        expect(await authz(m, req('jane'))).toBe('updated');
      } finally {
        a.signal('SIGCONT');
      }
      await eventually(() => m.stats().servers[0].state === 'active');
      expect(await authz(m, req('john'))).toBe('updated');
    } finally {
      m.detach();
    }
  }, 60_000);

  it('fails fast when no directory is alive', async () => {
    const [p1, p2] = await freePorts(2);
    const m = await makeLdap(moduleBody([`ldap://127.0.0.1:${p1}`, `ldap://127.0.0.1:${p2}`], 'options {\n  instantiate_timeout = 0.3\n}'));
    try {
      const r = req('john');
      expect(await authz(m, r)).toBe('fail');
      expect(m.stats().fail_fast).toBeGreaterThan(0);
      expect(m.logLines.join('\n')).toMatch(/no LDAP server answered within instantiate_timeout/);
    } finally {
      m.detach();
    }
  });
});

describe('ldap start-up with the directory down', () => {
  it('instantiate returns within instantiate_timeout, calls fail fast, and work once the directory starts', async () => {
    const dir = await startSlapd({ ldif: fixtureLdif() });
    const url = dir.url;
    dir.signal('SIGKILL');
    await sleep(100);
    const t0 = Date.now();
    const m = await makeLdap(moduleBody([url], 'options {\n  instantiate_timeout = 0.5\n  reconnection_delay = 0.2\n}'));
    try {
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(await authz(m, req('john'))).toBe('fail');
      await dir.restart();
      await eventually(() => m.stats().servers[0].state === 'active');
      expect(await authz(m, req('john'))).toBe('updated');
    } finally {
      m.detach();
      await dir.stop();
    }
  }, 60_000);
});

describe('ldap with a slow directory (seed 002, scaled down)', () => {
  it('lookups outliving their request are abandoned: every request answered, none left running', async () => {
    const dir = await startSlapd({ ldif: fixtureLdif() });
    const slow = await startSlowLdap(dir.port, 600);
    const m = await makeLdap(moduleBody([slow.url], 'options {\n  res_timeout = 10\n}\npool {\n  start = 2\n}'));
    try {
      // 60 requests at ~140/s; each request gives up after 300 ms (the RADIUS timeout), while
      // the directory takes 600 ms per lookup.
      const results: Promise<string>[] = [];
      for (let i = 0; i < 60; i++) {
        results.push(authzCancelled(m, req('john'), 300));
        await sleep(7);
      }
      const rcs = await Promise.all(results);
      expect(rcs).toHaveLength(60);
      // Cancelled calls end with `fail` (the interpreter ignores the result after cancel).
      expect(rcs.every((x) => x === 'fail')).toBe(true);
      await eventually(() => slow.pending() === 0 && m.stats().inFlight === 0, 5000);
      expect(slow.counts.abandoned).toBe(60);
      expect(slow.counts.passed).toBe(slow.counts.held - 60);
      expect(m.stats().cancelled).toBe(60);
      // The same directory still answers requests that wait long enough.
      expect(await authz(m, req('john'))).toBe('updated');
    } finally {
      m.detach();
      await slow.close();
      await dir.stop();
    }
  }, 60_000);
});

describe('ldap start-up with a directory that accepts and never answers', () => {
  it('the server starts without waiting for it (loader instantiate_timeout); calls fail at once; detach ends instantiate', async () => {
    const held: net.Socket[] = [];
    let closed = 0;
    const silent = net.createServer((c) => { held.push(c); c.resume(); c.on('close', () => { closed++; }); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      // The module alone would wait two minutes for a first connection; the loader starts it after 0.3 s.
      const m = await makeLdap(`instantiate_timeout = 0.3\n${moduleBody([`ldap://127.0.0.1:${port}`], 'options {\n  instantiate_timeout = 120\n  net_timeout = 120\n}')}`);
      const log = () => m.logLines.join('\n');
      expect(log()).toMatch(/instantiate did not finish within 0\.3s/);
      expect(held.length).toBeGreaterThan(0);
      const loaded = m.$set.get('ldap')!;
      expect(loaded.pending).toBe(true);
      expect(await authz(m, req('john'))).toBe('fail');
      await m.detach();
      // Detached while waiting: instantiate stops waiting (it settles long before its two minutes),
      // closes its connections, and does not report a start-up failure.
      await eventually(() => !loaded.pending && closed === held.length, 10_000);
      expect(log()).not.toMatch(/no LDAP server answered/);
    } finally {
      for (const c of held) c.destroy();
      await new Promise((r) => silent.close(r));
    }
  }, 30_000);
});
