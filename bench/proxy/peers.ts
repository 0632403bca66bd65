/**
 * Processes for the proxy benchmark, all on 127.0.0.1:
 *
 * - the **home server**: FreeRADIUS 3.2 started by `../shared/bench/peer-freeradius.sh`
 *   (1000 PAP users `user0001`/`pass0001`… with the five reply attributes radload checks);
 * - **FreeRADIUS as a proxy**: a second FreeRADIUS 3.2 with `proxy_requests = yes`, one
 *   `home_server` (auth+acct, Status-Server checks) in a fail-over pool and a realm that
 *   every request is sent to (`control:Proxy-To-Realm`), config written into a temp dir
 *   from a copy of `/etc/freeradius/3.0`;
 * - **our proxy**: `bin/radiusd.js` with a temp `radiusd.conf` whose site calls a
 *   `radius` module instance in proxy mode.
 *
 * Nothing here touches the system configuration or service.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Repository root (this file is bench/proxy/peers.ts, or dist/bench/proxy/peers.js). */
export const ROOT = (() => {
  let d = __dirname;
  for (let i = 0; i < 5; i++) {
    if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'bin', 'radiusd.js'))) return d;
    d = path.dirname(d);
  }
  throw new Error('repository root not found');
})();

/** `../shared` relative to the repository root. */
export const SHARED = path.resolve(ROOT, '..', 'shared');
const PEER_SCRIPT = path.join(SHARED, 'bench', 'peer-freeradius.sh');
const SYSTEM_RADDB = '/etc/freeradius/3.0';

/** A started process. */
export interface Peer {
  readonly name: string;
  readonly authPort: number;
  readonly acctPort: number;
  /** Every PID whose CPU counts for this server (all cluster workers for ours). */
  pids(): number[];
  stop(): Promise<void>;
  /** Combined stdout/stderr so far (our daemon and the FreeRADIUS proxy only). */
  output(): string;
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

async function waitExit(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

/** Starts the FreeRADIUS home server through peer-freeradius.sh (auth on `authPort`, acct on `authPort + 1`). */
export async function startHome(o: { dir: string; authPort: number; threads?: number }): Promise<Peer> {
  const env = {
    ...process.env,
    FRPEER_DIR: o.dir, AUTH_PORT: String(o.authPort), ACCT_PORT: String(o.authPort + 1),
    THREADS: String(o.threads ?? 4),
  };
  const r = spawnSync('bash', [PEER_SCRIPT, 'start'], { env, encoding: 'utf8', timeout: 120_000 });
  const pid = Number(r.stdout.trim().split('\n').pop());
  if (r.status !== 0 || !Number.isInteger(pid) || pid <= 0) {
    throw new Error(`home FreeRADIUS did not start: ${r.stderr}`);
  }
  return {
    name: 'home', authPort: o.authPort, acctPort: o.authPort + 1,
    pids: () => [pid],
    output: () => '',
    async stop() {
      spawnSync('bash', [PEER_SCRIPT, 'stop', String(pid)], { env, timeout: 30_000 });
      await waitExit(pid, 5000);
    },
  };
}

/**
 * Starts the home server again from the config a previous {@link startHome} wrote into
 * `dir` (no rewrite: faster, same ports). Resolves once it answers user0001.
 */
export async function relaunchHome(o: { dir: string; authPort: number }): Promise<Peer> {
  const child = spawn('freeradius', ['-f', '-d', path.join(o.dir, 'raddb')], { stdio: 'ignore' });
  const peer: Peer = {
    name: 'home', authPort: o.authPort, acctPort: o.authPort + 1,
    pids: () => [child.pid!],
    output: () => '',
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        if (!(await waitExit(child.pid!, 5000))) child.kill('SIGKILL');
      }
    },
  };
  if (!(await waitAnswer(o.authPort, 'testing123', () => child.exitCode === null))) {
    await peer.stop();
    throw new Error(`home FreeRADIUS did not come back on ${o.authPort}`);
  }
  return peer;
}

/** Kills the home server with SIGKILL (for the kill/restart scenario); {@link relaunchHome} restarts it. */
export function killHome(home: Peer): void {
  for (const p of home.pids()) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
}

