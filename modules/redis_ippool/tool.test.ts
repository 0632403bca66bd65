/**
 * `bin/redis-ippool-tool.js` against the test's own redis-server and 6-node Redis Cluster: add
 * ranges and prefixes, show, release, remove.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRedis, startRedisCluster, type RedisServer } from '../../test/support/redis';
import { redisIppoolToolMain } from './tool';

const ROOT = path.resolve(__dirname, '..', '..');

async function tool(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await redisIppoolToolMain(argv, (s) => { out += s; }, (s) => { err += s; });
  return { code, out, err };
}

async function exercise(s: RedisServer, cluster: boolean): Promise<void> {
  const base = ['-s', `127.0.0.1:${s.port}`, ...(cluster ? ['--cluster'] : [])];
  // Through the launcher, as an operator runs it.
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'redis-ippool-tool.js'), ...base, 'add', 'main', '192.0.2.0/29'], { encoding: 'utf8', timeout: 60_000 });
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('added 6 of 6 address(es) to pool main\n');
  expect((await tool(...base, 'add', 'main', '192.0.2.5-192.0.2.8')).out).toBe('added 2 of 4 address(es) to pool main\n');
  expect((await tool(...base, 'add', 'v6', '2001:db8::/47', '--prefix-length', '48')).out).toBe('added 2 of 2 address(es) to pool v6\n');
  // Lease one as the module does (score = expiry, hash = owner and gateway).
  s.cli('ZADD', '{main}:pool', 'XX', String(Math.floor(Date.now() / 1000) + 3600), '192.0.2.3');
  s.cli('HSET', '{main}:ip:192.0.2.3', 'device', 'aa', 'gateway', '10.0.0.1');
  let show = await tool(...base, 'show', 'main');
  expect(show.out).toMatch(/^192\.0\.2\.3\tleased\taa\t10\.0\.0\.1\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\t0\t192\.0\.2\.0\/29$/m);
  expect(show.out).toMatch(/pool main: 8 address\(es\), 1 leased, 7 free\n$/);
  expect((await tool(...base, 'show', 'v6')).out).toMatch(/^2001:db8:1::\/48\tfree/m);
  expect((await tool(...base, 'release', 'main', '192.0.2.3')).out).toBe('released 1 address(es) in pool main\n');
  show = await tool(...base, 'show', 'main');
  expect(show.out).toMatch(/pool main: 8 address\(es\), 0 leased, 8 free\n$/);
  expect((await tool(...base, 'remove', 'main', '192.0.2.7-192.0.2.8')).out).toBe('removed 2 address(es) from pool main\n');
  // FreeRADIUS's rlm_redis_ippool_tool arguments: -a/-r/-d RANGE … SERVER POOL [RANGE_ID].
  const fr = (...a: string[]) => tool('-D', './share/dictionary', ...a, `127.0.0.1:${s.port}`, 'fr', 'r9');
  expect((await fr('-a', '192.0.2.100/32')).out).toBe('added 1 of 1 address(es) to pool fr\n');
  expect(s.cli('HGET', '{fr}:ip:192.0.2.100', 'range').trim()).toBe('r9');
  expect((await fr('-r', '192.0.2.100/32')).out).toBe('released 1 address(es) in pool fr\n');
  expect((await fr('-d', '192.0.2.100/32')).out).toBe('removed 1 address(es) from pool fr\n');
  expect(s.cli('EXISTS', '{fr}:ip:192.0.2.100').trim()).toBe('0');
  expect((await tool(...base, 'show', 'nothing')).code).toBe(1);
}

describe('redis-ippool-tool', () => {
  it('on a standalone redis-server', async () => {
    const s = await startRedis();
    try { await exercise(s, false); } finally { await s.stop(); }
  }, 120_000);

  it('on a 6-node Redis Cluster', async () => {
    const s = await startRedisCluster(6);
    try { await exercise(s, true); } finally { await s.stop(); }
  }, 120_000);

  it('usage errors', async () => {
    expect((await tool('add', 'main', '192.0.2.1')).code).toBe(2);
    expect((await tool('-s', '127.0.0.1:1', 'add', 'a{b', '192.0.2.1')).err).toMatch(/may not contain/);
  });
});
