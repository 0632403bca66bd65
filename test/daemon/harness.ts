/**
 * Helpers for the daemon integration tests: start `bin/radiusd.js` as a real process, run
 * Debian's radclient/radtest and our own radclient against it, send raw UDP.
 *
 * The daemon runs from the tsc build in dist/ (`npm test` builds first; the launcher builds
 * on first use when dist/ is missing).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';

/** Repository root. */
export const ROOT = path.resolve(__dirname, '..', '..');
/** The daemon launcher. */
export const RADIUSD = path.join(ROOT, 'bin', 'radiusd.js');
/** Our radclient launcher. */
export const OUR_RADCLIENT = path.join(ROOT, 'bin', 'radclient.js');

/**
 * The real peers these tests drive. They are never optional: `scripts/setup.sh`
 * (run by `npm test`) installs them, and `test/daemon/tools.test.ts` fails with a
 * clear message when one is missing instead of letting suites skip silently.
 */
export const REQUIRED_TOOLS = ['/usr/bin/radclient', '/usr/bin/radtest', '/usr/sbin/freeradius'] as const;

/** A running daemon. */
export interface Daemon {
  readonly proc: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM and wait for exit (SIGKILL after 5 s). Resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Sends a signal. */
  signal(sig: NodeJS.Signals): void;
  /** Waits until the output matches `re` (after `from` characters), or throws after `ms`. */
  waitFor(re: RegExp, ms?: number, from?: number): Promise<string>;
}

/** A fresh temp directory. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `tsradius-${prefix}-`));
}

/** Writes `files` (relative name → text; folders are made) into a fresh temp directory and returns it. */
export function writeTempFiles(prefix: string, files: Readonly<Record<string, string>>): string {
  const dir = tempDir(prefix);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** The directory and daemon of {@link daemonForSuite}, valid from its `beforeAll` on. */
export interface SuiteDaemon {
  readonly dir: string;
  readonly d: Daemon;
}

/**
 * Call inside a `describe`: before all its tests, writes `files` (or what the function returns,
 * e.g. a configuration built around free ports) into a fresh temp directory
 * and starts `radiusd -d DIR -f`; after all, stops the daemon (expecting exit code 0) and
 * removes the directory.
 */
export function daemonForSuite(
  prefix: string,
  files: Readonly<Record<string, string>> | (() => Promise<Readonly<Record<string, string>>>),
): SuiteDaemon {
  let dir: string | undefined;
  let d: Daemon | undefined;
  beforeAll(async () => {
    dir = writeTempFiles(prefix, typeof files === 'function' ? await files() : files);
    d = await startDaemon(['-d', dir, '-f']);
  });
  afterAll(async () => {
    if (d) expect(await d.stop()).toBe(0);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() { return dir!; },
    get d() { return d!; },
  };
}

/** Starts `radiusd args…` and waits for "Ready to process requests". */
export async function startDaemon(args: string[], opts: { readyMs?: number; fdLimit?: number } = {}): Promise<Daemon> {
  // fdLimit: run under `ulimit -n` (descriptor exhaustion tests); bash execs node, so the pid is the daemon's.
  const proc = opts.fdLimit
    ? spawn('/bin/bash', ['-c', `ulimit -n ${opts.fdLimit} && exec "$0" "$@"`, process.execPath, RADIUSD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [RADIUSD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners: (() => void)[] = [];
  const onData = (b: Buffer) => {
    out += b.toString();
    for (const l of listeners.slice()) l();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => { exited = code; resolve(code); for (const l of listeners.slice()) l(); }));
  const waitFor = (re: RegExp, ms = 15000, from = 0): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(out.slice(from));
        if (m) { done(); resolve(m[0]); } else if (exited !== undefined) { done(); reject(new Error(`daemon exited (${exited}) before ${re}:\n${out}`)); }
      };
      const t = setTimeout(() => { done(); reject(new Error(`timeout waiting for ${re}:\n${out}`)); }, ms);
      const done = () => { clearTimeout(t); const i = listeners.indexOf(check); if (i >= 0) listeners.splice(i, 1); };
      listeners.push(check);
      check();
    });
  const d: Daemon = {
    proc,
    output: () => out,
    signal: (sig) => { if (exited === undefined) proc.kill(sig); },
    waitFor,
    async stop() {
      if (exited !== undefined) return exited;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      const code = await exit;
      clearTimeout(t);
      return code;
    },
  };
  await waitFor(/Ready to process requests/, opts.readyMs ?? 20000);
  return d;
}

/** Result of a client run. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with `input` on stdin (bounded by `timeoutMs`). */
export function run(cmd: string, args: string[], input = '', timeoutMs = 20000): Promise<RunResult> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b) => (stdout += b));
    p.stderr.on('data', (b) => (stderr += b));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(t); resolve({ code, stdout, stderr }); });
    p.stdin.end(input);
  });
}

