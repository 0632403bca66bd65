/**
 * `radiusd sessions`: who is online, from the `sql` module's radacct (FreeRADIUS `radwho` on
 * SQL) or from a `rediswho` module's session index in Redis. It reads the daemon's
 * configuration, opens the instance named by `-i` (an `sql` one on SQLite or PostgreSQL, as the
 * daemon does, or a `rediswho` one) and lists the open sessions (no Stop yet), optionally of one
 * user or one NAS; `--usage` (sql only) lists per user the last login, the time used and the open
 * sessions (seed 002's usage database). Safe to run beside the daemon (SQLite WAL readers do not
 * block it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRootContainer, findSection, loadDefaultDictionary, loadModules, nullLogger, parseConfigFile } from '../../core';
import type { ConfSection, ModuleDefinition } from '../../core';
import rediswhoModule from '../rediswho/index';
import type { Rediswho } from '../rediswho/rediswho';
import type { OnlineSession } from '../shared/sessions';
import sqlModule from './index';
import type { Sql } from './sql';

/** Output of the command (stdout, stderr lines). */
export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

const USAGE = 'Usage: radiusd sessions [-d confdir] [-n name] [-i sql-or-rediswho-instance] [-u user] [-N nas-address] [--usage] [--json]';

interface Args {
  d?: string;
  n: string;
  i: string;
  u?: string;
  N?: string;
  usage: boolean;
  json: boolean;
}

function parse(argv: readonly string[]): Args | string | 'help' {
  const a: Args = { n: 'radiusd', i: 'sql', usage: false, json: false };
  for (let k = 0; k < argv.length; k++) {
    const o = argv[k];
    const val = () => (k + 1 < argv.length ? argv[++k] : undefined);
    if (o === '-h' || o === '--help') return 'help';
    if (o === '--usage') a.usage = true;
    else if (o === '--json') a.json = true;
    else if (o === '-d' || o === '-n' || o === '-i' || o === '-u' || o === '-N') {
      const v = val();
      if (v === undefined) return `option ${o} needs a value`;
      a[o.slice(1) as 'd' | 'n' | 'i' | 'u' | 'N'] = v;
    } else return `unknown argument "${o}"`;
  }
  return a;
}

