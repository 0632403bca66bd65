import { defineModule } from '../../core';
import { DetailConfig } from './config';
import { Detail, DETAIL_ENV, validateDetail } from './detail';

/** `detail`: appends FreeRADIUS-format detail records (durably) for accounting and logging. */
export default defineModule({
  name: 'detail',
  kind: 'rlm',
  summary: 'Writes FreeRADIUS-format detail files; the call returns after the record is on disk.',
  config: DetailConfig,
  validate: validateDetail,
  impl: Detail,
  methods: { 'send *': 'logReply', '* *': 'logRequest' },
  named: { accounting: 'logRequest', authorize: 'logRequest', post_auth: 'logReply', request: 'logRequest', reply: 'logReply' },
  env: { logRequest: DETAIL_ENV, logReply: DETAIL_ENV },
});
