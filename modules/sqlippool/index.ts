import { defineModule } from '../../core';
import { POOL_METHODS, POOL_NAMED } from '../shared/ippool';
import { SqlippoolConfig } from './config';
import { ACCT_ENV, ALLOC_ENV, BULK_ENV, RELEASE_ENV, SQLIPPOOL_DEPS, Sqlippool, UPDATE_ENV, checkTarget } from './sqlippool';

/** `sqlippool`: FreeRADIUS rlm_sqlippool on an `sql` instance (SQLite, PostgreSQL), v4 `fr_ippool` schema. */
export default defineModule({
  name: 'sqlippool',
  kind: 'rlm',
  summary: 'IP address and prefix pools in SQL (FreeRADIUS v4 fr_ippool): allocate, renew, release, lease expiry.',
  config: SqlippoolConfig,
  deps: SQLIPPOOL_DEPS,
  impl: Sqlippool,
  validate(config, at, ctx) {
    const t = checkTarget(config, ctx.dict);
    if (typeof t === 'string') at('allocated_address_attr', t);
    if (!config.alloc_find) at('alloc_find', 'alloc_find is not set (include the dialect\'s queries.conf)');
  },
  methods: POOL_METHODS,
  named: POOL_NAMED,
  env: { alloc: ALLOC_ENV, update: UPDATE_ENV, release: RELEASE_ENV, bulkRelease: BULK_ENV, accounting: ACCT_ENV },
});