/** h:mm:ss */
function duration(s: number): string {
  const t = Math.max(0, Math.floor(s));
  return `${Math.floor(t / 3600)}:${String(Math.floor(t / 60) % 60).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
}

function isoTime(epoch: number | null): string {
  return epoch === null || !Number.isFinite(epoch) ? '' : new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Prints rows as aligned columns. */
function table(io: CommandIo, head: readonly string[], rows: readonly (readonly string[])[]): void {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ').trimEnd();
  io.out(line(head));
  for (const r of rows) io.out(line(r));
}

/** Runs `radiusd sessions …`; resolves with the exit status (0 ok, 1 database error, 2 usage or config error). */
export async function sessionsCommand(argv: readonly string[], io: CommandIo, defaultConfdir: string): Promise<number> {
  const a = parse(argv);
  if (a === 'help') {
    io.out(USAGE);
    io.out('  Lists the open sessions (radacct rows without a Stop) of the sql module named by -i (default sql),');
    io.out('  or the online sessions of the rediswho module of that name, from the configuration in -d;');
    io.out('  -u / -N keep one user / one NAS address; --usage (sql) lists per user the sessions, the open');
    io.out('  ones, the time used and the last login; --json prints JSON.');
    return 0;
  }
  if (typeof a === 'string') {
    io.err(`radiusd sessions: ${a}`);
    io.err(USAGE);
    return 2;
  }
  const confdir = path.resolve(a.d ?? defaultConfdir);
  let section: ConfSection | undefined;
  let redis: ConfSection | undefined;
  try {
    const tree = parseConfigFile(path.join(confdir, `${a.n}.conf`));
    const mods = findSection(tree, 'modules');
    const named = (kind: string) => mods?.children.find((c): c is ConfSection => c.kind === 'section' && c.name1 === kind && (c.name2 ?? kind) === a.i);
    section = named('sql');
    redis = section ? undefined : named('rediswho');
  } catch (e) {
    io.err(`radiusd sessions: ${(e as Error).message}`);
    return 2;
  }
  if (redis) return rediswhoSessions(redis, a, io);
  if (!section) {
    io.err(`radiusd sessions: no "${a.i === 'sql' ? 'sql' : `sql ${a.i}`}" or "rediswho${a.i === 'rediswho' ? '' : ` ${a.i}`}" module in ${path.join(confdir, `${a.n}.conf`)}`);
    return 2;
  }
  // SQLite: do not create the database the daemon has not created yet.
  const driver = section.children.find((c) => c.kind === 'pair' && c.attr === 'driver');
  const sqlite = section.children.find((c): c is ConfSection => c.kind === 'section' && c.name1 === 'sqlite');
  const file = sqlite?.children.find((c) => c.kind === 'pair' && c.attr === 'filename');
  if ((!driver || /sqlite/.test(String(driver.kind === 'pair' ? driver.value : ''))) && file?.kind === 'pair' && file.value && !fs.existsSync(path.resolve(String(file.value)))) {
    io.err(`radiusd sessions: ${file.value} does not exist yet (the daemon creates it on first start)`);
    io.out(a.json ? '[]' : '0 open session(s)');
    return 0;
  }
  return withInstance(section, sqlModule, a.i, io, async (instance, config) => {
    const sql = instance as unknown as Sql;
    const cfg = config as { acct_table1: string };
    const pg = sql.driverName === 'postgresql';
    const epoch = (col: string) => (pg ? `EXTRACT(EPOCH FROM ${col})::bigint` : col);
    const q = (v: string) => `'${sql.escapeValue(v)}'`;
    const where = ['acctstoptime IS NULL'];
    if (a.u !== undefined) where.push(`username = ${q(a.u)}`);
    if (a.N !== undefined) where.push(`nasipaddress = ${q(a.N)}`);
    const table1 = cfg.acct_table1;
    const now = Date.now() / 1000;
    if (a.usage) {
      const uw = a.u !== undefined ? `WHERE username = ${q(a.u)}` : '';
      const r = await sql.query(`SELECT username, COUNT(*), SUM(CASE WHEN acctstoptime IS NULL THEN 1 ELSE 0 END), SUM(acctsessiontime), MAX(${epoch('acctstarttime')}) FROM ${table1} ${uw} GROUP BY username ORDER BY username`);
      const rows = r.rows.map((x) => ({
        user: x[0] ?? '', sessions: Number(x[1] ?? 0), open: Number(x[2] ?? 0), timeUsed: Number(x[3] ?? 0), lastLogin: isoTime(x[4] === null ? null : Number(x[4])),
      }));
      if (a.json) io.out(JSON.stringify(rows));
      else table(io, ['User', 'Sessions', 'Open', 'Time-Used', 'Last-Login'], rows.map((x) => [x.user, String(x.sessions), String(x.open), duration(x.timeUsed), x.lastLogin]));
      return 0;
    }
    const r = await sql.query(`SELECT username, nasipaddress, nasportid, acctsessionid, acctuniqueid, ${epoch('acctstarttime')}, framedipaddress, callingstationid, acctsessiontime, acctinputoctets, acctoutputoctets FROM ${table1} WHERE ${where.join(' AND ')} ORDER BY acctstarttime, radacctid`);
    printSessions(io, a.json, r.rows.map((x) => ({
      user: x[0] ?? '', nas: x[1] ?? '', port: x[2] ?? '', sessionId: x[3] ?? '', uniqueId: x[4] ?? '',
      start: x[5] === null ? null : Number(x[5]), online: x[5] === null ? 0 : Math.floor(now - Number(x[5])),
      address: x[6] ?? '', callingStationId: x[7] ?? '', sessionTime: Number(x[8] ?? 0), inputOctets: Number(x[9] ?? 0), outputOctets: Number(x[10] ?? 0),
    })));
    return 0;
  });
}

/**
 * Opens the module instance of `section` alone (exit 2 when it does not load), runs `fn` on it
 * (exit 1 when it throws: the back-end failed) and closes it.
 */
async function withInstance(section: ConfSection, def: ModuleDefinition<any, any>, name: string, io: CommandIo,
  fn: (instance: unknown, config: unknown) => Promise<number>): Promise<number> {
  const modules: ConfSection = { kind: 'section', name1: 'modules', headerText: '', children: [section], loc: section.loc };
  let set;
  try {
    set = await loadModules({ section: modules, root: createRootContainer({ dict: loadDefaultDictionary(), log: nullLogger }), registry: [def] });
  } catch (e) {
    io.err(`radiusd sessions: ${(e as Error).message}`);
    return 2;
  }
  try {
    return await fn(set.get(name)!.instance, set.get(name)!.config);
  } catch (e) {
    io.err(`radiusd sessions: ${(e as Error).message}`);
    return 1;
  } finally {
    await set.detachAll();
  }
}

/** The session list (table or JSON; `start` as an ISO time). */
function printSessions(io: CommandIo, json: boolean, sessions: readonly OnlineSession[]): void {
  const rows = sessions.map((x) => ({ ...x, start: isoTime(x.start) }));
  if (json) {
    io.out(JSON.stringify(rows));
    return;
  }
  table(io, ['User', 'NAS', 'Port', 'Session-Id', 'Start', 'Online', 'Address', 'Calling-Station-Id'],
    rows.map((x) => [x.user, x.nas, x.port, x.sessionId, x.start, duration(x.online), x.address, x.callingStationId]));
  io.out(`${rows.length} open session(s)`);
}

/** `radiusd sessions -i <rediswho instance>`: the online sessions in Redis. */
async function rediswhoSessions(section: ConfSection, a: Args, io: CommandIo): Promise<number> {
  if (a.usage) {
    io.err('radiusd sessions: --usage needs an sql module (rediswho keeps only the sessions that are online)');
    return 2;
  }
  return withInstance(section, rediswhoModule, a.i, io, async (instance) => {
    printSessions(io, a.json, await (instance as Rediswho).online({ user: a.u, nas: a.N }));
    return 0;
  });
}
