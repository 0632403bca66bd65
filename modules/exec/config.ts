/**
 * Config schema of the `exec` module.
 */
import { conf } from '../../core';

const LISTS = ['request', 'reply', 'control', 'session-state'] as const;

export const ExecConfig = conf.section({
  program: conf.tmpl({ doc: 'Command run when the module is called from a section: split into words at spaces (quotes keep words together), each word expanded per request; no shell.' }),
  wait: conf.boolean({ default: true, doc: 'Wait for the program and use its exit status and output; `no` starts it and returns at once (`noop`, no output).' }),
  input_pairs: conf.enum(LISTS, { doc: 'List whose attributes are passed to the program as environment variables (`User-Name` → `USER_NAME`).' }),
  output_pairs: conf.enum(LISTS, { doc: 'List the program\'s standard output is added to, read as `Attr = value` lines (only with `wait = yes`).' }),
  shell_escape: conf.boolean({ default: true, doc: 'Accepted for compatibility: no shell is involved, so values are never re-parsed.' }),
  env_inherit: conf.boolean({ default: false, doc: 'Pass the server\'s own environment to the program as well.' }),
  timeout: conf.duration({ default: 10, min: 0.001, max: 30, doc: 'The program is killed (and the call fails) after this long.' }),
  max_output: conf.integer({ default: 65536, min: 1, doc: 'Standard output beyond this many bytes is discarded.' }),
});

/** Parsed `exec` config. */
export type ExecConfig = conf.Infer<typeof ExecConfig>;
