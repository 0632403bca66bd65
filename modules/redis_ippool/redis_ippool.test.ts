/**
 * `redis_ippool` against the test's own `redis-server` (a free loopback port) and its own
 * 6-node Redis Cluster (3 masters, 3 replicas, `redis-cli --cluster create`), loaded through the
 * real loader and called from compiled policy: allocation, the same address for the same device,
 * renew, release, Accounting-On, lease expiry, exhaustion, IPv6 prefixes, and 64 concurrent
 * allocators spread over two module instances (two connections) that never share an address.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfError, compileUnlang, createRootContainer, findSection, loadDefaultDictionary, loadModules, MemoryLogger, parseConfigString, parsePairList, Request, runSection, type ModuleSet } from '../../core';
import { startRedis, startRedisCluster, type RedisServer } from '../../test/support/redis';
import { poolHandle, type PoolClient } from './client';
import { nowSeconds, poolKey, poolPrefix } from './lua';
import redisIppool from './index';

const dict = loadDefaultDictionary();
let open: ModuleSet[] = [];
afterEach(async () => { for (const m of open) await m.detachAll(); open = []; });

async function load(body: string, checkOnly = false): Promise<ModuleSet> {
  const tree = parseConfigString(`modules {\n${body}\n}\n`, '/tmp/redis-ippool/radiusd.conf');
  const root = createRootContainer({ dict, log: new MemoryLogger(false) });
  const mods = await loadModules({ section: findSection(tree, 'modules'), root, checkOnly, registry: [redisIppool] });
  open.push(mods);
  return mods;
}

function conf(s: RedisServer, cluster: boolean, extra = '', name = ''): string {
  return `redis_ippool ${name} {\n${s.nodes.slice(0, cluster ? 2 : 1).map((n) => `\tserver = "${n.host}:${n.port}"`).join('\n')}\n\tcluster = ${cluster ? 'yes' : 'no'}\n${extra}\n}\n`;
}

function req(text: string, control = '', code = 1): Request {
  const r = new Request({ code, dict });
  r.request.push(...parsePairList(text, dict));
  if (control) r.control.push(...parsePairList(control, dict));
  return r;
}

const ACCESS = { name1: 'recv', name2: 'Access-Request' };
async function call(m: ModuleSet, r: Request, section = ACCESS, policy = 'redis_ippool'): Promise<string> {
  return runSection(compileUnlang(policy, { dict, xlats: m.xlats, modules: m.modules, virtualModules: m.virtualModules, section }), r);
}
const reply = (r: Request, name = 'Framed-IP-Address') => (name.startsWith('IP-Pool.')
  ? r.reply.find((p) => p.da.name === 'IP-Pool')?.children?.find((c) => c.da.name === name.slice(8))?.value
  : r.reply.find((p) => p.da.name === name)?.value) as string | undefined;

async function alloc(m: ModuleSet, owner: string, pool = 'main', policy = 'redis_ippool'): Promise<{ rcode: string; ip?: string; r: Request }> {
  const r = req(`Calling-Station-Id = "${owner}", NAS-IP-Address = 10.0.0.1`, `IP-Pool.Name = "${pool}"`);
  const rcode = await call(m, r, ACCESS, policy);
  return { rcode, ip: reply(r), r };
}

async function acct(m: ModuleSet, status: string, owner: string, ip?: string, pool = 'main'): Promise<string> {
  const r = req(`Acct-Status-Type = ${status}, Calling-Station-Id = "${owner}", NAS-IP-Address = 10.0.0.1${ip ? `, Framed-IP-Address = ${ip}` : ''}`, `IP-Pool.Name = "${pool}"`, 4);
  return call(m, r, { name1: 'accounting', name2: status });
}

/** Adds `prefix.first … prefix.(first+count-1)` to `pool`. */
async function addRange(cl: PoolClient, pool: string, prefix: string, first: number, count: number): Promise<void> {
  const ips = Array.from({ length: count }, (_, i) => `${prefix}.${first + i}`);
  await cl.ippoolAdd(poolKey(pool), nowSeconds(), poolPrefix(pool), `${ips[0]}-${ips[ips.length - 1]}`, ...ips);
}

async function leased(cl: PoolClient, pool: string): Promise<string[]> {
  return (await cl.zrangebyscore(poolKey(pool), nowSeconds(), '+inf')).sort();
}

