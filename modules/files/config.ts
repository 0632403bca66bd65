/**
 * Config schema of the `files` module.
 */
import { conf } from '../../core';

export const FilesConfig = conf.section({
  filename: conf.string({ doc: 'The users file matched in `recv Access-Request` (and any other section except accounting).' }),
  usersfile: conf.string({ doc: 'v3 name of `filename`.' }),
  acct_filename: conf.string({ doc: 'Users file matched in `recv Accounting-Request` (v3 `acctusersfile`); unset: accounting calls return noop.' }),
  acctusersfile: conf.string({ doc: 'v3 name of `acct_filename`.' }),
  match_attr: conf.string({ doc: 'Attribute (default list: control) that gets the name of the entry that matched, e.g. the prefix `10.1.0.0/16` of an IP-prefix key.' }),
  lookup_type: conf.enum(['hash', 'rb', 'trie', 'htrie'] as const, { default: 'hash', doc: '`trie`: entry names are string prefixes of the key, the longest matching first; the others: exact names. An IP address or prefix key attribute always matches by longest prefix.' }),
  key: conf.tmpl({ default: '%{Stripped-User-Name || User-Name}', doc: 'What entry names are matched against (v3 `%{%{Stripped-User-Name}:-%{User-Name}}` is accepted).' }),
});

/** Parsed `files` config. */
export type FilesConfig = conf.Infer<typeof FilesConfig>;
