/**
 * A test's own OpenLDAP directory: writes a minimal `slapd.conf` (core, cosine, inetorgperson,
 * nis and a small RADIUS test schema; one mdb database) into a temp directory, loads an LDIF
 * with `slapadd`, optionally creates a test CA and a server certificate with openssl (LDAPS
 * and StartTLS), and runs `/usr/sbin/slapd` in the foreground on free loopback ports.
 *
 * Debian's `slapd` and `ldap-utils` are installed by `scripts/setup.sh`. Nothing here uses the
 * system instance, its ports or its database.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ntHash } from '../../modules/pap/md4';
import { freePorts } from '../interop/freeradius';

export const SLAPD = '/usr/sbin/slapd';
export const SLAPADD = '/usr/sbin/slapadd';

/**
 * Attributes and object classes the ldap tests use for RADIUS data (OIDs under OpenLDAP's
 * experimental arc 1.3.6.1.4.1.4203.666, meant for tests like this).
 */
const TEST_SCHEMA = `
attributetype ( 1.3.6.1.4.1.4203.666.77.1.1 NAME 'radiusProfileDn'
  EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )
attributetype ( 1.3.6.1.4.1.4203.666.77.1.2 NAME 'radiusReplyAttribute'
  EQUALITY caseExactMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.3.6.1.4.1.4203.666.77.1.3 NAME 'radiusControlAttribute'
  EQUALITY caseExactMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.3.6.1.4.1.4203.666.77.1.4 NAME 'radiusSessionTimeout'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.4203.666.77.1.5 NAME 'radiusIdleTimeout'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.4203.666.77.1.6 NAME 'radiusFilterId'
  EQUALITY caseExactMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.3.6.1.4.1.4203.666.77.1.7 NAME 'dialupAccess'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.4203.666.77.1.8 NAME 'sambaNTPassword'
  EQUALITY caseIgnoreIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{32} SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.102 NAME 'memberOf'
  EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )
objectclass ( 1.3.6.1.4.1.4203.666.77.2.1 NAME 'radiusprofile' SUP top AUXILIARY
  MAY ( memberOf $ radiusProfileDn $ radiusReplyAttribute $ radiusControlAttribute $ radiusSessionTimeout $
        radiusIdleTimeout $ radiusFilterId $ dialupAccess $ sambaNTPassword ) )
objectclass ( 1.3.6.1.4.1.4203.666.77.2.2 NAME 'radiusObjectProfile' SUP top STRUCTURAL
  MUST cn
  MAY ( radiusReplyAttribute $ radiusControlAttribute $ radiusSessionTimeout $ radiusIdleTimeout $ radiusFilterId ) )
`;

/** Options of {@link startSlapd}. */
export interface SlapdOptions {
  /** Database suffix (default `dc=example,dc=com`). */
  readonly suffix?: string;
  /** LDIF loaded before start (the suffix entry is created when the LDIF lacks it). */
  readonly ldif?: string;
  /** Also listen with LDAPS, and offer StartTLS, with a certificate from a fresh test CA. */
  readonly tls?: boolean | TestCa;
  /** Extra `slapd.conf` lines in the database section. */
  readonly extraConf?: string;
  /** Schema text (`attributetype` / `objectclass` lines) used instead of the built-in RADIUS test schema. */
  readonly schema?: string;
  /** Overlay modules to load (`sssvlv`, `syncprov`; from /usr/lib/ldap). */
  readonly moduleLoad?: readonly string[];
  /** Also listen on this Unix socket (`ldapi://`); its directory must exist. */
  readonly ldapi?: string;
  /** Extra global `slapd.conf` lines (before the database), e.g. `authz-regexp`. */
  readonly globalConf?: string;
}

