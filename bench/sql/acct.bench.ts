/**
 * The `sql` module's accounting path alone, in one process, without the network: WINDOW concurrent
 * "NASes" send Start, Interim-Update and Stop of 1000 users' sessions in turn through
 * `accounting <Status-Type> { sql }` (the shipped queries.conf) until COUNT records were written.
 * Prints the records per second and, the figure that survives a busy machine, the CPU time per
 * record of the whole process (main thread plus the database worker: `process.cpuUsage`).
 *
 *   node dist/bench/sql/acct.bench.js [--count 30000] [--window 64] [--db sqlite|postgres://…] [--rounds 3]
 *
 * Used to compare changes to the driver (git stash, rebuild, run again); the side-by-side numbers
 * against FreeRADIUS come from bench/daemon/sql.sh.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compileUnlang, createRootContainer, findSection, loadDefaultDictionary, loadModules, MemoryLogger, parseConfigString, parsePairList, Request, runSection } from '../../core';
import sqlModule from '../../modules/sql/index';
import { postgresModuleConf, SQL_CONFIG_DIR, sqliteModuleConf } from '../../modules/sql/testing';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

async function main(): Promise<void> {
  const count = Number(arg('count', '30000'));
  const window = Number(arg('window', '64'));
  const rounds = Number(arg('rounds', '3'));
  const db = arg('db', 'sqlite');
  const dict = loadDefaultDictionary();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsr-acctbench-'));
  let body: string;
  if (db === 'sqlite') {
    body = sqliteModuleConf(path.join(tmp, 'radius.sqlite'));
  } else {
    const u = new URL(db);
    body = postgresModuleConf([{ host: u.hostname, port: Number(u.port) }], u.pathname.slice(1), u.username, `\tpool {\n\t\tstart = ${arg('pool', '4')}\n\t\tmin = ${arg('pool', '4')}\n\t\tmax = ${arg('pool', '4')}\n\t}\n`);
  }
  // Under dist/ the helper's path points into dist/raddb, which does not exist: the repository's.
  body = body.split(SQL_CONFIG_DIR).join(path.resolve(__dirname, '..', '..', '..', 'raddb', 'mods-config', 'sql'));
  const tree = parseConfigString(`modules {\n${body}\n}\n`, path.join(tmp, 'radiusd.conf'));
  const root = createRootContainer({ dict, log: new MemoryLogger(false) });
  const mods = await loadModules({ section: findSection(tree, 'modules'), root, registry: [sqlModule] });
  const sections = new Map(['Start', 'Interim-Update', 'Stop'].map((t) => [t, compileUnlang('sql', {
    dict, xlats: mods.xlats, modules: mods.modules, virtualModules: mods.virtualModules, section: { name1: 'accounting', name2: t },
  })]));
  const nonce = Date.now().toString(16);
  let next = 0;
  let failed = 0;
  const one = async (n: number): Promise<void> => {
    // As from a NAS with 1000 subscribers (and sandstorm -t acct): record n is for user n % 1000, whose
    // Start, Interim-Update and Stop are 1000 records apart, so a session's records are never in flight
    // together (an Interim-Update racing its own Start is a pattern no NAS produces).
    const seq = Math.floor(n / 1000);
    const type = (['Start', 'Interim-Update', 'Stop'] as const)[seq % 3];
    const s = Math.floor(seq / 3) * 1000 + (n % 1000);
    const user = (n % 1000) + 1;
    const r = new Request({ code: 4, dict });
    const counters = type === 'Start' ? '' : ', Acct-Session-Time = 600, Acct-Input-Octets = 123456789, Acct-Output-Octets = 987654321, Acct-Input-Packets = 12345, Acct-Output-Packets = 54321';
    r.request.push(...parsePairList(`Acct-Status-Type = ${type}, Acct-Session-Id = "${nonce}${s.toString(16).padStart(12, '0')}", User-Name = "user${String(user).padStart(4, '0')}", NAS-IP-Address = 127.0.0.1, NAS-Port = ${user}, NAS-Port-Type = Ethernet, Service-Type = Framed-User, Framed-IP-Address = 10.0.${user >> 8}.${user & 255}, Acct-Delay-Time = 0, Event-Timestamp = ${Math.floor(Date.now() / 1000)}${counters}${type === 'Stop' ? ', Acct-Terminate-Cause = User-Request' : ''}`, dict));
    const rc = await runSection(sections.get(type)!, r);
    if (rc !== 'ok') {
      if (failed++ < 3) console.log(`${type}: ${rc} ${r.request.find((p) => p.da.name === 'Module-Failure-Message')?.value ?? ''}`);
    }
  };
  for (let round = 1; round <= rounds; round++) {
    const end = next + count;
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: window }, async () => {
      while (next < end) await one(next++);
    }));
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cu = process.cpuUsage(c0);
    const cpu = (cu.user + cu.system) / 1e6;
    console.log(`round ${round}: ${count} records, ${Math.round(count / wall)}/s, ${((cpu * 1e6) / count).toFixed(1)} µs CPU per record, ${Math.round(count / cpu)} records per CPU-s${failed ? `, ${failed} not ok` : ''}`);
  }
  await mods.detachAll();
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
