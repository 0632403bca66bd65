/**
 * `radmin`: the operator's command line over the `admin` app's API (core/server/apps/admin).
 *
 *   radmin [--url http://127.0.0.1:9813] [--token T] [--ca FILE] [--json] COMMAND …
 *
 *   health                              server health: modules, listeners, apps
 *   stats                               request/reply/drop counters, sessions, CoA/Disconnect counters
 *   clients                             the clients and where their CoA/Disconnect go
 *   sessions [--user U] [--nas N] [--all]
 *   session ID                          one session in full
 *   coa ID|--user U|--nas N NAME=VALUE …   CoA-Request (e.g. Actual-Data-Rate-Downstream=5000000)
 *   disconnect ID|--user U|--nas N      Disconnect-Request
 *   profile-changed USER|--session ID|--nas N|--all
 *                                       the profile changed: CoA with the new rates to each live session
 *   reload                              reload the configuration now
 *   metrics                             the Prometheus text
 *
 * The token comes from --token or RADMIN_TOKEN (never printed). Exit status 0 on success; 1 when
 * the API refused or a CoA/Disconnect was not ACKed; 2 on a usage error.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import yargs from 'yargs';
import { normalizeArgv, processIo, type CliIo } from './common';

interface Answer { status: number; body: string }

function call(url: string, method: string, token: string, ca: Buffer | undefined, body?: unknown): Promise<Answer> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = lib.request(u, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}) },
      ...(ca ? { ca } : {}),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** Renders rows as an aligned table. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => r.map((c, i) => (c ?? '').padEnd(w[i])).join('  ').trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)];
}

const bytes = (n: number) => {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < 4) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
};

/** Runs radmin; resolves with the exit status. */
export async function radminMain(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let a;
  try {
    a = await yargs(normalizeArgv(argv))
      .scriptName('radmin')
      .usage('$0 [options] COMMAND …')
      .option('url', { type: 'string', default: process.env.RADMIN_URL ?? 'http://127.0.0.1:9813' })
      .option('token', { type: 'string' })
      .option('ca', { type: 'string', describe: 'CA certificate for an https URL' })
      .option('user', { type: 'string' })
      .option('nas', { type: 'string' })
      .option('session', { type: 'string' })
      .option('all', { type: 'boolean', default: false })
      .option('json', { type: 'boolean', default: false })
      .demandCommand(1)
      .strict(false)
      .exitProcess(false)
      .fail((msg, err) => { throw err ?? new Error(msg); })
      .parse();
  } catch (e) {
    io.err(`radmin: ${(e as Error).message}`);
    return 2;
  }
  const token = a.token ?? process.env.RADMIN_TOKEN ?? '';
  if (!token) { io.err('radmin: no token (--token or RADMIN_TOKEN)'); return 2; }
  const ca = a.ca ? fs.readFileSync(a.ca) : undefined;
  const base = a.url.replace(/\/+$/, '');
  const [cmd, ...rest] = a._.map(String);
  const get = (path: string) => call(base + path, 'GET', token, ca);
  const post = (path: string, body: unknown) => call(base + path, 'POST', token, ca, body);
  let r: Answer;
  try {
    switch (cmd) {
      case 'health': r = await get('/api/health'); break;
      case 'stats': r = await get('/api/stats'); break;
      case 'metrics': r = await get('/metrics'); break;
      case 'clients': r = await get('/api/clients'); break;
      case 'reload': r = await post('/api/reload', {}); break;
      case 'sessions': {
        const q = new URLSearchParams();
        if (a.user) q.set('user', a.user);
        if (a.nas) q.set('nas', a.nas);
        if (a.all) q.set('all', '1');
        r = await get(`/api/sessions${q.size ? `?${q}` : ''}`);
        break;
      }
      case 'session':
        if (!rest[0]) { io.err('radmin: session ID'); return 2; }
        r = await get(`/api/sessions/${encodeURIComponent(rest[0])}`);
        break;
      case 'coa': case 'disconnect': {
        const id = rest[0] && !rest[0].includes('=') ? rest[0] : undefined;
        const attributes: Record<string, string> = {};
        for (const kv of rest.slice(id ? 1 : 0)) {
          const i = kv.indexOf('=');
          if (i <= 0) { io.err(`radmin: expected NAME=VALUE, got "${kv}"`); return 2; }
          attributes[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
        }
        if (!id && !a.user && !a.nas) { io.err(`radmin: ${cmd} needs a session id, --user or --nas`); return 2; }
        if (cmd === 'coa' && Object.keys(attributes).length === 0) { io.err('radmin: coa needs NAME=VALUE attributes'); return 2; }
        r = await post(`/api/${cmd}`, { session: id, user: a.user, nas: a.nas, ...(cmd === 'coa' ? { attributes } : {}) });
        break;
      }
      case 'profile-changed': {
        const user = rest[0] ?? a.user;
        if (!user && !a.session && !a.nas && !a.all) { io.err('radmin: profile-changed needs a user, --session, --nas or --all'); return 2; }
        r = await post('/api/profile', { user, session: a.session, nas: a.nas, ...(a.all ? { all: true } : {}) });
        break;
      }
      default:
        io.err(`radmin: unknown command "${cmd}" (health, stats, clients, sessions, session, coa, disconnect, profile-changed, reload, metrics)`);
        return 2;
    }
  } catch (e) {
    io.err(`radmin: ${base}: ${(e as Error).message}`);
    return 1;
  }
  if (cmd === 'metrics') {
    if (r.status !== 200) { io.err(`radmin: HTTP ${r.status}: ${r.body.trim()}`); return 1; }
    io.out(r.body.trimEnd());
    return 0;
  }
  let body: any;
  try { body = JSON.parse(r.body); } catch { body = { error: r.body }; }
  if (r.status !== 200) { io.err(`radmin: HTTP ${r.status}: ${body.error ?? r.body}`); return 1; }
  if (a.json) { io.out(JSON.stringify(body, null, 2)); }
  switch (cmd) {
    case 'sessions':
      if (!a.json) {
        for (const l of table(['SESSION', 'USER', 'NAS', 'ADDRESS', 'STATE', 'IN', 'OUT', 'DOWN/UP', 'LAST DAC'],
          body.sessions.map((s: any) => [s.id, s.user, s.nas, s.framedIp ?? '', s.state, bytes(s.inputOctets), bytes(s.outputOctets),
            `${s.attributes['Actual-Data-Rate-Downstream'] ?? s.attributes['Maximum-Data-Rate-Downstream'] ?? '-'}/${s.attributes['Actual-Data-Rate-Upstream'] ?? s.attributes['Maximum-Data-Rate-Upstream'] ?? '-'}`,
            s.lastDac ? `${s.lastDac.kind} ${s.lastDac.result}${s.lastDac.errorCauseName ? ` (${s.lastDac.errorCauseName})` : ''}` : '']))) io.out(l);
        io.out(`${body.count} session(s)`);
      }
      return 0;
    case 'coa': case 'disconnect': {
      if (!a.json) {
        for (const l of table(['SESSION', 'USER', 'NAS', 'RESULT', 'ERROR-CAUSE', 'RTT ms', 'SENT'],
          body.results.map((x: any) => [x.session, x.user ?? '', x.nas ?? '', x.result.toUpperCase(), x.errorCauseName ?? (x.errorCause !== undefined ? String(x.errorCause) : x.message ?? ''),
            x.rttMs !== undefined ? String(x.rttMs) : '', x.transmissions !== undefined ? String(x.transmissions) : '']))) io.out(l);
      }
      return body.results.every((x: any) => x.result === 'ack') ? 0 : 1;
    }
    case 'profile-changed': {
      if (!a.json) {
        for (const l of table(['SESSION', 'USER', 'RESULT', 'CHANGED', 'ERROR-CAUSE'],
          body.results.map((x: any) => [x.session, x.user ?? '', x.result.toUpperCase(),
            Object.entries(x.changed ?? {}).map(([k, v]) => `${k}=${v}`).join(' '), x.errorCauseName ?? x.message ?? '']))) io.out(l);
        io.out(`${body.results.length} session(s)`);
      }
      return body.results.every((x: any) => x.result === 'ack' || x.result === 'unchanged') ? 0 : 1;
    }
    case 'clients':
      if (!a.json) {
        for (const l of table(['SERVER', 'NAME', 'NETWORK', 'NAS TYPE', 'COA/DISCONNECT TO'], body.clients.map((c: any) => [c.server, c.name, c.network, c.nasType,
          `${c.coaServer?.ipaddr ?? '(NAS address)'}:${c.coaServer?.port ?? 3799}${c.coaServer?.ownSecret ? ' (own secret)' : ''}`]))) io.out(l);
      }
      return 0;
    case 'health':
      if (!a.json) {
        io.out(`status ${body.status}, generation ${body.generation}, up ${Math.round(body.uptime)} s, reloads ${body.reloads.ok} ok / ${body.reloads.failed} failed`);
        for (const l of table(['NAME', 'KIND', 'STATE'], [
          ...body.modules.map((m: any) => [m.name, m.module, m.health?.status ?? m.state]),
          ...body.listeners.map((l: any) => [l.name, `listen ${l.transport} ${l.address}:${l.port}`, l.listening ? 'listening' : 'closed']),
          ...body.apps.map((x: any) => [x.name, `app ${x.kind}`, x.health.status]),
        ])) io.out(l);
      }
      return 0;
    case 'stats':
      if (!a.json) {
        const t = body.total ?? {};
        io.out(`up ${Math.round(body.uptime)} s, active sessions ${body.sessions.active}, CoA/Disconnect in flight ${body.dac.in_flight}, retransmissions ${body.dac.retransmissions}`);
        for (const l of table(['LISTENER', 'RECEIVED', 'REPLIED', 'DROPPED'], [
          ...Object.entries(body.listeners ?? {}).map(([n, s]: [string, any]) => [n, String(s.received ?? 0), String(s.replied ?? s.sent ?? 0), String((s.drop_total ?? 0))]),
          ['total', String(t.received ?? 0), String(t.replied ?? t.sent ?? 0), String(t.drop_total ?? 0)],
        ])) io.out(l);
        for (const l of table(['DAC TYPE RESULT', 'COUNT'], Object.entries(body.dac.requests).map(([k, v]) => [k, String(v)]))) io.out(l);
      }
      return 0;
    default:
      if (!a.json) io.out(JSON.stringify(body, null, 2));
      return 0;
  }
}
