import { defineModule } from '../../core';
import { SqlcounterConfig } from './config';
import { SQLCOUNTER_DEPS, SQLCOUNTER_ENV, Sqlcounter, validateSqlcounter } from './sqlcounter';

/** `sqlcounter`: FreeRADIUS rlm_sqlcounter, usage allowances (time or volume per period) from radacct. */
export default defineModule({
  name: 'sqlcounter',
  kind: 'rlm',
  summary: 'Usage allowances (session time or data per day, month, ever) counted in SQL; the remaining time becomes Session-Timeout.',
  config: SqlcounterConfig,
  validate: validateSqlcounter,
  deps: SQLCOUNTER_DEPS,
  impl: Sqlcounter,
  methods: { 'recv *': 'authorize', 'authorize *': 'authorize', authorize: 'authorize' },
  named: { authorize: 'authorize' },
  env: { authorize: SQLCOUNTER_ENV },
});