describe('redis_ippool: configuration', () => {
  it('a server is required and the address attribute must be an address; the same under -C', async () => {
    for (const checkOnly of [false, true]) {
      const e = await load('redis_ippool {\n\tcluster = no\n}', checkOnly).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(ConfError);
      expect((e as Error).message).toBe('/tmp/redis-ippool/radiusd.conf[2]: redis_ippool { server }: at least one server is required');
      const e2 = await load('redis_ippool {\n\tserver = "127.0.0.1:1"\n\tallocated_address_attr = "reply.User-Name"\n}', checkOnly).then(() => undefined, (x: unknown) => x);
      expect((e2 as Error).message).toBe('/tmp/redis-ippool/radiusd.conf[4]: redis_ippool { allocated_address_attr }: attribute "User-Name" is of type string, not an address or prefix');
    }
  });

  it('with the server down, a call fails within query_timeout and detach is clean', async () => {
    const m = await load('redis_ippool {\n\tserver = "127.0.0.1:1"\n\tquery_timeout = 1s\n\tconnect_timeout = 1s\n}');
    const t0 = Date.now();
    const r = await alloc(m, 'x');
    expect(['fail', 'timeout']).toContain(r.rcode);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

for (const mode of ['standalone', 'cluster'] as const) {
  describe(`redis_ippool on ${mode === 'standalone' ? 'a standalone redis-server' : 'a 6-node Redis Cluster'}`, () => {
    const cluster = mode === 'cluster';
    let srv: RedisServer;
    let cl: PoolClient;
    let n = 0;
    const pool = () => `pool${++n}`;
    beforeAll(async () => {
      srv = cluster ? await startRedisCluster(6) : await startRedis();
      cl = await poolHandle({ servers: [srv.nodes[0]], cluster, connectTimeoutMs: 3000, commandTimeoutMs: 5000 }).get();
    }, 120_000);
    afterAll(async () => { cl?.disconnect(); await srv?.stop(); }, 60_000);

    it('allocates, gives the same device its address again, renews, releases; Accounting-On frees the NAS', async () => {
      const m = await load(conf(srv, cluster, '\tassociation_time = 3600\n\texpiry_attr = reply.Session-Timeout'));
      const p = pool();
      await addRange(cl, p, '192.0.2', 10, 3);
      const a = await alloc(m, 'aa-01', p);
      expect(a.rcode).toBe('updated');
      expect(a.ip).toMatch(/^192\.0\.2\.1[0-2]$/);
      expect(reply(a.r, 'Session-Timeout')).toBe(3600);
      expect(reply(a.r, 'IP-Pool.Range')).toBe('192.0.2.10-192.0.2.12');
      const other = await alloc(m, 'bb-02', p);
      expect(other.ip).not.toBe(a.ip);
      expect((await alloc(m, 'aa-01', p)).ip).toBe(a.ip);
      expect(await acct(m, 'Interim-Update', 'aa-01', a.ip, p)).toBe('updated');
      expect(await acct(m, 'Stop', 'aa-01', a.ip, p)).toBe('updated');
      expect(await leased(cl, p)).toEqual([other.ip]);
      expect((await alloc(m, 'aa-01', p)).ip).toBe(a.ip);
      // Another owner's lease: invalid; an address not in the pool: notfound.
      expect(await acct(m, 'Stop', 'zz-99', other.ip, p)).toBe('invalid');
      expect(await acct(m, 'Stop', 'aa-01', '192.0.2.99', p)).toBe('notfound');
      expect(await acct(m, 'Accounting-On', 'x', undefined, p)).toBe('updated');
      expect(await leased(cl, p)).toEqual([]);
      expect((await alloc(m, 'cc', 'nosuchpool')).rcode).toBe('notfound');
      expect(await call(m, req('Calling-Station-Id = "cc"'))).toBe('noop');
    });

    it('an exhausted pool: notfound, or reject with a Reply-Message', async () => {
      const m = await load(conf(srv, cluster));
      const p = pool();
      await addRange(cl, p, '198.51.100', 1, 1);
      expect((await alloc(m, 'o1', p)).rcode).toBe('updated');
      const x = await alloc(m, 'o2', p);
      expect(x.rcode).toBe('notfound');
      expect(String(x.r.request.find((q) => q.da.name === 'Module-Failure-Message')?.value)).toMatch(`No free address in pool ${p}`);
      const rj = await load(conf(srv, cluster, '\ton_exhausted = reject', 'rj'));
      const y = await alloc(rj, 'o3', p, 'rj');
      expect(y.rcode).toBe('reject');
      expect(reply(y.r, 'Reply-Message')).toBe(`No free address in pool ${p}`);
    });

    it('a lease runs out: the address goes to another device; the old owner cannot renew it', async () => {
      const m = await load(conf(srv, cluster, '\tlease_time = 1'));
      const p = pool();
      await addRange(cl, p, '192.0.2', 50, 1);
      expect((await alloc(m, 'first', p)).ip).toBe('192.0.2.50');
      expect((await alloc(m, 'second', p)).rcode).toBe('notfound');
      await new Promise((r) => setTimeout(r, 2200));
      expect((await alloc(m, 'second', p)).ip).toBe('192.0.2.50');
      expect(await acct(m, 'Interim-Update', 'first', '192.0.2.50', p)).toBe('invalid');
    });

    it('IPv6 prefixes into Delegated-IPv6-Prefix', async () => {
      const m = await load(conf(srv, cluster, '\tallocated_address_attr = "reply.Delegated-IPv6-Prefix"\n\trequested_address = "%{Delegated-IPv6-Prefix}"'));
      const p = pool();
      await cl.ippoolAdd(poolKey(p), nowSeconds(), poolPrefix(p), 'v6', '2001:db8:1::/48', '2001:db8:2::/48');
      const r = req('Calling-Station-Id = "v6-dev", NAS-IP-Address = 10.0.0.1', `IP-Pool.Name = "${p}"`);
      expect(await call(m, r)).toBe('updated');
      const got = reply(r, 'Delegated-IPv6-Prefix');
      expect(['2001:db8:1::/48', '2001:db8:2::/48']).toContain(got);
      const stop = req(`Acct-Status-Type = Stop, Calling-Station-Id = "v6-dev", Delegated-IPv6-Prefix = ${got}`, `IP-Pool.Name = "${p}"`, 4);
      expect(await call(m, stop, { name1: 'accounting', name2: 'Stop' })).toBe('updated');
    });

    it('offer_time, then renew to lease_time; static leases (address.assign) survive release and are never given to others', async () => {
      const m = await load(conf(srv, cluster, '\toffer_time = 30\n\tlease_time = 60\n\texpiry_attr = reply.Session-Timeout'));
      const p = pool();
      const xl = (policy: string) => call(m, req('Calling-Station-Id = "x"'), ACCESS, policy);
      await xl(`%redis_ippool.subnet.add('${p}', '192.0.2.64/32', 32, 'r1')`);
      await xl(`%redis_ippool.address.assign('${p}', '192.0.2.70', 'st-1', 'r2')`);
      // Only the static address is left for others: the dynamic one goes, then the pool is empty.
      const d = await alloc(m, 'dyn', p);
      expect([d.rcode, d.ip, reply(d.r, 'Session-Timeout')]).toEqual(['updated', '192.0.2.64', 30]);
      expect((await alloc(m, 'other', p)).rcode).toBe('notfound');
      const st = await alloc(m, 'st-1', p);
      expect([st.rcode, st.ip, reply(st.r, 'IP-Pool.Range')]).toEqual(['updated', '192.0.2.70', 'r2']);
      const renew = req('Calling-Station-Id = "st-1", NAS-IP-Address = 10.0.0.1, Framed-IP-Address = 192.0.2.70', `IP-Pool.Name = "${p}"`);
      expect(await call(m, renew, ACCESS, 'redis_ippool.renew')).toBe('updated');
      expect(reply(renew, 'Session-Timeout')).toBe(60);
      expect(await acct(m, 'Stop', 'st-1', '192.0.2.70', p)).toBe('updated');
      expect((await alloc(m, 'other', p)).rcode).toBe('notfound');
      expect((await alloc(m, 'st-1', p)).ip).toBe('192.0.2.70');
    });

    it('64 concurrent allocators on two connections, several pools: every address once, exhausted ones notfound', async () => {
      const m = await load(conf(srv, cluster) + conf(srv, cluster, '', 'second'));
      const pools = [pool(), pool(), pool(), pool()];
      for (const [i, p] of pools.entries()) await addRange(cl, p, `203.0.${i}`, 1, 12);
      const results = await Promise.all(Array.from({ length: 64 }, (_, i) =>
        alloc(m, `dev-${i}`, pools[i % 4], i % 2 ? 'second' : 'redis_ippool').then((r) => ({ ...r, pool: pools[i % 4] }))));
      for (const p of pools) {
        const mine = results.filter((r) => r.pool === p);
        const ips = mine.filter((r) => r.rcode === 'updated').map((r) => r.ip!);
        expect(ips.length).toBe(12);
        expect(new Set(ips).size).toBe(12);
        expect(mine.filter((r) => r.rcode === 'notfound').length).toBe(4);
        expect((await leased(cl, p)).length).toBe(12);
      }
      if (cluster) {
        // The pools are spread over the cluster: more than one master holds pool keys.
        const masters = srv.nodes.filter((nd) => /role:master/.test(srv.cli('-p', String(nd.port), 'INFO', 'replication')));
        const holding = masters.filter((nd) => Number(srv.cli('-p', String(nd.port), 'DBSIZE').trim()) > 0);
        expect(masters.length).toBe(3);
        expect(holding.length).toBeGreaterThan(1);
      }
    }, 30_000);
  });
}

describe('redis_ippool on a Redis Cluster that loses a master', () => {
  let srv: RedisServer;
  beforeAll(async () => { srv = await startRedisCluster(6); }, 120_000);
  afterAll(async () => { await srv?.stop(); }, 60_000);

  it('the replica takes over: leases survive and allocation goes on', async () => {
    const m = await load(conf(srv, true, '\tquery_timeout = 3s'));
    const h = poolHandle({ servers: [srv.nodes[0]], cluster: true, connectTimeoutMs: 3000, commandTimeoutMs: 5000 });
    const cl = await h.get();
    try {
      await addRange(cl, 'fo', '192.0.2', 1, 4);
      const a = await alloc(m, 'before', 'fo');
      expect(a.rcode).toBe('updated');
      // The master that holds the pool: the node answering for the pool's slot without a redirect.
      const slot = srv.cli('CLUSTER', 'KEYSLOT', '{fo}:pool').trim();
      const owner = srv.nodes.find((nd) => {
        const r = spawnSync('redis-cli', ['-h', nd.host, '-p', String(nd.port), 'CLUSTER', 'COUNTKEYSINSLOT', slot], { encoding: 'utf8' });
        const role = spawnSync('redis-cli', ['-h', nd.host, '-p', String(nd.port), 'ROLE'], { encoding: 'utf8' }).stdout;
        return /^master/.test(role) && Number(r.stdout.trim()) > 0;
      })!;
      expect(owner).toBeDefined();
      // Make sure the replica has the pool and the lease, then crash the master. (WAIT from a new
      // redis-cli connection proves nothing: that client wrote nothing, so any connected replica counts,
      // even one still in its first sync.) The master's ROLE gives its replication offset and each
      // replica's acknowledged offset: wait until a replica has caught up with the offset after the writes.
      const role = (): string[] => spawnSync('redis-cli', ['-h', owner.host, '-p', String(owner.port), 'ROLE'], { encoding: 'utf8' }).stdout.trim().split('\n');
      const written = Number(role()[1]);
      let caughtUp = false;
      for (let i = 0; i < 150 && !caughtUp; i++) {
        const r = role();
        for (let k = 2; k + 2 < r.length && !caughtUp; k += 3) caughtUp = Number(r[k + 2]) >= written;
        if (!caughtUp) await new Promise((res) => setTimeout(res, 200));
      }
      expect(caughtUp).toBe(true);
      srv.kill(owner.port);
      // Allocation fails (or waits) while the cluster notices, then works again on the promoted replica.
      const deadline = Date.now() + 40_000;
      let b: Awaited<ReturnType<typeof alloc>> | undefined;
      while (Date.now() < deadline) {
        b = await alloc(m, 'after', 'fo');
        if (b.rcode === 'updated') break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(b?.rcode).toBe('updated');
      expect(b?.ip).not.toBe(a.ip);
      // The lease made before the crash is still there: the same device gets the same address.
      expect((await alloc(m, 'before', 'fo')).ip).toBe(a.ip);
    } finally {
      await h.close();
    }
  }, 90_000);
});
