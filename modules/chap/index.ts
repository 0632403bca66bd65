import { defineModule } from '../../core';
import { ChapConfig } from './config';
import { Chap, CHAP_DICT } from './chap';

/** `chap`: RFC 1994 CHAP-MD5 authentication against the cleartext password. */
export default defineModule({
  name: 'chap',
  kind: 'rlm',
  summary: 'Authenticates CHAP-Password (MD5 of id, cleartext password and challenge).',
  config: ChapConfig,
  dict: CHAP_DICT,
  impl: Chap,
  methods: { 'recv *': 'authorize', 'authenticate *': 'authenticate' },
  named: { authorize: 'authorize', authenticate: 'authenticate' },
});
