import { defineModule } from '../../core';
import { LinelogConfig } from './config';
import { Linelog, LINELOG_ENV, validateLinelog } from './linelog';

/** `linelog`: writes one formatted (xlat-expanded) line per call to a file, stdout/stderr or the server log. */
export default defineModule({
  name: 'linelog',
  kind: 'rlm',
  summary: 'Writes formatted log lines (xlat expanded) to a file, stdout, stderr or the server log.',
  config: LinelogConfig,
  validate: validateLinelog,
  impl: Linelog,
  methods: { '* *': 'log' },
  named: { log: 'log' },
  env: { log: LINELOG_ENV },
});
