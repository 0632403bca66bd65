import { defineModule } from '../../core';
import { DateConfig } from './config';
import { DateModule, validateDate } from './date';

/** `date`: FreeRADIUS rlm_date: `%date(…)` prints times and reads date strings with a strftime format. */
export default defineModule({
  name: 'date',
  kind: 'rlm',
  summary: 'Prints times (now, the request time, a date attribute) and reads date strings, with a strftime(3) format, in UTC or local time.',
  config: DateConfig,
  impl: DateModule,
  validate: validateDate,
  methods: {},
});
