/**
 * `pppoe-dpdk`: the ring monitor and the pending-request dumper, from the command line. It reads what the
 * running daemon already publishes about every `app pppoe_dpdk` (its `health().detail`): from the `health`
 * app's JSON (`--url`, with `--token` when one is configured) or from the stats file (`--stats`, written on
 * SIGUSR1; `--pid` sends the signal first and waits for the file).
 *
 * ```
 * pppoe-dpdk rings   --url http://127.0.0.1:9812/health          # fill, head/tail, stuck, per lcore
 * pppoe-dpdk pending --stats /var/run/radiusd/radiusd.stats.json --pid 1234
 * pppoe-dpdk counters --url … [--app NAME] [--json]
 * pppoe-dpdk sessions  --admin http://127.0.0.1:9813 --token T --app NAME [--user U] [--limit N] [--json]
 * pppoe-dpdk session   ID --admin … --token T --app NAME          # ID: PPPoE session id or Acct-Session-Id
 * pppoe-dpdk terminate ID --admin … --token T --app NAME          # PADT + accounting Stop (Admin-Reset)
 * ```
 *
 * The session commands use the `admin` app's API (`/api/apps/<app>/sessions…`), which asks the lcores.
 *
 * Exit codes: 0 ok, 1 a ring is stuck or an lcore is not ready (`rings`) or no such session (`session`,
 * `terminate`), 2 usage or fetch errors.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import yargs from 'yargs';
import type { LcorePending, LcoreRings } from './control-plane';

/** What the tool reads of one app (its `health()`). */
export interface AppReport {
  readonly name: string;
  readonly status: string;
  readonly detail?: {
    readonly site?: string;
    readonly total?: Record<string, number>;
    readonly controlPlane?: Record<string, number>;
    readonly latencyUs?: Record<string, number>;
    readonly lcores?: { id: number; state: string; generation: number; inflight: number; heartbeatAgeMs: number }[];
    readonly rings?: LcoreRings[];
    readonly pending?: LcorePending[];
    readonly restartPending?: string[];
  };
}

/** The `pppoe_dpdk` apps of a health report (`{ apps: [{ kind, name, health }] }`) or a stats file (`{ apps: { name: { kind, status, detail } } }`). */
export function appsOf(doc: unknown): AppReport[] {
  const apps = (doc as { apps?: unknown }).apps;
  if (Array.isArray(apps)) {
    return apps.filter((a) => a.kind === 'pppoe_dpdk').map((a) => ({ name: a.name, status: a.health?.status, detail: a.health?.detail }));
  }
  if (apps && typeof apps === 'object') {
    return Object.entries(apps as Record<string, { kind: string; status: string; detail?: AppReport['detail'] }>)
      .filter(([, a]) => a.kind === 'pppoe_dpdk').map(([name, a]) => ({ name, status: a.status, detail: a.detail }));
  }
  return [];
}

const pad = (s: unknown, n: number): string => String(s ?? '').padEnd(n);
const pct = (f: number): string => `${(f * 100).toFixed(1)}%`;

/** The ring monitor as text; `bad` when a ring is stuck or an lcore is not ready. */
export function formatRings(apps: readonly AppReport[]): { text: string; bad: boolean } {
  const lines: string[] = [];
  let bad = false;
  for (const a of apps) {
    lines.push(`app pppoe_dpdk ${a.name}: ${a.status}`);
    lines.push(`  ${pad('lcore', 6)}${pad('state', 11)}${pad('beat ms', 9)}${pad('ring', 10)}${pad('used/cap', 12)}${pad('fill', 8)}${pad('head', 12)}${pad('tail', 12)}stalled ms`);
    for (const l of a.detail?.rings ?? []) {
      if (l.state !== 'ready') bad = true;
      for (const [kind, r] of [['request', l.request], ['response', l.response]] as const) {
        if (!r) {
          lines.push(`  ${pad(l.id, 6)}${pad(l.state, 11)}${pad(Math.round(l.heartbeatAgeMs), 9)}${pad(kind, 10)}(worker restarting)`);
          continue;
        }
        if (r.stuck) bad = true;
        lines.push(`  ${pad(l.id, 6)}${pad(l.state, 11)}${pad(Math.round(l.heartbeatAgeMs), 9)}${pad(kind, 10)}${pad(`${r.used}/${r.capacity}`, 12)}`
          + `${pad(pct(r.fill), 8)}${pad(r.head, 12)}${pad(r.tail, 12)}${Math.round(r.stalledMs)}${r.stuck ? '  STUCK' : ''}`);
      }
    }
  }
  return { text: lines.join('\n'), bad };
}