function sedConf(text: string, dir: string, threads: number): string {
  const raddb = path.join(dir, 'raddb');
  return text
    .replace(/^raddbdir = .*$/m, `raddbdir = ${raddb}`)
    .replace(/^logdir = .*$/m, `logdir = ${dir}/log`)
    .replace(/^run_dir = .*$/m, `run_dir = ${dir}/run`)
    .replace(/^pidfile = .*$/m, `pidfile = ${dir}/run/radiusd.pid`)
    .replace(/^(\s*)user = freerad/m, '$1# user = freerad')
    .replace(/^(\s*)group = freerad/m, '$1# group = freerad')
    .replace(/^max_requests = .*$/m, 'max_requests = 1048576')
    .replace(/^cleanup_delay = .*$/m, 'cleanup_delay = 5')
    .replace(/^(\s*)reject_delay = .*$/m, '$1reject_delay = 0')
    .replace(/^(\s*)auth = .*$/m, '$1auth = no')
    .replace(/^(\s*)auth_badpass = .*$/m, '$1auth_badpass = no')
    .replace(/^(\s*)auth_goodpass = .*$/m, '$1auth_goodpass = no')
    .replace(/^(\s*)colourise = .*$/m, '$1colourise = no')
    .replace(/^proxy_requests\s*= .*$/m, 'proxy_requests = yes')
    .replace(/^(\s*)start_servers = .*$/m, `$1start_servers = ${threads}`)
    .replace(/^(\s*)max_servers = .*$/m, `$1max_servers = ${threads}`)
    .replace(/^(\s*)min_spare_servers = .*$/m, '$1min_spare_servers = 1')
    .replace(/^(\s*)max_spare_servers = .*$/m, `$1max_spare_servers = ${threads}`);
}

/** Options of {@link startFreeRadiusProxy}. */
export interface FrProxyOptions {
  dir: string;
  authPort: number;
  homeAuthPort: number;
  secret?: string;
  threads?: number;
  /** home_server response_window (s). */
  responseWindow?: number;
}

/**
 * Writes the FreeRADIUS proxy config into `dir/raddb` and starts `freeradius -f` on
 * `authPort` (auth) and `authPort + 1` (acct). Resolves once it proxies an Access-Request.
 */
