import { defineModule, probeTcp } from '../../core';
import { parseServer } from './connection';
import { LdapConfig } from './config';
import { trunkFactory } from '../../core';
import { Ldap } from './ldap';

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
  dict: ['User-Name', 'User-Password', 'LDAP-UserDN'],
  impl: Ldap,
  // The start-time checks (also under -C): configure on a throw-away instance (opens nothing).
  validate: (config, _at, ctx) => new Ldap(config, ctx.log, ctx.name, trunkFactory, ctx.xlats).configure(ctx),
  // radiusd -C: say which directories do not accept a connection (a warning; -C still passes).
  probe: async (config, ctx) => {
    await Promise.all(config.server.map(async (item) => {
      const t = parseServer(item, config.port);
      try {
        await probeTcp({ host: t.host, port: t.port }, 2000, ctx.signal);
      } catch (err) {
        ctx.warn('server', `LDAP server ${t.url} is unreachable: ${(err as Error).message}`);
      }
    }));
  },
  methods: { 'recv *': 'authorize', 'authenticate *': 'authenticate' },
  named: { authorize: 'authorize', authenticate: 'authenticate' },
});
