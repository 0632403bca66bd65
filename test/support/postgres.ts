/**
 * A private PostgreSQL server for a test: `initdb` into a fresh temporary directory, `pg_ctl
 * start` on a free loopback port (TCP only, socket in the same directory), `trust` auth for
 * loopback, stopped and removed by {@link PgServer.stop}. The machine's own PostgreSQL (5432) is
 * never touched.
 *
 * PostgreSQL refuses to run as root: when the test runs as root the server runs as the
 * `postgres` OS user (created by Debian's `postgresql` package, which `scripts/setup.sh`
 * installs), through `runuser`.
 *
 * ```ts
 * const pg = await startPostgres();           // beforeAll
 * await pg.createDatabase('radius', [schemaFile]);
 * pg.url('radius')  // postgres://postgres@127.0.0.1:PORT/radius
 * await pg.stop();                            // afterAll
 * ```
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePorts } from '../interop/freeradius';

/** Where Debian puts the server binaries (newest version first). */
export function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions.length) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (run scripts/setup.sh as root to install Debian\'s postgresql)');
  return path.join(base, versions[0], 'bin');
}

/** A running private server. */
export interface PgServer {
  readonly host: string;
  readonly port: number;
  /** Superuser name (no password: trust on loopback). */
  readonly user: string;
  readonly dir: string;
  /** A connection URI for `db`. */
  url(db?: string): string;
  /** Runs SQL through `psql` (ON_ERROR_STOP); resolves with stdout. */
  psql(sql: string, db?: string): Promise<string>;
  /** Creates a database and loads `files` into it, in order. */
  createDatabase(name: string, files?: readonly string[]): Promise<void>;
  /** Stops the server (fast shutdown) and removes its directory. */
  stop(): Promise<void>;
  /** Stops the server (immediate shutdown: connections dropped) but keeps its data; {@link restart} brings it back. */
  halt(): Promise<void>;
  /** Starts the server again on the same port with the same data (after {@link halt}). */
  restart(): Promise<void>;
}

const asRoot = process.getuid?.() === 0;

function run(bin: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; out: string; err: string }> {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, argv as string[], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C', PGTZ: 'UTC' } });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    p.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const t = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`${bin} ${args.join(' ')}: timed out\n${err}`)); }, opts.timeoutMs ?? 60_000);
    p.on('error', (e) => { clearTimeout(t); reject(e); });
    p.on('exit', (code) => { clearTimeout(t); resolve({ code, out, err }); });
    p.stdin.end(opts.input ?? '');
  });
}

/** Options of {@link startPostgres}. */
export interface PgStartOptions {
  /**
   * Listen on the Unix socket only (`<dir>/.s.PGSQL.<port>`, no TCP), with this port number in the
   * socket's name: for configurations that name a fixed port (FreeRADIUS's tests say 5432) while the
   * host (the socket directory) is ours. `host` is then the socket directory.
   */
  socketOnlyPort?: number;
  /** pg_hba.conf lines put before the default ones (first match wins). */
  hba?: readonly string[];
}

/** Starts a private server. */
export async function startPostgres(opts: PgStartOptions = {}): Promise<PgServer> {
  const bin = postgresBinDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-pg-'));
  const data = path.join(dir, 'data');
  if (asRoot) {
    // The server's user must own the directory (and reach it: mkdtemp makes it 0700).
    const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gw = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (pw.status !== 0) throw new Error('running as root but there is no "postgres" OS user (install Debian\'s postgresql)');
    fs.chownSync(dir, Number(pw.stdout.trim()), Number(gw.stdout.trim()));
  }
  const user = asRoot ? 'postgres' : os.userInfo().username;
  const init = await run(path.join(bin, 'initdb'), ['-D', data, '-U', user, '-A', 'trust', '-E', 'UTF8', '--no-sync', '--locale=C']);
  if (init.code !== 0) throw new Error(`initdb failed:\n${init.err}`);
  const port = opts.socketOnlyPort ?? (await freePorts(1))[0];
  const host = opts.socketOnlyPort ? dir : '127.0.0.1';
  if (opts.hba?.length) {
    const hbaFile = path.join(data, 'pg_hba.conf');
    fs.writeFileSync(hbaFile, [...opts.hba, fs.readFileSync(hbaFile, 'utf8')].join('\n'));
  }
  fs.appendFileSync(path.join(data, 'postgresql.conf'), [
    `listen_addresses = '${opts.socketOnlyPort ? '' : '127.0.0.1'}'`,
    `port = ${port}`,
    `unix_socket_directories = '${dir}'`,
    `fsync = on`,
    `max_connections = 100`,
    `timezone = 'UTC'`,
    '',
  ].join('\n'));
  const start = await run(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  if (start.code !== 0) {
    const log = fs.existsSync(path.join(dir, 'server.log')) ? fs.readFileSync(path.join(dir, 'server.log'), 'utf8') : '';
    throw new Error(`pg_ctl start failed:\n${start.err}\n${log}`);
  }
  let stopped = false;
  const server: PgServer = {
    host,
    port,
    user,
    dir,
    url: (db = 'postgres') => opts.socketOnlyPort
      ? `postgres://${user}@/${db}?host=${encodeURIComponent(dir)}&port=${port}`
      : `postgres://${user}@127.0.0.1:${port}/${db}`,
    async psql(sql, db = 'postgres') {
      const r = await run(path.join(bin, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', host, '-p', String(port), '-U', user, '-d', db], { input: sql });
      if (r.code !== 0) throw new Error(`psql failed: ${r.err}`);
      return r.out;
    },
    async createDatabase(name, files = []) {
      await server.psql(`CREATE DATABASE "${name}";`);
      for (const f of files) await server.psql(fs.readFileSync(f, 'utf8'), name);
    },
    async halt() {
      await run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']);
    },
    async restart() {
      const r = await run(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);
      if (r.code !== 0) throw new Error(`pg_ctl start failed:\n${r.err}`);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
