/**
 * `sandstorm`: the command line of our RADIUS load tester (see README.md).
 */
import * as fs from 'node:fs';
import yargs from 'yargs';
import { loadDictionary, normalizeArgv, parseCli, readSecretFile } from '../common';
import { udpBackend } from '../../native/udp';
import { Engine, type ServerSpec } from './engine';
import { buildReport, htmlReport, progressLine, summaryText } from './report';
import { Workload, generateUsers, parseMix, readUsers, type Kind } from './workload';

/** Where sandstorm writes (replaceable in tests). */
export interface SandstormIo {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is a terminal (the progress line is redrawn in place). */
  tty: boolean;
}

const USAGE = `Usage: sandstorm [options] SERVER[:AUTH[,ACCT[,COA]]]...

RADIUS load tester. Closed loop with -w (requests in flight), open loop with
-r (fixed rate) or --ramp FROM:TO (rate rising linearly over the run).
Servers are used round-robin; ports default to 1812, 1813, 3799.`;

/** `host[:auth[,acct[,coa]]]`, IPv6 literals in brackets. */
export function parseServerSpec(text: string, defaults: { auth: number; acct: number; coa: number }): ServerSpec {
  const m = /^(\[[^\]]+\]|[^:]+)(?::([\d,]+))?$/.exec(text);
  if (!m) throw new Error(`bad server '${text}' (host[:auth[,acct[,coa]]])`);
  const host = m[1].replace(/^\[|\]$/g, '');
  const ports = m[2] ? m[2].split(',').map(Number) : [];
  for (const p of ports) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`bad port in '${text}'`);
  return { host, auth: ports[0] ?? defaults.auth, acct: ports[1] ?? defaults.acct, coa: ports[2] ?? defaults.coa };
}

function parser(argv: string[]) {
  // `--json -` (stdout): yargs would take a lone `-` for a positional.
  const args = normalizeArgv(argv).map((x, i, all) => (x === '-' && all[i - 1] === '--json' ? '--json=-' : x))
    .filter((x, i, all) => !(x === '--json' && all[i + 1] === '--json=-'));
  return yargs(args)
    .usage(USAGE)
    .option('s', { alias: 'secret', type: 'string', default: 'testing123', description: 'Shared secret' })
    .option('S', { type: 'string', description: 'Read the secret from this file' })
    .option('t', { alias: 'mix', type: 'string', default: 'pap', description: 'Request kinds with weights: pap, chap, acct, status, coa (e.g. pap=70,acct=25,status=5)' })
    .option('w', { alias: 'window', type: 'number', default: 64, description: 'Closed loop: requests in flight (open loop: the most in flight)' })
    .option('r', { alias: 'rate', type: 'number', description: 'Open loop: requests per second' })
    .option('ramp', { type: 'string', description: 'Open loop: FROM:TO requests per second, linear over warm-up + duration' })
    .option('d', { alias: 'duration', type: 'number', description: 'Seconds measured (default 10 unless -n)' })
    .option('W', { alias: 'warmup', type: 'number', default: 0, description: 'Seconds of warm-up before measuring' })
    .option('n', { alias: 'count', type: 'number', default: 0, description: 'Stop after this many requests' })
    .option('T', { alias: 'timeout', type: 'number', default: 1000, description: 'Milliseconds before a retransmission or a timeout' })
    .option('R', { alias: 'retries', type: 'number', default: 0, description: 'Retransmissions per request (UDP)' })
    .option('u', { alias: 'users', type: 'number', default: 1000, description: 'Generated users user0001../pass0001..' })
    .option('users-file', { type: 'string', description: 'Users from a file: "name password" lines or a users file with Cleartext-Password' })
    .option('b', { alias: 'bad', type: 'number', default: 0, description: 'Percent of PAP/CHAP requests with a wrong password (expect Access-Reject)' })
    .option('interims', { type: 'number', default: 1, description: 'Interim-Updates per accounting session' })
    .option('P', { type: 'string', choices: ['udp', 'tcp'], default: 'udp', description: 'Transport (TCP per RFC 6613)' })
    .option('ipv4', { type: 'boolean', description: 'Resolve servers to IPv4 (-4)' })
    .option('ipv6', { type: 'boolean', description: 'Resolve servers to IPv6 (-6)' })
    .option('acct-port', { type: 'number', default: 1813, description: 'Default accounting port' })
    .option('coa-port', { type: 'number', default: 3799, description: 'Default CoA port' })
    .option('expect-attrs', { type: 'string', description: 'Comma-separated attributes every Access-Accept must carry' })
    .option('auth-attrs', { type: 'string', description: 'Extra attributes for Access-Requests (FreeRADIUS text)' })
    .option('acct-attrs', { type: 'string', description: 'Extra attributes for Accounting-Requests' })
    .option('coa-attrs', { type: 'string', description: 'Extra attributes for CoA-Requests' })
    .option('json', { type: 'string', description: 'Write the JSON report to this file (- for stdout)' })
    .option('html', { type: 'string', description: 'Write the HTML report (plots) to this file' })
    .option('interval', { type: 'number', default: 1000, description: 'Milliseconds per timeline interval and progress update' })
    .option('pid', { type: 'string', description: 'Comma-separated server PIDs whose CPU is reported' })
    .option('q', { alias: 'quiet', type: 'boolean', default: false, description: 'No progress line and no summary' })
    .option('D', { type: 'string', description: 'Dictionary directory (default: the bundled dictionaries)' });
}

