/**
 * Config schema of the `mschap` module.
 */
import { conf } from '../../core';

const attr = (name: string, doc: string) => conf.string({ default: name, doc });

export const MschapConfig = conf.section({
  auth_type: conf.string({ doc: 'Auth-Type value set by `recv` (default: the instance name).' }),
  use_mppe: conf.boolean({ default: true, doc: 'Add MPPE keys, encryption policy and types to an Access-Accept.' }),
  require_encryption: conf.boolean({ default: false, doc: 'MPPE-Encryption-Policy: `Encryption-Required` (yes) or `Encryption-Allowed` (no).' }),
  require_strong: conf.boolean({ default: false, doc: 'MPPE-Encryption-Types: 128-bit only (yes) or 40- or 128-bit (no).' }),
  with_ntdomain_hack: conf.boolean({ default: true, doc: 'Strip `DOMAIN\\` from the user name before the MS-CHAPv2 challenge hash (Windows clients hash the bare name).' }),
  ntlm_auth: conf.string({ doc: 'Accepted for compatibility; ntlm_auth is not supported (authentication with it fails). Passwords come from the control list.' }),
  ntlm_auth_timeout: conf.duration({ doc: 'Accepted for compatibility (ntlm_auth is not supported).' }),
  winbind: conf.subsection({
    username: conf.string({ doc: 'Accepted for compatibility (winbind is not supported).' }),
    domain: conf.string({ doc: 'Accepted for compatibility (winbind is not supported).' }),
  }, { optional: true, doc: 'Accepted for compatibility: this build has no winbind client, so authentication through it is rejected ("Unable to contact winbind!").' }),
  passchange: conf.subsection({
    ntlm_auth: conf.string({ doc: 'Accepted for compatibility (password change is not supported).' }),
    ntlm_auth_username: conf.string({ doc: 'Accepted for compatibility.' }),
    ntlm_auth_domain: conf.string({ doc: 'Accepted for compatibility.' }),
    local_cpw: conf.string({ doc: 'Accepted for compatibility.' }),
  }, { optional: true, doc: 'MS-CHAPv2 password change (MS-CHAP2-CPW): not supported; a request carrying one is rejected.' }),
  attributes: conf.subsection({
    username: attr('User-Name', 'The user name attribute.'),
    chap_challenge: attr('Vendor-Specific.Microsoft.CHAP-Challenge', 'The challenge the NAS sent.'),
    chap_response: attr('Vendor-Specific.Microsoft.CHAP-Response', 'The MS-CHAPv1 response.'),
    chap2_response: attr('Vendor-Specific.Microsoft.CHAP2-Response', 'The MS-CHAPv2 response.'),
    chap2_success: attr('Vendor-Specific.Microsoft.CHAP2-Success', 'The MS-CHAPv2 success reply (authenticator response).'),
    chap_error: attr('Vendor-Specific.Microsoft.CHAP-Error', 'The error reply.'),
    chap_mppe_keys: attr('Vendor-Specific.Microsoft.CHAP-MPPE-Keys', 'MS-CHAPv1 MPPE keys.'),
    mppe_recv_key: attr('Vendor-Specific.Microsoft.MPPE-Recv-Key', 'MPPE receive key.'),
    mppe_send_key: attr('Vendor-Specific.Microsoft.MPPE-Send-Key', 'MPPE send key.'),
    mppe_encryption_policy: attr('Vendor-Specific.Microsoft.MPPE-Encryption-Policy', 'MPPE encryption policy.'),
    mppe_encryption_types: attr('Vendor-Specific.Microsoft.MPPE-Encryption-Types', 'MPPE encryption types.'),
    chap2_cpw: attr('Vendor-Specific.Microsoft.CHAP2-CPW', 'MS-CHAPv2 password change.'),
    chap_nt_enc_pw: attr('Vendor-Specific.Microsoft.CHAP-NT-Enc-PW', 'Encrypted new password (password change).'),
  }, { doc: 'The attributes the module reads and writes.' }),
});

/** Parsed `mschap` config. */
export type MschapConfig = conf.Infer<typeof MschapConfig>;
