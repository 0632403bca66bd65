/**
 * Config schema of the `always` module.
 */
import { conf } from '../../core';
import { RCODES } from '../../core';

export const AlwaysConfig = conf.section({
  rcode: conf.enum(RCODES, { default: 'fail', doc: 'The rcode every call returns.' }),
  simulcount: conf.integer({ default: 0, min: 0, doc: 'Accepted for v3 configs; ignored (no Simultaneous-Use checking here).' }),
  mpp: conf.boolean({ default: false, doc: 'Accepted for v3 configs; ignored.' }),
});

/** Parsed `always` config. */
export type AlwaysConfig = conf.Infer<typeof AlwaysConfig>;