/** The pending dump as text. */
export function formatPending(apps: readonly AppReport[]): string {
  const lines: string[] = [];
  for (const a of apps) {
    lines.push(`app pppoe_dpdk ${a.name}: site ${a.detail?.site ?? '?'}, pending ${a.detail?.total?.pending ?? '?'}`);
    for (const l of a.detail?.pending ?? []) {
      lines.push(`  lcore ${l.id}: ${l.queued.length} queued, ${l.atSite.length} at the site, ${l.answered.length} answered${l.truncated ? `, ${l.truncated} more not shown` : ''}`);
      for (const [stage, list] of [['queued', l.queued], ['at-site', l.atSite], ['answered', l.answered]] as const) {
        for (const e of list) {
          lines.push(`    ${pad(stage, 9)} req ${pad(e.requestId, 12)} sid ${pad(e.sessionId, 6)} ${pad(e.mac ?? '', 18)}${pad(e.username ?? '', 24)}`
            + `${pad(e.nasPortId ?? '', 18)}${e.ageMs} ms${e.result ? ` ${e.result}` : ''}`);
        }
      }
    }
  }
  return lines.join('\n');
}

/** Counters as text. */
export function formatCounters(apps: readonly AppReport[]): string {
  const lines: string[] = [];
  for (const a of apps) {
    lines.push(`app pppoe_dpdk ${a.name}: ${a.status}${a.detail?.restartPending ? ` (restart pending: ${a.detail.restartPending.join(', ')})` : ''}`);
    for (const [k, v] of Object.entries(a.detail?.total ?? {})) lines.push(`  ${pad(k, 22)}${v}`);
    for (const [k, v] of Object.entries(a.detail?.controlPlane ?? {})) lines.push(`  cp.${pad(k, 19)}${v}`);
    const lat = a.detail?.latencyUs;
    if (lat) lines.push(`  latency µs: p50 ${lat.p50} p99 ${lat.p99} p99.9 ${lat.p999} max ${lat.max} (${lat.count} results)`);
  }
  return lines.join('\n');
}

/** A session line of `pppoe-dpdk sessions`. */
export function formatSessions(list: readonly Record<string, unknown>[]): string {
  const lines = [`${pad('id', 7)}${pad('lcore', 6)}${pad('phase', 10)}${pad('mac', 18)}${pad('user', 20)}${pad('ip', 16)}${pad('in/out octets', 22)}${pad('rate up/down', 20)}acct-session-id`];
  for (const s of list) {
    lines.push(`${pad(s.id, 7)}${pad(s.lcore, 6)}${pad(s.phase, 10)}${pad(s.mac, 18)}${pad(s.user, 20)}${pad(s.ip, 16)}`
      + `${pad(`${s.octetsIn}/${s.octetsOut}`, 22)}${pad(`${s.rateUp}/${s.rateDown}`, 20)}${s.acctSessionId ?? '-'}`);
  }
  return lines.join('\n');
}

/** GET (or POST) JSON; 4xx answers resolve with `{ status, body }` so the caller can tell "no such session". */
function request(url: string, token: string | undefined, method: 'GET' | 'POST'): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.request(url, { method, headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(method === 'POST' ? { 'Content-Type': 'application/json', 'Content-Length': 2 } : {}) }, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) });
        } catch (e) {
          reject(new Error(`${url}: HTTP ${res.statusCode}: ${(e as Error).message}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

/** The session commands, through the admin API. */
async function sessionCommand(cmd: string, a: { admin?: string; token?: string; app?: string; user?: string; limit?: number; json: boolean; id?: string },
  out: (s: string) => void, err: (s: string) => void): Promise<number> {
  if (!a.admin || !a.app) {
    err(`pppoe-dpdk ${cmd}: needs --admin URL (the admin app) and --app NAME`);
    return 2;
  }
  const base = `${a.admin.replace(/\/+$/, '')}/api/apps/${encodeURIComponent(a.app)}/sessions`;
  try {
    if (cmd === 'sessions') {
      const q = new URLSearchParams();
      if (a.user) q.set('user', a.user);
      if (a.limit) q.set('limit', String(a.limit));
      const r = await request(`${base}${q.size ? `?${q}` : ''}`, a.token, 'GET');
      if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${(r.body as { error?: string }).error ?? ''}`);
      const list = (r.body as { sessions: Record<string, unknown>[] }).sessions;
      out(a.json ? JSON.stringify(list, null, 2) : formatSessions(list));
      return 0;
    }
    if (!a.id) {
      err(`pppoe-dpdk ${cmd}: give the session (PPPoE session id or Acct-Session-Id)`);
      return 2;
    }
    const url = `${base}/${encodeURIComponent(a.id)}${cmd === 'terminate' ? '/terminate' : ''}`;
    const r = await request(url, a.token, cmd === 'terminate' ? 'POST' : 'GET');
    if (r.status === 404) {
      err(`pppoe-dpdk ${cmd}: ${(r.body as { error?: string }).error ?? 'not found'}`);
      return 1;
    }
    if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${(r.body as { error?: string }).error ?? ''}`);
    if (cmd === 'terminate') out(a.json ? JSON.stringify(r.body) : `session ${a.id} terminated`);
    else out(a.json ? JSON.stringify(r.body, null, 2) : Object.entries(r.body as Record<string, unknown>).map(([k, v]) => `${pad(k, 18)}${Array.isArray(v) ? v.join(', ') : v}`).join('\n'));
    return 0;
  } catch (e) {
    err(`pppoe-dpdk ${cmd}: ${(e as Error).message}`);
    return 2;
  }
}

function fetchJson(url: string, token?: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { headers: token ? { Authorization: `Bearer ${token}` } : {}, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        if (res.statusCode !== 200 && res.statusCode !== 503) return reject(new Error(`${url}: HTTP ${res.statusCode}`));
        try {
          resolve(JSON.parse(body));
        } catch (e) {
          reject(new Error(`${url}: ${(e as Error).message}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
  });
}

