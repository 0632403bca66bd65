/**
 * The VX flow side by side with FreeRADIUS 3.2 (issue 15 §6): the NAS simulator (core/cli/nassim) runs
 * sessions through auth + Start + 3 Interim-Updates + Stop against
 *
 * - tsradius: `bin/radiusd.js` with examples/vx/raddb + sites/vx, users in `sql` and addresses from
 *   `sqlippool`, on a private PostgreSQL (plus what FreeRADIUS does not do: the UUID Acct-Session-Id,
 *   the DAC session store, the Framed-Route check);
 * - FreeRADIUS 3.2 (Debian, rlm_sql_postgresql): authorize `sql` + `pap`, post-auth `sqlippool`, accounting
 *   `sql` + `sqlippool`, on the same PostgreSQL server (its own database, its shipped schema and queries),
 *   the pool keyed by User-Name:NAS-Port on both sides;
 *
 * alternating the servers each round (bounded runs; the machine is shared). Prints per run sessions/s, the
 * server's CPU seconds (from /proc) and p50/p99 per packet type; then the medians and the ratios.
 *
 *   npx tsc -p . && node dist/bench/vx/vx.bench.js [--sessions 2000] [--rounds 3] [--concurrency 64] [--workers 1] [--json FILE]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadDefaultDictionary } from '../../core/dict/default';
import { NasSimulator, type RunReport } from '../../core/cli/nassim/simulator';
import { freePorts } from '../../test/interop/freeradius';
import { startPostgres, type PgServer } from '../../test/support/postgres';
import { writeVx } from '../../test/dac/fixture';
import { postgresModuleConf } from '../../modules/sql/testing';
import { sqlippoolConf } from '../../modules/sqlippool/testing';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SQLDIR = path.join(ROOT, 'raddb', 'mods-config', 'sql');
const FR_SQL = '/etc/freeradius/3.0/mods-config/sql';
const PEER = path.join(ROOT, '..', 'shared', 'bench', 'peer-freeradius.sh'); // ../shared beside the checkout
const USERS = 200;
const POOL = 4096;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

function usersSql(): string {
  const u = (i: string) => `'vx' || lpad(${i}::text, 4, '0')`;
  const out = [`INSERT INTO radcheck (username, attribute, op, value) SELECT ${u('i')}, 'Cleartext-Password', ':=', 'pass' || lpad(i::text, 4, '0') FROM generate_series(1, ${USERS}) i;`];
  for (const [a, v] of [['Session-Timeout', '86400'], ['Idle-Timeout', '600'], ['Port-Limit', '16'],
    ['Actual-Data-Rate-Downstream', '100000000'], ['Actual-Data-Rate-Upstream', '20000000'],
    ['Minimum-Data-Rate-Downstream', '1000000'], ['Minimum-Data-Rate-Upstream', '500000'],
    ['Maximum-Data-Rate-Downstream', '50000000'], ['Maximum-Data-Rate-Upstream', '10000000']]) {
    out.push(`INSERT INTO radreply (username, attribute, op, value) SELECT ${u('i')}, '${a}', ':=', '${v}' FROM generate_series(1, ${USERS}) i;`);
  }
  return out.join('\n');
}

/** utime + stime of a process and its children threads, seconds. */
function cpuOf(pids: number[]): number {
  const tick = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  let t = 0;
  for (const pid of pids) {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      t += (Number(f[11]) + Number(f[12])) / tick;
    } catch { /* gone */ }
  }
  return t;
}

