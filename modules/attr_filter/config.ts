/**
 * Config schema of the `attr_filter` module.
 */
import { conf } from '../../core';

export const AttrFilterConfig = conf.section({
  filename: conf.string({ required: true, doc: 'The filter rules file (users-file layout).' }),
  key: conf.tmpl({ default: '%{Realm}', doc: 'Selects the entries applied (plus every `DEFAULT` entry).' }),
  relaxed: conf.boolean({ default: false, doc: 'Keep attributes that no rule mentions (as if every entry had `Relax-Filter = yes`).' }),
});

/** Parsed `attr_filter` config. */
export type AttrFilterConfig = conf.Infer<typeof AttrFilterConfig>;
