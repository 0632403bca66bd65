/**
 * The Redis connection shared by the Redis-backed modules (`redis_ippool`, `rediswho`, and
 * `bin/redis-ippool-tool.js`): the connection items of FreeRADIUS's `redis` sections (inline in
 * the module section) and an ioredis client for one server or a Redis Cluster. ioredis connects
 * and reconnects in the background; a command issued while no connection is up waits in its
 * queue at most `query_timeout`. Modules add their Lua scripts with `defineCommand` (EVALSHA,
 * loaded on first use on each node).
 */
import { Cluster, Redis } from 'ioredis';
import { conf } from '../../core';

/** The connection items, spread into a module's `conf.section({ … })`. */
export const REDIS_CONNECTION_ITEMS = {
  server: conf.list(conf.string(), { doc: 'Redis server (`host` or `host:port`). For a cluster, one or more seed nodes; the rest are discovered.' }),
  port: conf.integer({ default: 6379, min: 1, max: 65535, doc: 'Port of a `server` given without one.' }),
  cluster: conf.boolean({ default: false, doc: 'The servers are a Redis Cluster.' }),
  database: conf.integer({ default: 0, min: 0, doc: 'Database number (standalone only).' }),
  username: conf.string({ doc: 'ACL user name (Redis 6+).' }),
  password: conf.string({ secret: true, doc: 'Password (AUTH).' }),
  connect_timeout: conf.duration({ default: '3s', doc: 'How long connecting may take.' }),
  query_timeout: conf.duration({ default: '2s', doc: 'Per-command timeout; the call returns `timeout`.' }),
};

/** The parsed connection items (seconds for the durations). */
export interface RedisConnectionConfig {
  readonly server: readonly string[];
  readonly port: number;
  readonly cluster: boolean;
  readonly database: number;
  readonly username?: string;
  readonly password?: string;
  readonly connect_timeout: number;
  readonly query_timeout: number;
}

/** Where and how to connect. */
export interface RedisClientOptions {
  readonly servers: readonly { host: string; port: number }[];
  readonly cluster: boolean;
  readonly database?: number;
  readonly username?: string;
  readonly password?: string;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
}

/** `host`, `host:port`, `[v6]:port` → parts. */
export function parseServer(s: string, defaultPort: number): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  return m ? { host: m[1], port: Number(m[2] ?? defaultPort) } : { host: s, port: defaultPort };
}

/** The client options of a module's connection items. */
export function redisOptions(c: RedisConnectionConfig): RedisClientOptions {
  return {
    servers: c.server.map((s) => parseServer(s, c.port)),
    cluster: c.cluster,
    database: c.database,
    username: c.username,
    password: c.password,
    connectTimeoutMs: c.connect_timeout * 1000,
    commandTimeoutMs: c.query_timeout * 1000,
  };
}

/** Creates the client (no waiting: it connects in the background). */
export function createRedisClient(o: RedisClientOptions): Redis | Cluster {
  const common = {
    username: o.username || undefined,
    password: o.password || undefined,
    connectTimeout: o.connectTimeoutMs,
    commandTimeout: o.commandTimeoutMs,
    maxRetriesPerRequest: 1,
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
  };
  const client = o.cluster
    ? new Cluster(o.servers.map((s) => ({ host: s.host, port: s.port })), {
        redisOptions: common,
        scaleReads: 'master',
        clusterRetryStrategy: (times: number) => Math.min(times * 200, 2000),
      })
    : new Redis({ ...common, host: o.servers[0]?.host ?? '127.0.0.1', port: o.servers[0]?.port ?? 6379, db: o.database ?? 0 });
  // Errors reach the callers through their commands; an unhandled 'error' event would crash the process.
  client.on('error', () => undefined);
  return client;
}

/** Closes a client, waiting at most a second for QUIT. */
export async function closeRedisClient(client: Redis | Cluster | undefined): Promise<void> {
  if (!client) return;
  try {
    await Promise.race([client.quit(), new Promise((r) => setTimeout(r, 1000))]);
  } catch { /* already closed */ }
  client.disconnect();
}

/**
 * FreeRADIUS v4 items of a `redis { }` configuration that this client does not use (its own
 * connection pool and the virtual server that runs its triggers): accepted so a v4 configuration
 * loads. Spread into a module's schema.
 */
export const REDIS_V4_ACCEPTED = {
  virtual_server: conf.string({ doc: 'FreeRADIUS v4: the virtual server for connection events. Accepted; not used.' }),
  pool: conf.raw({ doc: 'FreeRADIUS v4 connection pool (`start`, `min`, `max`, `uses`, `lifetime`, `connection { }`, `request { }` …). Accepted; ioredis keeps one pipelined connection per node.' }),
};

/** True when the first server that answers is a Redis Cluster node (`INFO cluster`: `cluster_enabled:1`). */
export async function detectCluster(o: RedisClientOptions): Promise<boolean> {
  let last: unknown;
  for (const s of o.servers) {
    const r = new Redis({
      host: s.host, port: s.port, username: o.username || undefined, password: o.password || undefined,
      connectTimeout: o.connectTimeoutMs, commandTimeout: o.commandTimeoutMs, lazyConnect: true,
      maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false,
    });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return /cluster_enabled:1/.test(await r.info('cluster'));
    } catch (e) {
      last = e;
    } finally {
      r.disconnect();
    }
  }
  throw new Error(`no Redis server answered (${o.servers.map((s) => `${s.host}:${s.port}`).join(', ')}): ${(last as Error)?.message ?? 'no server'}`);
}

/**
 * A client created on first use. With `cluster` undefined the kind is detected as FreeRADIUS's
 * client does (it works with one server or a cluster alike): the first server that answers says
 * whether it is a cluster node. A failed detection is retried on the next use.
 */
export class RedisHandle<C extends Redis | Cluster = Redis | Cluster> {
  private client?: C;
  private pending?: Promise<C>;
  private closed = false;

  constructor(
    private readonly o: Omit<RedisClientOptions, 'cluster'> & { readonly cluster?: boolean },
    private readonly setup: (c: Redis | Cluster) => C = (c) => c as C,
  ) {}

  /** The client, once its kind is known. */
  get(): Promise<C> {
    if (this.client) return Promise.resolve(this.client);
    this.pending ??= (async () => {
      const cluster = this.o.cluster ?? await detectCluster({ ...this.o, cluster: false });
      if (this.closed) throw new Error('redis connection closed');
      this.client = this.setup(createRedisClient({ ...this.o, cluster }));
      return this.client;
    })().finally(() => { this.pending = undefined; });
    return this.pending;
  }

  /** The client if it exists already. */
  current(): C | undefined {
    return this.client;
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.client;
    this.client = undefined;
    await closeRedisClient(c);
  }
}

/** Redis Cluster hash slot of a key (CRC16/XMODEM of the key or of its `{hash tag}`, mod 16384). */
export function keySlot(key: string | Buffer): number {
  let b = Buffer.isBuffer(key) ? key : Buffer.from(key);
  const open = b.indexOf(0x7b);
  if (open >= 0) {
    const close = b.indexOf(0x7d, open + 1);
    if (close > open + 1) b = b.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of b) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
