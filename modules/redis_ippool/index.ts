import { defineModule } from '../../core';
import { POOL_METHODS, POOL_NAMED } from '../shared/ippool';
import { RedisIppoolConfig } from './config';
import { ALLOC_ENV, LEASE_ENV, RedisIppool, checkConfig } from './redis_ippool';

/** `redis_ippool`: FreeRADIUS rlm_redis_ippool on Redis or a Redis Cluster (atomic Lua scripts). */
export default defineModule({
  name: 'redis_ippool',
  kind: 'rlm',
  summary: 'IP address and prefix pools in Redis or a Redis Cluster: atomic allocate, renew, release, lease expiry.',
  config: RedisIppoolConfig,
  impl: RedisIppool,
  validate(config, at, ctx) {
    const r = checkConfig(config, ctx.dict);
    if ('message' in r) at(r.item, r.message);
  },
  methods: POOL_METHODS,
  named: POOL_NAMED,
  env: { alloc: ALLOC_ENV, update: LEASE_ENV, release: LEASE_ENV, bulkRelease: LEASE_ENV, accounting: LEASE_ENV },
});
