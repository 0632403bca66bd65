/**
 * The Redis connection of `redis_ippool` (and of `bin/redis-ippool-tool.js`): the shared client
 * (`modules/shared/redis.ts`, one server or a Redis Cluster) with the pool scripts defined as
 * commands (EVALSHA, loaded on first use on each node).
 */
import type { Cluster, Redis } from 'ioredis';
import { createRedisClient, parseServer, type RedisClientOptions } from '../shared/redis';
import { ADD, ALLOCATE, BULK_RELEASE, FORCE_RELEASE, RELEASE, REMOVE, UPDATE } from './lua';

export { parseServer };

/** Where and how to connect. */
export type PoolClientOptions = RedisClientOptions;

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

/** Creates the client (no waiting: it connects in the background). */
export function createPoolClient(o: PoolClientOptions): PoolClient {
  const client = createRedisClient(o);
  client.defineCommand('ippoolAllocate', { numberOfKeys: 2, lua: ALLOCATE });
  client.defineCommand('ippoolUpdate', { numberOfKeys: 2, lua: UPDATE });
  client.defineCommand('ippoolRelease', { numberOfKeys: 1, lua: RELEASE });
  client.defineCommand('ippoolBulkRelease', { numberOfKeys: 1, lua: BULK_RELEASE });
  client.defineCommand('ippoolAdd', { numberOfKeys: 1, lua: ADD });
  client.defineCommand('ippoolRemove', { numberOfKeys: 1, lua: REMOVE });
  client.defineCommand('ippoolForceRelease', { numberOfKeys: 1, lua: FORCE_RELEASE });
  return client as PoolClient;
}
