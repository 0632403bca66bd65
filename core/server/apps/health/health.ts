/**
 * The `health` app: an HTTP endpoint reporting the server's health as JSON.
 *
 * ```
 * app health {
 *     ipaddr = 127.0.0.1     # default: loopback only
 *     port = 9812
 *     path = /health
 *     token = "s3cret"       # optional: then `Authorization: Bearer s3cret` is required
 * }
 * ```
 *
 * `GET <path>` (or `HEAD`) answers 200 with `Server.health()` as JSON (503 when the status is
 * `down`); a missing or wrong token is 401, another path 404, another method 405. The token is
 * compared in constant time and never logged. A reload that keeps `ipaddr` and `port` keeps the
 * socket and takes the new `path` and `token` in place.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { conf } from '../../../config/schema';
import { bearerMatches, closeHttpServer, tokenDigest } from '../http';
import { defineApp, type AppContext, type AppInstance, type Health } from '../../app';

/** Schema of `app health { … }`. */
export const HealthConfig = conf.section({
  ipaddr: conf.ipaddr({ default: '127.0.0.1', doc: 'Address to bind (`*` = all IPv4). Loopback by default.' }),
  port: conf.integer({ default: 9812, min: 0, max: 65535, doc: 'TCP port (0 = any free port).' }),
  path: conf.string({ default: '/health', doc: 'URL path answered.' }),
  token: conf.string({ secret: true, doc: 'When set, requests need `Authorization: Bearer <token>`.' }),
});
type HealthConfig = conf.Infer<typeof HealthConfig>;


/** One running `health` endpoint. */
export class HealthApp implements AppInstance {
  private server: http.Server | undefined;
  private tokenDigest: Buffer | undefined;
  private served = 0;
  private denied = 0;

  constructor(private config: HealthConfig, private readonly ctx: AppContext) {
    this.tokenDigest = config.token ? tokenDigest(config.token) : undefined;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.on('clientError', (_e, socket) => socket.destroy());
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.ipaddr, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.ctx.log.error(`http: ${e.message}`));
    const a = this.address();
    this.ctx.log.info(`listening on http ${a?.address} port ${a?.port}${this.config.path}`);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await closeHttpServer(server);
  }

  /**
   * Same address and port (the configured one, or the one `port = 0` got): take the new path and
   * token in place; otherwise be replaced.
   */
  reload(next: unknown): boolean {
    const c = next as HealthConfig;
    const bound = this.address();
    if (!bound || c.ipaddr !== this.config.ipaddr || (c.port !== this.config.port && c.port !== bound.port)) return false;
    this.config = c;
    this.tokenDigest = c.token ? tokenDigest(c.token) : undefined;
    return true;
  }

  health(): Health {
    const a = this.address();
    return a
      ? { status: 'ok', detail: { address: a.address, port: a.port, served: this.served, denied: this.denied } }
      : { status: 'down', detail: { error: 'not listening' } };
  }

  /** The bound address (tests use it with `port = 0`). */
  address(): { address: string; port: number } | undefined {
    const a = this.server?.listening ? (this.server.address() as AddressInfo | null) : null;
    return a ? { address: a.address, port: a.port } : undefined;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    try {
      const url = (req.url ?? '/').split('?')[0];
      if (url !== this.config.path) return this.send(res, 404, { error: 'not found' });
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        return this.send(res, 405, { error: 'method not allowed' });
      }
      if (this.tokenDigest) {
        if (!bearerMatches(req, this.tokenDigest)) {
          this.denied++;
          res.setHeader('WWW-Authenticate', 'Bearer');
          return this.send(res, 401, { error: 'unauthorized' });
        }
      }
      this.served++;
      const report = this.ctx.host.health();
      this.send(res, report.status === 'down' ? 503 : 200, report, req.method === 'HEAD');
    } catch (e) {
      this.ctx.log.error(`http: ${(e as Error).message}`);
      this.send(res, 500, { error: 'internal error' });
    }
  }

  private send(res: http.ServerResponse, status: number, body: unknown, headOnly = false): void {
    const text = JSON.stringify(body, null, 2) + '\n';
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
    res.end(headOnly ? undefined : text);
  }
}

/** `app health { … }`. */
export const healthApp = defineApp({
  name: 'health',
  config: HealthConfig,
  create: (config, ctx) => new HealthApp(config, ctx),
});
