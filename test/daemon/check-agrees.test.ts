/**
 * `radiusd -C` fails exactly when start-up would, with the same located message: for a broken
 * configuration of every built-in module, `radiusd -C` and `radiusd -X` (which exits at once on
 * a config error) must both fail and print the same `file[line]: …` line. A configuration using
 * every built-in module passes both.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_MODULES } from '../../modules/index';
import { freePorts } from '../interop/freeradius';
import { checkConfig, RADIUSD, startDaemon, writeTempFiles } from './harness';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

let port = 0;
let home = 0;
let ldapPort = 0;
beforeAll(async () => { [port, home, ldapPort] = await freePorts(3); });

const conf = (modules: string, policy: string) => `client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
}
modules {
${modules}
}
server default {
	namespace = radius
	listen {
		type = Access-Request
		udp {
			ipaddr = 127.0.0.1
			port = ${port}
		}
	}
	recv Access-Request {
${policy}
	}
}
`;

const RULES = 'DEFAULT\n\tReply-Message =* ANY\n';
const USERS = 'bob\tCleartext-Password := "hello"\n';

/** A working section per built-in module (and the policy line that calls it). */
const GOOD: Record<string, string> = {
  always: '\talways {\n\t\trcode = ok\n\t}',
  pap: '\tpap {\n\t}',
  chap: '\tchap {\n\t}',
  client: '\tclient {\n\t}',
  mschap: '\tmschap {\n\t\trequire_strong = yes\n\t}',
  files: '\tfiles {\n\t\tfilename = ${confdir}/users\n\t}',
  detail: '\tdetail {\n\t\tfilename = ${confdir}/detail-%Y\n\t\tsuppress {\n\t\t\tUser-Name\n\t\t}\n\t}',
  linelog: '\tlinelog {\n\t\tfilename = ${confdir}/linelog\n\t\treference = "messages.%{Packet-Type}"\n\t\tmessages {\n\t\t\tdefault = "%{User-Name}"\n\t\t}\n\t}',
  attr_filter: '\tattr_filter {\n\t\tfilename = ${confdir}/rules\n\t}',
  date: '\tdate {\n\t\tformat = "%Y-%m-%d"\n\t\tutc = yes\n\t}',
  delay: '\tdelay {\n\t\tdelay = 10ms\n\t}',
  dac: '\tdac {\n\t\tretry {\n\t\t\tinitial_rtx_time = 1\n\t\t}\n\t}',
  exec: '\texec {\n\t\tprogram = "/bin/true %{User-Name}"\n\t}',
  radius: '\tradius {\n\t\ttype = Access-Request\n\t\tudp {\n\t\t\tipaddr = 127.0.0.1\n\t\t\tport = @HOME@\n\t\t\tsecret = x\n\t\t}\n\t}',
  sql: '\tsql {\n\t\tdriver = sqlite\n\t\tsqlite {\n\t\t\tfilename = ${confdir}/radius.db\n\t\t}\n\t}',
  sqlcounter: '\tsqlcounter {\n\t\tcounter_name = Daily-Session-Time\n\t\tcheck_name = Max-Daily-Session\n\t\treply_name = Session-Timeout\n\t\treset = daily\n\t\tquery = "SELECT 0"\n\t}',
  sqlippool: '\tsqlippool {\n\t\talloc_find = "SELECT 1"\n\t}',
  // No Redis listens there (a UDP-only port): the server starts anyway (calls fail until one answers).
  redis: '\tredis {\n\t\tserver = "127.0.0.1:@HOME@"\n\t}',
  redis_ippool: '\tredis_ippool {\n\t\tserver = "127.0.0.1:@HOME@"\n\t}',
  rediswho: '\trediswho {\n\t\tserver = "127.0.0.1:@HOME@"\n\t}',
  // No directory listens there: the server starts anyway (calls fail until one answers).
  ldap: '\tldap {\n\t\tserver = "ldap://127.0.0.1:@LDAP@"\n\t\tbase_dn = "dc=example,dc=com"\n\t\toptions {\n\t\t\tinstantiate_timeout = 0\n\t\t}\n\t}',
};

/** An ldap section with `body` (a server that need not exist: the checks never connect). */
const ldap = (body: string) => `\tldap {\n\t\tserver = "ldap://127.0.0.1"\n${body.split('\n').map((l) => `\t\t${l}`).join('\n')}\n\t}`;

