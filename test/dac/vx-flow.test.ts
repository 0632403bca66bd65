/**
 * The VX flow end to end with the NAS simulator: Access-Request with Framed-Route → Accept with a
 * UUID Acct-Session-Id, the framed address and the profile's rates (both bandwidth modes) →
 * Start → Interim → an operator CoA changes the rates (ACK, applied by the NAS) → a NAK with
 * Error-Cause is recorded → retransmission brings a lost CoA through → the quota runs out in an
 * Interim-Update and the session is disconnected (Disconnect-ACK, Stop, session stopped, lease released).
 *
 * The same flow runs on each backend: the users file with fixed addresses; users in `sql` with
 * addresses from `sqlippool` on SQLite and on a private PostgreSQL; users in `sql` on PostgreSQL
 * with addresses from `redis_ippool` on a private redis-server.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { api, startVx, until, type VxBackend, type VxFixture } from './fixture';
import { startPostgres, type PgServer } from '../support/postgres';
import { startRedis, type RedisServer } from '../support/redis';

let f: VxFixture | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

// One private PostgreSQL and one redis-server for the file, started when first needed.
let pg: Promise<PgServer> | undefined;
let redis: Promise<RedisServer> | undefined;
afterAll(async () => {
  await (await pg?.catch(() => undefined))?.stop();
  await (await redis?.catch(() => undefined))?.stop();
}, 60_000);

const BACKENDS: { name: string; make(): Promise<VxBackend> }[] = [
  { name: 'users file, fixed addresses', make: async () => ({ kind: 'files' }) },
  { name: 'sql + sqlippool on SQLite', make: async () => ({ kind: 'sqlite' }) },
  { name: 'sql + sqlippool on PostgreSQL', make: async () => ({ kind: 'postgresql', pg: await (pg ??= startPostgres()) }) },
  { name: 'sql on PostgreSQL + redis_ippool', make: async () => ({ kind: 'redis', pg: await (pg ??= startPostgres()), redis: await (redis ??= startRedis()) }) },
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const POOL_ADDRESS = /^100\.64\.1\.([1-9]|[12][0-9]|30)$/;

describe.each(BACKENDS)('VX flow (sites/vx, modules/dac, core/dac, nassim): $name', (backend) => {
  const start = async () => startVx(undefined, await backend.make());

  it('authorizes with both bandwidth modes and rejects a malformed Framed-Route', { timeout: 90_000 }, async () => {
    f = await start();
    const pooled = f.backend !== 'files';
    const gold = await f.sim.login('gold', 'gold-pass', '203.0.113.7');
    expect(gold.state).toBe('authorized');
    expect(gold.id).toMatch(UUID);
    if (pooled) {
      // The address comes from the "vx" pool, leased to the session (User-Name:NAS-Port).
      expect(gold.granted['Framed-IP-Address']).toMatch(POOL_ADDRESS);
      expect(await f.lease(gold.granted['Framed-IP-Address']!)).toEqual({ owner: `gold:${gold.nasPort}`, live: true });
    } else expect(gold.granted['Framed-IP-Address']).toBe('100.64.0.10');
    expect(gold.granted).toMatchObject({
      'Session-Timeout': '86400', 'Idle-Timeout': '600', 'Port-Limit': '16',
      'Actual-Data-Rate-Downstream': '100000000', 'Actual-Data-Rate-Upstream': '20000000',
      'Minimum-Data-Rate-Downstream': '1000000', 'Minimum-Data-Rate-Upstream': '500000',
      'Maximum-Data-Rate-Downstream': '50000000', 'Maximum-Data-Rate-Upstream': '10000000',
    });
    const silver = await f.sim.login('silver', 'silver-pass', '2001:db8::7');
    expect(silver.state).toBe('authorized');
    expect(silver.granted['Maximum-Data-Rate-Downstream']).toBe('10000000');
    expect(silver.granted['Actual-Data-Rate-Downstream']).toBeUndefined(); // mode B: Maximum only
    expect(silver.id).not.toBe(gold.id);
    if (pooled) expect(silver.granted['Framed-IP-Address']).not.toBe(gold.granted['Framed-IP-Address']);

    expect((await f.sim.login('gold', 'wrong', '203.0.113.8')).state).toBe('rejected');
    // Framed-Route that is not "ip/32 0.0.0.0": rejected before the password is looked at.
    const bad = await f.sim.login('gold', 'gold-pass', '203.0.113.300');
    expect(bad.state).toBe('rejected');

    // Start records the session with what the Accept granted and the client address from Framed-Route.
    expect(await f.sim.start(gold)).toBe(true);
    const s = await api(f, 'GET', `/api/sessions/${gold.id}`);
    expect(s.status).toBe(200);
    expect(s.json).toMatchObject({ id: gold.id, user: 'gold', nas: '127.0.0.1', framedIp: gold.granted['Framed-IP-Address'], clientIp: '203.0.113.7', state: 'active' });
    expect(s.json.attributes['Actual-Data-Rate-Downstream']).toBe('100000000');
    if (pooled) {
      // The Start opened the radacct row with the pool address.
      const rows = await f.sql(`SELECT username, framedipaddress, acctstoptime IS NULL FROM radacct WHERE acctsessionid = '${gold.id}'`);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.slice(0, 2)).toEqual(['gold', gold.granted['Framed-IP-Address']]);
    }
  });

  it('operator CoA (ACK, NAK with Error-Cause, retransmission) and Disconnect by quota', { timeout: 90_000 }, async () => {
    f = await start();
    const sim = f.sim;
    const s = await sim.login('gold', 'gold-pass', '203.0.113.9');
    expect(await sim.start(s)).toBe(true);
    expect(await sim.interim(s, 1 << 20, 1 << 18)).toBe(true);
    const dac = f.server.services.dac;
    await until(async () => (await dac.sessions.get(s.id))?.inputOctets === 1 << 20);

    // CoA: new rates, ACKed, applied by the NAS and recorded on the session.
    const applied = new Promise<Record<string, string>>((r) => sim.once('coa', (_s, a) => r(a)));
    const coa = await api(f, 'POST', `/api/sessions/${s.id}/coa`, { attributes: { 'Actual-Data-Rate-Downstream': 5000000, 'Actual-Data-Rate-Upstream': 1000000, 'Idle-Timeout': 120 } });
    expect(coa.status).toBe(200);
    expect(coa.json.results).toHaveLength(1);
    expect(coa.json.results[0]).toMatchObject({ session: s.id, result: 'ack', transmissions: 1 });
    expect(await applied).toEqual({ 'Actual-Data-Rate-Downstream': '5000000', 'Actual-Data-Rate-Upstream': '1000000', 'Idle-Timeout': '120' });
    expect(s.granted['Actual-Data-Rate-Downstream']).toBe('5000000');
    const after = await dac.sessions.get(s.id);
    expect(after?.attributes['Actual-Data-Rate-Downstream']).toBe('5000000');
    expect(after?.lastDac).toMatchObject({ kind: 'coa', result: 'ack' });

    // The NAS refuses: NAK with Error-Cause, recorded (rates unchanged).
    sim.nak.coa = 501;
    const nak = await api(f, 'POST', '/api/coa', { user: 'gold', attributes: { 'Actual-Data-Rate-Downstream': 1 } });
    expect(nak.json.results[0]).toMatchObject({ result: 'nak', errorCause: 501, errorCauseName: 'Administratively-Prohibited' });
    expect((await dac.sessions.get(s.id))?.lastDac).toMatchObject({ result: 'nak', errorCause: 501 });
    expect((await dac.sessions.get(s.id))?.attributes['Actual-Data-Rate-Downstream']).toBe('5000000');
    sim.nak = {};

    // The first transmission is lost: RFC 5080 retransmission (IRT 1 s here) gets the ACK.
    sim.drop = 1;
    const rtx = await api(f, 'POST', `/api/sessions/${s.id}/coa`, { attributes: { 'Port-Limit': 8 } });
    expect(rtx.json.results[0]).toMatchObject({ result: 'ack', transmissions: 2 });
    expect(s.granted['Port-Limit']).toBe('8');

    // Unknown session: nothing is sent.
    const none = await api(f, 'POST', '/api/disconnect', { session: 'no-such-session' });
    expect(none.json.results[0].result).toBe('no_session');

    // Quota (3 MiB in sites/vx): the Interim that reaches it triggers a Disconnect; the NAS
    // ACKs, ends the session and sends Stop.
    const gone = new Promise((r) => sim.once('disconnect', r));
    await sim.interim(s, 2 << 20, 0);
    await gone;
    await until(async () => (await dac.sessions.get(s.id))?.state === 'stopped');
    const end = await dac.sessions.get(s.id);
    expect(end?.lastDac).toMatchObject({ kind: 'disconnect', result: 'ack' });
    expect(end?.inputOctets).toBe(3 << 20);
    expect(sim.received.disconnect).toBe(1);
    if (f.backend !== 'files') {
      // The Stop released the pool lease and closed the radacct row. sqlippool forgets the owner on release, as
      // FreeRADIUS v4's does; redis_ippool keeps the device's address binding until the address is reused.
      const ip = s.granted['Framed-IP-Address']!;
      await until(async () => (await f!.lease(ip))?.live === false);
      expect((await f.lease(ip))?.owner).toBe(f.backend === 'redis' ? `gold:${s.nasPort}` : '');
      await until(async () => {
        const rows = await f!.sql(`SELECT acctinputoctets, acctterminatecause FROM radacct WHERE acctsessionid = '${s.id}' AND acctstoptime IS NOT NULL`);
        return rows.length === 1 && rows[0]![0] === String(3 << 20) && rows[0]![1] === 'Admin-Reset';
      });
    }

    const metrics = await api(f, 'GET', '/metrics');
    expect(metrics.text).toMatch(/^tsradius_dac_requests_total\{type="coa",result="ack"\} 2$/m);
    expect(metrics.text).toMatch(/^tsradius_dac_requests_total\{type="coa",result="nak"\} 1$/m);
    expect(metrics.text).toMatch(/^tsradius_dac_requests_total\{type="disconnect",result="ack"\} 1$/m);
    expect(metrics.text).toMatch(/^tsradius_dac_retransmissions_total 1$/m);
  });

  it('policy: past the fair-use threshold a subrequest CoA-Request lowers the rates', { timeout: 90_000 }, async () => {
    f = await start();
    const sim = f.sim;
    const s = await sim.login('gold', 'gold-pass');
    await sim.start(s);
    const applied = new Promise<Record<string, string>>((r) => sim.once('coa', (_s, a) => r(a)));
    expect(await sim.interim(s, 5 << 19, 0)).toBe(true); // 2.5 MiB: over 2 MiB, under the 3 MiB quota
    expect(await applied).toEqual({ 'Actual-Data-Rate-Downstream': '1000000', 'Actual-Data-Rate-Upstream': '250000' });
    const dac = f.server.services.dac;
    await until(async () => (await dac.sessions.get(s.id))?.lastDac?.result === 'ack');
    expect((await dac.sessions.get(s.id))?.attributes['Actual-Data-Rate-Downstream']).toBe('1000000');
    expect((await dac.sessions.get(s.id))?.state).toBe('active');
  });

  it('accounting anomalies are recorded, logged and counted, never lost', { timeout: 90_000 }, async () => {
    f = await start();
    const sim = f.sim;
    const s = await sim.login('silver', 'silver-pass');
    expect(await sim.start(s)).toBe(true);
    expect(await sim.start(s)).toBe(true); // duplicate Start: answered, counted
    // Interim-Update and Stop for sessions the server never saw: answered and recorded.
    const ghost = { ...s, id: 'ghost-1', granted: {}, state: 'active' as const };
    expect(await sim.interim(ghost)).toBe(true);
    const ghost2 = { ...s, id: 'ghost-2', granted: {}, state: 'active' as const };
    expect(await sim.stop(ghost2)).toBe(true);
    const dac = f.server.services.dac;
    expect((await dac.sessions.get('ghost-1'))?.state).toBe('active');
    expect((await dac.sessions.get('ghost-2'))?.state).toBe('stopped');
    const m = (await api(f, 'GET', '/metrics')).text;
    expect(m).toMatch(/^tsradius_accounting_anomalies_total\{instance="dac",kind="duplicate_start"\} 1$/m);
    expect(m).toMatch(/^tsradius_accounting_anomalies_total\{instance="dac",kind="unknown_session"\} 1$/m);
    expect(m).toMatch(/^tsradius_accounting_anomalies_total\{instance="dac",kind="stop_without_start"\} 1$/m);
    expect(f.log.lines.some((l) => l.level === 'warn' && /Start for session .* from 127.0.0.1: duplicate start \(recorded\)/.test(l.msg))).toBe(true);
  });
});
