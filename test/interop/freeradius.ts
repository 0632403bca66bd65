/**
 * A private FreeRADIUS 3.2 instance for interop tests.
 *
 * The harness copies the Debian configuration tree (`/etc/freeradius/3.0`) into
 * a temporary directory, replaces its clients, users, enabled modules and
 * virtual servers with a small loopback-only setup, and runs
 * `freeradius -X -d <dir>` in the foreground on free high ports of 127.0.0.1.
 * The system configuration and the system service are never touched.
 *
 * If FreeRADIUS is not installed, {@link startFreeRadius} throws an error that
 * says how to install it (`scripts/setup.sh` does so as root), so that the
 * interop tests fail loudly instead of being skipped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** Where Debian installs the stock configuration that we copy. */
const SYSTEM_RADDB = '/etc/freeradius/3.0';

/** The users every instance knows, with the replies FreeRADIUS sends for them. */
export const USERS = {
  bob: { password: 'hello' },
  carol: { password: 'chap-secret' },
};

/** The reply attributes an Access-Accept for bob carries (FreeRADIUS v3 names). */
export const BOB_REPLY = {
  'Service-Type': 'Framed-User',
  'Framed-Protocol': 'PPP',
  'Framed-IP-Address': '192.0.2.10',
  'Framed-IP-Netmask': '255.255.255.255',
  'Session-Timeout': 3600,
  'Idle-Timeout': 600,
  'Acct-Interim-Interval': 300,
  'Reply-Message': 'Hello, bob',
  'Actual-Data-Rate-Upstream': 1024000,
  'Actual-Data-Rate-Downstream': 16384000,
};

/** Options for {@link startFreeRadius}. */
export interface FreeRadiusOptions {
  /** Shared secret for the 127.0.0.1 client (default `testing123`). */
  secret?: string;
  /** Drop Access-Requests without a valid Message-Authenticator (default true). */
  requireMessageAuthenticator?: boolean;
  /** Add a Message-Authenticator to every Access-Accept/Reject (default true). */
  replyMessageAuthenticator?: boolean;
  /** Also listen for auth over TCP (RFC 6613) on {@link FreeRadiusPeer.tcpAuthPort}. */
  tcp?: boolean;
  /**
   * Enable Debian's `sql` module (rlm_sql_postgresql, the stock 3.2 queries) on this PostgreSQL
   * database: `authorize` (after `files`), `accounting`, `session` (Simultaneous-Use through its
   * `simul_count_query`) and `post-auth` (both Accept and Reject) use it.
   */
  sql?: FreeRadiusSql;
}

/** Where {@link FreeRadiusOptions.sql} connects. */
export interface FreeRadiusSql {
  readonly host: string;
  readonly port: number;
  readonly login: string;
  readonly password?: string;
  readonly database: string;
}

/** A running FreeRADIUS instance. */
export interface FreeRadiusPeer {
  readonly host: string;
  readonly authPort: number;
  readonly acctPort: number;
  /** TCP auth port, when started with `tcp: true`. */
  readonly tcpAuthPort?: number;
  readonly secret: string;
  /** The private raddb directory. */
  readonly raddb: string;
  readonly pid: number;
  /** The accounting detail file directory (one file per day under it). */
  readonly detailDir: string;
  /** Everything the server printed so far (`-X` debug output). */
  output(): string;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void>;
  /** Stops the server process but keeps its directory (the master is down); {@link restart} brings it back. */
  halt(): Promise<void>;
  /** Starts the server again on the same ports with the same configuration (after {@link halt}). */
  restart(): Promise<void>;
}

/** Throws a clear error if the FreeRADIUS binaries are missing. */
export function requireFreeRadius(): void {
  const missing: string[] = [];
  for (const bin of ['freeradius', 'radclient']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) missing.push(bin);
  }
  if (missing.length > 0 || !fs.existsSync(SYSTEM_RADDB)) {
    throw new Error(
      `FreeRADIUS 3.2 is required for the interop tests but ${missing.join(', ') || SYSTEM_RADDB} is missing: ` +
        'run `sudo bash scripts/setup.sh` (or `apt-get install freeradius freeradius-utils`).',
    );
  }
}

