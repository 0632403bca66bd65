/**
 * The VX example (examples/vx/raddb + sites/vx) on free loopback ports, run in-process with the
 * built-in modules and apps, plus a NAS simulator whose CoA port is the client's coa_server.
 *
 * The backend is the example's users file with fixed addresses (`files`), or users in `sql`
 * (examples/vx/sql/users.sql) with addresses from the "vx" pool: `sqlite` (sql + sqlippool on an
 * SQLite file), `postgresql` (sql + sqlippool on a private PostgreSQL, a fresh database per
 * fixture) or `redis` (sql on PostgreSQL, redis_ippool on a private redis-server).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Server, MemoryLogger, loadDefaultDictionary, type Dictionary } from '../../core';
import { NasSimulator } from '../../core/cli/nassim/simulator';
import { BUILTIN_MODULES, MODULE_APPS } from '../support/builtins';
import { freePorts } from '../interop/freeradius';
import { AppRegistry, BUILTIN_APPS } from '../../core';
import { postgresModuleConf, sqliteModuleConf, SQL_CONFIG_DIR } from '../../modules/sql/testing';
import { ippoolSchema, sqlippoolConf } from '../../modules/sqlippool/testing';
import { redisIppoolToolMain } from '../../modules/redis_ippool/tool';
import type { PgServer } from '../support/postgres';
import type { RedisServer } from '../support/redis';

/** Where users and the pool live (see the file comment). */
export type VxBackend =
  | { kind: 'files' }
  | { kind: 'sqlite' }
  | { kind: 'postgresql'; pg: PgServer }
  | { kind: 'redis'; pg: PgServer; redis: RedisServer };

// The repository (also when this runs compiled under dist/, e.g. from bench/vx).
const ROOT = ((r) => (fs.existsSync(path.join(r, 'sites')) ? r : path.resolve(r, '..')))(path.resolve(__dirname, '..', '..'));
const SQL_DATA = path.join(ROOT, 'examples', 'vx', 'sql');
let dbSeq = 0;

/** What the pool says about an address: its owner and whether its lease is live. */
export interface Lease {
  owner: string;
  live: boolean;
}

export const ADMIN_TOKEN = 'test-admin-token-1234';
export const SECRET = 'testing123';

export interface VxFixture {
  dir: string;
  server: Server;
  log: MemoryLogger;
  dict: Dictionary;
  ports: { auth: number; acct: number; admin: number; coa: number };
  sim: NasSimulator;
  adminUrl: string;
  backend: VxBackend['kind'];
  /** The lease of `address` in the "vx" pool (undefined: not a pool address / files backend). */
  lease(address: string): Promise<Lease | undefined>;
  /** Rows of a query on the sql database, or runs a statement (sql backends only). */
  sql(query: string): Promise<string[][]>;
  stop(): Promise<void>;
}

/** Copies the VX example to a temporary directory with free ports; `edit` may change the copied files (path → text). */
export async function writeVx(edit: (file: string, text: string) => string = (_f, t) => t): Promise<{ dir: string; raddb: string; ports: { auth: number; acct: number; admin: number; coa: number } }> {
  const [auth, acct, admin, coa] = await freePorts(4);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-vx-'));
  const raddb = path.join(dir, 'raddb');
  fs.cpSync(path.join(ROOT, 'examples', 'vx', 'raddb'), raddb, { recursive: true });
  const site = fs.readFileSync(path.join(ROOT, 'sites', 'vx'), 'utf8').replace('port = 1812', `port = ${auth}`).replace('port = 1813', `port = ${acct}`);
  fs.writeFileSync(path.join(dir, 'vx.site'), edit('sites/vx', site));
  fs.writeFileSync(path.join(raddb, 'sites-enabled', 'vx'), `$INCLUDE ${path.join(dir, 'vx.site')}\n`);
  const rewrite = (rel: string, f: (t: string) => string) => {
    const p = path.join(raddb, rel);
    fs.writeFileSync(p, edit(rel, f(fs.readFileSync(p, 'utf8'))));
  };
  rewrite('radiusd.conf', (t) => t.replace('port = 9813', `port = ${admin}`).replace('change-me-admin-token', ADMIN_TOKEN));
  rewrite('clients.conf', (t) => t.replace('port = 3799', `port = ${coa}`));
  rewrite('mods-enabled/dac', (t) => t.replace('attributes = control', 'attributes = control\n\tretry {\n\t\tinitial_rtx_time = 1\n\t\tmax_rtx_count = 3\n\t\tmax_rtx_duration = 6\n\t}'));
  return { dir, raddb, ports: { auth, acct, admin, coa } };
}

