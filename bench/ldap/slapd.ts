/**
 * The directory of bench/ldap-pap.sh: one slapd of our own (test/support/slapd.ts) with the bench users
 * `user0001..userNNNN` / `pass0001..` (cleartext `userPassword`, as the peer's users file) and the five reply
 * attributes radload checks, each in an LDAP attribute of its own. Prints `PORT <n>` (where clients connect)
 * and `PID <slapd pid>` once it listens, and stops the directory on SIGTERM / SIGINT.
 *
 * With a delay (bench/ldap/inflight.sh), clients connect to a slow directory instead: the loopback proxy of
 * test/support/slow-ldap.ts in front of slapd holds every search for DELAY_MS (and drops the ones abandoned
 * meanwhile); every 2 s it prints `STAT held=<n> passed=<n> abandoned=<n> pending=<n>`.
 *
 *   node dist/bench/ldap/slapd.js [USERS [DELAY_MS]]
 */
import { startSlapd } from '../../test/support/slapd';
import { startSlowLdap } from '../../test/support/slow-ldap';

const ARC = '1.3.6.1.4.1.4203.666.79';
const INT = 'EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE';
const STR = 'EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE';
const ATTRS: ReadonlyArray<readonly [string, string]> = [
  ['benchFramedIPAddress', STR],
  ['benchSessionTimeout', INT],
  ['benchIdleTimeout', INT],
  ['benchRateUp', INT],
  ['benchRateDown', INT],
];
const SCHEMA = [
  ...ATTRS.map(([n, body], i) => `attributetype ( ${ARC}.1.${i + 1} NAME '${n}' ${body} )`),
  `objectclass ( ${ARC}.2.1 NAME 'benchRadiusUser' SUP top AUXILIARY MAY ( ${ATTRS.map(([n]) => n).join(' $ ')} ) )`,
  '',
].join('\n');

function ldif(users: number): string {
  const out = ['dn: ou=people,dc=example,dc=com', 'objectClass: organizationalUnit', 'ou: people', ''];
  for (let i = 1; i <= users; i++) {
    const n = String(i).padStart(4, '0');
    out.push(
      `dn: uid=user${n},ou=people,dc=example,dc=com`,
      'objectClass: inetOrgPerson', 'objectClass: benchRadiusUser',
      `uid: user${n}`, `cn: user${n}`, `sn: user${n}`,
      `userPassword: pass${n}`,
      `benchFramedIPAddress: 10.0.${i >> 8}.${i & 255}`,
      'benchSessionTimeout: 3600', 'benchIdleTimeout: 600',
      'benchRateUp: 1024000', 'benchRateDown: 16384000', '',
    );
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const users = Number(process.argv[2] ?? 1000);
  const delay = Number(process.argv[3] ?? 0);
  const slapd = await startSlapd({ ldif: ldif(users), schema: SCHEMA });
  const slow = delay > 0 ? await startSlowLdap(slapd.port, delay) : undefined;
  process.stdout.write(`PORT ${slow ? slow.port : slapd.port}\nPID ${slapd.pid}\n`);
  if (slow) {
    setInterval(() => {
      const c = slow.counts;
      process.stdout.write(`STAT held=${c.held} passed=${c.passed} abandoned=${c.abandoned} pending=${slow.pending()}\n`);
    }, 2000).unref();
  }
  const stop = () => { void Promise.all([slow?.close(), slapd.stop()]).then(() => process.exit(0)); };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
