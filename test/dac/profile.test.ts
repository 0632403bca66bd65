/**
 * The third DAC trigger: a CoA with the new rates when a user's or group's profile changes in the user
 * store. The admin app re-reads each live session's profile through `profile_site` (sites/vx's
 * `recv CoA-Request`), compares it with what the session has applied and sends what differs; the NAS
 * simulator receives and applies exactly the new values. On request (`radmin profile-changed USER`,
 * POST /api/profile) with the users file, and periodically (`profile_interval`) with users in SQL
 * (radreply and a group's radgroupreply changed under the running server).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { radminMain } from '../../core/cli/radmin';
import { ADMIN_TOKEN, api, startVx, until, type VxFixture } from './fixture';
import type { SimSession } from '../../core/cli/nassim/simulator';

let f: VxFixture | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

async function radmin(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await radminMain(['--url', f!.adminUrl, '--token', ADMIN_TOKEN, ...args], { out: (l) => out.push(l), err: (l) => err.push(l), stdin: async () => '' });
  return { code, out, err };
}

/** Every CoA the simulator applies: session id → the attributes. */
function recordCoa(fx: VxFixture): Map<string, Record<string, string>[]> {
  const seen = new Map<string, Record<string, string>[]>();
  fx.sim.on('coa', (s: SimSession, a: Record<string, string>) => { seen.set(s.id, [...(seen.get(s.id) ?? []), a]); });
  return seen;
}

describe('profile change → CoA with the new rates', () => {
  it('users file: radmin profile-changed sends only what changed, to every live session of the user', { timeout: 60_000 }, async () => {
    f = await startVx();
    const seen = recordCoa(f);
    const g1 = await f.sim.login('gold', 'gold-pass', '203.0.113.21');
    const g2 = await f.sim.login('gold', 'gold-pass', '203.0.113.22');
    const s1 = await f.sim.login('silver', 'silver-pass', '203.0.113.23');
    for (const s of [g1, g2, s1]) expect(await f.sim.start(s)).toBe(true);

    // Nothing changed yet: nothing is sent.
    const same = await radmin(['profile-changed', 'gold']);
    expect(same.code).toBe(0);
    expect(same.out.join('\n')).toMatch(/UNCHANGED/);
    expect(f.sim.received.coa).toBe(0);

    // The operator edits gold's profile (rates and Idle-Timeout) and reloads.
    const file = path.join(f.dir, 'raddb', 'mods-config', 'files', 'authorize');
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.replace('Actual-Data-Rate-Downstream := 100000000', 'Actual-Data-Rate-Downstream := 40000000')
      .replace('Idle-Timeout := 600', 'Idle-Timeout := 900'));
    expect((await api(f, 'POST', '/api/reload')).json.ok).toBe(true);

    const r = await radmin(['profile-changed', 'gold']);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/ACK\s+Idle-Timeout=900 Actual-Data-Rate-Downstream=40000000/);
    expect(r.out.at(-1)).toBe('2 session(s)');
    for (const g of [g1, g2]) {
      expect(seen.get(g.id)).toEqual([{ 'Actual-Data-Rate-Downstream': '40000000', 'Idle-Timeout': '900' }]);
      expect(g.granted['Actual-Data-Rate-Downstream']).toBe('40000000');
      const s = (await api(f, 'GET', `/api/sessions/${g.id}`)).json;
      expect(s.attributes).toMatchObject({ 'Actual-Data-Rate-Downstream': '40000000', 'Idle-Timeout': '900', 'Actual-Data-Rate-Upstream': '20000000' });
      expect(s.lastDac).toMatchObject({ kind: 'coa', result: 'ack' });
    }
    expect(seen.has(s1.id)).toBe(false);

    // Applied now: a second call sends nothing.
    const again = await api(f, 'POST', '/api/profile', { user: 'gold' });
    expect(again.json.results.map((x: { result: string }) => x.result)).toEqual(['unchanged', 'unchanged']);
    expect(f.sim.received.coa).toBe(2);

    // The NAS refuses: the NAK is reported and the session keeps its rates; the next check tries again.
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('Port-Limit := 16', 'Port-Limit := 2'));
    await api(f, 'POST', '/api/reload');
    f.sim.nak.coa = 501;
    const nak = await radmin(['profile-changed', '--session', g1.id]);
    expect(nak.code).toBe(1);
    expect(nak.out.join('\n')).toMatch(/NAK\s+Port-Limit=2\s+Administratively-Prohibited/);
    f.sim.nak = {};
    const retry = await api(f, 'POST', '/api/profile', { session: g1.id });
    expect(retry.json.results[0]).toMatchObject({ result: 'ack', changed: { 'Port-Limit': '2' } });

    // Errors an operator can act on.
    expect((await api(f, 'POST', '/api/profile', {})).status).toBe(400);
    expect((await radmin(['profile-changed'])).code).toBe(2);
  });

  it('sql: radreply and a group\'s radgroupreply changed under the running server; the periodic check sends the CoA', { timeout: 60_000 }, async () => {
    f = await startVx((file, t) => (file === 'radiusd.conf' ? t.replace('profile_site = vx', 'profile_site = vx\n\tprofile_interval = 1s') : t), { kind: 'sqlite' });
    const seen = recordCoa(f);
    const silver = [await f.sim.login('silver', 'silver-pass', '203.0.113.31'), await f.sim.login('silver', 'silver-pass', '203.0.113.32')];
    const gold = await f.sim.login('gold', 'gold-pass', '203.0.113.33');
    for (const s of [...silver, gold]) expect(await f.sim.start(s)).toBe(true);
    expect(silver[0]!.granted['Maximum-Data-Rate-Downstream']).toBe('10000000');

    // The silver plan (a group profile) is upgraded in SQL: every silver session gets the new rate.
    await f.sql("UPDATE radgroupreply SET value = '25000000' WHERE groupname = 'vx-silver' AND attribute = 'Maximum-Data-Rate-Downstream'");
    await until(() => silver.every((s) => seen.get(s.id)?.length === 1), 15_000);
    for (const s of silver) expect(seen.get(s.id)).toEqual([{ 'Maximum-Data-Rate-Downstream': '25000000' }]);
    expect(seen.has(gold.id)).toBe(false);

    // gold's own radreply row: the change reaches its session too, once.
    await f.sql("UPDATE radreply SET value = '30000000' WHERE username = 'gold' AND attribute = 'Actual-Data-Rate-Upstream'");
    await until(() => seen.get(gold.id)?.length === 1, 15_000);
    expect(seen.get(gold.id)).toEqual([{ 'Actual-Data-Rate-Upstream': '30000000' }]);
    await new Promise((r) => setTimeout(r, 2500)); // two more periodic checks: nothing new is sent
    expect(f.sim.received.coa).toBe(3);
    expect(f.log.lines.some((l) => /profile check: CoA for/.test(l.msg))).toBe(true);
  });
});
