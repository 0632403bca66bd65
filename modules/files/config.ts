/**
 * Config schema of the `files` module.
 */
import { conf } from '../../core/config/schema';

export const FilesConfig = conf.section({
  filename: conf.string({ doc: 'The users file matched in `recv Access-Request` (and any other section except accounting).' }),
  usersfile: conf.string({ doc: 'v3 name of `filename`.' }),
  acct_filename: conf.string({ doc: 'Users file matched in `recv Accounting-Request` (v3 `acctusersfile`); unset: accounting calls return noop.' }),
  acctusersfile: conf.string({ doc: 'v3 name of `acct_filename`.' }),
  key: conf.tmpl({ default: '%{Stripped-User-Name || User-Name}', doc: 'What entry names are matched against (v3 `%{%{Stripped-User-Name}:-%{User-Name}}` is accepted).' }),
});

/** Parsed `files` config. */
export type FilesConfig = conf.Infer<typeof FilesConfig>;
