/**
 * Config schema of the `sqlcounter` module: a FreeRADIUS `mods-available/sqlcounter` instance
 * (counter_name, check_name, reply_name, key, reset, query) on an `sql` instance.
 */
import { conf } from '../../core';

/** `sqlcounter <name> { … }` */
export const SqlcounterConfig = conf.section({
  sql_module_instance: conf.string({ default: 'sql', doc: 'The `sql` instance that runs the query.' }),
  dialect: conf.string({ default: 'sqlite', doc: '`sqlite` or `postgresql`: how values expanded into the query are escaped; must match the sql instance\'s driver.' }),
  safe_characters: conf.string({ default: '@abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_: /', doc: 'SQLite: as the sql module\'s `safe_characters` (other characters become `=XX`).' }),
  counter_name: conf.string({ required: true, doc: 'Attribute set to the counter value, in control unless a list is named (`control.Daily-Session-Time`).' }),
  check_name: conf.string({ required: true, doc: 'Attribute holding the limit, in control unless a list is named (a radcheck / users-file check item, e.g. `control.Max-Daily-Session`). Absent: the module does nothing.' }),
  reply_name: conf.string({ doc: 'Attribute given the remaining allowance, in reply unless a list is named (`reply.Session-Timeout`), never raised above a value already there. Unset: only reject when exhausted (data volume counters).' }),
  reply_message_name: conf.string({ default: 'Reply-Message', doc: 'Reply attribute that gets `reply_message` on a reject (FreeRADIUS v4).' }),
  reply_message: conf.string({ doc: 'Message of the reject when the allowance is used up (default: "Your maximum <reset> usage has been reached").' }),
  utc: conf.boolean({ default: false, doc: 'Periods begin at midnight (the hour, Sunday, the 1st) UTC instead of local time.' }),
  key: conf.tmpl({ default: 'User-Name', doc: 'Whose usage is counted: an attribute name or a template. An empty key: the module does nothing.' }),
  reset: conf.string({ required: true, doc: '`hourly`, `daily`, `weekly` (from Sunday), `monthly`, `never`, or `<n>h`, `<n>d`, `<n>w`, `<n>m` (local time, or UTC with `utc`). The period is also put in control as `<instance>-Reset-Start` and `<instance>-Reset-End` (uint64, epoch seconds).' }),
  auto_extend: conf.boolean({ default: false, doc: 'When the remaining allowance reaches past the next reset, the reply is the time until the reset plus the next period\'s whole limit (FreeRADIUS v4).' }),
  query: conf.tmpl({ required: true, doc: 'Returns the counter (one number; NULL or no row is 0). `%sqlcounter.reset_start(\'${.reset}\')` / `%sqlcounter.reset_end(…)` give the period as epoch seconds; values are escaped for `dialect`.' }),
});

/** Parsed `sqlcounter` config. */
export type SqlcounterConfig = conf.Infer<typeof SqlcounterConfig>;
