import { defineModule } from '../../core';
import { RediswhoConfig } from './config';
import { Rediswho, WHO_ENV, checkConfig } from './rediswho';

/** `rediswho`: FreeRADIUS rlm_rediswho (per-user history lists) plus the online sessions in Redis: list by user / NAS, Simultaneous-Use. */
export default defineModule({
  name: 'rediswho',
  kind: 'rlm',
  summary: 'Online sessions in Redis (FreeRADIUS rediswho history lists plus a session index): who is online by user and NAS, Simultaneous-Use.',
  config: RediswhoConfig,
  impl: Rediswho,
  validate(config, at) {
    const r = checkConfig(config);
    if (r) at(r.item, r.message);
  },
  env: { accounting: WHO_ENV, session: WHO_ENV },
  methods: {
    'accounting *': 'accounting',
    'recv Accounting-Request': 'accounting',
    accounting: 'accounting',
    'session *': 'session',
    session: 'session',
  },
  named: {
    accounting: 'accounting',
    session: 'session',
  },
});
