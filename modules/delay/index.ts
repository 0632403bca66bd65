import { defineModule } from '../../core';
import { DelayConfig } from './config';
import { Delay, DELAY_ENV, validateDelay } from './delay';

/** `delay`: pauses the request (without blocking the server), e.g. before sending an Access-Reject. */
export default defineModule({
  name: 'delay',
  kind: 'rlm',
  summary: 'Delays the request by a fixed or expanded time; the request yields while waiting.',
  config: DelayConfig,
  validate: validateDelay,
  impl: Delay,
  methods: { '* *': 'delay' },
  named: { delay: 'delay' },
  env: { delay: DELAY_ENV },
});
