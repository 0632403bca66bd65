/**
 * `radiusd`: the RADIUS daemon.
 *
 *   radiusd [-d confdir] [-n name] [-X | -f | -C] [-i ipaddr] [-p port] [-l logfile] [--workers N]
 *   radiusd test [-d confdir] [-n name] [-X] [-v] [PATH …]   (policy tests: core/cli/policy-test.ts)
 *   radiusd <command> …   (sub-commands of module folders, `DaemonParts.commands`: `radiusd sessions`)
 *
 * - `-d confdir`: configuration directory (default: the package's embedded `raddb/`).
 * - `-n name`: read `${confdir}/${name}.conf` instead of `radiusd.conf`.
 * - `-X`: foreground, debug log to stdout without timestamps, interpreter trace on, one process.
 * - `-f`: stay in the foreground (log where the configuration says; stdout when it says nothing).
 * - `-C`: check the configuration (everything up to and including module bootstrap, the
 *   modules' `env` templates and `validate` checks; no `instantiate`, no sockets), print
 *   located errors, exit 0 when it is fine and 1 when not. A start-time check belongs in a
 *   module's `validate`, so `-C` fails exactly when start-up would
 *   (test/daemon/check-agrees.test.ts).
 * - `-i ipaddr` / `-p port`: listen override; see `ListenOverride` in core/server/server.ts.
 * - `-l logfile`: log to this file (`stdout` / `stderr` for the streams).
 * - `-t`: single process (same as `--workers 1`); `--workers N`: N processes sharing the sockets.
 * - `--version`.
 *
 * Without `-f`/`-X` the daemon forks a detached child, which writes `${run_dir}/${name}.pid`;
 * the parent exits once the child reports that it is serving (or failed).
 * Signals: SIGTERM/SIGINT stop cleanly, SIGHUP reloads, SIGUSR1 writes the stats file.
 */
import * as cluster from 'node:cluster';
import { ClusterSessions, clusterMetrics, primarySessionsRpc } from '../server/cluster-sessions';
import type { MetricsSnapshot } from '../metrics/snapshot';
import { ClusterPrimary, clusterRole, clusterTopology, defaultWorkers, serveWorker, workerLearn } from '../server/cluster';
import { MaSeenState } from '../listen/client-state';
import { clusterStatsView } from '../server/stats-view';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import yargs from 'yargs';
import { parseConfigFile } from '../config/parser';
import { policyTestMain } from './policy-test';
import { loadGeneration } from '../server/generation';
import { createDaemonLogger, LineLogger } from '../server/log';
import type { ServerLog } from '../log/server-log';
import { Server, shutdownDrainMs } from '../server/server';
import { ReloadTriggers } from '../server/reload';
import { derivePaths } from '../server/generation';
import { parseMainSettings } from '../server/settings';
import { AppRegistry, type AppDefinition } from '../server/app';
import { BUILTIN_APPS } from '../server/apps';
import { NamespaceRegistry, type Namespace } from '../process/namespace';
import { defaultNamespaces } from '../process/default';
import type { AnyModuleDefinition } from '../module/registry';

/**
 * What the composition root (`main/radiusd.ts`) hands the daemon: core never imports `modules/`,
 * so the built-in module definitions and the apps module folders contribute come from outside.
 */
export interface DaemonParts {
  /** Module definitions `modules { … }` may name (`BUILTIN_MODULES` of modules/index.ts). */
  readonly modules: readonly AnyModuleDefinition[];
  /** Apps contributed by module folders (`MODULE_APPS`), added to core's own. */
  readonly apps: readonly AppDefinition[];
  /**
   * Sub-commands module folders contribute (`MODULE_COMMANDS`): `radiusd <name> …` runs the
   * command with the remaining arguments and the default confdir (e.g. `radiusd sessions`).
   */
  readonly commands?: Readonly<Record<string, DaemonCommand>>;
  /** Namespaces module folders contribute (`MODULE_NAMESPACES`), added to core's own (`radius`). */
  readonly namespaces?: readonly Namespace[];
}

