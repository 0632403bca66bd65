/**
 * Upgrading the embedded default: a raddb/var/db/radius.sqlite made before the IP pool existed
 * (radacct, radcheck … but no fr_ippool) gets the missing pool tables and the default pool on
 * start, under the write lock, without touching its data; later starts change nothing (an address
 * the operator removed stays removed). Driven by Debian's radtest against the default config.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQL_CONFIG_DIR } from '../../modules/sql/testing';
import { freePorts } from '../interop/freeradius';
import { copyDefaultConfig, run, startDaemon, tempDir, type Daemon } from './harness';

describe('default configuration on a SQLite database from before the pool table', () => {
  let dir: string;
  let confdir: string;
  let file: string;
  let d: Daemon | undefined;
  let AUTH = '';

  const tables = () => {
    const db = new Database(file, { readonly: true });
    try {
      return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    } finally {
      db.close();
    }
  };
  const query = <T>(stmt: string): T => {
    const db = new Database(file, { readonly: true, timeout: 5000 });
    try {
      return db.prepare(stmt).get() as T;
    } finally {
      db.close();
    }
  };
  const login = () => run('/usr/bin/radtest', ['-x', 'alice', 'wonderland', AUTH, '0', 'testing123']);

  beforeAll(async () => {
    dir = tempDir('sqlite-upgrade');
    const [auth, acct, status, coa, example] = await freePorts(5);
    AUTH = `127.0.0.1:${auth}`;
    confdir = copyDefaultConfig(dir, { auth, acct, status, coa, example });
    // The old database: the main schema only, with an operator's data in it.
    file = path.join(confdir, 'var', 'db', 'radius.sqlite');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const old = new Database(file);
    old.pragma('journal_mode = wal');
    old.exec(fs.readFileSync(path.join(SQL_CONFIG_DIR, 'main', 'sqlite', 'schema.sql'), 'utf8'));
    old.exec(`INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctstoptime, acctsessiontime)
        VALUES ('old-1', 'old-1', 'carol', '10.1.1.1', 1600000000, 1600000600, 600);
      INSERT INTO radcheck (username, attribute, op, value) VALUES ('carol', 'Cleartext-Password', ':=', 'x');`);
    old.close();
    expect(tables()).not.toContain('fr_ippool');
  }, 60_000);

  afterAll(async () => {
    if (d) expect(await d.stop()).toBe(0);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the first start creates fr_ippool and the default pool, keeps the data, and allocates from the pool', async () => {
    d = await startDaemon(['-d', confdir, '-f', '-t']);
    const r = await login();
    expect(r.stdout, r.stdout + r.stderr).toMatch(/Received Access-Accept/);
    const given = /Framed-IP-Address = (10\.100\.0\.\d+)/.exec(r.stdout)?.[1];
    expect(given, r.stdout).toBeDefined();
    expect(tables()).toEqual(expect.arrayContaining(['fr_ippool', 'fr_ippool_status', 'radacct', 'radcheck']));
    expect(query<{ n: number }>("SELECT count(*) AS n FROM fr_ippool WHERE pool_name = 'main'").n).toBe(254);
    expect(query<{ address: string }>("SELECT address FROM fr_ippool WHERE expiry_time > datetime('now')").address).toBe(given);
    expect(query<Record<string, unknown>>("SELECT username, acctsessiontime FROM radacct WHERE acctsessionid = 'old-1'")).toEqual({ username: 'carol', acctsessiontime: 600 });
    expect(query<{ value: string }>("SELECT value FROM radcheck WHERE username = 'carol'").value).toBe('x');
  }, 60_000);

  it('a restart changes nothing: an address the operator removed stays removed, the lease stays', async () => {
    const db = new Database(file, { timeout: 5000 });
    db.prepare("DELETE FROM fr_ippool WHERE pool_name = 'main' AND address = '10.100.0.254'").run();
    db.close();
    const lease = query<{ address: string }>("SELECT address FROM fr_ippool WHERE expiry_time > datetime('now')").address;
    expect(await d!.stop()).toBe(0);
    d = await startDaemon(['-d', confdir, '-f', '-t']);
    expect((await login()).stdout).toMatch(/Received Access-Accept/);
    expect(query<{ n: number }>("SELECT count(*) AS n FROM fr_ippool WHERE pool_name = 'main'").n).toBe(253);
    expect(query<{ address: string }>(`SELECT address FROM fr_ippool WHERE address = '${lease}' AND expiry_time > datetime('now')`)?.address).toBe(lease);
  }, 60_000);
});