/** A test CA and a server certificate for 127.0.0.1 / localhost (PEM files). */
export interface TestCa {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** A running directory. */
export interface Slapd {
  readonly dir: string;
  readonly suffix: string;
  /** The rootdn (full access) and its password. */
  readonly adminDn: string;
  readonly adminPassword: string;
  readonly port: number;
  /** `ldap://127.0.0.1:port` */
  readonly url: string;
  /** LDAPS port and URL, when started with `tls`. */
  readonly tlsPort?: number;
  readonly ldapsUrl?: string;
  readonly ca?: TestCa;
  readonly pid: number;
  /** What slapd printed (stderr, `-d` output). */
  output(): string;
  /** Sends a signal (SIGSTOP / SIGCONT to freeze and thaw; SIGKILL to kill). */
  signal(sig: NodeJS.Signals): void;
  /** Starts it again after a kill, on the same ports and data. */
  restart(): Promise<void>;
  /** Stops it and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** Salted SHA-1 in the `{SSHA}` form slapd and FreeRADIUS use. */
export function sshaPassword(password: string, salt = crypto.randomBytes(4)): string {
  const digest = crypto.createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

/** The NT hash (MD4 of UTF-16LE) as 32 upper-case hex digits, as in sambaNTPassword. */
export function ntHashHex(password: string): string {
  return ntHash(password).toString('hex').toUpperCase();
}

function run(cmd: string, args: string[], opts: { input?: string; cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { input: opts.input, cwd: opts.cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** Makes a test CA and a server certificate (SAN 127.0.0.1, localhost) in a fresh temp directory. */
export function makeTestCa(prefix = 'ldap-ca'): TestCa {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tsradius-${prefix}-`));
  const f = (n: string) => path.join(dir, n);
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2',
    '-subj', '/CN=tsradius test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
  fs.writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-out', f('server.pem'), '-days', '2', '-extfile', f('ext.cnf')]);
  return { dir, caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server.key') };
}

function suffixEntry(suffix: string): string {
  const m = /^dc=([^,]+)/i.exec(suffix);
  return `dn: ${suffix}\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\no: test\ndc: ${m ? m[1] : 'test'}\n`;
}

async function waitPort(port: number, proc: ChildProcess, out: () => string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`slapd exited (${proc.exitCode}):\n${out()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`slapd did not listen on ${port} within ${ms} ms:\n${out()}`);
}

/** Starts a directory (see the file comment). Call `stop()` in `afterAll`. */
export async function startSlapd(opts: SlapdOptions = {}): Promise<Slapd> {
  const suffix = opts.suffix ?? 'dc=example,dc=com';
  const adminDn = `cn=admin,${suffix}`;
  const adminPassword = 'secret';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-slapd-'));
  const ca = opts.tls === true ? makeTestCa() : opts.tls || undefined;
  const ownCa = opts.tls === true;
  const [port, tlsPort] = await freePorts(ca ? 2 : 1);
  fs.mkdirSync(path.join(dir, 'db'));
  fs.writeFileSync(path.join(dir, 'radius-test.schema'), opts.schema === undefined ? TEST_SCHEMA : opts.schema);
  const conf = [
    'include /etc/ldap/schema/core.schema',
    'include /etc/ldap/schema/cosine.schema',
    'include /etc/ldap/schema/inetorgperson.schema',
    'include /etc/ldap/schema/nis.schema',
    `include ${path.join(dir, 'radius-test.schema')}`,
    `pidfile ${path.join(dir, 'slapd.pid')}`,
    `argsfile ${path.join(dir, 'slapd.args')}`,
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    ...(opts.moduleLoad ?? []).map((m) => `moduleload ${m}`),
    ...(ca ? [`TLSCACertificateFile ${ca.caFile}`, `TLSCertificateFile ${ca.certFile}`, `TLSCertificateKeyFile ${ca.keyFile}`] : []),
    opts.globalConf ?? '',
    'database mdb',
    'maxsize 67108864',
    `suffix "${suffix}"`,
    `rootdn "${adminDn}"`,
    `rootpw ${adminPassword}`,
    `directory ${path.join(dir, 'db')}`,
    'index objectClass eq',
    'index uid eq',
    'index member eq',
    'access to attrs=userPassword by self read by anonymous auth by * none',
    'access to * by * read',
    opts.extraConf ?? '',
    '',
  ].join('\n');
  const confFile = path.join(dir, 'slapd.conf');
  fs.writeFileSync(confFile, conf);
  let ldif = opts.ldif ?? '';
  if (!new RegExp(`^dn:\\s*${suffix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'im').test(ldif)) ldif = `${suffixEntry(suffix)}\n${ldif}`;
  fs.writeFileSync(path.join(dir, 'data.ldif'), ldif);
  run(SLAPADD, ['-q', '-f', confFile, '-l', path.join(dir, 'data.ldif')]);

  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = ca ? `ldaps://127.0.0.1:${tlsPort}` : undefined;
  const urls = [`${url}/`, ...(ldapsUrl ? [`${ldapsUrl}/`] : []), ...(opts.ldapi ? [`ldapi://${encodeURIComponent(opts.ldapi)}/`] : [])].join(' ');
  let out = '';
  let proc!: ChildProcess;
  const launch = async (): Promise<void> => {
    // -d 0: stay in the foreground (so the pid is slapd's and it dies with the test) without debug output.
    proc = spawn(SLAPD, ['-f', confFile, '-h', urls, '-d', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
    proc.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
    await waitPort(port, proc, () => out);
  };
  await launch();
  let stopped = false;
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  const waitExit = () => new Promise<void>((resolve) => { if (!alive()) resolve(); else proc.once('exit', () => resolve()); });
  return {
    dir, suffix, adminDn, adminPassword, port, url, tlsPort: ca ? tlsPort : undefined, ldapsUrl, ca,
    get pid() { return proc.pid!; },
    output: () => out,
    signal: (sig) => { if (alive()) proc.kill(sig); },
    async restart() {
      if (alive()) { proc.kill('SIGKILL'); await waitExit(); }
      await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (alive()) {
        proc.kill('SIGCONT');
        proc.kill('SIGTERM');
        const t = setTimeout(() => { if (alive()) proc.kill('SIGKILL'); }, 5000);
        await waitExit();
        clearTimeout(t);
      }
      fs.rmSync(dir, { recursive: true, force: true });
      if (ownCa && ca) fs.rmSync(ca.dir, { recursive: true, force: true });
    },
  };
}
