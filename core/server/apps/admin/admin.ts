/**
 * The `admin` app: the operator's control surface over HTTP.
 *
 * ```
 * app admin {
 *     ipaddr = 127.0.0.1        # default: loopback only
 *     port = 9813
 *     token = "…"               # required: `Authorization: Bearer <token>`
 *     allow_remote = no         # default: requests from non-loopback peers are refused (403)
 *     tls {                     # optional: HTTPS
 *         certificate_file = /path/cert.pem
 *         private_key_file = /path/key.pem
 *     }
 * }
 * ```
 *
 * | method | path | what |
 * |---|---|---|
 * | GET | `/` | the live dashboard (HTML; it asks for the token, or takes it from `#token=…`) |
 * | GET | `/metrics` | Prometheus text exposition of the process's metrics registry |
 * | GET | `/api/health` | `Server.health()`: generation, modules, listeners, apps |
 * | GET | `/api/stats` | request/reply/drop counters (total and per listener), reloads, latency per site (histogram, p50/p99 bucket bounds), DAC counters, sessions |
 * | POST | `/api/reload` | reload now (as SIGHUP) |
 * | GET | `/api/clients` | the clients (no secrets) and their `coa_server` |
 * | GET | `/api/sessions?user=&nas=&all=1&limit=` | sessions |
 * | GET | `/api/sessions/<id>` | one session |
 * | POST | `/api/sessions/<id>/coa` | CoA-Request: body `{"attributes": {"Actual-Data-Rate-Downstream": 5000000}}` |
 * | POST | `/api/sessions/<id>/disconnect` | Disconnect-Request |
 * | POST | `/api/coa`, `/api/disconnect` | the same by `{"user": …}`, `{"nas": …}` or `{"session": …}` |
 * | GET | `/api/apps/sessions` | the apps that hold sessions of their own (a NAS app such as `pppoe_dpdk`) |
 * | GET | `/api/apps/<app>/sessions?user=&limit=` | that app's sessions |
 * | GET | `/api/apps/<app>/sessions/<id>` | one of them |
 * | POST | `/api/apps/<app>/sessions/<id>/terminate` | end it the app's way (a concentrator: PADT and accounting Stop) |
 * | POST | `/api/profile` | profile changed: `{"user": …}` (or `session`, `nas`, `{"all": true}`): re-reads each active session's profile through `profile_site` and sends a CoA with what differs (profile.ts) |
 *
 * Everything but `GET /` needs the bearer token (compared in constant time, never logged).
 * Answers are JSON; a CoA/Disconnect answers with one result per session (ACK, NAK with
 * Error-Cause, timeout, no session, no client).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { conf } from '../../../config/schema';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from '../../../metrics/prometheus';
import { sampleValue } from '../../../metrics/snapshot';
import { bearerMatches, closeHttpServer, tokenDigest } from '../http';
import { defineApp, type AppContext, type AppInstance, type Health } from '../../app';
import { serverStatsView } from '../../stats-view';
import { DASHBOARD_HTML } from './dashboard';
import { syncProfiles } from './profile';
import { clusterTopology } from '../../cluster';

/** Schema of `app admin { … }`. */
export const AdminConfig = conf.section({
  ipaddr: conf.ipaddr({ default: '127.0.0.1', doc: 'Address to bind. Loopback by default.' }),
  port: conf.integer({ default: 9813, min: 0, max: 65535, doc: 'TCP port (0 = any free port).' }),
  token: conf.string({ required: true, secret: true, doc: 'Bearer token every API request must carry.' }),
  allow_remote: conf.boolean({ default: false, doc: 'Answer peers that are not on loopback (default: 403 for them).' }),
  max_body: conf.integer({ default: 65536, min: 1024, doc: 'Largest request body accepted, bytes.' }),
  profile_site: conf.string({ doc: 'Virtual server whose `recv CoA-Request` reads a user\'s current profile into the reply (profile.ts); enables `POST /api/profile`.' }),
  profile_interval: conf.duration({ default: '0s', min: '0s', max: '1d', doc: 'Compare every active session with its profile this often and CoA what changed (0: only on request).' }),
  tls: conf.subsection({
    certificate_file: conf.string({ required: true, doc: 'PEM certificate (chain).' }),
    private_key_file: conf.string({ required: true, doc: 'PEM private key.' }),
  }, { optional: true, doc: 'Serve HTTPS instead of HTTP.' }),
});
type AdminConfig = conf.Infer<typeof AdminConfig>;


