import { defineModule } from '../../core';
import { PapConfig } from './config';
import { Pap, PAP_DICT } from './pap';

/** `pap`: checks User-Password against the known-good password (cleartext, crypt, salted hashes, NT). */
export default defineModule({
  name: 'pap',
  kind: 'rlm',
  summary: 'Authenticates User-Password against cleartext, crypt, (S)MD5, (S)SHA1, (S)SHA2 and NT passwords.',
  config: PapConfig,
  dict: PAP_DICT,
  impl: Pap,
  methods: { 'recv *': 'authorize', 'authenticate *': 'authenticate' },
  named: { authorize: 'authorize', authenticate: 'authenticate' },
});