export async function startFreeRadiusProxy(o: FrProxyOptions): Promise<Peer> {
  const secret = o.secret ?? 'testing123';
  const threads = o.threads ?? 4;
  const raddb = path.join(o.dir, 'raddb');
  fs.rmSync(o.dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(o.dir, 'log'), { recursive: true });
  fs.mkdirSync(path.join(o.dir, 'run'), { recursive: true });
  fs.cpSync(SYSTEM_RADDB, raddb, { recursive: true, verbatimSymlinks: true });
  const confPath = path.join(raddb, 'radiusd.conf');
  fs.writeFileSync(confPath, sedConf(fs.readFileSync(confPath, 'utf8'), o.dir, threads));
  fs.writeFileSync(path.join(raddb, 'clients.conf'), [
    'client bench-nas {', '\tipaddr = 127.0.0.1', `\tsecret = ${secret}`, '\trequire_message_authenticator = no', '\tnas_type = other', '}', '',
  ].join('\n'));
  // One home server for auth and acct (acct on port + 1), checked with Status-Server like ours.
  fs.writeFileSync(path.join(raddb, 'proxy.conf'), [
    'proxy server {', '\tdefault_fallback = no', '}',
    'home_server home {',
    '\ttype = auth+acct', '\tipaddr = 127.0.0.1', `\tport = ${o.homeAuthPort}`, `\tsecret = ${secret}`,
    `\tresponse_window = ${o.responseWindow ?? 20}`, '\tzombie_period = 40', '\trevive_interval = 120',
    '\tstatus_check = status-server', '\tcheck_interval = 30', '\tcheck_timeout = 4', '\tnum_answers_to_alive = 3',
    '\tmax_outstanding = 65536',
    '\tlimit {', '\t\tmax_connections = 16', '\t\tmax_requests = 0', '\t\tlifetime = 0', '\t\tidle_timeout = 0', '\t}',
    '}',
    'home_server_pool homepool {', '\ttype = fail-over', '\thome_server = home', '}',
    'realm bench_home {', '\tauth_pool = homepool', '\tacct_pool = homepool', '\tnostrip', '}',
    '',
  ].join('\n'));
  const modsEnabled = path.join(raddb, 'mods-enabled');
  for (const f of fs.readdirSync(modsEnabled)) fs.rmSync(path.join(modsEnabled, f));
  for (const m of ['always', 'attr_filter', 'expr', 'pap']) fs.symlinkSync(`../mods-available/${m}`, path.join(modsEnabled, m));
  const sitesEnabled = path.join(raddb, 'sites-enabled');
  for (const f of fs.readdirSync(sitesEnabled)) fs.rmSync(path.join(sitesEnabled, f));
  fs.writeFileSync(path.join(raddb, 'sites-available', 'bench_proxy'), [
    'server bench_proxy {',
    `\tlisten {\n\t\ttype = auth\n\t\tipaddr = 127.0.0.1\n\t\tport = ${o.authPort}\n\t\trecv_buff = 4194304\n\t}`,
    `\tlisten {\n\t\ttype = acct\n\t\tipaddr = 127.0.0.1\n\t\tport = ${o.authPort + 1}\n\t\trecv_buff = 4194304\n\t}`,
    '\tauthorize {', '\t\tupdate control {', '\t\t\t&Proxy-To-Realm := "bench_home"', '\t\t}', '\t}',
    '\tauthenticate {', '\t\tAuth-Type PAP {', '\t\t\tpap', '\t\t}', '\t}',
    '\tpreacct {', '\t\tupdate control {', '\t\t\t&Proxy-To-Realm := "bench_home"', '\t\t}', '\t}',
    '\taccounting {', '\t\tok', '\t}',
    '\tpre-proxy {', '\t}',
    '\tpost-proxy {', '\t}',
    '}', '',
  ].join('\n'));
  fs.symlinkSync('../sites-available/bench_proxy', path.join(sitesEnabled, 'bench_proxy'));

  const check = spawnSync('freeradius', ['-C', '-d', raddb], { encoding: 'utf8', timeout: 60_000 });
  if (check.status !== 0) throw new Error(`FreeRADIUS proxy config check failed:\n${(check.stdout + check.stderr).split('\n').slice(-30).join('\n')}`);
  const child = spawn('freeradius', ['-f', '-d', raddb], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const peer: Peer = {
    name: 'freeradius-proxy', authPort: o.authPort, acctPort: o.authPort + 1,
    pids: () => [child.pid!],
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        if (!(await waitExit(child.pid!, 5000))) child.kill('SIGKILL');
      }
    },
  };
  if (!(await waitAnswer(o.authPort, secret, () => child.exitCode === null))) {
    await peer.stop();
    throw new Error(`FreeRADIUS proxy did not answer on ${o.authPort}:\n${out.slice(-3000)}\n${readTail(path.join(o.dir, 'log', 'radius.log'))}`);
  }
  return peer;
}

function readTail(f: string): string {
  try { return fs.readFileSync(f, 'utf8').split('\n').slice(-30).join('\n'); } catch { return ''; }
}

/** Polls with Debian's radclient (asynchronously) until user0001 is accepted (up to `ms`). */
export async function waitAnswer(port: number, secret: string, running: () => boolean, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end && running()) {
    const ok = await new Promise<boolean>((resolve) => {
      const p = spawn('radclient', ['-q', '-r', '1', '-t', '1', `127.0.0.1:${port}`, 'auth', secret], { stdio: ['pipe', 'ignore', 'ignore'] });
      const t = setTimeout(() => p.kill('SIGKILL'), 5000);
      p.on('close', (code) => { clearTimeout(t); resolve(code === 0); });
      p.on('error', () => { clearTimeout(t); resolve(false); });
      p.stdin!.end('User-Name = "user0001", User-Password = "pass0001"\n');
    });
    if (ok) return true;
    await new Promise((r2) => setTimeout(r2, 100));
  }
  return false;
}