/** Runs sandstorm; resolves to the exit status (0 ok, 1 errors in the run, 2 usage). */
export async function sandstormMain(argv: string[], io: SandstormIo = processIo()): Promise<number> {
  const p = parser(argv);
  const parsed = parseCli(p, (a, pos) => {
    if (pos.length === 0) return 'no server given';
    if (a.r !== undefined && a.ramp !== undefined) return '-r and --ramp exclude each other';
    if (a.ramp !== undefined && !/^\d+:\d+$/.test(a.ramp)) return '--ramp takes FROM:TO (requests per second)';
    if (!(a.w >= 1 && a.w <= 65536)) return '-w must be 1..65536';
    if (a.n < 0 || a.T < 1 || a.R < 0 || a.u < 1 || a.b < 0 || a.b > 100 || a.interval < 10) return 'bad numeric option';
    return undefined;
  });
  if (parsed === 'help') { io.out(`${await p.getHelp()}\n`); return 0; }
  if ('error' in parsed) { io.err(`sandstorm: ${parsed.error}\n${await p.getHelp()}\n`); return 2; }
  const { args: a, pos } = parsed;
  let servers: ServerSpec[];
  let schedule: Kind[];
  let users;
  let secret: string;
  try {
    servers = pos.map((t) => parseServerSpec(t, { auth: 1812, acct: a['acct-port'], coa: a['coa-port'] }));
    schedule = parseMix(a.t);
    users = a['users-file'] ? readUsers(a['users-file']) : generateUsers(a.u);
    secret = a.S ? readSecretFile(a.S) : a.s;
  } catch (e) {
    io.err(`sandstorm: ${(e as Error).message}\n`);
    return 2;
  }
  const dict = loadDictionary(a.D);
  const secretBuf = Buffer.from(secret, 'utf8');
  const kinds = [...new Set(schedule)];
  let workload: Workload;
  try {
    workload = new Workload({
      dict, secret: secretBuf, users, interims: a.interims,
      extraAuth: a['auth-attrs'], extraAcct: a['acct-attrs'], extraCoa: a['coa-attrs'],
    }, kinds);
  } catch (e) {
    io.err(`sandstorm: ${(e as Error).message}\n`);
    return 2;
  }
  const [rateFrom, rateTo] = a.ramp ? a.ramp.split(':').map(Number) : a.r !== undefined ? [a.r, a.r] : [0, 0];
  const open = rateFrom > 0 || rateTo > 0;
  const duration = a.d ?? (a.n > 0 ? 0 : 10);
  // Open loop: room for every request of a timeout's worth at the peak rate, at least the window.
  const window = open ? Math.max(a.w, Math.min(65536, Math.ceil((Math.max(rateFrom, rateTo) * a.T * (1 + a.R)) / 1000))) : a.w;
  const transport = a.P as 'udp' | 'tcp';
  const be = udpBackend();
  const backend = transport === 'tcp' ? 'node:net' : be.backend === 'native' ? 'native (recvmmsg/sendmmsg)' : 'node:dgram';
  if (!a.q) {
    io.err(`${transport === 'tcp' ? 'sandstorm: TCP I/O: node:net'
      : be.backend === 'native' ? 'sandstorm: UDP I/O: native addon (recvmmsg/sendmmsg batches)'
        : `sandstorm: UDP I/O: node:dgram fallback (native addon ${be.why})`}\n`);
  }
  const planned = duration > 0 ? `/${(a.W + duration).toFixed(0)}s` : a.n > 0 ? ` of ${a.n}` : '';
  let lastPrint = 0;
  const engine = new Engine({
    dict, secret: secretBuf, servers, transport, family: a.ipv6 ? 6 : a.ipv4 ? 4 : undefined,
    workload, schedule, window, rateFrom, rateTo, duration, warmup: a.W, count: a.n,
    timeoutMs: a.T, retries: a.R, badPercent: a.b,
    expectAttrs: a['expect-attrs'] ? a['expect-attrs'].split(',').map((s) => s.trim()).filter(Boolean) : [],
    intervalMs: a.interval,
    pids: a.pid ? a.pid.split(',').map(Number).filter((n) => n > 0) : [],
    onInterval: (pt, e) => {
      if (a.q) return;
      const line = progressLine(pt, e.totals, planned);
      if (io.tty) io.err(`\r\x1b[K${line}`);
      else if (pt.t - lastPrint >= 5) { lastPrint = pt.t; io.err(`${line}\n`); }
    },
  });
  engine.backend = backend;
  try {
    await engine.open();
  } catch (e) {
    io.err(`sandstorm: cannot open sockets: ${(e as Error).message}\n`);
    return 1;
  }
  const started = new Date();
  const result = await engine.run();
  if (io.tty && !a.q) io.err('\r\x1b[K');
  const config = {
    servers: pos, mix: a.t, window: open ? undefined : a.w, rate: open ? (a.ramp ?? a.r) : undefined,
    max_in_flight: open ? window : undefined, duration, warmup: a.W, count: a.n || undefined,
    timeout_ms: a.T, retries: a.R, users: users.length, bad_percent: a.b || undefined, interims: kinds.includes('acct') ? a.interims : undefined,
  };
  const report = buildReport(result, JSON.parse(JSON.stringify(config)) as Record<string, unknown>, started, transport);
  if (!a.q) io.err(`${summaryText(report)}\n`);
  if (a.json === '-') io.out(`${JSON.stringify(report, null, 2)}\n`);
  else if (a.json) fs.writeFileSync(a.json, `${JSON.stringify(report, null, 2)}\n`);
  if (a.html) fs.writeFileSync(a.html, htmlReport(report));
  return report.errors > 0 ? 1 : 0;
}

function processIo(): SandstormIo {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    tty: !!process.stderr.isTTY,
  };
}
