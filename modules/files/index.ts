import { defineModule } from '../../core';
import { FilesConfig } from './config';
import { Files, FILES_ENV, validateFiles } from './files';

/** `files`: the FreeRADIUS users file (check items, reply items, DEFAULT, Fall-Through). */
export default defineModule({
  name: 'files',
  kind: 'rlm',
  summary: 'Matches the request against a FreeRADIUS users file; sets control and reply attributes.',
  config: FilesConfig,
  dict: ['User-Name', 'Stripped-User-Name', 'Fall-Through'],
  validate: validateFiles,
  impl: Files,
  methods: { 'recv Accounting-Request': 'accounting', 'accounting *': 'accounting', '* *': 'authorize' },
  named: { authorize: 'authorize', accounting: 'accounting', preacct: 'accounting' },
  env: { authorize: FILES_ENV, accounting: FILES_ENV },
});
