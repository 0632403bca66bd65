/**
 * `server_selection` over two directories (seed 002's data-source control policies): sticky keeps
 * the server that took over after a failure, round_robin shares the lookups, failback (the
 * default, also in faults.test.ts) returns to the first. Bounded in count and time; loopback only.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlapd, type Slapd } from '../../test/support/slapd';
import { authorizeUser, eventually, fixtureLdif, makeLdap, moduleBody } from './fixture';
import type { Ldap } from './ldap';

const authz = (m: Ldap) => authorizeUser(m, 'john');
const served = (m: Ldap) => m.stats().servers.map((s) => s.requests);

describe('ldap server_selection', () => {
  let a: Slapd;
  let b: Slapd;
  beforeAll(async () => {
    [a, b] = await Promise.all([startSlapd({ ldif: fixtureLdif() }), startSlapd({ ldif: fixtureLdif() })]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('round_robin: lookups alternate between the live directories', async () => {
    const m = await makeLdap(moduleBody([a.url, b.url], 'server_selection = round_robin'));
    try {
      await eventually(() => m.stats().servers.every((s) => s.state === 'active'));
      const before = served(m);
      for (let i = 0; i < 20; i++) expect(await authz(m)).toBe('updated');
      const after = served(m);
      const d = after.map((n, i) => n - before[i]);
      // Each lookup is one search (user object; no profiles or groups in this config).
      expect(d[0] + d[1]).toBeGreaterThanOrEqual(20);
      expect(Math.abs(d[0] - d[1])).toBeLessThanOrEqual(2);
      expect(m.stats().selection).toBe('round_robin');
    } finally {
      m.detach();
    }
  }, 60_000);

  it('sticky: after the first directory fails, the second stays in use even when the first is back', async () => {
    const m = await makeLdap(moduleBody([a.url, b.url], 'server_selection = sticky\noptions {\n  res_timeout = 1\n  reconnection_delay = 0.2\n}'));
    try {
      await eventually(() => m.stats().servers.every((s) => s.state === 'active'));
      let before = served(m);
      for (let i = 0; i < 5; i++) expect(await authz(m)).toBe('updated');
      expect(served(m)[1] - before[1]).toBe(0);
      a.signal('SIGKILL');
      for (let i = 0; i < 5; i++) expect(await authz(m)).toBe('updated');
      await a.restart();
      await eventually(() => m.stats().servers[0].state === 'active');
      before = served(m);
      for (let i = 0; i < 10; i++) expect(await authz(m)).toBe('updated');
      const after = served(m);
      expect(after[0] - before[0]).toBe(0);
      expect(after[1] - before[1]).toBeGreaterThanOrEqual(10);
    } finally {
      m.detach();
    }
  }, 60_000);

  it('failback: once the first directory is back it takes the lookups again', async () => {
    const m = await makeLdap(moduleBody([a.url, b.url], 'options {\n  res_timeout = 1\n  reconnection_delay = 0.2\n}'));
    try {
      await eventually(() => m.stats().servers[0].state === 'active');
      a.signal('SIGKILL');
      for (let i = 0; i < 5; i++) expect(await authz(m)).toBe('updated');
      await a.restart();
      await eventually(() => m.stats().servers[0].state === 'active');
      const before = served(m);
      for (let i = 0; i < 10; i++) expect(await authz(m)).toBe('updated');
      const after = served(m);
      expect(after[0] - before[0]).toBeGreaterThanOrEqual(10);
      expect(after[1] - before[1]).toBe(0);
    } finally {
      m.detach();
    }
  }, 60_000);
});
