/** Config schema of `date`: FreeRADIUS v4 `mods-available/date`. */
import { conf } from '../../core';

/** `date [instance] { … }` */
export const DateConfig = conf.section({
  format: conf.string({ default: '%b %e %Y %H:%M:%S %Z', doc: 'strftime(3) format: how dates are printed, and how date strings are read.' }),
  utc: conf.boolean({ default: false, doc: 'Print and read in UTC instead of local time.' }),
});

/** The parsed config. */
export type DateConfig = conf.Infer<typeof DateConfig>;
