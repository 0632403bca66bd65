/**
 * `sqlippool` on SQLite (a temporary file) and on PostgreSQL (the test's own server: initdb into
 * a temporary directory on a free port), loaded with an `sql` instance through the real loader
 * and called from compiled policy: allocation, the same address again for the same device,
 * renewal, release, Accounting-On, lease expiry, exhaustion, IPv6 prefixes, and 64 concurrent
 * allocators that never get one address twice.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfError, MetricsRegistry, renderPrometheus, compileUnlang, createRootContainer, findSection, loadDefaultDictionary, loadModules, MemoryLogger, parseConfigString, parsePairList, Request, runSection, type ModuleSet } from '../../core';
import { startPostgres, type PgServer } from '../../test/support/postgres';
import sqlModule from '../sql';
import { postgresModuleConf } from '../sql/testing';
import type { Sql } from '../sql/sql';
import sqlippool from './index';
import { ippoolSchema, sqlippoolConf } from './testing';

const dict = loadDefaultDictionary();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-sqlippool-'));
let pg: PgServer | undefined;
let open: ModuleSet[] = [];
let n = 0;
afterEach(async () => { for (const m of open) await m.detachAll(); open = []; });
afterAll(async () => { await pg?.stop(); fs.rmSync(tmp, { recursive: true, force: true }); }, 60_000);

let metrics = new MetricsRegistry();
async function load(body: string, checkOnly = false): Promise<ModuleSet> {
  const tree = parseConfigString(`modules {\n${body}\n}\n`, path.join(tmp, 'radiusd.conf'));
  const root = createRootContainer({ dict, log: new MemoryLogger(false), metrics });
  const mods = await loadModules({ section: findSection(tree, 'modules'), root, checkOnly, registry: [sqlModule, sqlippool] });
  open.push(mods);
  return mods;
}

function sqliteSql(file: string): string {
  return `sql {\n\tdriver = "sqlite"\n\tdialect = "sqlite"\n\tsqlite {\n\t\tfilename = "${file}"\n\t\tbootstrap = "${ippoolSchema('sqlite')}"\n\t}\n}\n`;
}

function req(text: string, control = '', code = 1): Request {
  const r = new Request({ code, dict });
  r.request.push(...parsePairList(text, dict));
  if (control) r.control.push(...parsePairList(control, dict));
  return r;
}

const ACCESS = { name1: 'recv', name2: 'Access-Request' };
async function call(m: ModuleSet, r: Request, section = ACCESS, policy = 'sqlippool'): Promise<string> {
  return runSection(compileUnlang(policy, { dict, xlats: m.xlats, modules: m.modules, virtualModules: m.virtualModules, section }), r);
}
const reply = (r: Request, name = 'Framed-IP-Address') => r.reply.find((p) => p.da.name === name)?.value as string | undefined;

/** Allocates for `owner` (Calling-Station-Id) from `pool` on NAS 10.0.0.1. */
async function alloc(m: ModuleSet, owner: string, pool = 'main'): Promise<{ rcode: string; ip?: string; r: Request }> {
  const r = req(`User-Name = "u-${owner}", Calling-Station-Id = "${owner}", NAS-IP-Address = 10.0.0.1`, `IP-Pool.Name = "${pool}"`);
  const rcode = await call(m, r);
  return { rcode, ip: reply(r), r };
}

async function acct(m: ModuleSet, status: string, owner: string, ip?: string): Promise<string> {
  const r = req(`Acct-Status-Type = ${status}, Calling-Station-Id = "${owner}", NAS-IP-Address = 10.0.0.1${ip ? `, Framed-IP-Address = ${ip}` : ''}`, '', 4);
  return call(m, r, { name1: 'accounting', name2: status });
}

interface Backend {
  readonly label: string;
  readonly dialect: 'sqlite' | 'postgresql';
  /** A fresh database with the module on it. */
  fresh(o?: Parameters<typeof sqlippoolConf>[1]): Promise<ModuleSet>;
}

