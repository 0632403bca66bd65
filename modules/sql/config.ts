/**
 * Config schema of the `sql` module. It reads a FreeRADIUS `mods-available/sql` section (3.2 or
 * v4 layout) with its `queries.conf` included: the driver settings, the pool, the query
 * templates and the accounting / post-auth query lists.
 */
import { conf } from '../../core';

/** The connection pool (FreeRADIUS `pool { }`; v3 and v4 items are accepted, those we do not use are ignored). */
const Pool = conf.section({
  start: conf.integer({ default: 1, min: 0, doc: 'Connections opened at start-up (0: the server starts with the database down).' }),
  min: conf.integer({ default: 1, min: 0, doc: 'Connections kept open.' }),
  max: conf.integer({ default: 8, min: 1, doc: 'Most connections per server. SQLite connections are worker threads; one is usually enough (writes serialise anyway).' }),
  max_backlog: conf.integer({ default: 1000, min: 0, doc: 'Queries that may wait for a free connection; more fail at once.' }),
  connect_timeout: conf.duration({ default: '3s', doc: 'How long opening a connection may take.' }),
  retry_delay: conf.duration({ default: '1s', doc: 'v3 name of `connection { reconnect_delay }`.' }),
  connection: conf.subsection({
    connect_timeout: conf.duration({ doc: 'v4 name of `connect_timeout`.' }),
    reconnect_delay: conf.duration({ doc: 'Wait this long before replacing a failed connection.' }),
  }, { optional: true }),
  spare: conf.integer({ doc: 'Accepted for v3 configs; not used.' }),
  uses: conf.integer({ doc: 'Accepted for v3 configs; not used.' }),
  lifetime: conf.duration({ doc: 'Accepted for v3 configs; not used.' }),
  idle_timeout: conf.duration({ doc: 'Accepted for v3 configs; not used.' }),
  max_retries: conf.integer({ doc: 'Accepted for v3 configs; not used.' }),
}, { allowUnknown: true });

/** `sqlite { }` driver settings. */
const Sqlite = conf.section({
  filename: conf.string({ doc: 'Database file (created when missing).' }),
  bootstrap: conf.list(conf.string(), { doc: 'SQL files run in order under the write lock: all of them on a database without tables (a new file); on an existing one (an upgrade), each file that creates a table the database lacks, and a file that creates no table (seed rows) when the table file before it ran. Write them with CREATE … IF NOT EXISTS.' }),
  busy_timeout: conf.duration({ default: '5s', doc: 'How long a statement waits for a lock held by another process.' }),
  journal_mode: conf.enum(['wal', 'delete', 'truncate', 'persist', 'memory'] as const, { default: 'wal', doc: 'SQLite journal mode; `wal` lets reads run beside the writer.' }),
  synchronous: conf.enum(['off', 'normal', 'full', 'extra'] as const, { default: 'normal', doc: 'SQLite `synchronous`: `normal` (with WAL) keeps every committed write through a daemon kill; `full` also through a power loss.' }),
  batch: conf.integer({ default: 256, min: 1, doc: 'Most queued statements committed in one transaction (group commit).' }),
  single_writer: conf.boolean({ default: true, doc: 'One connection writes for every connection to the file, in every process of the server (elected through the Unix socket `<filename>-writer`), so they never wait for each other\'s write lock; `no`: each connection writes itself.' }),
});

/** `postgresql { }` driver settings. */
const Postgresql = conf.section({
  send_application_name: conf.boolean({ default: true, doc: 'Report `tsradius - sql <instance>` as application_name.' }),
  batch: conf.integer({ default: 32, min: 1, doc: 'Most queued statements sent together on one connection, in one round trip and one transaction (group commit); `1` sends one statement at a time.' }),
}, { allowUnknown: true });

