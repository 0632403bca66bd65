/**
 * CPU per `authorize` of the `ldap` module (the user search, its result, the `update { }` map into a
 * Request: what a PAP request costs the module, without RADIUS or the interpreter), loaded through the
 * real loader with the configuration of bench/ldap/compare.sh (AUTH=pap). WINDOW calls in flight,
 * ROUNDS rounds of N calls after one unmeasured round, `process.cpuUsage()` per call. Alternate two
 * builds for an A/B (docs/performance.md, "LDAP").
 *
 *   node dist/bench/ldap/slapd.js 1000 &          (prints PORT <n>)
 *   node dist/bench/ldap/module-cpu.js PORT [N]   (env CONNS 2, WINDOW 64, ROUNDS 3)
 */
import 'reflect-metadata';
import ldapDef from '../../modules/ldap/index';
import type { Ldap } from '../../modules/ldap/ldap';
import { callCtx, loadTestModule, makeRequest } from '../../test/support/module-call';
import { cpuRounds } from './cpu-rounds';

const port = Number(process.argv[2]);
const n = Number(process.argv[3] ?? 20000);
const window = Number(process.env.WINDOW ?? 64);
const conns = Number(process.env.CONNS ?? 2);
const body = `
server = 'ldap://127.0.0.1:${port}'
identity = 'cn=admin,dc=example,dc=com'
password = secret
base_dn = 'dc=example,dc=com'
update {
  control.Password.With-Header += 'userPassword'
  reply.Framed-IP-Address := 'benchFramedIPAddress'
  reply.Session-Timeout := 'benchSessionTimeout'
  reply.Idle-Timeout := 'benchIdleTimeout'
  reply.Actual-Data-Rate-Upstream := 'benchRateUp'
  reply.Actual-Data-Rate-Downstream := 'benchRateDown'
}
user {
  base_dn = "ou=people,\${..base_dn}"
  filter = "(uid=%{Stripped-User-Name || User-Name})"
  scope = sub
}
options {
  res_timeout = 10
  srv_timelimit = 3
  net_timeout = 1
}
pool {
  start = ${conns}
  min = ${conns}
  max = ${conns}
  per_connection_max = 256
}
bind_pool {
  start = 0
  min = 0
  max = 1
}
`;

async function main(): Promise<void> {
  const m = await loadTestModule(ldapDef, body);
  const ldap = m as unknown as Ldap;
  const signal = new AbortController().signal;
  let i = 0;
  const one = async (): Promise<void> => {
    const k = String((i++ % 1000) + 1).padStart(4, '0');
    const r = makeRequest(`User-Name = "user${k}", User-Password = "pass${k}"`);
    const rc = await ldap.authorize(r, callCtx(r, { name1: 'recv', name2: 'Access-Request' }, { instance: 'ldap', signal }) as never);
    // Four top-level reply pairs: the two DSL Forum rates share their vendor's parent.
    if (rc !== 'updated' || r.reply.length !== 4) throw new Error(`user${k}: ${rc}, ${r.reply.length} reply attributes`);
  };
  await cpuRounds(one, n, window, 'call');
  await m.detach();
}

main().then(() => setTimeout(() => process.exit(0), 100), (e) => { console.error(e); process.exit(1); });
