/**
 * What each FreeRADIUS module-test directory needs before its tests can run: the modules we must
 * ship (FreeRADIUS skips a directory whose `rlm_<dir>` is not built) and, where the tests talk to
 * a server, a hook that provides one.
 *
 * The hook (`start`) runs once per directory, before its first test, in the directory's writable
 * copy. It either returns a skip reason (string) or a {@link DirServers}: environment variables
 * for the tests (FreeRADIUS reads e.g. `SQL_POSTGRESQL_TEST_SERVER`, `LDAP_TEST_SERVER`), a
 * per-test step (`beforeTest`: a fresh SQLite file, a flushed keyspace) and `stop`. The data-layer
 * and LDAP work fill in the entries below; nothing else in the runner changes.
 */

import { startLdapDir } from './ldap-dir';
import { startPostgresDir } from './postgres-dir';
import { startRedisDir } from './redis-dir';

/** Where a directory runs. */
export interface DirContext {
  /** Directory name (`sql_sqlite`). */
  readonly name: string;
  /** The writable copy of the directory (what `MODULE_TEST_DIR` points at, without the trailing `/`). */
  readonly dir: string;
  /** Scratch space for this directory's servers (removed after the run). */
  readonly workDir: string;
  /** The repository root (our raddb/ is `${root}/raddb`). */
  readonly root: string;
  /** Progress and diagnostics. */
  readonly log: (line: string) => void;
}

/** One test about to run. */
export interface TestContext extends DirContext {
  /** Test name (`auth`). */
  readonly test: string;
  /** The test's own output directory (`OUTPUT_DIR`). */
  readonly outputDir: string;
}

/** What a directory's `start` hook provides. */
export interface DirServers {
  /** Environment variables for every test of the directory (set while it runs). */
  readonly env?: Readonly<Record<string, string>>;
  /** Runs before each test (e.g. a fresh database file); may return more variables. */
  beforeTest?(ctx: TestContext): Promise<Readonly<Record<string, string>> | void>;
  /** Working directory while the directory's tests run (FreeRADIUS runs them from its source root). */
  readonly cwd?: string;
  /** Stops what `start` started. */
  stop?(): Promise<void>;
}

/** The requirements of one test directory. */
export interface DirSpec {
  /** Module names (as in `modules/index.ts`) that must exist; default: the directory name. */
  readonly modules?: readonly string[];
  /** What the tests need besides the modules (shown with a skip). */
  readonly needs?: string;
  /** Starts what the tests need, or returns why they cannot run here. */
  start?(ctx: DirContext): Promise<DirServers | string>;
}

/** Directories whose needs differ from "the module of the same name, no server". */
export const DIRS: Readonly<Record<string, DirSpec>> = {
  // The canonical copies of the SQL tests: FreeRADIUS never runs this directory (no all.mk).
  sql: { modules: ['sql'], needs: 'nothing: upstream never runs it on its own (no all.mk)' },
  sql_sqlite: { modules: ['sql'], needs: 'a fresh SQLite file per test, raddb/mods-config/sql/main/sqlite/{schema.sql,queries.conf}' },
  sql_postgresql: { modules: ['sql'], needs: 'a PostgreSQL server (SQL_POSTGRESQL_TEST_SERVER), database radius', start: startPostgresDir },
  sqlippool: { modules: ['sql', 'sqlippool'], needs: 'SQLite, raddb/mods-config/sql/ippool/sqlite/*' },
  sqlcounter: { modules: ['sql', 'sqlcounter'], needs: 'SQLite, raddb/mods-config/sql/counter/sqlite/dailycounter.conf' },
  redis: { modules: ['redis', 'delay'], needs: 'a Redis cluster of 6 nodes (REDIS_TEST_SERVER; upstream on 30001-30006, ours on free ports)', start: startRedisDir },
  redis_ippool: { modules: ['redis', 'redis_ippool'], needs: 'the Redis cluster (REDIS_IPPOOL_TEST_SERVER) and rlm_redis_ippool_tool (our bin/redis-ippool-tool.js)', start: startRedisDir },
  ldap: { modules: ['ldap'], needs: 'a slapd with example.com.ldif (LDAP_TEST_SERVER; upstream also has a second one on 3891/6361)', start: startLdapDir },
  mschap: { modules: ['mschap'], needs: 'nothing (auth_winbind: a Samba AD DC)' },
  client: { modules: ['client'], needs: 'nothing (clients.conf in the directory)' },
};

/** The spec of a directory (defaults for the ones not listed). */
export function dirSpec(name: string): DirSpec {
  return DIRS[name] ?? { modules: [name] };
}
