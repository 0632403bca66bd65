/**
 * `sqlippool-tool` (bin/sqlippool-tool.js): manage `fr_ippool` pools in SQLite or PostgreSQL, as
 * FreeRADIUS's `rlm_sqlippool_tool` does: add and remove ranges and prefixes, list pools with
 * their usage, show a pool's leases, release leases.
 */
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { expandRange, parseArgs } from '../shared/ip-range';

const USAGE = `usage: sqlippool-tool (--sqlite FILE | --postgresql URL) [--table fr_ippool] COMMAND
  add POOL RANGE [--prefix-length N] [--static OWNER]
                         add addresses: 192.0.2.10-192.0.2.20, 192.0.2.0/24 (host addresses),
                         192.0.2.7, or a prefix split into /N prefixes (2001:db8::/40 --prefix-length 48)
  remove POOL RANGE      remove addresses (leased or not)
  pools                  every pool: total, leased, free
  show POOL              every address of the pool: lease state, owner, gateway, expiry
  release POOL RANGE     end the leases of those addresses now (the owner is cleared)
  release-gateway POOL GATEWAY
                         end every lease of a NAS in the pool
The schema is raddb/mods-config/sql/ippool/<dialect>/schema.sql; --init loads it first.`;

/** The database calls the tool needs, for either engine. */
interface Db {
  readonly dialect: 'sqlite' | 'postgresql';
  /** Runs `sql` with `$1…` parameters; rows as objects. */
  query(sql: string, params?: readonly unknown[]): Promise<{ rows: Record<string, unknown>[]; changes: number }>;
  /** Runs `fn` in one transaction. */
  transaction(fn: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

function sqliteDb(file: string): Db {
  const db = new Database(file);
  db.pragma('journal_mode = wal');
  db.pragma('busy_timeout = 5000');
  const conv = (sql: string) => sql.replace(/\$\d+/g, '?');
  return {
    dialect: 'sqlite',
    async query(sql, params = []) {
      const s = db.prepare(conv(sql));
      if (s.reader) return { rows: s.all(...(params as unknown[])) as Record<string, unknown>[], changes: 0 };
      return { rows: [], changes: s.run(...(params as unknown[])).changes };
    },
    async transaction(fn) {
      db.exec('BEGIN IMMEDIATE');
      try { await fn(); db.exec('COMMIT'); } catch (e) { db.exec('ROLLBACK'); throw e; }
    },
    async close() { db.close(); },
  };
}

async function pgDb(url: string): Promise<Db> {
  const c = new Client({ connectionString: url, application_name: 'sqlippool-tool' });
  await c.connect();
  await c.query("SET TIME ZONE 'UTC'");
  return {
    dialect: 'postgresql',
    async query(sql, params = []) {
      const r = await c.query(sql, params as unknown[]);
      return { rows: r.rows as Record<string, unknown>[], changes: r.command === 'SELECT' ? 0 : (r.rowCount ?? 0) };
    },
    async transaction(fn) {
      await c.query('BEGIN');
      try { await fn(); await c.query('COMMIT'); } catch (e) { await c.query('ROLLBACK'); throw e; }
    },
    async close() { await c.end(); },
  };
}

const ident = (t: string) => {
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(t)) throw new Error(`bad table name "${t}"`);
  return t;
};

/** Runs the tool; resolves with the exit status. */
export async function sqlippoolToolMain(argv: readonly string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(argv, ['help', 'h', 'init']);
  } catch (e) {
    err(`sqlippool-tool: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { opts, words } = args;
  const one = (n: string) => opts.get(n)?.at(-1);
  if (opts.has('help') || opts.has('h') || !words.length) {
    (words.length || opts.has('help') || opts.has('h') ? out : err)(`${USAGE}\n`);
    return words.length || opts.has('help') || opts.has('h') ? 0 : 2;
  }
  const sqlite = one('sqlite');
  const pgUrl = one('postgresql');
  if (!sqlite === !pgUrl) {
    err(`sqlippool-tool: give one of --sqlite FILE or --postgresql URL\n${USAGE}\n`);
    return 2;
  }
  const table = ident(one('table') ?? 'fr_ippool');
  let db: Db | undefined;
  try {
    db = sqlite ? sqliteDb(sqlite) : await pgDb(pgUrl!);
    const d = db;
    const now = d.dialect === 'sqlite' ? "datetime('now')" : 'localtimestamp';
    const nowValue = d.dialect === 'sqlite' ? "datetime('now')" : "date_trunc('second', localtimestamp)";
    if (opts.has('init')) {
      const fs = await import('node:fs');
      const path = await import('node:path');
      // From dist/modules/sqlippool/ (built) or modules/sqlippool/ (sources).
      const file = [path.resolve(__dirname, '..', '..', '..'), path.resolve(__dirname, '..', '..')]
        .map((root) => path.join(root, 'raddb', 'mods-config', 'sql', 'ippool', d.dialect, 'schema.sql'))
        .find((f) => fs.existsSync(f))!;
      const schema = fs.readFileSync(file, 'utf8')
        .replace(/--[^\n]*\n/g, '\n');
      for (const stmt of schema.split(';').map((s) => s.trim()).filter(Boolean)) await d.query(stmt);
    }
    const [cmd, pool, arg] = words;
    const needPool = () => { if (!pool) throw new Error(`${cmd}: which pool?`); };
    switch (cmd) {
      case 'add': {
        needPool();
        if (!arg) throw new Error('add: which range?');
        const pl = one('prefix-length');
        const list = expandRange(arg, pl === undefined ? undefined : Number(pl));
        const owner = one('static');
        let added = 0;
        await d.transaction(async () => {
          const conflict = d.dialect === 'sqlite' ? 'INSERT OR IGNORE INTO' : 'INSERT INTO';
          const tail = d.dialect === 'sqlite' ? '' : ' ON CONFLICT DO NOTHING';
          for (let i = 0; i < list.length; i += 500) {
            const chunk = list.slice(i, i + 500);
            let n = 0;
            for (const a of chunk) {
              const x = await d.query(`${conflict} ${table} (pool_name, address, owner, status_id) VALUES ($1, $2, $3, $4)${tail}`, [pool, a, owner ?? '', owner ? 2 : 1]);
              n += x.changes;
            }
            added += n;
          }
        });
        out(`added ${added} of ${list.length} address(es) to pool ${pool}\n`);
        return 0;
      }
      case 'remove': {
        needPool();
        if (!arg) throw new Error('remove: which range?');
        const pl = one('prefix-length');
        const list = expandRange(arg, pl === undefined ? undefined : Number(pl));
        let removed = 0;
        await d.transaction(async () => {
          for (const a of list) removed += (await d.query(`DELETE FROM ${table} WHERE pool_name = $1 AND address = $2`, [pool, a])).changes;
        });
        out(`removed ${removed} address(es) from pool ${pool}\n`);
        return 0;
      }
      case 'pools': {
        const r = await d.query(`SELECT pool_name, COUNT(*) AS total, SUM(CASE WHEN expiry_time > ${now} THEN 1 ELSE 0 END) AS leased FROM ${table} GROUP BY pool_name ORDER BY pool_name`);
        out('pool\ttotal\tleased\tfree\n');
        for (const row of r.rows) {
          const total = Number(row.total);
          const leased = Number(row.leased ?? 0);
          out(`${row.pool_name}\t${total}\t${leased}\t${total - leased}\n`);
        }
        return 0;
      }
      case 'show': {
        needPool();
        const addr = d.dialect === 'sqlite' ? 'address' : 'host(address) AS address, masklen(address) AS len, family(address) AS fam';
        const r = await d.query(`SELECT ${addr}, owner, gateway, expiry_time, status_id, counter, CASE WHEN expiry_time > ${now} THEN 1 ELSE 0 END AS live FROM ${table} WHERE pool_name = $1 ORDER BY id`, [pool]);
        let leased = 0;
        out('address\tstate\towner\tgateway\texpiry\tallocations\n');
        for (const row of r.rows) {
          const live = Number(row.live) === 1;
          if (live) leased++;
          let a = String(row.address);
          if (row.len !== undefined && Number(row.len) !== (Number(row.fam) === 4 ? 32 : 128)) a += `/${row.len}`;
          const exp = row.expiry_time instanceof Date ? row.expiry_time.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '') : String(row.expiry_time);
          const state = Number(row.status_id) === 2 ? 'static' : Number(row.status_id) > 2 ? 'disabled' : live ? 'leased' : 'free';
          out(`${a}\t${state}\t${row.owner || '-'}\t${row.gateway || '-'}\t${live ? exp : '-'}\t${row.counter}\n`);
        }
        out(`pool ${pool}: ${r.rows.length} address(es), ${leased} leased, ${r.rows.length - leased} free\n`);
        return r.rows.length ? 0 : 1;
      }
      case 'release': {
        needPool();
        if (!arg) throw new Error('release: which address or range?');
        const pl = one('prefix-length');
        const list = expandRange(arg, pl === undefined ? undefined : Number(pl));
        let n = 0;
        await d.transaction(async () => {
          for (const a of list) n += (await d.query(`UPDATE ${table} SET owner = '', gateway = '', expiry_time = ${nowValue} WHERE pool_name = $1 AND address = $2 AND expiry_time > ${now}`, [pool, a])).changes;
        });
        out(`released ${n} lease(s) in pool ${pool}\n`);
        return 0;
      }
      case 'release-gateway': {
        needPool();
        if (!arg) throw new Error('release-gateway: which gateway?');
        const r = await d.query(`UPDATE ${table} SET gateway = '', expiry_time = ${nowValue} WHERE pool_name = $1 AND gateway = $2 AND expiry_time > ${now}`, [pool, arg]);
        out(`released ${r.changes} lease(s) of ${arg} in pool ${pool}\n`);
        return 0;
      }
      default:
        err(`sqlippool-tool: unknown command "${cmd}"\n${USAGE}\n`);
        return 2;
    }
  } catch (e) {
    err(`sqlippool-tool: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await db?.close();
  }
}
