import { defineModule } from '../../core';
import { ClientConfig } from './config';
import { CLIENT_DICT, ClientModule } from './client';

/**
 * `client`: the RADIUS clients' configuration in policy (FreeRADIUS v4 rlm_client): `%client(field)`,
 * `%request.client(field, address)`, `map client [address] { … }`. See README.md.
 */
export default defineModule({
  name: 'client',
  kind: 'rlm',
  summary: 'Reads items of the RADIUS clients\' configuration into policy (%client(), map client).',
  config: ClientConfig,
  dict: CLIENT_DICT,
  impl: ClientModule,
  methods: {},
  map: 'mapQuery',
});