/** A `radiusd <name> …` sub-command; resolves with the exit status. */
export type DaemonCommand = (argv: readonly string[], io: DaemonIo, defaultConfdir: string) => Promise<number>;

/** The namespaces this daemon knows: core's built-ins plus those the composition root contributes. */
export function daemonNamespaces(parts: DaemonParts): NamespaceRegistry {
  const r = defaultNamespaces();
  for (const ns of parts.namespaces ?? []) r.register(ns);
  return r;
}

/** The apps this daemon knows: core's built-ins plus those the composition root contributes. */
export function daemonApps(parts: DaemonParts): AppRegistry {
  return new AppRegistry([...BUILTIN_APPS, ...parts.apps]);
}

/** The package root (works from sources and from dist/). */
export function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && path.basename(dir) !== 'dist') return dir;
    dir = path.dirname(dir);
  }
  return path.resolve(__dirname, '..', '..');
}

/** The embedded default configuration directory (`<package>/raddb`). */
export function defaultConfdir(): string {
  return path.join(packageRoot(), 'raddb');
}

/** The package version. */
export function version(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Parsed command line. */
export interface DaemonArgs {
  confdir: string;
  name: string;
  debug: boolean;
  foreground: boolean;
  check: boolean;
  ipaddr?: string;
  port?: number;
  logfile?: string;
  workers: number;
  /** Internal: this process is the detached child of a daemonising parent. */
  child: boolean;
}

/** Output streams (replaceable in tests). */
export interface DaemonIo {
  out(line: string): void;
  err(line: string): void;
}

const processIo: DaemonIo = {
  out: (l) => void process.stdout.write(l + '\n'),
  err: (l) => void process.stderr.write(l + '\n'),
};

/** Parses argv; returns a usage error text instead of args when it is bad. */
export function parseArgs(argv: readonly string[]): DaemonArgs | { error: string } | { help: string } | { version: true } {
  let usageError: string | undefined;
  const parser = yargs([...argv])
    .scriptName('radiusd')
    .usage('Usage: $0 [options]')
    .option('d', { type: 'string', description: 'Configuration directory (default: the embedded raddb/)' })
    .option('n', { type: 'string', default: 'radiusd', description: 'Read ${confdir}/<name>.conf instead of radiusd.conf' })
    .option('X', { type: 'boolean', default: false, description: 'Debug mode: foreground, one process, log to stdout, interpreter trace' })
    .option('x', { type: 'count', description: 'More debug output (debug log in the configured destination)' })
    .option('f', { type: 'boolean', default: false, description: 'Stay in the foreground' })
    .option('C', { type: 'boolean', default: false, description: 'Check the configuration and exit (0 = OK, 1 = errors)' })
    .option('i', { type: 'string', description: 'Listen on this address (all listeners)' })
    .option('p', { type: 'number', description: 'Auth port (auth/status listeners; accounting gets port+1)' })
    .option('l', { type: 'string', description: 'Log file, or stdout / stderr' })
    .option('t', { type: 'boolean', default: false, description: 'Single process (same as --workers 1)' })
    .option('s', { type: 'boolean', default: false, description: 'Single process, foreground (FreeRADIUS compatibility)' })
    .option('workers', { type: 'number', description: 'Processes sharing the sockets (cluster); default from thread { workers }' })
    .option('v', { type: 'boolean', default: false, description: 'Print the version and exit' })
    .option('daemon-child', { type: 'boolean', default: false, hidden: true })
    .help('h')
    .version(false)
    .option('version', { type: 'boolean', description: 'Print the version and exit' })
    .strictOptions()
    .exitProcess(false)
    .fail((msg, e) => { usageError = msg || e?.message || 'bad arguments'; });
  let a;
  try {
    a = parser.parseSync();
  } catch (e) {
    usageError ??= (e as Error).message;
  }
  if (usageError || !a) return { error: usageError ?? 'bad arguments' };
  if (a.h) return { help: '' };
  if (a.version || a.v) return { version: true };
  if ((a._ ?? []).length) return { error: `unexpected argument '${String(a._[0])}'` };
  if (a.p !== undefined && !(Number.isInteger(a.p) && a.p > 0 && a.p < 65535)) return { error: `invalid port ${a.p}` };
  const workers = a.X || a.t || a.s ? 1 : a.workers ?? 0;
  if (a.workers !== undefined && !(Number.isInteger(a.workers) && a.workers >= 1 && a.workers <= 256)) return { error: `invalid --workers ${a.workers}` };
  return {
    confdir: path.resolve(a.d ?? defaultConfdir()),
    name: a.n,
    debug: a.X || (a.x ?? 0) > 0,
    foreground: a.X || a.f || a.s || a['daemon-child'],
    check: a.C,
    ipaddr: a.i,
    port: a.p,
    logfile: a.l,
    workers,
    child: a['daemon-child'],
  };
}

/** Runs `radiusd -C`. */
export async function checkConfig(args: DaemonArgs, io: DaemonIo, parts: DaemonParts): Promise<number> {
  const file = path.join(args.confdir, `${args.name}.conf`);
  const log = new LineLogger({ write: (l) => io.err(l) }, args.debug, '', false);
  try {
    const gen = await loadGeneration({ file, log, check: true, apps: daemonApps(parts), namespaces: daemonNamespaces(parts), modules: parts.modules });
    await gen.modules.detachAll();
    io.out(`Configuration appears to be OK (${gen.sites.size} server(s), ${gen.listeners.length} listener(s), ${gen.modules.list().length} module instance(s))`);
    return 0;
  } catch (e) {
    io.err(errorText(e));
    io.err('Errors reading or parsing the configuration');
    return 1;
  }
}

function errorText(e: unknown): string {
  if (e instanceof Error) {
    let s = e.message;
    const cause = (e as { cause?: unknown }).cause;
    if (cause instanceof Error && !s.includes(cause.message)) s += ` (${cause.message})`;
    return s;
  }
  return String(e);
}

/** Decides the log destination: -X → stdout; -l; else the config; else stdout in the foreground. */
function makeLogger(args: DaemonArgs, file: string): { log: ServerLog; pidfile?: string; onTerminal?: boolean } {
  if (args.debug && !args.logfile && args.foreground && !args.child) {
    return { log: createDaemonLogger({ destination: 'stdout', debug: true, rotateCheck: 0, timestamps: false }), onTerminal: true };
  }
  let destination: 'files' | 'stdout' | 'stderr' | 'null' = 'stdout';
  let logFile: string | undefined;
  let rotate = 5;
  let pidfile: string | undefined;
  try {
    const root = parseConfigFile(file);
    const s = parseMainSettings(root);
    const paths = derivePaths(s, file);
    pidfile = paths.pidfile;
    rotate = s.log.rotate_check_interval;
    if (s.log.destination) destination = s.log.destination;
    else destination = args.foreground && !args.child ? 'stdout' : 'files';
    logFile = paths.logFile ?? path.join(paths.logdir, `${s.name}.log`);
  } catch {
    // The error is reported by the real load below, with its location.
    destination = args.child ? 'null' : 'stderr';
  }
  if (args.logfile === 'stdout' || args.logfile === 'stderr') destination = args.logfile;
  else if (args.logfile) {
    destination = 'files';
    logFile = path.resolve(args.logfile);
  }
  return {
    log: createDaemonLogger({ destination, file: logFile, debug: args.debug, rotateCheck: rotate }), pidfile,
    onTerminal: !args.child && (destination === 'stdout' || destination === 'stderr'),
  };
}

/**
 * Signals that arrive while the server is still starting are held here and replayed once the
 * real handlers are installed (a SIGTERM during startup stops the server right after it is up;
 * SIGUSR1 must never reach Node's default handler, which would open the inspector).
 */
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1'] as const;
type Sig = (typeof SIGNALS)[number];
let pendingSignals: Sig[] = [];
let signalHandler: ((s: Sig) => void) | undefined;
let signalsInstalled = false;

function installSignals(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  for (const sig of SIGNALS) {
    process.on(sig, () => {
      if (signalHandler) signalHandler(sig);
      else pendingSignals.push(sig);
    });
  }
}

/** Routes signals to `fn` from now on, replaying those received during startup. */
function handleSignals(fn: ((s: Sig) => void) | undefined): void {
  signalHandler = fn;
  if (!fn) return;
  const p = pendingSignals;
  pendingSignals = [];
  for (const s of p) fn(s);
}

/** Runs the daemon in this process (foreground, or as the detached child / a cluster worker). */
async function serve(args: DaemonArgs, io: DaemonIo, parts: DaemonParts): Promise<number> {
  const file = path.join(args.confdir, `${args.name}.conf`);
  let made: { log: ServerLog; pidfile?: string; onTerminal?: boolean };
  try {
    made = makeLogger(args, file);
  } catch (e) {
    io.err(`radiusd: cannot open the log: ${errorText(e)}`);
    return 1;
  }
  const { log } = made;
  const server = new Server({
    file,
    log,
    debug: args.debug,
    requestLogSink: args.debug ? log.requestSink() : undefined,
    override: args.ipaddr !== undefined || args.port !== undefined ? { ipaddr: args.ipaddr, port: args.port } : undefined,
    // Worker index and count (TOPOLOGY in the DI root; the share of per-client max_pps and TCP limits).
    services: { topology: clusterTopology() },
    apps: daemonApps(parts),
    namespaces: daemonNamespaces(parts),
    modules: parts.modules,
    // Under cluster the primary holds what `auto` learned (state file, log line, broadcast).
    shareLearned: cluster.default.isWorker ? (key, note) => void workerLearn(key, note) : undefined,
    // Under cluster the primary watches the flag file and the timer and tells every worker.
    triggers: !cluster.default.isWorker,
    // Under cluster the admin app shows every worker's metrics, merged in the primary.
    clusterMetrics: cluster.default.isWorker ? clusterMetrics : undefined,
  });
  // Under cluster the DAC sessions live in the primary (core/server/cluster-sessions.ts).
  if (cluster.default.isWorker) server.services.dac.useSessions(new ClusterSessions());
  log.info(`tsradius ${version()} starting: ${file}`);
  try {
    await server.start();
  } catch (e) {
    log.error(errorText(e));
    // Once: in the foreground the error also goes to stderr, unless the log is already on the terminal.
    if (args.foreground && !args.child && !made.onTerminal) io.err(errorText(e));
    process.send?.({ radiusd: 'failed', error: errorText(e) });
    log.close();
    return 1;
  }
  const gen = server.generation!;
  const writePid = !args.foreground || args.child;
  const pidfile = gen.paths.pidfile;
  if (writePid && !cluster.default.isWorker) {
    try {
      fs.mkdirSync(path.dirname(pidfile), { recursive: true });
      fs.writeFileSync(pidfile, `${process.pid}\n`);
    } catch (e) {
      log.error(`cannot write pid file ${pidfile}: ${errorText(e)}`);
    }
  }
  log.info('Ready to process requests');
  if (args.foreground && !args.child && !args.debug && !cluster.default.isWorker) io.out('Ready to process requests');
  if (cluster.default.isWorker) {
    serveWorker({
      stats: () => server.stats().listeners,
      metrics: () => server.services.metrics.snapshot(),
      reload: async () => {
        if (!(await server.reload())) throw new Error('configuration rejected (see the log)');
      },
      shutdown: () => server.stop(),
      learned: (keys) => server.applyLearned(keys),
    });
  } else {
    process.send?.({ radiusd: 'ready', pid: process.pid, listeners: server.addresses() });
  }

  let statsTimer: NodeJS.Timeout | undefined;
  const statsInterval = gen.settings.stats.interval;
  if (statsInterval > 0) {
    statsTimer = setInterval(() => server.writeStats(), statsInterval * 1000);
    statsTimer.unref();
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${sig}: shutting down`);
      if (statsTimer) clearInterval(statsTimer);
      void server.stop().then(() => {
        if (!cluster.default.isWorker) server.writeStats();
        if (writePid && !cluster.default.isWorker) {
          try { fs.unlinkSync(pidfile); } catch { /* already gone */ }
        }
        log.info('exiting');
        log.close();
        handleSignals(undefined);
        resolve(0);
      });
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    const onHup = () => {
      log.info('SIGHUP: reloading the configuration');
      void server.reload();
    };
    const onUsr1 = () => {
      const f = server.writeStats();
      if (f) log.info(`stats written to ${f}`);
    };
    handleSignals((sig) => {
      if (sig === 'SIGTERM') onTerm();
      else if (sig === 'SIGINT') onInt();
      else if (sig === 'SIGHUP') onHup();
      else if (!cluster.default.isWorker) onUsr1();
    });
    process.on('message', (m: unknown) => {
      const cmd = (m as { radiusd?: string })?.radiusd;
      if (cmd === 'reload') onHup();
      else if (cmd === 'stop') stop('stop');
      else if (cmd === 'stats') onUsr1();
    });
  });
}

/** Forks the detached daemon child and waits for its ready/failed message. */
function daemonise(argv: readonly string[], io: DaemonIo): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, require.main?.filename ?? process.argv[1], ...argv, '--daemon-child'], {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      child.disconnect?.();
      child.unref();
      resolve(code);
    };
    child.on('message', (m: { radiusd?: string; error?: string; pid?: number }) => {
      if (m?.radiusd === 'ready') {
        io.out(`radiusd: running as pid ${m.pid}`);
        finish(0);
      } else if (m?.radiusd === 'failed') {
        io.err(m.error ?? 'radiusd: failed to start');
        finish(1);
      }
    });
    child.on('exit', (code) => finish(code || 1));
    child.on('error', (e) => {
      io.err(`radiusd: cannot start the daemon: ${e.message}`);
      finish(1);
    });
  });
}

/**
 * Cluster primary (core/server/cluster.ts): validates the configuration once (so a broken one
 * fails fast instead of crash-looping workers), forks `n` workers, forwards SIGHUP, sums the
 * workers' counters into the stats file on SIGUSR1, stops them on SIGTERM/SIGINT.
 */
async function supervise(args: DaemonArgs, argv: readonly string[], n: number, io: DaemonIo, parts: DaemonParts): Promise<number> {
  const file = path.join(args.confdir, `${args.name}.conf`);
  const { log } = makeLogger(args, file);
  let gen;
  try {
    gen = await loadGeneration({ file, log, check: true, services: { topology: clusterTopology(n) }, apps: daemonApps(parts), namespaces: daemonNamespaces(parts), modules: parts.modules });
    await gen.modules.detachAll();
  } catch (e) {
    log.error(errorText(e));
    io.err(errorText(e));
    process.send?.({ radiusd: 'failed', error: errorText(e) });
    return 1;
  }
  // What `require_message_authenticator = auto` learned, for every worker and across restarts.
  const maState = new MaSeenState(gen.paths.maStateFile, log);
  maState.load();
  if (maState.size > 0) log.info(`${maState.size} client(s) known to send Message-Authenticator (${gen.paths.maStateFile})`);
  const learn = {
    add: (key: string, note: string): boolean => {
      if (!maState.add(key)) return false;
      maState.save();
      log.info(note);
      return true;
    },
    keys: () => maState.keys(),
  };
  // The DAC session store for every worker, and the merged metrics they ask for (admin app).
  let merged: () => Promise<MetricsSnapshot> = async () => ({ families: [] });
  const rpc = primarySessionsRpc(() => merged());
  const primary = new ClusterPrimary({ workers: n, exec: require.main?.filename ?? process.argv[1], args: [...argv], log, learn, rpc });
  merged = () => primary.metrics();
  await primary.start();
  const pids = primary.pids();
  if (pids.length === 0) {
    const msg = 'radiusd: no worker started';
    io.err(msg);
    process.send?.({ radiusd: 'failed', error: msg });
    return 1;
  }
  const writePid = args.child;
  if (writePid) {
    try {
      fs.mkdirSync(path.dirname(gen.paths.pidfile), { recursive: true });
      fs.writeFileSync(gen.paths.pidfile, `${process.pid}\n`);
    } catch (e) {
      log.error(`cannot write pid file ${gen.paths.pidfile}: ${errorText(e)}`);
    }
  }
  log.info(`${pids.length} workers ready (pids ${pids.join(', ')})`);
  const triggers = new ReloadTriggers(gen.paths.flagFile, gen.settings.reload.check_interval, gen.settings.reload.interval,
    () => primary.reload(), log);
  triggers.start();
  if (!args.child) io.out('Ready to process requests');
  process.send?.({ radiusd: 'ready', pid: process.pid });
  const writeStats = async () => {
    // The workers' metrics snapshots, merged; the file is the same view a single process writes.
    const view = clusterStatsView(await primary.metrics(), n);
    try {
      fs.mkdirSync(path.dirname(gen.paths.statsFile), { recursive: true });
      fs.writeFileSync(gen.paths.statsFile, JSON.stringify(view, null, 2) + '\n');
      log.info(`stats written to ${gen.paths.statsFile}`);
    } catch (e) {
      log.error(`stats: ${errorText(e)}`);
    }
  };
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${sig}: stopping ${n} workers`);
      triggers.stop();
      // Counters as they are when the stop begins (the workers are gone afterwards); each worker
      // drains, cancels what is left, detaches its modules, and is killed only if it overruns that.
      const grace = shutdownDrainMs(gen.settings.max_request_time) + 10000;
      void writeStats().then(() => primary.stop(grace)).then(() => {
        if (writePid) {
          try { fs.unlinkSync(gen.paths.pidfile); } catch { /* gone */ }
        }
        log.info('exiting');
        log.close();
        resolve(0);
      });
    };
    handleSignals((sig) => {
      if (sig === 'SIGTERM' || sig === 'SIGINT') stop(sig);
      else if (sig === 'SIGHUP') { log.info('SIGHUP: reloading the workers'); primary.reload(); }
      else void writeStats();
    });
  });
}

