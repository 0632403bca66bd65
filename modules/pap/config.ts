/**
 * Config schema of the `pap` module.
 */
import { conf } from '../../core';

export const PapConfig = conf.section({
  normalise: conf.boolean({
    default: true,
    doc: 'Accept hex- or base64-encoded digests in the Password.* attributes (e.g. `SSHA-Password := "…base64…"`) and decode them before comparing.',
  }),
  crypt_workers: conf.integer({
    default: 1, min: 0, max: 64,
    doc: 'Worker threads that verify crypt passwords (SHA-512-crypt costs ~25 ms of CPU), so the event loop keeps serving; 0 verifies on the event loop.',
  }),
  auth_type: conf.string({
    doc: 'Auth-Type value set by `recv` (default: the instance name, e.g. `pap` → `Auth-Type := PAP`; an unknown name falls back to PAP).',
  }),
});

/** Parsed `pap` config. */
export type PapConfig = conf.Infer<typeof PapConfig>;
