/**
 * Config schema of the `chap` module.
 */
import { conf } from '../../core';

export const ChapConfig = conf.section({
  auth_type: conf.string({
    doc: 'Auth-Type value set by `recv` (default: the instance name, e.g. `chap` → `Auth-Type := CHAP`; an unknown name falls back to CHAP).',
  }),
});

/** Parsed `chap` config. */
export type ChapConfig = conf.Infer<typeof ChapConfig>;
