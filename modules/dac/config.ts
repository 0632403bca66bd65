/**
 * Config schema of the `dac` module.
 */
import { conf } from '../../core';

export const DacConfig = conf.section({
  wait: conf.boolean({ default: true, doc: 'Wait for the NAS\'s answer (the rcode tells it). `no`: send in the background and return `ok` at once (e.g. a Disconnect from an Interim-Update, whose Accounting-Response must not wait).' }),
  attributes: conf.enum(['control', 'reply', 'request'] as const, { default: 'control', doc: 'The list whose dynamic attributes (Idle-Timeout, Port-Limit, the RFC 4679 rates) a CoA-Request carries.' }),
  session_id: conf.tmpl({ default: '%{Acct-Session-Id}', doc: 'The session to act on (expanded per request).' }),
  grant_ttl: conf.duration({ default: '60s', doc: 'How long what an Access-Accept granted is kept waiting for the session\'s Start.' }),
  retry: conf.subsection({
    initial_rtx_time: conf.integer({ default: 2, min: 1, max: 60, doc: 'RFC 5080 IRT, seconds.' }),
    max_rtx_time: conf.integer({ default: 16, min: 1, max: 300, doc: 'RFC 5080 MRT, seconds.' }),
    max_rtx_count: conf.integer({ default: 5, min: 0, max: 20, doc: 'RFC 5080 MRC: transmissions (0 = no limit).' }),
    max_rtx_duration: conf.integer({ default: 30, min: 0, max: 600, doc: 'RFC 5080 MRD, seconds (0 = no limit).' }),
  }, { doc: 'Retransmission of CoA/Disconnect (process-wide: the last instance instantiated sets it).' }),
});

/** Parsed `dac` config. */
export type DacConfig = conf.Infer<typeof DacConfig>;
