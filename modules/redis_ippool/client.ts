/**
 * The Redis connection of `redis_ippool` (and of `bin/redis-ippool-tool.js`): an ioredis client
 * for one server or a Redis Cluster, with the pool scripts defined as commands (EVALSHA, loaded
 * on first use on each node). ioredis connects and reconnects in the background; a command
 * issued while no connection is up waits in its queue at most `commandTimeout`.
 */
import { Cluster, Redis } from 'ioredis';
import { ADD, ALLOCATE, BULK_RELEASE, FORCE_RELEASE, RELEASE, REMOVE, UPDATE } from './lua';

/** Where and how to connect. */
export interface PoolClientOptions {
  readonly servers: readonly { host: string; port: number }[];
  readonly cluster: boolean;
  readonly database?: number;
  readonly username?: string;
  readonly password?: string;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
}

type Call = (...args: (string | number)[]) => Promise<unknown>;

/** The pool commands (keys first, then arguments; see `lua.ts`). */
export interface PoolCommands {
  ippoolAllocate: Call;
  ippoolUpdate: Call;
  ippoolRelease: Call;
  ippoolBulkRelease: Call;
  ippoolAdd: Call;
  ippoolRemove: Call;
  ippoolForceRelease: Call;
}

/** A connected (or connecting) client with the pool commands. */
export type PoolClient = (Redis | Cluster) & PoolCommands;

/** `host`, `host:port`, `[v6]:port` → parts. */
export function parseServer(s: string, defaultPort: number): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  return m ? { host: m[1], port: Number(m[2] ?? defaultPort) } : { host: s, port: defaultPort };
}

/** Creates the client (no waiting: it connects in the background). */
export function createPoolClient(o: PoolClientOptions): PoolClient {
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
  client.defineCommand('ippoolAllocate', { numberOfKeys: 2, lua: ALLOCATE });
  client.defineCommand('ippoolUpdate', { numberOfKeys: 2, lua: UPDATE });
  client.defineCommand('ippoolRelease', { numberOfKeys: 1, lua: RELEASE });
  client.defineCommand('ippoolBulkRelease', { numberOfKeys: 1, lua: BULK_RELEASE });
  client.defineCommand('ippoolAdd', { numberOfKeys: 1, lua: ADD });
  client.defineCommand('ippoolRemove', { numberOfKeys: 1, lua: REMOVE });
  client.defineCommand('ippoolForceRelease', { numberOfKeys: 1, lua: FORCE_RELEASE });
  // Errors reach the callers through their commands; an unhandled 'error' event would crash the process.
  client.on('error', () => undefined);
  return client as PoolClient;
}
