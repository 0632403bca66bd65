/**
 * Config schema of `redis`: FreeRADIUS v4 `mods-available/redis` (the connection items shared with
 * `redis_ippool` and `rediswho`, modules/shared/redis.ts, and `lua { function <name> { … } }`).
 */
import { conf } from '../../core';
import { REDIS_CONNECTION_ITEMS, REDIS_V4_ACCEPTED } from '../shared/redis';

/** `redis [instance] { … }` */
export const RedisConfig = conf.section({
  ...REDIS_CONNECTION_ITEMS,
  cluster: conf.boolean({ doc: 'The servers are a Redis Cluster. Unset (as in FreeRADIUS, which has no such item): detected from the first server that answers (`INFO cluster`).' }),
  ...REDIS_V4_ACCEPTED,
  lua: conf.raw({ doc: '`lua { function <name> { body = \'…\' read_only = no } }`: each function becomes `%<instance>.<name>(<number of keys>, <key>…, <arg>…)`, run with EVALSHA (loaded on first use on each node).' }),
});

/** The parsed config. */
export type RedisConfig = conf.Infer<typeof RedisConfig>;
