import { defineModule } from '../../core';
import { DacConfig } from './config';
import { Dac, DAC_ENV } from './dac';

/** `dac`: sessions for dynamic authorization, and CoA/Disconnect to the NAS that holds a session (core/dac). */
export default defineModule({
  name: 'dac',
  kind: 'rlm',
  summary: 'Tracks sessions from accounting and sends CoA-Request / Disconnect-Request to the NAS holding a session.',
  config: DacConfig,
  impl: Dac,
  methods: { 'recv Accounting-Request': 'accounting', 'accounting *': 'accounting', 'send Access-Accept': 'grant' },
  named: { accounting: 'accounting', grant: 'grant', coa: 'coa', disconnect: 'disconnect' },
  env: { coa: DAC_ENV, disconnect: DAC_ENV },
});