const sqlite: Backend = {
  label: 'SQLite',
  dialect: 'sqlite',
  fresh: (o) => load(sqliteSql(path.join(tmp, `pool-${++n}.sqlite`)) + sqlippoolConf('sqlite', o)),
};

const postgres: Backend = {
  label: 'PostgreSQL',
  dialect: 'postgresql',
  async fresh(o) {
    const db = `pool${++n}`;
    await pg!.createDatabase(db, [ippoolSchema('postgresql')]);
    return load(postgresModuleConf([{ host: pg!.host, port: pg!.port }], db, pg!.user, '\tpool {\n\t\tstart = 4\n\t\tmin = 4\n\t\tmax = 16\n\t}', '', false) + sqlippoolConf('postgresql', o));
  },
};

function sqlOf(m: ModuleSet): Sql {
  return m.get('sql')!.instance as Sql;
}

/** Adds `count` addresses `prefix.first…` to `pool`. */
async function addRange(m: ModuleSet, pool: string, prefix: string, first: number, count: number): Promise<void> {
  const rows = Array.from({ length: count }, (_, i) => `('${pool}', '${prefix}.${first + i}')`).join(', ');
  await sqlOf(m).query(`INSERT INTO fr_ippool (pool_name, address) VALUES ${rows}`);
}

async function leased(m: ModuleSet, b: Backend): Promise<string[]> {
  const now = b.dialect === 'sqlite' ? "datetime('now')" : 'localtimestamp';
  const r = await sqlOf(m).query(`SELECT address FROM fr_ippool WHERE expiry_time > ${now} ORDER BY address`);
  return r.rows.map((x) => String(x[0]));
}

describe('sqlippool: configuration', () => {
  it('the shipped queries compile for both dialects (radiusd -C)', async () => {
    await load(sqliteSql(path.join(tmp, 'never.sqlite')) + sqlippoolConf('sqlite'), true);
    await load(postgresModuleConf([{ host: '127.0.0.1', port: 1 }], 'radius', 'radius', '', '', false) + sqlippoolConf('postgresql'), true);
    expect(fs.existsSync(path.join(tmp, 'never.sqlite'))).toBe(false);
  });

  it('a bad allocated_address_attr and a missing sql instance are located errors, the same under -C', async () => {
    const bad = sqliteSql(path.join(tmp, 'never.sqlite')) + sqlippoolConf('sqlite').replace('allocated_address_attr = "reply.Framed-IP-Address"', 'allocated_address_attr = "reply.User-Name"');
    for (const checkOnly of [false, true]) {
      const e = await load(bad, checkOnly).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(ConfError);
      expect((e as Error).message).toMatch(/radiusd\.conf\[\d+\]: sqlippool \{ allocated_address_attr \}: attribute "User-Name" is of type string, not an address or prefix$/);
    }
    const e2 = await load(sqlippoolConf('sqlite'), true).then(() => undefined, (x: unknown) => x);
    expect((e2 as Error).message).toMatch(/radiusd\.conf\[\d+\]: sqlippool \{ sql_module_instance \}: needs a "sql" instance named "sql"/);
  });
});