/** `sql [instance] { … }` */
export const SqlConfig = conf.section({
  driver: conf.string({ default: 'sqlite', doc: '`sqlite` or `postgresql` (v3 `rlm_sql_sqlite`, `rlm_sql_postgresql` also accepted).' }),
  dialect: conf.string({ default: 'sqlite', doc: 'Which `queries.conf` the config includes; also picks the escaping when `driver` is not set.' }),
  sqlite: conf.subsection(Sqlite),
  postgresql: conf.subsection(Postgresql),
  pool: conf.subsection(Pool),
  server: conf.list(conf.string(), { doc: 'Database server (`host`, `host:port`); repeat the item for fail-over servers, tried in order.' }),
  port: conf.integer({ default: 0, min: 0, max: 65535, doc: 'Server port (0: the driver default).' }),
  login: conf.string({ default: '', doc: 'User name.' }),
  password: conf.string({ default: '', secret: true, doc: 'Password.' }),
  radius_db: conf.string({ default: 'radius', doc: 'Database name (PostgreSQL: or a full connection string).' }),
  read_groups: conf.boolean({ default: true, doc: 'Process groups after the user\'s rows unless the user\'s `Fall-Through` says no.' }),
  read_profiles: conf.boolean({ default: true, doc: 'After groups, process `control.User-Profile` (and `default_user_profile`) as groups.' }),
  read_clients: conf.boolean({ default: false, doc: 'Read RADIUS clients from `client_table` at start-up and on every reload (config clients win on the same address).' }),
  client_table: conf.string({ default: 'nas', doc: 'Table of `read_clients`.' }),
  client_query: conf.string({ doc: 'Query of `read_clients`, columns by name: id, nasname, shortname, type, secret, server (a virtual server name: only its listeners accept the client), require_ma, limit_proxy_state (default: `SELECT * FROM <client_table>`).' }),
  group_attribute: conf.string({ doc: 'Attribute holding the group being processed; default `SQL-Group` (`<instance>-SQL-Group` for a named instance when that attribute exists).' }),
  cache_groups: conf.boolean({ default: false, doc: 'Keep the name of every group the walk reaches in `control.<group_attribute>` (groups after the one that ends the walk are not added).' }),
  open_query: conf.string({ doc: 'Run on every new connection.' }),
  query_number_attribute: conf.string({ doc: 'Control attribute set to the 1-based index of the accounting / post-auth query that succeeded.' }),
  record_query_number: conf.boolean({ default: false, doc: 'v3: same as `query_number_attribute = SQL-Query-Number`.' }),
  safe_characters: conf.string({ default: '@abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_: /', doc: 'SQLite: characters left as they are when values are put into queries; others become `=XX`.' }),
  query_timeout: conf.duration({ default: '5s', doc: 'Per-query timeout (waiting for a connection included).' }),
  logfile: conf.string({ doc: 'Append every accounting / post-auth query to this file as well.' }),
  delete_stale_sessions: conf.boolean({ default: true, doc: 'Accepted for v3 configs (sessions are only counted, never deleted).' }),
  auto_escape: conf.boolean({ default: false, doc: 'Accepted for v3 configs.' }),

  // Table names and timestamp helpers: variables the queries reference as ${...}.
  acct_table1: conf.string({ default: 'radacct' }),
  acct_table2: conf.string({ default: 'radacct' }),
  postauth_table: conf.string({ default: 'radpostauth' }),
  authcheck_table: conf.string({ default: 'radcheck' }),
  authreply_table: conf.string({ default: 'radreply' }),
  groupcheck_table: conf.string({ default: 'radgroupcheck' }),
  groupreply_table: conf.string({ default: 'radgroupreply' }),
  usergroup_table: conf.string({ default: 'radusergroup' }),
  event_timestamp_epoch: conf.string({ doc: 'An expansion queries.conf takes in as `${...event_timestamp_epoch}` (checked there).' }),
  event_timestamp: conf.string({ doc: 'An expansion queries.conf takes in as `${...event_timestamp}` (checked there).' }),

  sql_user_name: conf.tmpl({ default: '%{User-Name}', doc: 'Expanded before the queries and stored in `request.SQL-User-Name`.' }),
  default_user_profile: conf.string({ doc: 'A profile (group) processed for every user after the user\'s groups.' }),
  authorize_check_query: conf.tmpl({ doc: 'Returns id, username, attribute, value, op of the user\'s check items.' }),
  authorize_reply_query: conf.tmpl({ doc: 'Returns id, username, attribute, value, op of the user\'s reply items.' }),
  group_membership_query: conf.tmpl({ doc: 'Returns the user\'s group names, by priority.' }),
  authorize_group_check_query: conf.tmpl({ doc: 'Check items of the group in `<group_attribute>`.' }),
  authorize_group_reply_query: conf.tmpl({ doc: 'Reply items of the group in `<group_attribute>`.' }),
  simul_count_query: conf.tmpl({ doc: '`sql.session`: the number of open sessions of `SQL-User-Name` (compared with Simultaneous-Use).' }),
  simul_verify_query: conf.tmpl({ doc: '`sql.session`: the open sessions, listed in the log when the limit is reached.' }),

  accounting: conf.raw({ doc: 'Accounting query lists: `start { query = … }`, `interim-update`, `stop`, `accounting-on`, `accounting-off` (v4), or v3 `reference` + `type { start { query } … }`.' }),
  'post-auth': conf.raw({ doc: 'v3 post-auth logging: `query = …` (or `reference` to a subsection).' }),
  send: conf.raw({ doc: 'v4 post-auth logging: `access-accept { query = … }`, `access-reject { … }`.' }),
});

/** Parsed `sql` config. */
export type SqlConfig = conf.Infer<typeof SqlConfig>;
