/**
 * The database of bench/sql.sh: one private PostgreSQL (test/support/postgres.ts: initdb into a temporary
 * directory, a free loopback port) with database `radius` holding
 *
 * - our schema (raddb/mods-config/sql/main/postgresql/schema.sql), which has FreeRADIUS 3.2's columns, so
 *   both servers write the same `radacct`;
 * - the bench users `user0001..userNNNN` in `radcheck` (`Cleartext-Password := passNNNN`) and `radreply`
 *   (Session-Timeout, Idle-Timeout and the two ADSL-Forum rates radload checks; the Framed-IP-Address comes
 *   from the pool);
 * - one pool `bench` of POOL addresses from 10.64.0.1 on, twice: in our `fr_ippool` (v4 layout,
 *   raddb/mods-config/sql/ippool/postgresql/schema.sql) and in FreeRADIUS 3.2's `radippool` (its own schema
 *   file), so each server allocates from a table its shipped queries know.
 *
 * Prints `PORT <n>`, `PID <postmaster pid>` and `DIR <dir>` once ready; stops and removes the server on
 * SIGTERM / SIGINT.
 *
 *   node dist/bench/sql/pg.js [USERS] [POOL]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startPostgres } from '../../test/support/postgres';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const OURS = path.join(ROOT, 'raddb', 'mods-config', 'sql');
const FR_IPPOOL = '/etc/freeradius/3.0/mods-config/sql/ippool/postgresql/schema.sql';

function data(users: number, pool: number): string {
  const out: string[] = [];
  out.push(`INSERT INTO radcheck (username, attribute, op, value)
  SELECT 'user' || lpad(i::text, 4, '0'), 'Cleartext-Password', ':=', 'pass' || lpad(i::text, 4, '0') FROM generate_series(1, ${users}) i;`);
  for (const [attr, value] of [['Session-Timeout', '3600'], ['Idle-Timeout', '600'], ['Actual-Data-Rate-Upstream', '1024000'], ['Actual-Data-Rate-Downstream', '16384000']]) {
    out.push(`INSERT INTO radreply (username, attribute, op, value)
  SELECT 'user' || lpad(i::text, 4, '0'), '${attr}', '=', '${value}' FROM generate_series(1, ${users}) i;`);
  }
  const addr = `('10.64.0.0'::inet + i)`;
  out.push(`INSERT INTO fr_ippool (pool_name, address) SELECT 'bench', ${addr} FROM generate_series(1, ${pool}) i;`);
  out.push(`INSERT INTO radippool (pool_name, framedipaddress, expiry_time) SELECT 'bench', ${addr}, '1970-01-01' FROM generate_series(1, ${pool}) i;`);
  out.push('ANALYZE;');
  return out.join('\n');
}

async function main(): Promise<void> {
  const users = Number(process.argv[2] ?? 1000);
  const pool = Number(process.argv[3] ?? 4096);
  if (!fs.existsSync(FR_IPPOOL)) throw new Error(`${FR_IPPOOL} missing (Debian freeradius-config)`);
  const pg = await startPostgres();
  const stop = () => { void pg.stop().then(() => process.exit(0)); };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await pg.createDatabase('radius', [
      path.join(OURS, 'main', 'postgresql', 'schema.sql'),
      path.join(OURS, 'ippool', 'postgresql', 'schema.sql'),
      FR_IPPOOL,
    ]);
    await pg.psql(data(users, pool), 'radius');
  } catch (e) {
    await pg.stop();
    throw e;
  }
  const pid = fs.readFileSync(path.join(pg.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0].trim();
  process.stdout.write(`PORT ${pg.port}\nPID ${pid}\nDIR ${pg.dir}\nUSER ${pg.user}\n`);
  // pg_ctl detached the server: keep this process (the handle that stops it) alive until signalled.
  setInterval(() => undefined, 1 << 30);
}

main().catch((e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
