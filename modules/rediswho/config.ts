/**
 * Config schema of `rediswho`: FreeRADIUS `mods-available/rediswho` (`server`, `trim_count`,
 * `expire_time`), the Redis connection items shared with `redis_ippool` (modules/shared/redis.ts),
 * and the session index.
 */
import { conf } from '../../core';
import { REDIS_CONNECTION_ITEMS } from '../shared/redis';

/** `rediswho [instance] { … }` */
export const RediswhoConfig = conf.section({
  ...REDIS_CONNECTION_ITEMS,
  cluster: conf.boolean({ default: false, doc: 'The servers are a Redis Cluster (the session index shares one hash slot, `{key_prefix}`; the history lists are keyed by user).' }),
  trim_count: conf.integer({ default: 15, min: 0, doc: 'FreeRADIUS `trim_count`: the history list of a user keeps the newest `trim_count` + 1 records (`LTRIM <user> 0 trim_count`).' }),
  expire_time: conf.integer({ default: 86400, min: 1, doc: 'FreeRADIUS `expire_time` (seconds): a session with no Start or Interim-Update for this long is offline (it no longer counts or lists), and the history list of a user idle this long is deleted.' }),
  history: conf.boolean({ default: true, doc: 'Write FreeRADIUS\'s per-user history list (key: the user name) on every Start, Interim-Update and Stop.' }),
  key_prefix: conf.string({ default: 'rediswho', doc: 'The session index keys are `{key_prefix}:session:<id>`, `…:user:<user>`, `…:nas:<nas>`, `…:all` (no `{` or `}`).' }),
  user_name: conf.tmpl({ default: '%{User-Name}', doc: 'Whose session it is (index by user, Simultaneous-Use, history key).' }),
  nas: conf.tmpl({ default: '%{NAS-IPv6-Address || NAS-IP-Address}', doc: 'The NAS of the session (index by NAS; Accounting-On/Off closes its sessions).' }),
});

/** The parsed config. */
export type RediswhoConfig = conf.Infer<typeof RediswhoConfig>;
