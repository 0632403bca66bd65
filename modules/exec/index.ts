import { defineModule } from '../../core';
import { ExecConfig } from './config';
import { Exec, EXEC_ENV } from './exec';

/** `exec`: run an external program from a section or as `%<instance>(program, args…)`. */
export default defineModule({
  name: 'exec',
  kind: 'rlm',
  summary: 'Runs external programs (no shell): as a section call with exit status → rcode, or as an expansion returning the output.',
  config: ExecConfig,
  impl: Exec,
  methods: { '* *': 'call' },
  env: { call: EXEC_ENV },
});
