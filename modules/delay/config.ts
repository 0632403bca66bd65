/**
 * Config schema of the `delay` module.
 */
import { conf } from '../../core';

export const DelayConfig = conf.section({
  delay: conf.tmpl({ default: '1', doc: 'How long to wait: a time delta (`1.5`, `500ms`, `2s`), possibly expanded per request (`%{reply.Response-Delay}`).' }),
  relative: conf.boolean({ default: false, doc: 'Measure the delay from now (yes) instead of from when the request was received (no).' }),
  force_reschedule: conf.boolean({ default: false, doc: 'Yield to the event loop even when the delay has already passed.' }),
  max_delay: conf.duration({ default: '30s', doc: 'Upper bound on one delay (a larger value is clamped and logged).' }),
});

/** Parsed `delay` config. */
export type DelayConfig = conf.Infer<typeof DelayConfig>;
