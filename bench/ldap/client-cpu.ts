/**
 * CPU per user search of our LDAP client path alone (`modules/ldap` Directories → connection → wire, no
 * RADIUS): WINDOW searches in flight against a directory, ROUNDS rounds of N searches after one unmeasured
 * round, `process.cpuUsage()` per search. Less noisy than a whole-server run on a busy machine; alternate
 * two builds for an A/B (docs/performance.md, "LDAP").
 *
 *   node dist/bench/ldap/slapd.js 1000 &        (prints PORT <n>)
 *   node dist/bench/ldap/client-cpu.js PORT [N]   (env CONNS 2, WINDOW 64, ROUNDS 3)
 */
import { nullLogger, trunkFactory } from '../../core';
import { parseServer } from '../../modules/ldap/connection';
import { CallCancel, Directories, SearchShapes } from '../../modules/ldap/directory';
import { cpuRounds } from './cpu-rounds';

const port = Number(process.argv[2]);
const n = Number(process.argv[3] ?? 20000);
const window = Number(process.env.WINDOW ?? 64);
const pool = (k: number) => ({ start: k, min: k, max: k, per_connection_max: 256, max_backlog: 1000 });
const dirs = new Directories({
  servers: [parseServer(`ldap://127.0.0.1:${port}`, 389)],
  base: { startTls: false, tls: {}, connectTimeout: 2000 },
  bind: { dn: 'cn=admin,dc=example,dc=com', password: 'secret' },
  pool: pool(Number(process.env.CONNS ?? 2)),
  bindPool: { ...pool(0), max: 1 },
  resTimeout: 10000,
  reconnectDelay: 1000,
  trunks: trunkFactory,
  log: nullLogger,
});
const shapes = new SearchShapes();
const attrs = ['userpassword', 'benchframedipaddress', 'benchsessiontimeout', 'benchidletimeout', 'benchratedown', 'benchrateup'];
let i = 0;

async function one(): Promise<void> {
  const k = (i++ % 1000) + 1;
  const msg = shapes.message({ base: 'ou=people,dc=example,dc=com', scope: 'sub', filter: `(uid=user${String(k).padStart(4, '0')})`, attrs, timeLimit: 3, deref: 'never' });
  const r = await dirs.run(msg, 'search', new CallCancel({ onSignal() {} }));
  // Read every value as the map does.
  for (const [, v] of r.entries[0].attrs) void v[0].toString('utf8');
}

async function main(): Promise<void> {
  dirs.open();
  const until = Date.now() + 5000;
  while (!dirs.anyAlive()) {
    if (Date.now() > until) throw new Error(`no LDAP server on port ${port}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await cpuRounds(one, n, window, 'search');
  dirs.close();
}

main().then(() => setTimeout(() => process.exit(0), 100), (e) => { console.error(e); process.exit(1); });