/** Options of {@link startOurProxy}. */
export interface OurProxyOptions {
  dir: string;
  authPort: number;
  homeAuthPort: number;
  secret?: string;
  /** Daemon worker processes (node:cluster); 1 = no fork. */
  workers?: number;
  /** pool { max } connections per worker. */
  connections?: number;
  responseWindow?: string;
  /** Extra lines inside the `radius` instances. */
  extra?: string;
}

/** The `radiusd.conf` of our proxy: one client, two `radius` instances (auth, acct), one site. */
export function ourProxyConf(o: OurProxyOptions): string {
  const secret = o.secret ?? 'testing123';
  const inst = (name: string, type: string, port: number): string => `	radius ${name} {
		mode = proxy
		transport = udp
		type = ${type}
		response_window = ${o.responseWindow ?? '20s'}
		zombie_period = 40s
		status_check {
			type = Status-Server
			num_answers_to_alive = 3
		}
		udp {
			ipaddr = 127.0.0.1
			port = ${port}
			secret = ${secret}
			recv_buff = 4194304
		}
		pool {
			start = ${o.connections ?? 4}
			min = 1
			max = ${o.connections ?? 4}
		}
${o.extra ?? ''}
	}
`;
  return `confdir = .
max_request_time = 30
cleanup_delay = 5
log {
	destination = null
}
security {
	reject_delay = 0
	require_message_authenticator = no
	limit_proxy_state = no
}
thread {
	workers = ${o.workers ?? 1}
}
client bench {
	ipaddr = 127.0.0.1
	secret = ${secret}
	require_message_authenticator = no
	limit_proxy_state = no
}
modules {
${inst('home_auth', 'Access-Request', o.homeAuthPort)}
${inst('home_acct', 'Accounting-Request', o.homeAuthPort + 1)}
}
server bench_proxy {
	namespace = radius
	listen auth {
		type = Access-Request
		type = Status-Server
		udp {
			ipaddr = 127.0.0.1
			port = ${o.authPort}
			recv_buff = 4194304
		}
	}
	listen acct {
		type = Accounting-Request
		udp {
			ipaddr = 127.0.0.1
			port = ${o.authPort + 1}
			recv_buff = 4194304
		}
	}
	recv Access-Request {
		home_auth
	}
	recv Accounting-Request {
		home_acct
	}
}
`;
}

/** Starts our daemon as a proxy (auth on `authPort`, acct on `authPort + 1`). */
export async function startOurProxy(o: OurProxyOptions): Promise<Peer> {
  fs.rmSync(o.dir, { recursive: true, force: true });
  fs.mkdirSync(o.dir, { recursive: true });
  fs.writeFileSync(path.join(o.dir, 'radiusd.conf'), ourProxyConf(o));
  // PROXY_BENCH_NODE_ARGS: node flags for our proxy (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`, `--trace-gc`, which
  // NODE_OPTIONS refuses or would also apply to the bench); PROXY_BENCH_LOG: a file that gets its whole output.
  const nodeArgs = (process.env.PROXY_BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'bin', 'radiusd.js'), '-f', '-d', o.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const log = process.env.PROXY_BENCH_LOG ? fs.createWriteStream(process.env.PROXY_BENCH_LOG, { flags: 'a' }) : undefined;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; log?.write(d); });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; log?.write(d); });
  const peer: Peer = {
    name: 'tsradius-proxy', authPort: o.authPort, acctPort: o.authPort + 1,
    pids: () => [child.pid!, ...childPids(child.pid!)],
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        if (!(await waitExit(child.pid!, 8000))) child.kill('SIGKILL');
      }
    },
  };
  if (!(await waitAnswer(o.authPort, o.secret ?? 'testing123', () => child.exitCode === null))) {
    await peer.stop();
    throw new Error(`our proxy did not answer on ${o.authPort}:\n${out.slice(-3000)}`);
  }
  return peer;
}

/** Direct children of `pid` (cluster workers), from /proc. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

/** A scratch directory under the OS temp dir. */
export function scratch(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `tsradius-${prefix}-`));
}