/** Debian's radclient: `radclient -x … server type secret` with `input` pairs. */
export function radclient(server: string, type: string, secret: string, input: string, extra: string[] = []): Promise<RunResult> {
  return run('/usr/bin/radclient', ['-x', '-r', '2', '-t', '2', ...extra, server, type, secret], input);
}

/** Our own radclient. */
export function ourRadclient(server: string, type: string, secret: string, input: string, extra: string[] = []): Promise<RunResult> {
  return run(process.execPath, [OUR_RADCLIENT, '-x', '-r', '2', '-t', '2', ...extra, server, type, secret], input);
}

/** Runs `radiusd -C -d dir` synchronously. */
export function checkConfig(dir: string, extra: string[] = []): RunResult {
  const r = spawnSync(process.execPath, [RADIUSD, '-C', '-d', dir, ...extra], { encoding: 'utf8', timeout: 30000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Sends `packets` over UDP from `bindAddr` and collects replies for `waitMs`. */
export async function udpExchange(to: { host: string; port: number }, packets: Buffer[], opts: { bind?: string; waitMs?: number; gapMs?: number } = {}): Promise<Buffer[]> {
  const sock = dgram.createSocket('udp4');
  const replies: Buffer[] = [];
  sock.on('message', (m) => replies.push(m));
  await new Promise<void>((r) => sock.bind({ address: opts.bind ?? '127.0.0.1', port: 0 }, () => r()));
  for (const p of packets) {
    await new Promise<void>((r) => sock.send(p, to.port, to.host, () => r()));
    if (opts.gapMs) await sleep(opts.gapMs);
  }
  await sleep(opts.waitMs ?? 500);
  sock.close();
  return replies;
}

/** Promise-based sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Copies the embedded default configuration (raddb/ and sites/) into `dir`, replacing listen
 * ports by `base + offset` so that tests can run side by side: 1812 → base, 1813 → base+1,
 * 18121 → base+2, 3799 → base+3, 1814 → base+4.
 */
export function copyDefaultConfig(dir: string, port: { auth: number; acct: number; status: number; coa: number; example: number }): string {
  fs.cpSync(path.join(ROOT, 'raddb'), path.join(dir, 'raddb'), { recursive: true, filter: (src) => !src.includes(`${path.sep}var`) });
  fs.cpSync(path.join(ROOT, 'sites'), path.join(dir, 'sites'), { recursive: true });
  // The example site loads a module from the build (../dist/…): point the copy at the real one.
  if (fs.existsSync(path.join(ROOT, 'dist'))) fs.symlinkSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'));
  const ports: Record<string, number> = { '1812': port.auth, '1813': port.acct, '18121': port.status, '3799': port.coa, '1814': port.example };
  for (const f of fs.readdirSync(path.join(dir, 'sites'))) {
    const p = path.join(dir, 'sites', f);
    const text = fs.readFileSync(p, 'utf8').replace(/port = (\d+)/g, (m, n: string) => (ports[n] ? `port = ${ports[n]}` : m));
    fs.writeFileSync(p, text);
  }
  return path.join(dir, 'raddb');
}

/**
 * A small radiusd.conf: one worker, client 127.0.0.1 (`secret`, default testing123), the
 * `modules` text, and a site `default` listening for auth and accounting on 127.0.0.1 with the
 * `policy` sections.
 */
export function siteConf(o: { auth: number; acct: number; modules: string; policy: string; secret?: string }): string {
  const listen = (name: string, type: string, port: number) =>
    `\tlisten ${name} {\n\t\ttype = ${type}\n\t\tudp {\n\t\t\tipaddr = 127.0.0.1\n\t\t\tport = ${port}\n\t\t}\n\t}\n`;
  return `confdir = .
run_dir = \${confdir}/run
thread {
	workers = 1
}
client localhost {
	ipaddr = 127.0.0.1
	secret = ${o.secret ?? 'testing123'}
}
modules {
${o.modules}
}
server default {
	namespace = radius
${listen('auth', 'Access-Request', o.auth)}${listen('acct', 'Accounting-Request', o.acct)}${o.policy}
}
`;
}

/** `accounting Start { body }` … `accounting Accounting-Off { body }` (the five session statuses). */
export function accountingSections(body: string): string {
  return ['Start', 'Interim-Update', 'Stop', 'Accounting-On', 'Accounting-Off']
    .map((s) => `\taccounting ${s} {\n\t\t${body}\n\t}\n`).join('');
}
