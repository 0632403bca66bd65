import { defineModule } from '../../core';
import { MschapConfig } from './config';
import { Mschap, MSCHAP_AUTH_ENV, MSCHAP_DICT } from './mschap';

/** `mschap`: MS-CHAPv1 / MS-CHAPv2 authentication with MPPE keys. */
export default defineModule({
  name: 'mschap',
  kind: 'rlm',
  summary: 'Authenticates MS-CHAPv1 and MS-CHAPv2 (RFC 2433, RFC 2759) against the cleartext or NT password; adds MS-CHAP2-Success and MPPE keys.',
  config: MschapConfig,
  dict: MSCHAP_DICT,
  impl: Mschap,
  validate(config, at, ctx) {
    for (const [item, name] of Object.entries(config.attributes)) {
      if (!ctx.dict.resolve(name)) at(`attributes.${item}`, `Unknown attribute "${name}"`);
    }
    const t = config.ntlm_auth_timeout;
    if (t < 1 || t > 10) at('ntlm_auth_timeout', `ntlm_auth_timeout ${t}s is out of range (1 to 10 seconds)`);
  },
  methods: { 'recv *': 'authorize', 'authenticate *': 'authenticate' },
  named: { authorize: 'authorize', authenticate: 'authenticate' },
  env: { authenticate: MSCHAP_AUTH_ENV },
});
