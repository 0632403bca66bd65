import { defineModule } from '../../core';
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
  methods: {
    'recv Access-Request': 'alloc',
    'send Access-Accept': 'alloc',
    'post-auth *': 'alloc',
    'accounting Start': 'update',
    'accounting Interim-Update': 'update',
    'accounting Stop': 'release',
    'accounting Accounting-On': 'bulkRelease',
    'accounting Accounting-Off': 'bulkRelease',
    'accounting *': 'accounting',
    'recv Accounting-Request': 'accounting',
    accounting: 'accounting',
  },
  named: {
    allocate: 'alloc',
    alloc: 'alloc',
    update: 'update',
    renew: 'update',
    release: 'release',
    bulk_release: 'bulkRelease',
    accounting: 'accounting',
  },
  env: { alloc: ALLOC_ENV, update: LEASE_ENV, release: LEASE_ENV, bulkRelease: LEASE_ENV, accounting: LEASE_ENV },
});