function childrenOf(pid: number): number[] {
  const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

async function waitFor(fn: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not ready in ${ms} ms`);
}

interface Target { name: string; auth: number; acct: number; pids: () => number[]; stop(): Promise<void> }

async function startOurs(pg: PgServer, workers: number): Promise<Target> {
  const vx = await writeVx((file, t) => (file === 'radiusd.conf' ? t.replace('workers = 1', `workers = ${workers}`) : t));
  const mods = path.join(vx.raddb, 'mods-enabled');
  fs.rmSync(path.join(mods, 'files'));
  fs.writeFileSync(path.join(mods, 'sql'), postgresModuleConf([{ host: pg.host, port: pg.port }], 'ours', pg.user).split(path.join(ROOT, 'dist', 'raddb')).join(path.join(ROOT, 'raddb')));
  fs.writeFileSync(path.join(mods, 'sqlippool'), sqlippoolConf('postgresql', { extra: '\towner = "%{User-Name}:%{NAS-Port}"' }).replace('\towner = "%{Calling-Station-Id}"\n', '').split(path.join(ROOT, 'dist', 'raddb')).join(path.join(ROOT, 'raddb')));
  let out = '';
  const p = spawn(process.execPath, [path.join(ROOT, 'bin', 'radiusd.js'), '-d', vx.raddb, '-f'], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout!.on('data', (b) => (out += b));
  p.stderr!.on('data', (b) => (out += b));
  await waitFor(() => (workers > 1 ? /workers ready/ : /Ready to process requests/).test(out) || p.exitCode !== null, 60_000, 'tsradius').catch(() => undefined);
  if (p.exitCode !== null || !(workers > 1 ? /workers ready/ : /Ready to process requests/).test(out)) { await stopProc(p); throw new Error(`tsradius did not start:\n${out}`); }
  return {
    name: `tsradius (workers ${workers})`, auth: vx.ports.auth, acct: vx.ports.acct,
    pids: () => [p.pid!, ...childrenOf(p.pid!)],
    stop: () => stopProc(p).then(() => fs.rmSync(vx.dir, { recursive: true, force: true })),
  };
}

async function startFr(pg: PgServer): Promise<Target> {
  const [auth, acct] = await freePorts(2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-vxfr-'));
  const r = spawnSync(PEER, ['config'], { env: { ...process.env, FRPEER_DIR: dir, AUTH_PORT: String(auth), ACCT_PORT: String(acct), USERS: '1', THREADS: '4', ACCT_DETAIL: '0' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`peer-freeradius.sh config: ${r.stderr}`);
  const raddb = path.join(dir, 'raddb');
  fs.writeFileSync(path.join(raddb, 'mods-enabled', 'sql'), `sql {
	dialect = "postgresql"
	driver = "rlm_sql_postgresql"
	server = "127.0.0.1"
	port = ${pg.port}
	login = "${pg.user}"
	radius_db = "fr"
	acct_table1 = "radacct"
	acct_table2 = "radacct"
	postauth_table = "radpostauth"
	authcheck_table = "radcheck"
	groupcheck_table = "radgroupcheck"
	authreply_table = "radreply"
	groupreply_table = "radgroupreply"
	usergroup_table = "radusergroup"
	delete_stale_sessions = yes
	pool {
		start = 5
		min = 4
		max = 10
		spare = 3
		uses = 0
		retry_delay = 30
		lifetime = 0
		idle_timeout = 60
	}
	read_clients = no
	client_table = "nas"
	group_attribute = "SQL-Group"
	$INCLUDE \${modconfdir}/\${.:name}/main/\${dialect}/queries.conf
}
`);
  fs.writeFileSync(path.join(raddb, 'mods-enabled', 'sqlippool'), `sqlippool {
	sql_module_instance = "sql"
	dialect = "postgresql"
	pool_name = "Pool-Name"
	ippool_table = "radippool"
	lease_duration = 3600
	attribute_name = Framed-IP-Address
	req_attribute_name = Framed-IP-Address
	pool_key = "%{User-Name}:%{NAS-Port}"
	$INCLUDE \${modconfdir}/sql/ippool/\${dialect}/queries.conf
}
`);
  const site = path.join(raddb, 'sites-available', 'peer');
  let s = fs.readFileSync(site, 'utf8');
  s = s.replace(/authorize \{\s*files\n/, 'authorize {\n\t\tsql\n');
  if (!/authorize \{\n\t\tsql/.test(s)) throw new Error(`cannot patch ${site}`);
  s = s.replace('post-auth {\n', "post-auth {\n\t\tupdate control {\n\t\t\t&Pool-Name := 'vx'\n\t\t}\n\t\tsqlippool\n");
  s = s.replace('accounting {\n', "accounting {\n\t\tsql\n\t\tupdate control {\n\t\t\t&Pool-Name := 'vx'\n\t\t}\n\t\tsqlippool\n");
  fs.writeFileSync(site, s);
  const chk = spawnSync('freeradius', ['-C', '-d', raddb], { encoding: 'utf8' });
  if (chk.status !== 0) throw new Error(`freeradius -C:\n${chk.stdout}\n${chk.stderr}`);
  let out = '';
  const p = spawn('freeradius', [process.env.VX_FR_DEBUG ? '-X' : '-f', '-d', raddb], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout!.on('data', (b) => (out += b));
  p.stderr!.on('data', (b) => (out += b));
  // Ready when it answers an Access-Request.
  await waitFor(() => {
    if (p.exitCode !== null) return true;
    const rc = spawnSync('radclient', ['-q', '-r', '1', '-t', '1', `127.0.0.1:${auth}`, 'auth', 'testing123'], { input: 'User-Name = "vx0001", User-Password = "pass0001"\n' });
    return rc.status === 0;
  }, 30_000, 'FreeRADIUS').catch(async (e: Error) => { await stopProc(p); throw new Error(`${e.message}\n${out.slice(-3000)}`); });
  if (p.exitCode !== null) throw new Error(`FreeRADIUS exited:\n${out}`);
  return { name: 'FreeRADIUS 3.2', auth, acct, pids: () => [p.pid!], stop: () => stopProc(p).then(() => fs.rmSync(dir, { recursive: true, force: true })) };
}

async function stopProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 8000);
  await done;
  clearTimeout(t);
}

interface Run { server: string; round: number; report: RunReport; cpu: number }

async function runOnce(t: Target, sessions: number, concurrency: number, users: { name: string; password: string }[]): Promise<{ report: RunReport; cpu: number }> {
  const [coaPort] = await freePorts(1);
  const sim = new NasSimulator({ dict: loadDefaultDictionary(), server: '127.0.0.1', authPort: t.auth, acctPort: t.acct, secret: 'testing123', coaPort, timeout: 3, attempts: 3 });
  await sim.open();
  const pids = t.pids();
  const c0 = cpuOf(pids);
  const report = await sim.run({ sessions, users, interims: 3, concurrency, octetsPerInterim: 65536 });
  const cpu = cpuOf(pids) - c0;
  await sim.close();
  return { report, cpu };
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN; };

async function main(): Promise<void> {
  const sessions = Number(arg('sessions', '2000'));
  const rounds = Number(arg('rounds', '3'));
  const concurrency = Number(arg('concurrency', '64'));
  const workers = Number(arg('workers', '1'));
  const pg = await startPostgres();
  const targets: Target[] = [];
  try {
    const pool = `SELECT 'vx', ('100.64.0.0'::inet + i) FROM generate_series(1, ${POOL}) i`;
    await pg.createDatabase('ours', [path.join(SQLDIR, 'main', 'postgresql', 'schema.sql'), path.join(SQLDIR, 'ippool', 'postgresql', 'schema.sql')]);
    await pg.psql(`${usersSql()}\nINSERT INTO fr_ippool (pool_name, address) ${pool};\nANALYZE;`, 'ours');
    await pg.createDatabase('fr', [path.join(FR_SQL, 'main', 'postgresql', 'schema.sql'), path.join(FR_SQL, 'ippool', 'postgresql', 'schema.sql')]);
    await pg.psql(`${usersSql()}\nINSERT INTO radippool (pool_name, framedipaddress, expiry_time) SELECT 'vx', ('100.64.0.0'::inet + i), '1970-01-01' FROM generate_series(1, ${POOL}) i;\nANALYZE;`, 'fr');
    const ours = await startOurs(pg, workers);
    targets.push(ours);
    const fr = await startFr(pg);
    targets.push(fr);
    const users = Array.from({ length: USERS }, (_, i) => ({ name: `vx${String(i + 1).padStart(4, '0')}`, password: `pass${String(i + 1).padStart(4, '0')}` }));
    // Warm-up (JIT, connections), not counted.
    for (const t of [ours, fr]) await runOnce(t, Math.min(300, sessions), concurrency, users);
    const runs: Run[] = [];
    for (let r = 1; r <= rounds; r++) {
      for (const t of r % 2 ? [ours, fr] : [fr, ours]) {
        const { report, cpu } = await runOnce(t, sessions, concurrency, users);
        runs.push({ server: t.name, round: r, report, cpu });
        const l = report.latency;
        console.log(`round ${r} ${t.name}: ${report.sessionsPerSecond.toFixed(0)} sessions/s (${report.completed}/${report.sessions} completed, ${report.rejected} rejected), cpu ${cpu.toFixed(2)} s`
          + ` = ${(report.completed / Math.max(cpu, 1e-3)).toFixed(0)} sessions/CPU-s; p50/p99 ms auth ${l.auth?.p50}/${l.auth?.p99} start ${l.start?.p50}/${l.start?.p99} interim ${l.interim?.p50}/${l.interim?.p99} stop ${l.stop?.p50}/${l.stop?.p99}`);
      }
    }
    const summary: Record<string, unknown> = {};
    for (const t of [ours, fr]) {
      const mine = runs.filter((x) => x.server === t.name);
      const lat: Record<string, { p50: number; p99: number }> = {};
      for (const k of ['auth', 'start', 'interim', 'stop']) lat[k] = { p50: median(mine.map((x) => x.report.latency[k]?.p50 ?? NaN)), p99: median(mine.map((x) => x.report.latency[k]?.p99 ?? NaN)) };
      summary[t.name] = {
        sessionsPerSecond: median(mine.map((x) => x.report.sessionsPerSecond)),
        sessionsPerCpuSecond: median(mine.map((x) => x.report.completed / Math.max(x.cpu, 1e-3))),
        failed: mine.reduce((a, x) => a + (x.report.sessions - x.report.completed), 0),
        latency: lat,
      };
    }
    const a = summary[ours.name] as { sessionsPerSecond: number; sessionsPerCpuSecond: number };
    const b = summary[fr.name] as { sessionsPerSecond: number; sessionsPerCpuSecond: number };
    const perRound = [];
    for (let r = 1; r <= rounds; r++) {
      const x = runs.find((y) => y.round === r && y.server === ours.name)!;
      const y = runs.find((z) => z.round === r && z.server === fr.name)!;
      perRound.push(x.report.sessionsPerSecond / y.report.sessionsPerSecond);
    }
    const result = {
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, load: os.loadavg(), node: process.version },
      sessions, rounds, concurrency, workers, summary,
      ratio: { sessionsPerSecond: a.sessionsPerSecond / b.sessionsPerSecond, perRound, sessionsPerCpuSecond: a.sessionsPerCpuSecond / b.sessionsPerCpuSecond },
    };
    console.log(JSON.stringify(result, null, 2));
    const json = arg('json', '');
    if (json) fs.writeFileSync(json, JSON.stringify({ result, runs }, null, 2));
  } finally {
    for (const t of targets) await t.stop().catch(() => undefined);
    await pg.stop();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
