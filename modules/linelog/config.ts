/**
 * Config schema of the `linelog` module.
 */
import { conf } from '../../core';
import { octal } from '../shared/conf-fields';

const fileFields = {
  filename: conf.tmpl({ doc: 'File the lines are appended to; expanded per request (`%{…}`, strftime escapes `%Y %m %d` …).' }),
  permissions: octal({ default: '0600', doc: 'Mode of newly created files (octal).' }),
  group: conf.string({ doc: 'Accepted for v3 configs; ignored.' }),
  escape_filenames: conf.boolean({ default: false, doc: 'Escape characters of expanded values outside `[A-Za-z0-9_.]` in the file name as `-XX`.' }),
  fsync: conf.boolean({ default: false, doc: 'fdatasync each batch of lines before the call returns.' }),
  buffer_count: conf.integer({ default: 0, min: 0, doc: 'Accepted for v4 configs: lines are never held back here; concurrent lines are already written together (group commit) before the calls return.' }),
  buffer_delay: conf.duration({ default: 0, min: 0, doc: 'Accepted for v4 configs; see buffer_count.' }),
  max_idle: conf.duration({ default: 0, min: 0, doc: 'Accepted for v4 configs: the descriptor stays open until the file is rotated or the server stops.' }),
};

export const LinelogConfig = conf.section({
  destination: conf.enum(['file', 'stdout', 'stderr', 'syslog'] as const, {
    doc: 'Where lines go: `file`, `stdout`, `stderr` or `syslog` (the server log). Default: `file` when a filename is set, else `stdout`. v3 `filename = stdout|stderr|syslog` works too.',
  }),
  format: conf.tmpl({ doc: 'The line, expanded per request; used when `reference` is unset or does not resolve.' }),
  reference: conf.tmpl({ doc: 'Expands to the dotted path of the item holding the line inside this section, e.g. `messages.%{Packet-Type}`; a missing item falls back to `<section>.default`, then `format`.' }),
  messages: conf.raw({ doc: 'Section of lines selected by `reference` (`Access-Accept = "…"`, `default = "…"`).' }),
  delimiter: conf.string({ default: '\n', doc: 'Appended to each line.' }),
  header: conf.tmpl({ doc: 'Line written first into a file that is new or empty (file destination), expanded with the request that creates it.' }),
  ...fileFields,
  file: conf.subsection({ ...fileFields }, { optional: true, doc: 'v4 form of the file settings: `file { filename = … }`.' }),
}, { allowUnknown: true });

/** Parsed `linelog` config. */
export type LinelogConfig = conf.Infer<typeof LinelogConfig>;
