/**
 * Config schema of the `mymod` example module. The schema is also its documentation:
 * `describeSchema(MymodConfig)` renders the table in docs/writing-a-module.md.
 */
import { conf } from '../../core';

/** `mymod [instance] { … }` */
export const MymodConfig = conf.section({
  message: conf.tmpl({
    default: 'Hello, %{User-Name}',
    doc: 'Reply-Message set on Access-Accept; expanded for each request.',
  }),
  limit: conf.integer({
    default: 0,
    min: 0,
    doc: 'Access-Requests allowed per User-Name and window; more are rejected. 0 means no limit.',
  }),
  window: conf.duration({ default: '60s', min: '1s', doc: 'Length of the rate-limit window.' }),
  delay: conf.duration({
    default: '0s',
    doc: 'Wait this long before answering (pretends to be a slow back end; shows a yielding call).',
  }),
});

/** The parsed config. */
export type MymodConfig = conf.Infer<typeof MymodConfig>;