/** Broken configurations: [module, what is wrong, modules section, extra files, what the located line must say]. */
const BROKEN: [string, string, string, Record<string, string>?, RegExp?][] = [
  ['always', 'unknown rcode', '\talways {\n\t\trcode = okay\n\t}'],
  ['pap', 'out of range', '\tpap {\n\t\tcrypt_workers = 100\n\t}'],
  ['chap', 'unknown item', '\tchap {\n\t\tauth_typ = CHAP\n\t}'],
  // client has only %client() and map client: called as a module in a section, it is refused where it is called.
  ['client', 'called as a module', '\tclient {\n\t}', undefined, /client/],
  ['mschap', 'unknown attribute in attributes { }', '\tmschap {\n\t\tattributes {\n\t\t\tchap_challenge = No-Such-Attribute\n\t\t}\n\t}', undefined, /\[\d+\]: mschap \{ attributes \{ chap_challenge \} \}: /],
  ['mschap', 'not a boolean', '\tmschap {\n\t\tuse_mppe = maybe\n\t}'],
  ['files', 'bad users file', GOOD.files, { users: 'bob\tNo-Such-Attribute := 1\n' }],
  ['files', 'missing users file', '\tfiles {\n\t\tfilename = ${confdir}/nope\n\t}'],
  ['files', 'bad key template', '\tfiles {\n\t\tkey = "%{No-Such-Attribute}"\n\t}', undefined, /: files \{ key \}: Unknown attribute "No-Such-Attribute"$/],
  ['detail', 'misspelt suppress attribute', '\tdetail {\n\t\tfilename = ${confdir}/d\n\t\tsuppress {\n\t\t\tUser-Nmae\n\t\t}\n\t}'],
  ['detail', 'bad file name template', '\tdetail {\n\t\tfilename = "${confdir}/%{No-Such-Attribute}"\n\t}', undefined, /\[7\]: detail \{ filename \}: Unknown attribute "No-Such-Attribute"$/],
  ['linelog', 'file destination without a file name', '\tlinelog {\n\t\tdestination = file\n\t\tformat = "x"\n\t}'],
  ['linelog', 'bad message template', '\tlinelog {\n\t\treference = "messages.%{Packet-Type}"\n\t\tmessages {\n\t\t\tdefault = "%{No-Such-Attribute}"\n\t\t}\n\t}', undefined, /: linelog \{ messages \{ default \} \}: Unknown attribute "No-Such-Attribute"$/],
  ['attr_filter', 'missing rules file', '\tattr_filter {\n\t\tfilename = ${confdir}/nope\n\t}'],
  ['attr_filter', 'bad rules file', GOOD.attr_filter, { rules: 'DEFAULT\n\tNo-Such-Attribute =* ANY\n' }],
  ['exec', 'unterminated quote in program', '\texec {\n\t\tprogram = "/bin/echo \'a"\n\t}'],
  ['dac', 'unknown attribute list', '\tdac {\n\t\tattributes = nowhere\n\t}'],
  ['dac', 'retry time out of range', '\tdac {\n\t\tretry {\n\t\t\tinitial_rtx_time = 0\n\t\t}\n\t}'],
  ['date', 'utc is not a boolean', '\tdate {\n\t\tutc = maybe\n\t}'],
  ['delay', 'invalid constant delay', '\tdelay {\n\t\tdelay = soon\n\t}'],
  ['radius', 'no secret', '\tradius {\n\t\ttype = Access-Request\n\t\tudp {\n\t\t\tipaddr = 127.0.0.1\n\t\t}\n\t}'],
  ['radius', 'transport = tcp with only udp { }', '\tradius {\n\t\ttype = Access-Request\n\t\ttransport = tcp\n\t\tudp {\n\t\t\tipaddr = 127.0.0.1\n\t\t\tsecret = x\n\t\t}\n\t}'],
  ['radius', 'Status-Server as a type', '\tradius {\n\t\ttype = Status-Server\n\t\tudp {\n\t\t\tipaddr = 127.0.0.1\n\t\t\tsecret = x\n\t\t}\n\t}'],
  ['sqlippool', 'address attribute of type string', '\tsql {\n\t\tsqlite {\n\t\t\tfilename = ${confdir}/radius.db\n\t\t}\n\t}\n\tsqlippool {\n\t\talloc_find = "SELECT 1"\n\t\tallocated_address_attr = reply.User-Name\n\t}'],
  ['redis', 'no server', '\tredis {\n\t\tcluster = no\n\t}'],
  ['redis_ippool', 'no server', '\tredis_ippool {\n\t\tlease_time = 60\n\t}'],
  ['rediswho', 'no server', '\trediswho {\n\t\ttrim_count = 5\n\t}'],
  ['rediswho', 'a brace in key_prefix', '\trediswho {\n\t\tserver = "127.0.0.1:6379"\n\t\tkey_prefix = "a{b"\n\t}'],
  ['sql', 'unknown driver', '\tsql {\n\t\tdriver = mysql\n\t}'],
  ['sql', 'sqlite without a file name', '\tsql {\n\t\tdriver = sqlite\n\t}'],
  ['sql', 'unknown group attribute', '\tsql {\n\t\tsqlite {\n\t\t\tfilename = ${confdir}/radius.db\n\t\t}\n\t\tgroup_attribute = No-Such-Attribute\n\t}'],
  ['sqlcounter', 'invalid reset', `${GOOD.sql}\n\tsqlcounter {\n\t\tcounter_name = Daily-Session-Time\n\t\tcheck_name = Max-Daily-Session\n\t\treset = fortnightly\n\t\tquery = "SELECT 0"\n\t}`],
  ['sqlcounter', 'unknown check attribute', `${GOOD.sql}\n\tsqlcounter {\n\t\tcounter_name = Daily-Session-Time\n\t\tcheck_name = Max-Dayly-Session\n\t\treset = daily\n\t\tquery = "SELECT 0"\n\t}`],
  ['ldap', 'bad server URL', '\tldap {\n\t\tserver = "http://127.0.0.1"\n\t}'],
  ['ldap', 'a certificate file that does not exist', '\tldap {\n\t\tserver = "ldaps://127.0.0.1"\n\t\ttls {\n\t\t\tca_file = ${confdir}/no-such-ca.pem\n\t\t}\n\t}'],
  ['ldap', 'start_tls with an ldaps:// server', '\tldap {\n\t\tserver = "ldaps://127.0.0.1"\n\t\ttls {\n\t\t\tstart_tls = yes\n\t\t}\n\t}'],
  ['ldap', 'missing server', '\tldap {\n\t\tbase_dn = "dc=example,dc=com"\n\t}', undefined, /server/],
  ['ldap', 'bad user base_dn template', ldap('user {\n\tbase_dn = "ou=%{No-Such-Attribute},dc=example,dc=com"\n}'), undefined, /\[9\]: ldap \{ user \{ base_dn \} \}: .*No-Such-Attribute/],
  ['ldap', 'bad user filter template', ldap('user {\n\tfilter = "(uid=%{No-Such-Attribute})"\n}'), undefined, /\[9\]: ldap \{ user \{ filter \} \}: .*No-Such-Attribute/],
  ['ldap', 'unknown function in the membership filter', ldap('group {\n\tmembership_filter = "(member=%nope(x))"\n}'), undefined, /\[9\]: ldap \{ group \{ membership_filter \} \}: /],
  ['ldap', 'bad profile default template', ldap('profile {\n\tdefault = "cn=%{No-Such-Attribute}"\n}'), undefined, /ldap \{ profile \{ default \} \}: /],
  ['ldap', 'unknown attribute in the update map', ldap('update {\n\treply.No-Such-Attribute := \'radiusReplyItem\'\n}'), undefined, /\[9\]: ldap \{ update \}: reply\.No-Such-Attribute: /],
  ['ldap', 'not an LDAP attribute on the right of the map', ldap('update {\n\treply.Reply-Message := \'no such thing!\'\n}'), undefined, /\[9\]: ldap \{ update \}: .*not an LDAP attribute name/],
  ['ldap', 'missing ca_file', ldap('tls {\n\tca_file = "${confdir}/nope.pem"\n}'), undefined, /\[9\]: ldap \{ tls \{ ca_file \} \}: cannot read .*nope\.pem/],
  ['ldap', 'ca_file without a certificate', ldap('tls {\n\tca_file = "${confdir}/ca.pem"\n}'), { 'ca.pem': 'not a certificate\n' }, /ldap \{ tls \{ ca_file \} \}: .*no PEM certificate/],
  ['ldap', 'certificate_file without private_key_file', ldap('tls {\n\tcertificate_file = "${confdir}/users"\n}'), undefined, /ldap \{ tls \{ certificate_file \} \}: certificate_file needs private_key_file/],
  ['ldap', 'bad tls option value', ldap('tls {\n\trequire_cert = sometimes\n}'), undefined, /require_cert/],
  ['ldap', 'unknown tls option', ldap('tls {\n\tverify_peer = yes\n}'), undefined, /verify_peer/],
  // A cache attribute the dictionary lacks is defined (as FreeRADIUS does); a name that cannot be one is refused.
  ['ldap', 'group cache attribute that is no attribute name', ldap('group {\n\tcacheable_name = yes\n\tcache_attribute = "No-Such-Attribute!"\n}'), undefined, /ldap \{ group \{ cache_attribute \} \}: attribute "No-Such-Attribute!" is not in the dictionary/],
  ['ldap', 'group filter that does not parse', ldap('group {\n\tfilter = "(objectClass=group"\n}'), undefined, /ldap \{ group \{ filter \} \}: .*not an LDAP search filter/],
  ['ldap', 'pool min above max', ldap('pool {\n\tmin = 8\n\tmax = 2\n}'), undefined, /ldap \{ pool \{ min \} \}: min \(8\) is more than max \(2\)/],
  ['radius', 'status check without User-Password', '\tradius {\n\t\ttype = Access-Request\n\t\tudp {\n\t\t\tipaddr = 127.0.0.1\n\t\t\tsecret = x\n\t\t}\n\t\tstatus_check {\n\t\t\ttype = Access-Request\n\t\t}\n\t}'],
];

