/**
 * Config schema of the `detail` module.
 */
import { conf } from '../../core';
import { octal } from '../shared/conf-fields';

export const DetailConfig = conf.section({
  filename: conf.tmpl({
    required: true,
    doc: 'File each record is appended to; expanded per request. Accepts `%{…}` and the v3 strftime escapes `%Y %m %d %H` … (request time, local time). `/` in expanded values becomes `_`.',
  }),
  header: conf.tmpl({ default: '%t', doc: 'First line of each record; `%t` is the ctime text of the request time (`Sat Nov 21 03:31:35 2026`).' }),
  permissions: octal({ default: '0600', doc: 'Mode of newly created files (octal).' }),
  dir_permissions: octal({ default: '0755', doc: 'Mode of directories created for the file (octal).' }),
  group: conf.string({ doc: 'Accepted for v3 configs; ignored (files keep the server\'s group).' }),
  locking: conf.boolean({ default: false, doc: 'Accepted for v3 configs. Each batch is appended with one write() on an O_APPEND descriptor, so concurrent writers never interleave records.' }),
  escape_filenames: conf.boolean({ default: false, doc: 'Escape every character of expanded values outside `[A-Za-z0-9_.]` in the file name as `-XX` (hex), v3 style.' }),
  log_packet_header: conf.boolean({ default: false, doc: 'Also write Packet-Type and the source/destination address and port.' }),
  fsync: conf.boolean({ default: false, doc: 'Also flush every batch to stable storage (fdatasync) before the call returns, so acknowledged records survive a power loss, not only a daemon kill. Concurrent records share one write and one fdatasync (group commit).' }),
  idle_timeout: conf.duration({ default: '60s', min: '1s', doc: 'Close file handles unused for this long.' }),
  suppress: conf.raw({ doc: 'Section listing attributes never written, one name per line: `suppress { User-Password }`. User-Password, CHAP-Password and secret attributes are always suppressed.' }),
});

/** Parsed `detail` config. */
export type DetailConfig = conf.Infer<typeof DetailConfig>;
