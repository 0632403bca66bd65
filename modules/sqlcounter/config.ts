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
  counter_name: conf.string({ required: true, doc: 'Attribute set in control to the counter value (e.g. `Daily-Session-Time`).' }),
  check_name: conf.string({ required: true, doc: 'Control attribute holding the limit (a radcheck / users-file check item, e.g. `Max-Daily-Session`). Absent: the module does nothing.' }),
  reply_name: conf.string({ doc: 'Reply attribute given the remaining allowance (e.g. `Session-Timeout`), never raised above a value already in the reply. Unset: only reject when exhausted (data volume counters).' }),
  reply_message: conf.string({ doc: 'Reply-Message of the reject when the allowance is used up (default: "Your maximum <reset> usage time has been reached").' }),
  key: conf.tmpl({ default: 'User-Name', doc: 'Whose usage is counted: an attribute name or a template. An empty key: the module does nothing.' }),
  reset: conf.string({ required: true, doc: '`hourly`, `daily`, `weekly` (from Sunday), `monthly`, `never`, or `<n>h`, `<n>d`, `<n>w`, `<n>m` (local time).' }),
  auto_extend: conf.boolean({ default: false, doc: 'When the remaining allowance reaches past the next reset, add the next period\'s limit (FreeRADIUS 3 always did).' }),
  query: conf.tmpl({ required: true, doc: 'Returns the counter (one number; NULL or no row is 0). `%sqlcounter.reset_start(\'${.reset}\')` / `%sqlcounter.reset_end(…)` give the period as epoch seconds; values are escaped for `dialect`.' }),
});

/** Parsed `sqlcounter` config. */
export type SqlcounterConfig = conf.Infer<typeof SqlcounterConfig>;
