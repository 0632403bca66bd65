import { defineModule, probeTcp } from '../../core';
import { parseServer } from './connection';
import { LdapConfig } from './config';
import { Ldap, LDAP_ACCOUNTING_ENV, LDAP_AUTHENTICATE_ENV, LDAP_AUTHORIZE_ENV, LDAP_DICT, LDAP_SEND_ENV } from './ldap';
import { validateLdap } from './validate';

/**
 * `ldap`: users, passwords, groups and profiles from LDAP directories (FreeRADIUS rlm_ldap),
 * asynchronous over trunks of multiplexed connections with fail-over between servers.
 * See README.md.
 */
export default defineModule({
  name: 'ldap',
  kind: 'rlm',
  summary: 'Looks users up in LDAP directories (passwords, attributes, groups, profiles) and authenticates by binding as the user.',
  config: LdapConfig,
  dict: LDAP_DICT,
  impl: Ldap,
  // Every start-time check (servers, TLS files, the update map, attribute names): also under -C.
  validate: validateLdap,
  // radiusd -C: say which directories do not accept a connection (a warning; -C still passes).
  probe: async (config, ctx) => {
    await Promise.all(config.server.map(async (item) => {
      const t = parseServer(item, config.port);
      try {
        await probeTcp(t.path ? { path: t.path } : { host: t.host, port: t.port }, 2000, ctx.signal);
      } catch (err) {
        ctx.warn('server', `LDAP server ${t.url} is unreachable: ${(err as Error).message}`);
      }
    }));
  },
  methods: { 'recv *': 'authorize', 'authenticate *': 'authenticate', 'send *': 'send', 'accounting *': 'accounting' },
  named: { authorize: 'authorize', authenticate: 'authenticate' },
  env: { authorize: LDAP_AUTHORIZE_ENV, authenticate: LDAP_AUTHENTICATE_ENV, send: LDAP_SEND_ENV, accounting: LDAP_ACCOUNTING_ENV },
  map: 'mapQuery',
  mapEscape: 'mapEscape',
  clients: 'listClients',
});
