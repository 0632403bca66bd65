/**
 * `mymod`: an example custom module, loaded from outside the built-in list with
 *
 * ```
 * modules {
 *   mymod greeter {
 *     module = "/path/to/dist/examples/mymod/index.js"
 *     message = "Welcome, %{User-Name}"
 *     limit = 5
 *   }
 * }
 * ```
 *
 * This file's default export is the whole module: a definition value. Importing it does
 * nothing else. See docs/writing-a-module.md.
 */
import { defineModule } from '../../core';
import { MymodConfig } from './config';
import { Mymod } from './mymod';

export default defineModule({
  name: 'mymod',
  kind: 'rlm',
  summary: 'Greets users on Access-Accept and rate-limits Access-Requests per User-Name.',
  config: MymodConfig,
  dict: ['User-Name', 'Reply-Message'],
  impl: Mymod,
  methods: {
    'recv Access-Request': 'authorize',
    'send Access-Accept': 'greet',
  },
  env: {
    greet: { message: 'message' },
  },
});