/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d+\.\d+\.\d+$/.test(a);
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

/** One running admin endpoint. */
export class AdminApp implements AppInstance {
  private server: http.Server | undefined;
  private tokenDigest: Buffer;
  private served = 0;
  private denied = 0;
  private profileTimer: NodeJS.Timeout | undefined;
  private profileRunning = false;

  constructor(private config: AdminConfig, private readonly ctx: AppContext) {
    this.tokenDigest = tokenDigest(config.token);
  }

  async start(): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    const server = this.config.tls
      ? https.createServer({ cert: fs.readFileSync(this.config.tls.certificate_file), key: fs.readFileSync(this.config.tls.private_key_file) }, handler)
      : http.createServer(handler);
    server.on('clientError', (_e, socket) => socket.destroy());
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.ipaddr, () => { server.off('error', reject); resolve(); });
    });
    server.on('error', (e) => this.ctx.log.error(`http: ${e.message}`));
    this.scheduleProfiles();
    const a = this.address();
    this.ctx.log.info(`listening on ${this.config.tls ? 'https' : 'http'} ${a?.address} port ${a?.port}`);
  }

  async stop(): Promise<void> {
    clearInterval(this.profileTimer);
    this.profileTimer = undefined;
    const server = this.server;
    this.server = undefined;
    await closeHttpServer(server);
  }

  /** Same address, port and TLS: take the new token in place. */
  reload(next: unknown): boolean {
    const c = next as AdminConfig;
    const bound = this.address();
    if (!bound || c.ipaddr !== this.config.ipaddr || (c.port !== this.config.port && c.port !== bound.port)
      || JSON.stringify(c.tls) !== JSON.stringify(this.config.tls)) return false;
    this.config = c;
    this.tokenDigest = tokenDigest(c.token);
    this.scheduleProfiles();
    return true;
  }

  /** The periodic profile check (`profile_interval`). */
  private scheduleProfiles(): void {
    clearInterval(this.profileTimer);
    this.profileTimer = undefined;
    const ms = this.config.profile_interval * 1000;
    const site = this.config.profile_site;
    if (!site || !(ms > 0)) return;
    // Under cluster every worker runs this app; one of them (index 0) checks the shared sessions.
    if (clusterTopology().index !== 0) return;
    this.profileTimer = setInterval(() => {
      if (this.profileRunning) return;
      this.profileRunning = true;
      syncProfiles(this.ctx.host, site, {}).then((rs) => {
        const sent = rs.filter((r) => r.changed);
        if (sent.length) this.ctx.log.info(`profile check: CoA for ${sent.map((r) => `${r.session} ${r.result}`).join(', ')}`);
      }, (e: Error) => this.ctx.log.error(`profile check: ${e.message}`)).finally(() => { this.profileRunning = false; });
    }, ms);
    this.profileTimer.unref();
  }

  health(): Health {
    const a = this.address();
    return a ? { status: 'ok', detail: { address: a.address, port: a.port, served: this.served, denied: this.denied } }
      : { status: 'down', detail: { error: 'not listening' } };
  }

  /** The bound address (tests use it with `port = 0`). */
  address(): { address: string; port: number } | undefined {
    const a = this.server?.listening ? (this.server.address() as AddressInfo | null) : null;
    return a ? { address: a.address, port: a.port } : undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      if (!this.config.allow_remote && !isLoopback(req.socket.remoteAddress)) {
        this.denied++;
        throw new HttpError(403, 'only loopback peers may use the admin API (allow_remote = no)');
      }
      const url = new URL(req.url ?? '/', 'http://admin');
      const path = url.pathname;
      const method = req.method ?? 'GET';
      if (path === '/' && (method === 'GET' || method === 'HEAD')) {
        this.served++;
        return this.sendRaw(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML, method === 'HEAD');
      }
      if (!bearerMatches(req, this.tokenDigest)) {
        this.denied++;
        res.setHeader('WWW-Authenticate', 'Bearer');
        throw new HttpError(401, 'unauthorized');
      }
      this.served++;
      const body = method === 'POST' ? await this.readBody(req) : {};
      const out = await this.route(method, path, url.searchParams, body, res);
      if (out !== undefined) this.send(res, 200, out);
    } catch (e) {
      if (e instanceof HttpError) return this.send(res, e.status, { error: e.message });
      this.ctx.log.error(`http: ${(e as Error).message}`);
      this.send(res, 500, { error: 'internal error' });
    }
  }

  private async route(method: string, path: string, q: URLSearchParams, body: Record<string, unknown>, res: http.ServerResponse): Promise<unknown> {
    const host = this.ctx.host;
    const dac = host.dac;
    const want = (m: string) => {
      if (method !== m) { res.setHeader('Allow', m); throw new HttpError(405, 'method not allowed'); }
    };
    if (path === '/metrics') {
      want('GET');
      this.sendRaw(res, 200, PROMETHEUS_CONTENT_TYPE, renderPrometheus(await this.snapshot()));
      return undefined;
    }
    if (path === '/api/health') { want('GET'); return host.health(); }
    if (path === '/api/stats') {
      want('GET');
      const snap = await this.snapshot();
      const dacFamily = snap.families.find((f) => f.name === 'tsradius_dac_requests_total');
      const dacCounts: Record<string, number> = {};
      for (const s of dacFamily?.samples ?? []) dacCounts[s.labels.join(' ')] = s.value;
      const lat = snap.families.find((f) => f.name === 'tsradius_request_duration_seconds');
      const latency: Record<string, { buckets: number[]; counts: number[]; count: number; sum: number; p50: number | null; p99: number | null }> = {};
      for (const s of lat?.samples ?? []) {
        const counts = s.counts ?? [];
        latency[s.labels[0]] = { buckets: lat!.buckets ?? [], counts, count: s.value, sum: s.sum ?? 0, p50: quantile(lat!.buckets ?? [], counts, 0.5), p99: quantile(lat!.buckets ?? [], counts, 0.99) };
      }
      return {
        ...serverStatsView(snap),
        latency,
        uptime: host.uptime(),
        sessions: { active: await dac.sessions.count() },
        dac: { requests: dacCounts, in_flight: dac.inFlight, retransmissions: sampleValue(snap, 'tsradius_dac_retransmissions_total') ?? 0 },
      };
    }
    if (path === '/api/clients') { want('GET'); return { clients: host.clients() }; }
    if (path === '/api/reload') { want('POST'); return { ok: await host.reload(), generation: host.generation }; }
    if (path === '/api/sessions') {
      want('GET');
      const limit = Math.min(10_000, Math.max(1, Number(q.get('limit') ?? 1000) || 1000));
      const list = await dac.sessions.find({ user: q.get('user') ?? undefined, nas: q.get('nas') ?? undefined, all: q.get('all') === '1' || q.get('all') === 'yes' }, limit);
      return { count: list.length, sessions: list };
    }
    const sm = /^\/api\/sessions\/([^/]+)(?:\/(coa|disconnect))?$/.exec(path);
    if (sm) {
      const id = decodeURIComponent(sm[1]);
      if (!sm[2]) {
        want('GET');
        const s = await dac.sessions.get(id);
        if (!s) throw new HttpError(404, `no session ${id}`);
        return s;
      }
      want('POST');
      return this.dacCommand(sm[2] as 'coa' | 'disconnect', { session: id }, body);
    }
    if (path === '/api/apps/sessions') {
      want('GET');
      return { apps: host.sessionApps().map((a) => ({ kind: a.kind, name: a.name })) };
    }
    const am = /^\/api\/apps\/([^/]+)\/sessions(?:\/([^/]+)(\/terminate)?)?$/.exec(path);
    if (am) {
      const name = decodeURIComponent(am[1]);
      const app = host.sessionApps().find((a) => a.name === name);
      if (!app) throw new HttpError(404, `no app ${name} with sessions`);
      if (!am[2]) {
        want('GET');
        const limit = Math.min(100_000, Math.max(1, Number(q.get('limit') ?? 1000) || 1000));
        const list = await app.sessions.list({ user: q.get('user') ?? undefined, limit });
        return { app: name, kind: app.kind, count: list.length, sessions: list };
      }
      const id = decodeURIComponent(am[2]);
      if (!am[3]) {
        want('GET');
        const one = await app.sessions.get(id);
        if (!one) throw new HttpError(404, `no session ${id} in app ${name}`);
        return one;
      }
      want('POST');
      if (!(await app.sessions.terminate(id))) throw new HttpError(404, `no session ${id} in app ${name}`);
      this.ctx.log.info(`operator terminate: app ${name} session ${id}`);
      return { app: name, session: id, terminated: true };
    }
    if (path === '/api/coa' || path === '/api/disconnect') {
      want('POST');
      const f = { session: str(body.session), user: str(body.user), nas: str(body.nas) };
      if (!f.session && !f.user && !f.nas) throw new HttpError(400, 'give "session", "user" or "nas"');
      return this.dacCommand(path === '/api/coa' ? 'coa' : 'disconnect', f, body);
    }
    if (path === '/api/profile') {
      want('POST');
      const site = this.config.profile_site;
      if (!site) throw new HttpError(409, 'no profile_site configured in app admin');
      const f = { id: str(body.session), user: str(body.user), nas: str(body.nas) };
      if (!f.id && !f.user && !f.nas && body.all !== true) throw new HttpError(400, 'give "session", "user", "nas" or "all": true');
      const results = await syncProfiles(host, site, f);
      this.ctx.log.info(`operator profile changed ${JSON.stringify(f)}: ${results.map((r) => `${r.session} ${r.result}`).join(', ') || 'no active session'}`);
      return { results };
    }
    throw new HttpError(404, 'not found');
  }

  /** This process's metrics, or under cluster every worker's merged. */
  private snapshot(): Promise<import('../../../metrics/snapshot').MetricsSnapshot> | import('../../../metrics/snapshot').MetricsSnapshot {
    const host = this.ctx.host;
    return host.clusterMetrics ? host.clusterMetrics() : host.metrics.snapshot();
  }

  private async dacCommand(kind: 'coa' | 'disconnect', f: { session?: string; user?: string; nas?: string }, body: Record<string, unknown>): Promise<unknown> {
    const dac = this.ctx.host.dac;
    const filter = { id: f.session, user: f.user, nas: f.nas };
    let results;
    if (kind === 'coa') {
      const attrs = body.attributes;
      if (!attrs || typeof attrs !== 'object' || Array.isArray(attrs) || Object.keys(attrs).length === 0) {
        throw new HttpError(400, 'a CoA needs "attributes": {"Name": value, …}');
      }
      try {
        results = await dac.coa(filter, attrs as Record<string, string | number>);
      } catch (e) {
        throw new HttpError(400, (e as Error).message);
      }
    } else {
      results = await dac.disconnect(filter);
    }
    this.ctx.log.info(`operator ${kind} ${JSON.stringify(f)}: ${results.map((r) => `${r.session} ${r.result}`).join(', ')}`);
    return { results };
  }

  private readBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > this.config.max_body) { reject(new HttpError(413, 'body too large')); req.destroy(); return; }
        chunks.push(c);
      });
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8').trim();
        if (text === '') return resolve({});
        try {
          const v = JSON.parse(text);
          if (!v || typeof v !== 'object' || Array.isArray(v)) return reject(new HttpError(400, 'body must be a JSON object'));
          resolve(v as Record<string, unknown>);
        } catch {
          reject(new HttpError(400, 'body is not JSON'));
        }
      });
      req.on('error', reject);
    });
  }

  private send(res: http.ServerResponse, status: number, body: unknown): void {
    this.sendRaw(res, status, 'application/json', JSON.stringify(body, null, 2) + '\n');
  }

  private sendRaw(res: http.ServerResponse, status: number, type: string, text: string, headOnly = false): void {
    if (res.headersSent) return;
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
    res.end(headOnly ? undefined : text);
  }
}

/** Upper bound (seconds) of the bucket holding quantile `q` of per-bucket `counts` (last: +Inf); null when empty. */
export function quantile(bounds: readonly number[], counts: readonly number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let acc = 0;
  for (let i = 0; i < counts.length; i++) {
    acc += counts[i];
    if (acc >= q * total) return i < bounds.length ? bounds[i] : Infinity;
  }
  return Infinity;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** `app admin { … }`. */
export const adminApp = defineApp({
  name: 'admin',
  config: AdminConfig,
  validate: (c, ctx) => {
    if (c.token.length < 8) return 'token: use at least 8 characters';
    if (!c.allow_remote && !isLoopback(c.ipaddr)) return `ipaddr ${c.ipaddr} is not a loopback address: set allow_remote = yes to serve other hosts`;
    if (c.profile_site && ctx.sites && !ctx.sites.has(c.profile_site)) return `profile_site: no virtual server "${c.profile_site}" (one of ${[...ctx.sites].join(', ')})`;
    if (c.profile_interval > 0 && !c.profile_site) return 'profile_interval needs profile_site';
    return undefined;
  },
  create: (config, ctx) => new AdminApp(config, ctx),
});
