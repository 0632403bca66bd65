import { defineModule } from '../../core';
import { AlwaysConfig } from './config';
import { Always } from './always';

/** `always`: return a fixed rcode from any section (testing, placeholders, simulated failures). */
export default defineModule({
  name: 'always',
  kind: 'rlm',
  summary: 'Returns a fixed rcode from every section.',
  config: AlwaysConfig,
  impl: Always,
  methods: { '* *': 'call' },
});
