import { defineModule } from '../../core';
import { LinelogConfig } from './config';
import { Linelog } from './linelog';

/** `linelog`: writes one formatted (xlat-expanded) line per call to a file, stdout/stderr or the server log. */
export default defineModule({
  name: 'linelog',
  kind: 'rlm',
  summary: 'Writes formatted log lines (xlat expanded) to a file, stdout, stderr or the server log.',
  config: LinelogConfig,
  impl: Linelog,
  methods: { '* *': 'log' },
  named: { log: 'log' },
});
