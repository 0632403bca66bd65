/**
 * Start hook of FreeRADIUS's `ldap` module-test directory: one slapd of our own (test/support/slapd.ts)
 * loaded, at run time, with the directory's `example.com.ldif` (read from the corpus copy, never kept in
 * this repository).
 *
 * That LDIF is written for a cn=config server: its leading `cn=config` entries (the mdb database, the
 * syncprov and sssvlv overlays) are turned into slapd.conf lines here and the rest is loaded with slapadd.
 * It also relies on FreeRADIUS's RADIUS schema, which is not in the corpus: the attribute and object-class
 * names it uses are declared below with OIDs of our own under OpenLDAP's experimental arc
 * (1.3.6.1.4.1.4203.666), with the syntaxes the tests need (profile priorities order as integers, profile
 * DNs match as DNs).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { makeTestCa, startSlapd } from '../../support/slapd';
import type { DirContext, DirServers } from './dirs';

const ARC = '1.3.6.1.4.1.4203.666.78';
const DSTRING = 'EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15';
const EXACT = 'EQUALITY caseExactMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15';
const DN = 'EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12';
const INT = 'EQUALITY integerMatch ORDERING integerOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27';
const BOOL = 'EQUALITY booleanMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.7';

/** name → attribute type body (after NAME). */
const ATTRS: ReadonlyArray<readonly [string, string]> = [
  ['radiusAttribute', EXACT],
  ['radiusControlAttribute', EXACT],
  ['radiusReplyAttribute', EXACT],
  ['radiusRequestAttribute', EXACT],
  ['radiusFramedIPNetmask', `${DSTRING} SINGLE-VALUE`],
  ['radiusIdleTimeout', `${INT} SINGLE-VALUE`],
  ['radiusSessionTimeout', `${INT} SINGLE-VALUE`],
  ['radiusProfileDN', DN],
  ['radiusProfileSuspendedDN', DN],
  ['radiusProfilePriority', `${INT} SINGLE-VALUE`],
  ['radiusProfileCondition', `${EXACT} SINGLE-VALUE`],
  ['radiusProfileFallthrough', `${EXACT} SINGLE-VALUE`],
  ['dialupAccess', `${DSTRING} SINGLE-VALUE`],
  ['memberOf', DN],
  ['freeradiusClientIdentifier', `${DSTRING} SINGLE-VALUE`],
  ['freeradiusClientShortname', `${DSTRING} SINGLE-VALUE`],
  ['freeradiusClientType', `${DSTRING} SINGLE-VALUE`],
  ['freeradiusClientComment', `${DSTRING} SINGLE-VALUE`],
  ['radiusClientSecret', `${EXACT} SINGLE-VALUE`],
  ['radiusClientRequireMa', `${BOOL} SINGLE-VALUE`],
];

function schema(): string {
  const attrs = ATTRS.map(([n, body], i) => `attributetype ( ${ARC}.1.${i + 1} NAME '${n}' ${body} )`);
  const may = (names: string[]) => names.join(' $ ');
  const radius = ATTRS.map(([n]) => n).filter((n) => !n.startsWith('freeradiusClient') && !n.startsWith('radiusClient'));
  return [
    ...attrs,
    `objectclass ( ${ARC}.2.1 NAME 'radiusprofile' SUP top AUXILIARY MAY ( ${may(radius)} ) )`,
    `objectclass ( ${ARC}.2.2 NAME 'freeradiusPolicy' SUP top STRUCTURAL MUST cn )`,
    `objectclass ( ${ARC}.2.3 NAME 'freeradiusClient' SUP top STRUCTURAL MUST freeradiusClientIdentifier
      MAY ( freeradiusClientShortname $ freeradiusClientType $ freeradiusClientComment ) )`,
    `objectclass ( ${ARC}.2.4 NAME 'radiusClient' SUP top AUXILIARY MAY ( radiusClientSecret $ radiusClientRequireMa ) )`,
    '',
  ].join('\n');
}