async function readStats(file: string, pid?: number): Promise<unknown> {
  if (pid !== undefined) {
    const before = fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0;
    process.kill(pid, 'SIGUSR1');
    const deadline = Date.now() + 10_000;
    while (!(fs.existsSync(file) && fs.statSync(file).mtimeMs > before)) {
      if (Date.now() > deadline) throw new Error(`${file}: not rewritten within 10 s after SIGUSR1 to ${pid}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Entry point (bin/pppoe-dpdk.js). */
export async function pppoeDpdkMain(argv: readonly string[], out: (s: string) => void = (s) => process.stdout.write(s + '\n'),
  err: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<number> {
  let code = 0;
  const a = await yargs([...argv])
    .scriptName('pppoe-dpdk')
    .usage('$0 <rings|pending|counters> (--url URL [--token T] | --stats FILE [--pid PID]) [--app NAME] [--json]\n'
      + '$0 <sessions|session ID|terminate ID> --admin URL --token T --app NAME [--user U] [--limit N] [--json]')
    .command('rings', 'Ring monitor: fill levels, head/tail, stuck rings')
    .command('pending', 'Pending requests: queued, at the site, answered')
    .command('counters', 'Per-app counters and latency')
    .command('sessions', 'The concentrator\'s sessions (admin API)')
    .command('session <id>', 'One session (PPPoE session id or Acct-Session-Id)')
    .command('terminate <id>', 'End a session: PADT and accounting Stop (Admin-Reset)')
    .demandCommand(1)
    .option('url', { type: 'string', description: 'The health app URL, e.g. http://127.0.0.1:9812/health' })
    .option('admin', { type: 'string', description: 'The admin app base URL, e.g. http://127.0.0.1:9813 (session commands)' })
    .option('user', { type: 'string', description: 'sessions: only this User-Name' })
    .option('limit', { type: 'number', description: 'sessions: at most this many' })
    .option('token', { type: 'string', description: 'Bearer token of the health or admin app' })
    .option('stats', { type: 'string', description: 'The stats file (run_dir/radiusd.stats.json)' })
    .option('pid', { type: 'number', description: 'Send SIGUSR1 to this daemon first and wait for the stats file' })
    .option('app', { type: 'string', description: 'Only this app instance' })
    .option('json', { type: 'boolean', default: false, description: 'Print JSON' })
    .check((x) => (x.url || x.stats || x.admin ? true : 'one of --url, --stats or --admin is required'))
    .strict()
    .exitProcess(false)
    .fail((msg, e) => {
      err(msg || String(e?.message));
      code = 2;
    })
    .parseAsync();
  if (code) return code;
  const cmd = String(a._[0]);
  if (cmd === 'sessions' || cmd === 'session' || cmd === 'terminate') {
    return sessionCommand(cmd, { admin: a.admin, token: a.token, app: a.app, user: a.user, limit: a.limit, json: a.json, id: a.id === undefined ? undefined : String(a.id) }, out, err);
  }
  let doc: unknown;
  try {
    doc = a.url ? await fetchJson(a.url, a.token) : await readStats(a.stats!, a.pid);
  } catch (e) {
    err(`pppoe-dpdk: ${(e as Error).message}`);
    return 2;
  }
  const apps = appsOf(doc).filter((x) => !a.app || x.name === a.app);
  if (apps.length === 0) {
    err(`pppoe-dpdk: no app pppoe_dpdk${a.app ? ` named ${a.app}` : ''} in the report`);
    return 2;
  }
  if (cmd === 'rings') {
    const r = formatRings(apps);
    out(a.json ? JSON.stringify(apps.map((x) => ({ name: x.name, rings: x.detail?.rings })), null, 2) : r.text);
    return r.bad ? 1 : 0;
  }
  if (cmd === 'pending') out(a.json ? JSON.stringify(apps.map((x) => ({ name: x.name, pending: x.detail?.pending })), null, 2) : formatPending(apps));
  else if (cmd === 'counters') out(a.json ? JSON.stringify(apps, null, 2) : formatCounters(apps));
  else {
    err(`pppoe-dpdk: unknown command ${cmd}`);
    return 2;
  }
  return 0;
}