for (const b of [sqlite, postgres]) {
  describe(`sqlippool on ${b.label}`, () => {
    if (b === postgres) {
      beforeAll(async () => { pg = await startPostgres(); }, 120_000);
    }

    it('allocates, gives the same device its address again, renews, releases (forgetting the owner); Accounting-On frees the NAS', async () => {
      const m = await b.fresh();
      await addRange(m, 'main', '192.0.2', 10, 3);
      const a = await alloc(m, 'aa-01');
      expect(a.rcode).toBe('updated');
      expect(a.ip).toMatch(/^192\.0\.2\.1[0-2]$/);
      const other = await alloc(m, 'bb-02');
      expect(other.ip).not.toBe(a.ip);
      // The same device asks again while its lease runs: the same address.
      expect((await alloc(m, 'aa-01')).ip).toBe(a.ip);
      expect(await acct(m, 'Interim-Update', 'aa-01', a.ip)).toBe('updated');
      expect(await acct(m, 'Stop', 'aa-01', a.ip)).toBe('updated');
      expect(await leased(m, b)).toEqual([other.ip]);
      // Released: the row forgets its owner (FreeRADIUS v4), so nothing is sticky any more.
      const owner = await sqlOf(m).query(`SELECT owner FROM fr_ippool WHERE address = '${a.ip}'`);
      expect(owner.rows[0][0]).toBe('');
      const again = await alloc(m, 'aa-01');
      expect(again.rcode).toBe('updated');
      // A Stop from another device does not free it.
      expect(await acct(m, 'Stop', 'zz-99', again.ip)).toBe('notfound');
      expect((await leased(m, b)).length).toBe(2);
      expect(await acct(m, 'Accounting-On', 'x')).toBe('updated');
      expect(await leased(m, b)).toEqual([]);
      // An attribute already set: nothing to do. No pool name: nothing to do. An unknown pool: noop.
      const set = req('Calling-Station-Id = "cc"', 'IP-Pool.Name = "main"');
      set.reply.push(...parsePairList('Framed-IP-Address = 198.51.100.1', dict));
      expect(await call(m, set)).toBe('noop');
      expect(await call(m, req('Calling-Station-Id = "cc"'))).toBe('noop');
      expect((await alloc(m, 'cc', 'nosuchpool')).rcode).toBe('noop');
    });

    it('an exhausted pool: notfound by default, reject with a Reply-Message when configured; counted', async () => {
      metrics = new MetricsRegistry();
      const m = await b.fresh();
      await addRange(m, 'small', '198.51.100', 1, 2);
      expect((await alloc(m, 'o1', 'small')).rcode).toBe('updated');
      expect((await alloc(m, 'o2', 'small')).rcode).toBe('updated');
      const x = await alloc(m, 'o3', 'small');
      expect(x.rcode).toBe('notfound');
      expect(x.ip).toBeUndefined();
      expect(String(x.r.request.find((p) => p.da.name === 'Module-Failure-Message')?.value)).toMatch(/No free address in pool small/);
      const rj = await b.fresh({ extra: '\ton_exhausted = reject' });
      await addRange(rj, 'small', '198.51.100', 1, 1);
      await alloc(rj, 'o1', 'small');
      const y = await alloc(rj, 'o2', 'small');
      expect(y.rcode).toBe('reject');
      expect(reply(y.r, 'Reply-Message')).toBe('No free address in pool small');
      const text = renderPrometheus(metrics.snapshot());
      expect(text).toContain('tsradius_ippool_events_total{module="sqlippool",instance="sqlippool",result="exhausted"} 2');
      expect(text).toContain('tsradius_ippool_events_total{module="sqlippool",instance="sqlippool",result="allocated"} 3');
    });

    it('a lease runs out: the address goes to another device', async () => {
      const m = await b.fresh({ lease: 1 });
      await addRange(m, 'main', '192.0.2', 50, 1);
      const a = await alloc(m, 'first');
      expect(a.ip).toBe('192.0.2.50');
      expect((await alloc(m, 'second')).rcode).toBe('notfound');
      await new Promise((r) => setTimeout(r, 2200));
      const c = await alloc(m, 'second');
      expect(c.ip).toBe('192.0.2.50');
      // The first device's renewal no longer matches: the address has a new owner.
      expect(await acct(m, 'Interim-Update', 'first', '192.0.2.50')).toBe('notfound');
    });

    it('an allocation is held offer_duration, an update extends it to lease_duration; update_free frees the owner\'s other leases', async () => {
      const m = await b.fresh({ offer: 30, lease: 3600 });
      await addRange(m, 'main', '192.0.2', 60, 2);
      const secs = b.dialect === 'sqlite' ? "CAST(strftime('%s', expiry_time) AS INTEGER) - CAST(strftime('%s', 'now') AS INTEGER)" : 'EXTRACT(EPOCH FROM expiry_time - localtimestamp)::int';
      const left = async (ip: string) => Number((await sqlOf(m).query(`SELECT ${secs} FROM fr_ippool WHERE address = '${ip}'`)).rows[0][0]);
      const a = await alloc(m, 'dev');
      expect(await left(a.ip!)).toBeGreaterThan(20);
      expect(await left(a.ip!)).toBeLessThanOrEqual(30);
      expect(await acct(m, 'Start', 'dev', a.ip)).toBe('updated');
      expect(await left(a.ip!)).toBeGreaterThan(3500);
      // An update for an address the device does not hold: notfound, and its live lease is freed.
      const other = a.ip === '192.0.2.60' ? '192.0.2.61' : '192.0.2.60';
      expect(await acct(m, 'Interim-Update', 'dev', other)).toBe('notfound');
      expect(await leased(m, b)).toEqual([]);
    });

    it('a requested address: given when free, another when taken; the owner\'s own address comes first', async () => {
      const m = await b.fresh();
      await addRange(m, 'main', '192.0.2', 70, 4);
      const ask = async (owner: string, ip: string) => {
        const r = req(`Calling-Station-Id = "${owner}", NAS-IP-Address = 10.0.0.1, Framed-IP-Address = ${ip}`, 'IP-Pool.Name = "main"');
        return { rcode: await call(m, r), ip: reply(r) };
      };
      expect(await ask('rq-1', '192.0.2.72')).toEqual({ rcode: 'updated', ip: '192.0.2.72' });
      const taken = await ask('rq-2', '192.0.2.72');
      expect(taken.rcode).toBe('updated');
      expect(taken.ip).not.toBe('192.0.2.72');
      // rq-1 holds .72: asking for .73 gives .72 again (alloc_existing before alloc_requested).
      expect((await ask('rq-1', '192.0.2.73')).ip).toBe('192.0.2.72');
    });

    it('IPv6 prefixes: Delegated-IPv6-Prefix from a prefix pool, released on Stop', async () => {
      const m = await b.fresh({ attr: 'Delegated-IPv6-Prefix' });
      await sqlOf(m).query("INSERT INTO fr_ippool (pool_name, address) VALUES ('v6', '2001:db8:1::/48'), ('v6', '2001:db8:2::/48')");
      const r = req('Calling-Station-Id = "v6-dev", NAS-IP-Address = 10.0.0.1', 'IP-Pool.Name = "v6"');
      expect(await call(m, r)).toBe('updated');
      const got = reply(r, 'Delegated-IPv6-Prefix');
      expect(['2001:db8:1::/48', '2001:db8:2::/48']).toContain(got);
      const stop = req(`Acct-Status-Type = Stop, Calling-Station-Id = "v6-dev", Delegated-IPv6-Prefix = ${got}`, '', 4);
      expect(await call(m, stop, { name1: 'accounting', name2: 'Stop' })).toBe('updated');
    });

    it('64 concurrent allocators against 50 addresses: 50 distinct addresses, 14 notfound, no duplicate', async () => {
      const m = await b.fresh();
      await addRange(m, 'busy', '203.0.113', 1, 50);
      const results = await Promise.all(Array.from({ length: 64 }, (_, i) => alloc(m, `dev-${i}`, 'busy')));
      const ips = results.filter((x) => x.rcode === 'updated').map((x) => x.ip!);
      expect(ips.length).toBe(50);
      expect(new Set(ips).size).toBe(50);
      expect(results.filter((x) => x.rcode === 'notfound').length).toBe(14);
      expect((await leased(m, b)).length).toBe(50);
      // The database agrees: one owner per address.
      const owners = await sqlOf(m).query("SELECT owner FROM fr_ippool WHERE pool_name = 'busy'");
      expect(new Set(owners.rows.map((x) => x[0])).size).toBe(50);
    }, 30_000);
  });
}
