import { defineModule, probeTcp } from '../../core';
import { SqlConfig } from './config';
import { SQL_AUTHORIZE_ENV, SQL_LIST_ENV, SQL_SESSION_ENV, Sql, pgServers } from './sql';

/** `sql`: FreeRADIUS rlm_sql (SQLite embedded, PostgreSQL): authorize, accounting, post-auth, `%sql()`. */
export default defineModule({
  name: 'sql',
  kind: 'rlm',
  summary: 'Users, groups, accounting and post-auth logging in SQL (SQLite embedded, PostgreSQL), FreeRADIUS schema and queries.',
  config: SqlConfig,
  dict: ['User-Name', 'SQL-User-Name', 'SQL-Group', 'Fall-Through', 'Acct-Status-Type'],
  impl: Sql,
  // The start-time checks (also under -C), located through `at`.
  validate: Sql.validate,
  // radiusd -C: say which PostgreSQL servers do not accept a connection (a warning; -C still passes).
  probe: async (config, ctx) => {
    if (config.driver.replace(/^rlm_sql_/, '').toLowerCase() !== 'postgresql') return;
    await Promise.all(pgServers(config).map(async ({ label, target }) => {
      try {
        await probeTcp(target, 2000, ctx.signal);
      } catch (err) {
        ctx.warn('server', `PostgreSQL server ${label} is unreachable: ${(err as Error).message}`);
      }
    }));
  },
  map: 'map',
  mapEscape: 'escapeValue',
  clients: 'readClients',
  env: { authorize: SQL_AUTHORIZE_ENV, session: SQL_SESSION_ENV, accounting: SQL_LIST_ENV, send: SQL_LIST_ENV },
  methods: {
    'recv *': 'authorize',
    'authorize *': 'authorize',
    authorize: 'authorize',
    'accounting *': 'accounting',
    accounting: 'accounting',
    'send *': 'send',
    'post-auth *': 'send',
    'session *': 'session',
    session: 'session',
    'post-auth': 'send',
  },
  named: {
    authorize: 'authorize',
    accounting: 'accounting',
    'accounting.start': 'accounting',
    'accounting.interim-update': 'accounting',
    'accounting.stop': 'accounting',
    'accounting.accounting-on': 'accounting',
    'accounting.accounting-off': 'accounting',
    session: 'session',
    send: 'send',
    'post-auth': 'send',
    'send.access-accept': 'send',
    'send.access-reject': 'send',
    'send.access-challenge': 'send',
  },
});