/** Splits an LDIF into its cn=config entries and the data entries. */
export function splitLdif(text: string): { config: string[]; data: string } {
  const entries = text.replace(/\r\n/g, '\n').split(/\n\s*\n/).map((e) => e.trim()).filter((e) => /^dn:/im.test(e));
  const config: string[] = [];
  const data: string[] = [];
  for (const e of entries) {
    const dn = /^dn:\s*(.*)$/im.exec(e)![1].trim();
    (/(^|,)cn=config$/i.test(dn) ? config : data).push(e);
  }
  return { config, data: data.join('\n\n') + '\n' };
}

/** True when `dir` is ours (owner, mode 0700) and holds only a `socket` that refuses connections. */
async function staleSocketDir(dir: string): Promise<boolean> {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    return false;
  }
  if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o777) !== 0o700) return false;
  const names = fs.readdirSync(dir);
  if (names.length > 1 || (names.length === 1 && names[0] !== 'socket')) return false;
  if (names.length === 0) return true;
  return new Promise<boolean>((resolve) => {
    const c = net.connect({ path: path.join(dir, 'socket') });
    c.once('connect', () => { c.destroy(); resolve(false); });
    c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

/** Starts the directory for the `ldap` tests. */
export async function startLdapDir(ctx: DirContext): Promise<DirServers | string> {
  const file = path.join(ctx.dir, 'example.com.ldif');
  if (!fs.existsSync(file)) return 'example.com.ldif missing from the test directory';
  const { config, data } = splitLdif(fs.readFileSync(file, 'utf8'));
  const overlays = config.map((e) => /^olcOverlay:\s*(\S+)/im.exec(e)?.[1]).filter((o): o is string => !!o);
  // module.conf names `ca_file = 'raddb/certs/rsa/ca.pem'`, relative to the directory the server runs
  // in (upstream: the source root, where `make -C raddb/certs` made a test CA). Ours: the checkout,
  // with the CA made here (raddb/certs/ is not tracked) and also serving slapd's LDAPS and StartTLS.
  const ca = makeTestCa('ldap-conformance');
  const certs = path.join(ctx.root, 'raddb', 'certs', 'rsa');
  fs.mkdirSync(certs, { recursive: true });
  fs.copyFileSync(ca.caFile, path.join(certs, 'ca.pem'));
  // module.conf's ldapldapi and ldap_dynamic_dn name slapd's Unix socket /tmp/ldap/socket (SASL EXTERNAL, the peer
  // mapped to the admin): claimed only when /tmp/ldap does not exist yet (made here, removed at the end); when it
  // exists (another run, someone else's), it is left alone and the tests that use the socket fail.
  const SOCKET_DIR = '/tmp/ldap';
  let ldapi: string | undefined;
  // A directory left by an earlier run of ours that died: ours (owner, mode), nothing but a socket nobody answers on.
  if (await staleSocketDir(SOCKET_DIR)) fs.rmSync(SOCKET_DIR, { recursive: true, force: true });
  try {
    fs.mkdirSync(SOCKET_DIR, { mode: 0o700 });
    ldapi = path.join(SOCKET_DIR, 'socket');
  } catch {
    ctx.log(`ldap: ${SOCKET_DIR} exists: not claiming ${SOCKET_DIR}/socket (the ldapi tests will fail)`);
  }
  const slapd = await startSlapd({
    ldapi,
    globalConf: ldapi ? 'authz-regexp "gidNumber=[0-9]+\\+uidNumber=[0-9]+,cn=peercred,cn=external,cn=auth" "cn=admin,dc=example,dc=com"' : undefined,
    ldif: data,
    schema: schema(),
    tls: ca,
    moduleLoad: overlays,
    extraConf: [
      'lastmod on',
      ...overlays.flatMap((o) => [`overlay ${o}`]),
    ].join('\n'),
  });
  ctx.log(`ldap: slapd on ${slapd.url} and ${slapd.ldapsUrl}`);
  return {
    env: {
      LDAP_TEST_SERVER: '127.0.0.1',
      LDAP_TEST_SERVER_PORT: String(slapd.port),
      LDAP_TEST_SERVER_SSL_PORT: String(slapd.tlsPort),
      TEST_SERVER: `127.0.0.1:${slapd.port}`,
    },
    stop: async () => {
      await slapd.stop();
      fs.rmSync(ca.dir, { recursive: true, force: true });
      if (ldapi) fs.rmSync(SOCKET_DIR, { recursive: true, force: true });
    },
  };
}
