/**
 * Test helpers for the `sql` module (not used at run time): the module config that the tests and
 * the shipped example use, for either engine.
 */
import * as path from 'node:path';

/** The repository's raddb/mods-config/sql directory. */
export const SQL_CONFIG_DIR = path.resolve(__dirname, '..', '..', 'raddb', 'mods-config', 'sql');

/** The body of `sql [name] { … }` for SQLite on `file`; `queries`: include the shipped queries.conf. */
export function sqliteModuleConf(file: string, extra = '', name = '', queries = true): string {
  return `sql ${name} {
	driver = "sqlite"
	dialect = "sqlite"
	sqlite {
		filename = "${file}"
		bootstrap = "${SQL_CONFIG_DIR}/main/sqlite/schema.sql"
	}
${commonItems(extra)}
${queries ? `	$INCLUDE ${SQL_CONFIG_DIR}/main/sqlite/queries.conf` : ''}
}
`;
}

/** The body of `sql [name] { … }` for PostgreSQL at `servers` (host:port, fail-over order); `queries`: include the shipped queries.conf. */
export function postgresModuleConf(servers: readonly { host: string; port: number }[], db: string, login: string, extra = '', name = '', queries = true): string {
  return `sql ${name} {
	driver = "postgresql"
	dialect = "postgresql"
${servers.map((s) => `	server = "${s.host}:${s.port}"`).join('\n')}
	login = "${login}"
	password = ""
	radius_db = "${db}"
${commonItems(extra)}
${queries ? `	$INCLUDE ${SQL_CONFIG_DIR}/main/postgresql/queries.conf` : ''}
}
`;
}

function commonItems(extra: string): string {
  return `	acct_table1 = "radacct"
	acct_table2 = "radacct"
	postauth_table = "radpostauth"
	authcheck_table = "radcheck"
	groupcheck_table = "radgroupcheck"
	authreply_table = "radreply"
	groupreply_table = "radgroupreply"
	usergroup_table = "radusergroup"
	group_attribute = "SQL-Group"
${extra}`;
}