/** Starts the VX example in-process; `edit` may change the copied files (path → text). */
export async function startVx(edit: (file: string, text: string) => string = (_f, t) => t, backend: VxBackend = { kind: 'files' }): Promise<VxFixture> {
  const { dir, raddb, ports: { auth, acct, admin, coa } } = await writeVx(edit);
  const store = await prepareBackend(dir, raddb, backend);
  const log = new MemoryLogger(false);
  const server = new Server({
    modules: BUILTIN_MODULES, apps: new AppRegistry([...BUILTIN_APPS, ...MODULE_APPS]),
    file: path.join(raddb, 'radiusd.conf'), log, triggers: false,
  });
  await server.start();
  const dict = loadDefaultDictionary();
  await store.afterStart?.();
  const sim = new NasSimulator({ dict, server: '127.0.0.1', authPort: auth, acctPort: acct, secret: SECRET, coaPort: coa, timeout: 2, attempts: 2 });
  await sim.open();
  return {
    dir, server, log, dict, ports: { auth, acct, admin, coa }, sim, adminUrl: `http://127.0.0.1:${admin}`,
    backend: backend.kind, lease: store.lease, sql: store.sql,
    async stop() {
      await sim.close();
      await server.stop();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface BackendStore {
  lease(address: string): Promise<Lease | undefined>;
  sql(query: string): Promise<string[][]>;
  afterStart?(): Promise<void>;
  close(): Promise<void>;
}

/** Writes the backend's module configs into raddb/mods-enabled and loads its data. */
export async function prepareBackend(dir: string, raddb: string, b: VxBackend): Promise<BackendStore> {
  const none: BackendStore = { lease: async () => undefined, sql: async () => { throw new Error('no sql backend'); }, close: async () => {} };
  if (b.kind === 'files') return none;
  const mods = path.join(raddb, 'mods-enabled');
  fs.rmSync(path.join(mods, 'files'));
  const users = path.join(SQL_DATA, 'users.sql');
  const pool = path.join(SQL_DATA, 'pool.sql');
  const ippoolItems = { extra: '\towner = "%{User-Name}:%{NAS-Port}"', lease: 3600 };
  // The lease items of sqlippool's defaults, the owner of the VX flow (User-Name:NAS-Port).
  const sqlippool = (dialect: 'sqlite' | 'postgresql') => sqlippoolConf(dialect, ippoolItems).replace('\towner = "%{Calling-Station-Id}"\n', '');
  if (b.kind === 'sqlite') {
    const file = path.join(dir, 'vx.sqlite');
    fs.writeFileSync(path.join(mods, 'sql'), sqliteModuleConf(file).replace(/(\tbootstrap = ".*"\n)/, `$1\t\tbootstrap = "${ippoolSchema('sqlite')}"\n\t\tbootstrap = "${users}"\n\t\tbootstrap = "${pool}"\n`));
    fs.writeFileSync(path.join(mods, 'sqlippool'), sqlippool('sqlite'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Database = require('better-sqlite3');
    let db: { prepare(q: string): { reader: boolean; run(): unknown; raw(): { all(): unknown[][] } }; pragma(p: string): unknown; close(): void } | undefined;
    const sql = async (q: string) => {
      if (!db) {
        db = new Database(file, { fileMustExist: true });
        db!.pragma('busy_timeout = 5000');
      }
      const st = db!.prepare(q);
      if (!st.reader) { st.run(); return []; }
      return st.raw().all().map((r) => r.map((c) => (c === null ? '' : String(c))));
    };
    return {
      sql,
      lease: async (a) => {
        const [r] = await sql(`SELECT owner, expiry_time > datetime('now') FROM fr_ippool WHERE pool_name = 'vx' AND address = '${a}'`);
        return r ? { owner: r[0]!, live: r[1] === '1' } : undefined;
      },
      close: async () => db?.close(),
    };
  }
  const pg = b.pg;
  const db = `vx_${process.pid}_${++dbSeq}`;
  await pg.createDatabase(db, [path.join(SQL_CONFIG_DIR, 'main', 'postgresql', 'schema.sql'), ippoolSchema('postgresql'), users, ...(b.kind === 'postgresql' ? [pool] : [])]);
  fs.writeFileSync(path.join(mods, 'sql'), postgresModuleConf([{ host: pg.host, port: pg.port }], db, pg.user));
  const sql = async (q: string) => (await pg.psql(q, db)).split('\n').filter((l) => l !== '').map((l) => l.split('|'));
  const close = async () => { await pg.psql(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE);`).catch(() => undefined); };
  if (b.kind === 'postgresql') {
    fs.writeFileSync(path.join(mods, 'sqlippool'), sqlippool('postgresql'));
    return {
      sql, close,
      lease: async (a) => {
        const [r] = await sql(`SELECT owner, expiry_time > localtimestamp FROM fr_ippool WHERE pool_name = 'vx' AND address = '${a}'`);
        return r ? { owner: r[0]!, live: r[1] === 't' } : undefined;
      },
    };
  }
  const redis = b.redis;
  const database = ++dbSeq % 16;
  fs.writeFileSync(path.join(mods, 'redis_ippool'), `redis_ippool {
	server = "127.0.0.1:${redis.port}"
	database = ${database}
	pool_name = "%{control.IP-Pool.Name}"
	owner = "%{User-Name}:%{NAS-Port}"
	gateway = "%{NAS-IP-Address}"
	lease_time = 3600
}
`);
  const cli = (...args: string[]) => redis.cli('-n', String(database), ...args).trim();
  cli('FLUSHDB');
  let err = '';
  const rc = await redisIppoolToolMain(['-s', `127.0.0.1:${redis.port}`, '--database', String(database), 'add', 'vx', '100.64.1.1-100.64.1.30'], () => {}, (e: string) => { err += e; });
  if (rc !== 0) throw new Error(`redis-ippool-tool add: ${err}`);
  return {
    sql, close,
    lease: async (a) => {
      const score = cli('ZSCORE', '{vx}:pool', a);
      if (score === '') return undefined;
      const now = Number(cli('TIME').split('\n')[0]);
      return { owner: cli('HGET', `{vx}:ip:${a}`, 'device'), live: Number(score) > now };
    },
  };
}

/** Calls the admin API. */
export async function api(f: VxFixture, method: string, p: string, body?: unknown, token = ADMIN_TOKEN): Promise<{ status: number; json: any; text: string }> {
  const r = await fetch(f.adminUrl + p, {
    method, headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, json, text };
}

/** Waits until `fn` returns true (polling), at most `ms`. */
export async function until(fn: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met in time');
}
