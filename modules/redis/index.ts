import { defineModule } from '../../core';
import { RedisConfig } from './config';
import { RedisModule, luaFunctions } from './redis';

/** `redis`: FreeRADIUS rlm_redis: a Redis (or Redis Cluster) connection and the `%redis(…)` xlats. */
export default defineModule({
  name: 'redis',
  kind: 'rlm',
  summary: 'Runs Redis commands from policy (%redis(…)), on one server or a Redis Cluster; node selection and Lua functions.',
  config: RedisConfig,
  impl: RedisModule,
  validate(config, at) {
    if (!config.server.length) at('server', 'at least one server is required');
    luaFunctions(config.lua, at);
  },
  methods: {},
});
