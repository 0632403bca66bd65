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
  ntlm_auth: conf.string({ doc: 'Command line of Samba\'s `ntlm_auth` (or a stand-in): split into words like exec\'s `program` (quotes keep a word together, an expansion stays whole), each word expanded per request, run without a shell. Exit status 0 and `NT_KEY: <32 hex>` is success (the key is the hash of the NT hash, used for MS-CHAP2-Success and the MPPE keys); otherwise a reject, with MS-CHAP errors 648 / 647 / 691 for an expired, locked or disabled account. `control.MS-CHAP-Use-NTLM-Auth` (No / Yes / Auto) overrides it per request; when set, it takes precedence over `winbind`.' }),
  ntlm_auth_timeout: conf.duration({ default: 10, doc: 'How long ntlm_auth (and the password change helper) may run, 1 to 10 seconds.' }),
  winbind: conf.subsection({
    username: conf.string({ doc: 'Accepted for compatibility (winbind is not supported).' }),
    domain: conf.string({ doc: 'Accepted for compatibility (winbind is not supported).' }),
  }, { optional: true, doc: 'Accepted for compatibility: this build has no winbind client, so authentication through it is rejected ("Unable to contact winbind!").' }),
  passchange: conf.subsection({
    ntlm_auth: conf.string({ doc: 'Password change helper (`ntlm_auth --helper-protocol=ntlm-change-password-1`), used when the instance authenticates with ntlm_auth: the user, the domain and the password blobs on its standard input, `Password-Change: Yes` expected back.' }),
    ntlm_auth_username: conf.string({ doc: 'First input line of the helper, expanded per request (e.g. `username: %mschap(\'User-Name\')`); required for the helper.' }),
    ntlm_auth_domain: conf.string({ doc: 'Second input line of the helper (e.g. `nt-domain: %mschap(\'NT-Domain\')`); without it the user name must be the full name.' }),
    local_cpw: conf.string({ doc: 'Local password change (no ntlm_auth): expanded with `MS-CHAP-New-Cleartext-Password` and `MS-CHAP-New-NT-Password` in the request (e.g. `%sql(UPDATE …)` or `%exec(…)`); an empty result is a failure. Authentication then uses the new NT hash.' }),
  }, { optional: true, doc: 'MS-CHAPv2 password change (MS-CHAP2-CPW with three CHAP-NT-Enc-PW parts): through the ntlm_auth helper or `local_cpw`; afterwards the response the change carries is authenticated as usual. Needs the old password (Password.NT or Password.Cleartext).' }),
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
