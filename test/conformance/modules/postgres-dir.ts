/**
 * Start hook of FreeRADIUS's `sql_postgresql` module-test directory: a PostgreSQL cluster of our own
 * (test/support/postgres.ts, `initdb` in a scratch directory), never the machine's server.
 *
 * The tests' module.conf says `server = $ENV{SQL_POSTGRESQL_TEST_SERVER}` and `port = 5432`. A fixed
 * TCP port cannot be claimed on a shared machine, so the cluster listens on its Unix socket only
 * (`<dir>/.s.PGSQL.5432`, no TCP) and `SQL_POSTGRESQL_TEST_SERVER` is that directory: libpq and our
 * driver take a directory as the host, so the configuration is used as written.
 *
 * As FreeRADIUS's CI prepares it: database `radius` with our `raddb/mods-config/sql/main/postgresql/
 * schema.sql`, login `radius` / `radpass` owning the tables. That role logs in with its password
 * (SCRAM), so instance `sql2`'s wrong password (`badpass`) is refused as upstream intends.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startPostgres } from '../../support/postgres';
import type { DirContext, DirServers } from './dirs';

export async function startPostgresDir(ctx: DirContext): Promise<DirServers | string> {
  let pg;
  try {
    pg = await startPostgres({ socketOnlyPort: 5432, hba: ['local all radius scram-sha-256'] });
  } catch (err) {
    return `no PostgreSQL server: ${(err as Error).message.split('\n')[0]}`;
  }
  try {
    await pg.psql(`SET password_encryption = 'scram-sha-256'; CREATE ROLE radius LOGIN PASSWORD 'radpass';`);
    await pg.createDatabase('radius');
    await pg.psql('ALTER DATABASE radius OWNER TO radius; ALTER SCHEMA public OWNER TO radius;', 'radius');
    const schema = path.join(ctx.root, 'raddb', 'mods-config', 'sql', 'main', 'postgresql', 'schema.sql');
    // Created as radius, so the role owns (and may change) every table, as upstream's setup.sql grants.
    await pg.psql(`SET ROLE radius;\n${fs.readFileSync(schema, 'utf8')}`, 'radius');
  } catch (err) {
    await pg.stop();
    throw err;
  }
  ctx.log(`sql_postgresql: PostgreSQL on ${pg.host}/.s.PGSQL.${pg.port}`);
  return {
    env: { SQL_POSTGRESQL_TEST_SERVER: pg.host },
    stop: () => pg.stop(),
  };
}
