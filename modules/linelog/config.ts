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
  buffer_count: conf.integer({ default: 0, min: 0, doc: 'Buffered output (v4): when > 0, lines for a file are held until this many are waiting (or `buffer_delay` has passed), then written with one write and one fsync; each call waits until its line is on disk. A write cut short by a full file system keeps only whole lines: the lines that fit succeed, the others fail.' }),
  buffer_delay: conf.duration({ default: 0, min: 0, doc: 'Buffered output: longest wait of the first held line, on the server clock. With 0 only `buffer_count` triggers a write (as v4).' }),
  max_idle: conf.duration({ default: 0, min: 0, doc: 'Accepted for v4 configs: unbuffered output keeps the descriptor open until the file is rotated or the server stops; buffered output opens the file per batch.' }),
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
