/**
 * `bin/sqlippool-tool.js` on SQLite (through the launcher, as an operator runs it) and on the
 * test's own PostgreSQL: create the schema, add ranges and prefixes, list pools, show, release.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startPostgres } from '../../test/support/postgres';
import { sqlippoolToolMain } from './tool';

const ROOT = path.resolve(__dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-pooltool-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function tool(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await sqlippoolToolMain(argv, (s) => { out += s; }, (s) => { err += s; });
  return { code, out, err };
}

describe('sqlippool-tool', () => {
  it('SQLite through bin/sqlippool-tool.js: --init, add, pools, show, release, remove', () => {
    const db = path.join(tmp, 'pool.sqlite');
    const run = (...a: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'sqlippool-tool.js'), '--sqlite', db, ...a], { encoding: 'utf8', timeout: 60_000 });
    let r = run('--init', 'add', 'main', '192.0.2.0/29');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('added 6 of 6 address(es) to pool main\n');
    expect(run('add', 'main', '192.0.2.5-192.0.2.8').stdout).toBe('added 2 of 4 address(es) to pool main\n');
    expect(run('add', 'v6', '2001:db8::/47', '--prefix-length', '48').stdout).toBe('added 2 of 2 address(es) to pool v6\n');
    // Lease one by hand, as the module would.
    const h = new Database(db);
    h.prepare("UPDATE fr_ippool SET owner = 'aa', gateway = '10.0.0.1', expiry_time = datetime('now', '+1 hour') WHERE address = '192.0.2.3'").run();
    h.close();
    expect(run('pools').stdout).toBe('pool\ttotal\tleased\tfree\nmain\t8\t1\t7\nv6\t2\t0\t2\n');
    r = run('show', 'main');
    expect(r.stdout).toMatch(/^192\.0\.2\.3\tleased\taa\t10\.0\.0\.1\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\t0$/m);
    expect(r.stdout).toMatch(/^192\.0\.2\.1\tfree\t-\t-\t-\t0$/m);
    expect(r.stdout).toMatch(/pool main: 8 address\(es\), 1 leased, 7 free\n$/);
    expect(run('show', 'v6').stdout).toMatch(/^2001:db8:1::\/48\tfree/m);
    expect(run('release', 'main', '192.0.2.3').stdout).toBe('released 1 lease(s) in pool main\n');
    expect(run('pools').stdout).toContain('main\t8\t0\t8\n');
    expect(run('remove', 'main', '192.0.2.7-192.0.2.8').stdout).toBe('removed 2 address(es) from pool main\n');
    r = run('frobnicate', 'main');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
    expect(run('add', 'main', 'not-an-ip').stderr).toMatch(/is not an IP address/);
  });

  it('PostgreSQL (own server): --init, add, show, release-gateway', async () => {
    const pg = await startPostgres();
    try {
      await pg.createDatabase('pools');
      const url = pg.url('pools');
      expect((await tool('--postgresql', url, '--init', 'add', 'main', '198.51.100.1-198.51.100.4')).out).toBe('added 4 of 4 address(es) to pool main\n');
      expect((await tool('--postgresql', url, 'add', 'v6', '2001:db8::/47', '--prefix-length', '48')).out).toBe('added 2 of 2 address(es) to pool v6\n');
      await pg.psql("UPDATE fr_ippool SET owner = 'dev', gateway = '10.9.9.9', expiry_time = localtimestamp + interval '1 hour' WHERE address = '198.51.100.2'", 'pools');
      const show = await tool('--postgresql', url, 'show', 'main');
      expect(show.out).toMatch(/^198\.51\.100\.2\tleased\tdev\t10\.9\.9\.9\t/m);
      expect((await tool('--postgresql', url, 'show', 'v6')).out).toMatch(/^2001:db8:1::\/48\tfree/m);
      expect((await tool('--postgresql', url, 'release-gateway', 'main', '10.9.9.9')).out).toBe('released 1 lease(s) of 10.9.9.9 in pool main\n');
      expect((await tool('--postgresql', url, 'pools')).out).toBe('pool\ttotal\tleased\tfree\nmain\t4\t0\t4\nv6\t2\t0\t2\n');
    } finally {
      await pg.stop();
    }
  }, 120_000);
});
