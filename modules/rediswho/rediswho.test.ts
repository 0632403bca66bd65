/**
 * `rediswho` against a private redis-server on a free loopback port (never the machine's Redis):
 * the module through the loader and compiled policy (FreeRADIUS's history list, the session
 * index, expiry, Accounting-On, a Redis Cluster), and the daemon driven by Debian's radclient
 * with `radiusd sessions` reading the online sessions from Redis and Simultaneous-Use enforced
 * against them.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compileUnlang, createRootContainer, findSection, loadDefaultDictionary, loadModules, MemoryLogger, parseConfigString, parsePairList, printPairList, Request, runSection, type ModuleSet } from '../../core';
import { freePorts } from '../../test/interop/freeradius';
import { accountingSections, radclient, RADIUSD, siteConf, startDaemon, tempDir, type Daemon } from '../../test/daemon/harness';
import { startRedis, startRedisCluster, type RedisServer } from '../../test/support/redis';
import rediswhoModule from './index';
import type { Rediswho } from './rediswho';

const dict = loadDefaultDictionary();

describe('rediswho module (own redis-server)', () => {
  let redis: RedisServer;
  let open: ModuleSet[] = [];
  beforeAll(async () => { redis = await startRedis(); }, 60_000);
  afterEach(async () => { for (const m of open) await m.detachAll(); open = []; redis.cli('FLUSHALL'); });
  afterAll(async () => { await redis?.stop(); }, 30_000);

  async function load(extra = '', server = `127.0.0.1:${redis?.port}`, cluster = false): Promise<ModuleSet> {
    const tree = parseConfigString(`modules {\nrediswho {\n\tserver = "${server}"\n\tcluster = ${cluster ? 'yes' : 'no'}\n${extra}\n}\n}\n`, '/tmp/radiusd.conf');
    const mods = await loadModules({ section: findSection(tree, 'modules'), root: createRootContainer({ dict, log: new MemoryLogger(false) }), registry: [rediswhoModule] });
    open.push(mods);
    return mods;
  }
  const req = (text: string, code = 4) => {
    const r = new Request({ code, dict });
    r.request.push(...parsePairList(text, dict));
    return r;
  };
  const go = (m: ModuleSet, r: Request, name1: string, name2: string, policy = 'rediswho') =>
    runSection(compileUnlang(policy, { dict, xlats: m.xlats, modules: m.modules, virtualModules: m.virtualModules, section: { name1, name2 } }), r);
  const acct = (m: ModuleSet, status: string, text: string) => go(m, req(`Acct-Status-Type = ${status}, ${text}`), 'accounting', status);
  const who = (m: ModuleSet) => m.get('rediswho')!.instance as unknown as Rediswho;

  it('Start / Interim-Update / Stop: FreeRADIUS\'s history list per user, and the session online until its Stop', async () => {
    const m = await load('\ttrim_count = 1');
    const base = 'User-Name = "bob", Acct-Session-Id = "s1", NAS-IP-Address = 10.0.0.1, NAS-Port = 3, Framed-IP-Address = 192.0.2.8, Calling-Station-Id = "02-00-00-00-00-01"';
    expect(await acct(m, 'Start', `${base}, Event-Timestamp = 1700000000`)).toBe('ok');
    expect(await acct(m, 'Interim-Update', `${base}, Acct-Session-Time = 60, Acct-Input-Octets = 5, Acct-Input-Gigawords = 1, Event-Timestamp = 1700000060`)).toBe('updated');
    // FreeRADIUS's layout: LPUSH <user> "time,session,nas,session-time,framed-ip,in-giga,out-giga,in-octets,out-octets",
    // the time being when the server got the request (FreeRADIUS's %l), newest first.
    const history = () => redis.cli('LRANGE', 'bob', '0', '-1').trim().split('\n').map((l) => {
      const [t, ...rest] = l.split(',');
      expect(Math.abs(Number(t) - Date.now() / 1000)).toBeLessThan(120);
      return rest.join(',');
    });
    expect(history()).toEqual(['s1,10.0.0.1,60,192.0.2.8,1,0,5,0', 's1,10.0.0.1,,192.0.2.8,0,0,0,0']);
    const ttl = Number(redis.cli('TTL', 'bob'));
    expect(ttl).toBeGreaterThan(86000);
    const online = await who(m).online({ user: 'bob' });
    expect(online).toMatchObject([{ user: 'bob', nas: '10.0.0.1', port: '3', sessionId: 's1', start: 1700000000, address: '192.0.2.8', callingStationId: '02-00-00-00-00-01', sessionTime: 60, inputOctets: 2 ** 32 + 5 }]);
    expect(await who(m).online({ nas: '10.0.0.1' })).toHaveLength(1);
    expect(await who(m).online({ nas: '10.0.0.2' })).toHaveLength(0);

    expect(await acct(m, 'Stop', `${base}, Acct-Session-Time = 90, Event-Timestamp = 1700000090`)).toBe('ok');
    expect(await who(m).online()).toEqual([]);
    // trim_count = 1 keeps two records, newest first.
    expect(history()).toEqual(['s1,10.0.0.1,90,192.0.2.8,0,0,0,0', 's1,10.0.0.1,60,192.0.2.8,1,0,5,0']);
    // A repeated Stop finds nothing online.
    expect(await acct(m, 'Stop', `${base}, Acct-Session-Time = 90`)).toBe('notfound');
  });

  it('Simultaneous-Use and Port-Limit count the online sessions; Accounting-On takes every session of the NAS offline', async () => {
    const m = await load();
    const login = (extra = 'Simultaneous-Use = 2') => {
      const r = req('User-Name = "carol"', 1);
      r.control.push(...parsePairList(extra, dict));
      return r;
    };
    expect(await go(m, req('User-Name = "carol"', 1), 'send', 'Access-Accept', 'rediswho.session')).toBe('noop');
    expect(await go(m, login(), 'send', 'Access-Accept', 'rediswho.session')).toBe('ok');
    for (const [id, nas] of [['c1', '10.0.0.1'], ['c2', '10.0.0.2']]) {
      expect(await acct(m, 'Start', `User-Name = "carol", Acct-Session-Id = "${id}", NAS-IP-Address = ${nas}`)).toBe('ok');
    }
    const r = login();
    expect(await go(m, r, 'send', 'Access-Accept', 'rediswho.session')).toBe('reject');
    expect(printPairList(r.reply)).toBe('Reply-Message = "You are already logged in 2 times (limit 2) - access denied"');
    const p = login('Simultaneous-Use = 5, Port-Limit = 1');
    expect(await go(m, p, 'send', 'Access-Accept', 'rediswho.session')).toBe('reject');

    expect(await acct(m, 'Accounting-On', 'NAS-IP-Address = 10.0.0.1')).toBe('ok');
    expect((await who(m).online()).map((s) => s.sessionId)).toEqual(['c2']);
    expect(await go(m, login(), 'send', 'Access-Accept', 'rediswho.session')).toBe('ok');
  });

  it('a session with no update for expire_time is offline: it neither lists nor counts', async () => {
    const m = await load('\texpire_time = 1');
    expect(await acct(m, 'Start', 'User-Name = "dan", Acct-Session-Id = "d1", NAS-IP-Address = 10.0.0.1')).toBe('ok');
    expect(await who(m).online()).toHaveLength(1);
    await new Promise((res) => setTimeout(res, 2100));
    expect(await who(m).online()).toEqual([]);
    const r = req('User-Name = "dan"', 1);
    r.control.push(...parsePairList('Simultaneous-Use = 1', dict));
    expect(await go(m, r, 'send', 'Access-Accept', 'rediswho.session')).toBe('ok');
    // The hash and the history list are gone too (Redis TTLs).
    expect(redis.cli('KEYS', '{rediswho}:session:*').trim()).toBe('');
    expect(redis.cli('EXISTS', 'dan').trim()).toBe('0');
  });

  it('works on a Redis Cluster (the session index shares one hash slot)', async () => {
    const c = await startRedisCluster(3);
    try {
      const m = await load('', `127.0.0.1:${c.port}`, true);
      for (const u of ['u1', 'u2', 'u3']) expect(await acct(m, 'Start', `User-Name = "${u}", Acct-Session-Id = "x-${u}", NAS-IP-Address = 10.0.0.9`)).toBe('ok');
      expect((await who(m).online({ nas: '10.0.0.9' })).map((s) => s.user).sort()).toEqual(['u1', 'u2', 'u3']);
      expect(await acct(m, 'Accounting-Off', 'NAS-IP-Address = 10.0.0.9')).toBe('ok');
      expect(await who(m).online()).toEqual([]);
    } finally {
      for (const s of open) await s.detachAll();
      open = [];
      await c.stop();
    }
  }, 90_000);
});

describe('radiusd with rediswho, driven by Debian radclient', () => {
  let redis: RedisServer;
  let d: Daemon;
  let dir: string;
  let auth: number;
  let acct: number;

  beforeAll(async () => {
    redis = await startRedis();
    [auth, acct] = await freePorts(2);
    dir = tempDir('rediswho');
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), siteConf({
      auth, acct,
      modules: `\trediswho {\n\t\tserver = "127.0.0.1:${redis.port}"\n\t\texpire_time = 600\n\t}
\tfiles {\n\t\tfilename = \${confdir}/users\n\t}\n\tpap {\n\t}`,
      policy: `\trecv Access-Request {\n\t\tfiles\n\t\tpap\n\t}
\tauthenticate pap {\n\t\tpap\n\t}
\tsend Access-Accept {\n\t\trediswho.session\n\t}
${accountingSections('rediswho')}`,
    }));
    fs.writeFileSync(path.join(dir, 'users'), 'bob\tPassword.Cleartext := "hello", Simultaneous-Use := 1\n\tReply-Message = "hi"\n');
    d = await startDaemon(['-d', dir, '-f']);
  }, 60_000);

  afterAll(async () => {
    if (d) expect(await d.stop()).toBe(0);
    await redis?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  const send = (type: 'auth' | 'acct', text: string) =>
    radclient(`127.0.0.1:${type === 'auth' ? auth : acct}`, type, 'testing123', text, ['-r', '1', '-t', '5']);
  const sessions = (...args: string[]) => {
    const r = spawnSync(process.execPath, [RADIUSD, 'sessions', '-d', dir, '-i', 'rediswho', ...args], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };

  it('Start puts the session online (radiusd sessions by user and NAS), Simultaneous-Use refuses a second login, Stop frees it', async () => {
    const login = 'User-Name = "bob", User-Password = "hello", Message-Authenticator = 0x00\n';
    expect((await send('auth', login)).stdout).toMatch(/Received Access-Accept/);
    const base = 'User-Name = "bob", Acct-Session-Id = "r-1", NAS-IP-Address = 10.40.0.1, NAS-Port = 9, Framed-IP-Address = 192.0.2.61';
    expect((await send('acct', `${base}, Acct-Status-Type = Start\n`)).stdout).toMatch(/Received Accounting-Response/);
    expect(sessions('-u', 'bob')).toMatch(/^bob\s+10\.40\.0\.1\s+9\s+r-1\s+\S+\s+0:00:0\d\s+192\.0\.2\.61/m);
    expect(sessions('-N', '10.40.0.1')).toMatch(/1 open session\(s\)/);
    expect(sessions('-N', '10.40.0.2')).toMatch(/0 open session\(s\)/);
    expect(redis.cli('LLEN', 'bob').trim()).toBe('1');

    const again = await send('auth', login);
    expect(again.stdout).toMatch(/Received Access-Reject/);
    expect(again.stdout).toMatch(/You are already logged in - access denied/);

    expect((await send('acct', `${base}, Acct-Status-Type = Interim-Update, Acct-Session-Time = 30, Acct-Output-Octets = 1000\n`)).stdout).toMatch(/Received Accounting-Response/);
    expect(JSON.parse(sessions('--json'))).toMatchObject([{ user: 'bob', sessionId: 'r-1', sessionTime: 30, outputOctets: 1000 }]);
    expect((await send('acct', `${base}, Acct-Status-Type = Stop, Acct-Session-Time = 40\n`)).stdout).toMatch(/Received Accounting-Response/);
    expect(sessions()).toMatch(/0 open session\(s\)/);
    expect(redis.cli('LLEN', 'bob').trim()).toBe('3');
    expect((await send('auth', login)).stdout).toMatch(/Received Access-Accept/);
  }, 60_000);
});
