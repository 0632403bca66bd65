/**
 * `kvlookup`: an example backend module, loaded by path like `mymod`:
 *
 * ```
 * modules {
 *   kvlookup {
 *     module = "/path/to/dist/examples/kvlookup/index.js"
 *     server = "127.0.0.1:7070"
 *   }
 * }
 * ```
 *
 * See docs/writing-a-module.md §14.
 */
import { defineModule } from '../../core';
import { KvlookupConfig, validateKvlookup } from './config';
import { Kvlookup, KV_DICT } from './kvlookup';

export default defineModule({
  name: 'kvlookup',
  kind: 'rlm',
  summary: 'Looks up User-Name on a line-protocol key/value server and sets Reply-Message.',
  config: KvlookupConfig,
  validate: validateKvlookup,
  dict: KV_DICT,
  impl: Kvlookup,
  methods: {
    'recv Access-Request': 'authorize',
  },
});