async function portFree(port: number): Promise<boolean> {
  const udp = await new Promise<boolean>((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  if (!udp) return false;
  return new Promise<boolean>((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Finds `n` distinct ports free for both UDP and TCP on 127.0.0.1. */
export async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let tries = 0; out.length < n && tries < 500; tries++) {
    const p = 20000 + Math.floor(Math.random() * 40000);
    if (!out.includes(p) && (await portFree(p))) out.push(p);
  }
  if (out.length < n) throw new Error('no free loopback ports');
  return out;
}

function usersFile(): string {
  return [
    `bob\tCleartext-Password := "${USERS.bob.password}"`,
    '\tService-Type = Framed-User,',
    '\tFramed-Protocol = PPP,',
    `\tFramed-IP-Address = ${BOB_REPLY['Framed-IP-Address']},`,
    `\tFramed-IP-Netmask = ${BOB_REPLY['Framed-IP-Netmask']},`,
    `\tSession-Timeout = ${BOB_REPLY['Session-Timeout']},`,
    `\tIdle-Timeout = ${BOB_REPLY['Idle-Timeout']},`,
    `\tAcct-Interim-Interval = ${BOB_REPLY['Acct-Interim-Interval']},`,
    '\tReply-Message = "Hello, %{User-Name}",',
    `\tActual-Data-Rate-Upstream = ${BOB_REPLY['Actual-Data-Rate-Upstream']},`,
    `\tActual-Data-Rate-Downstream = ${BOB_REPLY['Actual-Data-Rate-Downstream']}`,
    '',
    `carol\tCleartext-Password := "${USERS.carol.password}"`,
    '\tReply-Message = "CHAP welcome"',
    '',
  ].join('\n');
}

function siteConfig(o: { authPort: number; acctPort: number; tcpAuthPort?: number; replyMa: boolean; sql?: FreeRadiusSql }): string {
  const listen = (type: string, port: number, proto?: string): string[] => [
    '\tlisten {', `\t\ttype = ${type}`, '\t\tipaddr = 127.0.0.1', `\t\tport = ${port}`,
    ...(proto ? [`\t\tproto = ${proto}`] : []), '\t}',
  ];
  // FreeRADIUS 3.2.1 signs a reply only when the reply list holds a
  // Message-Authenticator; later 3.2 releases add it on their own.
  const ma = (indent: string): string[] =>
    o.replyMa ? [`${indent}update reply {`, `${indent}\tMessage-Authenticator := 0x00`, `${indent}}`] : [];
  const sql = (indent: string): string[] => (o.sql ? [`${indent}sql`] : []);
  return [
    'server tsradius_interop {',
    ...listen('auth', o.authPort),
    ...listen('acct', o.acctPort),
    ...(o.tcpAuthPort ? listen('auth', o.tcpAuthPort, 'tcp') : []),
    '\tauthorize {', '\t\tchap', '\t\tfiles', ...sql('\t\t'), '\t\tpap', '\t}',
    '\tauthenticate {',
    '\t\tAuth-Type PAP {', '\t\t\tpap', '\t\t}',
    '\t\tAuth-Type CHAP {', '\t\t\tchap', '\t\t}',
    '\t}',
    '\tpreacct {', '\t\tacct_unique', '\t}',
    '\taccounting {', '\t\tdetail', ...sql('\t\t'), '\t\tattr_filter.accounting_response', '\t}',
    ...(o.sql ? ['\tsession {', '\t\tsql', '\t}'] : []),
    '\tpost-auth {',
    ...ma('\t\t'),
    ...sql('\t\t'),
    '\t\tPost-Auth-Type REJECT {',
    ...ma('\t\t\t'),
    ...sql('\t\t\t'),
    '\t\t\tattr_filter.access_reject',
    '\t\t}',
    '\t}',
    '}',
    '',
  ].join('\n');
}

function writeConfig(dir: string, o: {
  secret: string; requireMa: boolean; replyMa: boolean;
  authPort: number; acctPort: number; tcpAuthPort?: number; sql?: FreeRadiusSql;
}): { raddb: string; detailDir: string } {
  const raddb = path.join(dir, 'raddb');
  const logdir = path.join(dir, 'log');
  const rundir = path.join(dir, 'run');
  const detailDir = path.join(logdir, 'radacct');
  fs.mkdirSync(detailDir, { recursive: true });
  fs.mkdirSync(rundir, { recursive: true });
  fs.cpSync(SYSTEM_RADDB, raddb, { recursive: true, verbatimSymlinks: true });

  const confPath = path.join(raddb, 'radiusd.conf');
  const conf = fs.readFileSync(confPath, 'utf8')
    .replace(/^raddbdir = .*$/m, `raddbdir = ${raddb}`)
    .replace(/^logdir = .*$/m, `logdir = ${logdir}`)
    .replace(/^run_dir = .*$/m, `run_dir = ${rundir}`)
    .replace(/^pidfile = .*$/m, `pidfile = ${rundir}/radiusd.pid`)
    .replace(/^(\s*)user = freerad/m, '$1# user = freerad')
    .replace(/^(\s*)group = freerad/m, '$1# group = freerad')
    .replace(/^(\s*)reject_delay = .*$/m, '$1reject_delay = 0')
    .replace(/^proxy_requests\s*= .*$/m, 'proxy_requests = no');
  fs.writeFileSync(confPath, conf);

  fs.writeFileSync(path.join(raddb, 'clients.conf'), [
    'client tsradius-localhost {',
    '\tipaddr = 127.0.0.1',
    `\tsecret = ${o.secret}`,
    `\trequire_message_authenticator = ${o.requireMa ? 'yes' : 'no'}`,
    // Accept the client over both UDP and TCP listeners.
    '\tproto = *',
    '\tnas_type = other',
    '}',
    '',
  ].join('\n'));

  const modsEnabled = path.join(raddb, 'mods-enabled');
  for (const f of fs.readdirSync(modsEnabled)) fs.rmSync(path.join(modsEnabled, f));
  for (const m of ['always', 'attr_filter', 'expr', 'files', 'pap', 'chap', 'detail']) {
    fs.symlinkSync(`../mods-available/${m}`, path.join(modsEnabled, m));
  }
  if (o.sql) fs.writeFileSync(path.join(modsEnabled, 'sql'), sqlModule(fs.readFileSync(path.join(raddb, 'mods-available', 'sql'), 'utf8'), o.sql));
  const authorize = path.join(raddb, 'mods-config', 'files', 'authorize');
  fs.rmSync(path.join(raddb, 'users'), { force: true });
  fs.rmSync(authorize, { force: true });
  fs.writeFileSync(authorize, usersFile());
  fs.symlinkSync('mods-config/files/authorize', path.join(raddb, 'users'));

  const sitesEnabled = path.join(raddb, 'sites-enabled');
  for (const f of fs.readdirSync(sitesEnabled)) fs.rmSync(path.join(sitesEnabled, f));
  fs.writeFileSync(path.join(raddb, 'sites-available', 'tsradius_interop'), siteConfig(o));
  fs.symlinkSync('../sites-available/tsradius_interop', path.join(sitesEnabled, 'tsradius_interop'));
  return { raddb, detailDir };
}

/** Debian's `mods-available/sql`, switched to rlm_sql_postgresql on `db` (everything else stock). */
function sqlModule(stock: string, db: FreeRadiusSql): string {
  const out = stock
    .replace(/^(\s*)dialect = "sqlite"/m, '$1dialect = "postgresql"')
    .replace(/^(\s*)driver = "rlm_sql_null"/m, [
      '$1driver = "rlm_sql_postgresql"',
      `$1server = "${db.host}"`,
      `$1port = ${db.port}`,
      `$1login = "${db.login}"`,
      `$1password = "${db.password ?? ''}"`,
    ].join('\n'))
    .replace(/^(\s*)radius_db = "radius"/m, `$1radius_db = "${db.database}"`);
  if (!out.includes('rlm_sql_postgresql') || !out.includes(`radius_db = "${db.database}"`)) {
    throw new Error('mods-available/sql of this FreeRADIUS does not look like the 3.2 one (driver / radius_db not found)');
  }
  return out;
}

/**
 * Starts a private FreeRADIUS on free loopback ports and resolves once it is
 * ready to process requests. Always `stop()` it (e.g. in `afterAll`).
 */
export async function startFreeRadius(opts: FreeRadiusOptions = {}): Promise<FreeRadiusPeer> {
  requireFreeRadius();
  if (opts.sql && !fs.existsSync('/usr/lib/freeradius/rlm_sql_postgresql.so')) {
    throw new Error('FreeRADIUS rlm_sql_postgresql is missing: run `sudo bash scripts/setup.sh` (or `apt-get install freeradius-postgresql`).');
  }
  const secret = opts.secret ?? 'testing123';
  const ports = await freePorts(opts.tcp ? 3 : 2);
  const [authPort, acctPort] = ports;
  const tcpAuthPort = opts.tcp ? ports[2] : undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-fr-'));
  const { raddb, detailDir } = writeConfig(dir, {
    secret,
    requireMa: opts.requireMessageAuthenticator ?? true,
    replyMa: opts.replyMessageAuthenticator ?? true,
    authPort, acctPort, tcpAuthPort, sql: opts.sql,
  });

  let out = '';
  let child!: ChildProcess;
  let exited!: Promise<void>;
  const launch = async (): Promise<boolean> => {
    const from = out.length;
    child = spawn('freeradius', ['-X', '-d', raddb], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    const c = child;
    exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    return new Promise<boolean>((resolve) => {
      const deadline = Date.now() + 20_000;
      const timer = setInterval(() => {
        if (out.slice(from).includes('Ready to process requests')) { clearInterval(timer); resolve(true); }
        else if (c.exitCode !== null || Date.now() > deadline) { clearInterval(timer); resolve(false); }
      }, 50);
    });
  };
  const ready = await launch();
  const halt = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
  };
  const stop = async (): Promise<void> => {
    await halt();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const restart = async (): Promise<void> => {
    await halt();
    if (!(await launch())) throw new Error(`FreeRADIUS did not restart:\n${out.split('\n').slice(-30).join('\n')}`);
  };
  if (!ready) {
    const tail = out.split('\n').slice(-30).join('\n');
    await stop();
    throw new Error(`FreeRADIUS did not start (config in ${raddb}):\n${tail}`);
  }
  return {
    host: '127.0.0.1', authPort, acctPort, tcpAuthPort, secret, raddb, detailDir,
    get pid() { return child.pid!; }, output: () => out, stop, halt, restart,
  };
}
