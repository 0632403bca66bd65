import { defineModule } from '../../core';
import { RadiusConfig } from './config';
import { Radius } from './radius';
import { validateRadiusConfig } from './validate';

/**
 * `radius`: proxies requests to a home server, originates requests (client mode, RFC 5080
 * timers) or replicates them, over pools of connected UDP sockets or TCP streams.
 * See README.md and docs/proxy.md.
 */
export default defineModule({
  name: 'radius',
  kind: 'rlm',
  summary: 'Proxies, originates (Accounting, CoA, Disconnect) or replicates RADIUS packets to a home server.',
  config: RadiusConfig,
  validate: validateRadiusConfig,
  dict: ['Proxy-State', 'Message-Authenticator', 'User-Name'],
  impl: Radius,
  methods: { '* *': 'send' },
  named: { send: 'send' },
});