/**
 * Runs radiusd with `argv` (without node and script) and the module definitions and apps the
 * composition root hands over (`main/radiusd.ts`). Resolves with the exit status.
 */
export async function radiusdMain(argv: readonly string[], parts: DaemonParts, io: DaemonIo = processIo): Promise<number> {
  if (argv[0] === 'test' && clusterRole() !== 'worker') return policyTestMain(argv.slice(1), io, defaultConfdir(), parts);
  const command = argv[0] !== undefined && !argv[0].startsWith('-') ? parts.commands?.[argv[0]] : undefined;
  if (command && clusterRole() !== 'worker') return command(argv.slice(1), io, defaultConfdir());
  if (clusterRole() === 'worker') {
    installSignals();
    const args = parseArgs(argv) as DaemonArgs;
    return serve({ ...args, foreground: true }, io, parts);
  }
  const parsed = parseArgs(argv);
  if ('error' in parsed) {
    io.err(`radiusd: ${parsed.error}`);
    io.err('Usage: radiusd [-d confdir] [-n name] [-X | -f | -C] [-i ipaddr] [-p port] [-l logfile] [--workers N]   (radiusd -h for help)');
    return 2;
  }
  if ('help' in parsed) return 0;
  if ('version' in parsed) {
    io.out(`radiusd (tsradius) version ${version()}, node ${process.version}`);
    return 0;
  }
  const args = parsed;
  if (args.check) return checkConfig(args, io, parts);
  if (!args.foreground) return daemonise(argv, io);
  installSignals();
  let workers = args.workers;
  if (workers === 0) {
    try {
      const s = parseMainSettings(parseConfigFile(path.join(args.confdir, `${args.name}.conf`)));
      workers = s.thread.workers;
    } catch {
      workers = 1; // the error is reported with its location when the server loads it
    }
  }
  if (workers === 0) workers = defaultWorkers();
  if (clusterRole({ workers, debug: args.debug && !args.child }) === 'primary') return supervise(args, argv, workers, io, parts);
  return serve(args, io, parts);
}
