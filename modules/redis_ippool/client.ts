/**
 * The Redis connection of `redis_ippool` (and of `bin/redis-ippool-tool.js`): the shared client
 * (`modules/shared/redis.ts`, one server or a Redis Cluster, detected when `cluster` is not set)
 * with the pool scripts defined as commands (EVALSHA; on NOSCRIPT ioredis sends the script again).
 */
import type { Cluster, Redis } from 'ioredis';
import { RedisHandle, parseServer, type RedisClientOptions } from '../shared/redis';
import { ADD, ALLOCATE, ASSIGN, BULK_RELEASE, FORCE_RELEASE, MODIFY, RELEASE, REMOVE, UNASSIGN, UPDATE } from './lua';

export { parseServer };

/** Where and how to connect (`cluster` undefined: detected). */
export type PoolClientOptions = Omit<RedisClientOptions, 'cluster'> & { readonly cluster?: boolean };

type Call = (...args: (string | number)[]) => Promise<unknown>;

/** The pool commands (KEYS[1] = the pool set, then the arguments; see `lua.ts`). */
export interface PoolCommands {
  ippoolAllocate: Call;
  ippoolUpdate: Call;
  ippoolRelease: Call;
  ippoolBulkRelease: Call;
  ippoolAdd: Call;
  ippoolRemove: Call;
  ippoolForceRelease: Call;
  ippoolModify: Call;
  ippoolAssign: Call;
  ippoolUnassign: Call;
}

/** A connected (or connecting) client with the pool commands. */
export type PoolClient = (Redis | Cluster) & PoolCommands;

/** The scripts as commands of a client. */
function definePool(client: Redis | Cluster): PoolClient {
  const scripts = { ippoolAllocate: ALLOCATE, ippoolUpdate: UPDATE, ippoolRelease: RELEASE, ippoolBulkRelease: BULK_RELEASE, ippoolAdd: ADD,
    ippoolRemove: REMOVE, ippoolForceRelease: FORCE_RELEASE, ippoolModify: MODIFY, ippoolAssign: ASSIGN, ippoolUnassign: UNASSIGN };
  for (const [name, lua] of Object.entries(scripts)) client.defineCommand(name, { numberOfKeys: 1, lua });
  return client as PoolClient;
}

/** A handle that creates the client on first use (no waiting here). */
export function poolHandle(o: PoolClientOptions): RedisHandle<PoolClient> {
  return new RedisHandle<PoolClient>(o, definePool);
}