/** The first located error line (`file[line]: …`) of an output. */
const located = (out: string): string | undefined => out.split('\n').map((l) => l.replace(/^Error: /, '')).find((l) => /^\S+\[\d+\]: /.test(l));

/** Runs `radiusd -X` on a configuration that must not start: it exits by itself (bounded). */
function startX(dir: string): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [RADIUSD, '-X', '-d', dir], { encoding: 'utf8', timeout: 30000 });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe('radiusd -C agrees with start-up', () => {
  it('covers every built-in module', () => {
    expect(Object.keys(GOOD).sort()).toEqual(BUILTIN_MODULES.map((m) => m.name).sort());
    expect([...new Set(BROKEN.map(([m]) => m))].sort()).toEqual(BUILTIN_MODULES.map((m) => m.name).sort());
  });

  for (const [mod, what, section, files, says] of BROKEN) {
    it(`${mod}: ${what}`, () => {
      const dir = writeTempFiles('agree', { 'radiusd.conf': conf(section, `\t\t${mod}`), users: USERS, rules: RULES, ...files });
      dirs.push(dir);
      const c = checkConfig(dir);
      const x = startX(dir);
      expect(c.code).toBe(1);
      expect(x.code).not.toBe(0);
      const line = located(c.stderr);
      expect(line, c.stderr).toBeDefined();
      expect(located(x.out), x.out).toBe(line);
      if (says) expect(line).toMatch(says);
    });
  }

  it('a configuration using every built-in module passes both', async () => {
    const modules = Object.values(GOOD).join('\n').replaceAll('@HOME@', String(home)).replace('@LDAP@', String(ldapPort));
    const policy = ['always', 'files', 'pap', 'chap', 'attr_filter', 'delay', 'detail', 'linelog', 'exec'].map((m) => `\t\t${m}`).join('\n');
    const dir = writeTempFiles('agree-good', { 'radiusd.conf': conf(modules, policy), users: USERS, rules: RULES });
    dirs.push(dir);
    const c = checkConfig(dir);
    // Nothing listens on the ldap port: -C says so (a warning, see check-probe.test.ts) and passes.
    expect(c.stderr.trim().split('\n')).toEqual([expect.stringMatching(/ldap \{ server \}: LDAP server .* is unreachable/)]);
    expect(c.code).toBe(0);
    const d = await startDaemon(['-X', '-d', dir]);
    expect(await d.stop()).toBe(0);
  });
});
