/**
 * `radiusd -C` on broken configurations prints `file[line]: …` and exits non-zero; on a good
 * one it exits 0 without opening sockets.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { checkConfig, RADIUSD, writeTempFiles } from './harness';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

/** Writes `files` into a fresh directory and runs `radiusd -C -d` on it. */
function check(files: Record<string, string>) {
  const dir = writeTempFiles('check', files);
  dirs.push(dir);
  return { dir, ...checkConfig(dir) };
}

const SITE = (body: string) => `
server default {
	namespace = radius
	listen {
		type = Access-Request
		udp {
			ipaddr = 127.0.0.1
			port = 1812
		}
	}
	recv Access-Request {
${body}
	}
}
`;

const GOOD = `client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
}
modules {
	pap {
	}
}
${SITE('\t\tpap')}`;

describe('radiusd -C', () => {
  it('accepts a good configuration (exit 0, no sockets needed)', () => {
    const r = check({ 'radiusd.conf': GOOD });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Configuration appears to be OK/);
    expect(r.code).toBe(0);
  });

  it('unknown module: located, with a suggestion', () => {
    const r = check({ 'radiusd.conf': GOOD.replace('\tpap {\n\t}', '\tpapp {\n\t}') });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/radiusd\.conf\[6\]: .*unknown module "papp"; did you mean "pap"\?/);
  });

  it('a site calling a module that is not configured', () => {
    const r = check({ 'radiusd.conf': GOOD.replace('\t\tpap\n', '\t\tldap\n') });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/radiusd\.conf\[\d+\]: .*ldap/);
  });

  it('unknown attribute in a site', () => {
    const r = check({ 'radiusd.conf': GOOD.replace('\t\tpap\n', '\t\tpap\n\t\treply.No-Such-Attribute := "x"\n') });
    expect(r.code).not.toBe(0);
    const line = GOOD.replace('\t\tpap\n', '\t\tpap\n\t\treply.No-Such-Attribute := "x"\n').split('\n').findIndex((l) => l.includes('No-Such-Attribute')) + 1;
    expect(r.stderr).toMatch(new RegExp(`radiusd\\.conf\\[${line}\\]: .*No-Such-Attribute`));
  });

  it('unbalanced braces in an included file', () => {
    const r = check({
      'radiusd.conf': GOOD.replace('modules {\n\tpap {\n\t}\n}', 'modules {\n\t$INCLUDE mods-enabled/\n}'),
      'mods-enabled/pap': 'pap {\n\tnormalise = yes\n',
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/mods-enabled\/pap\[\d+\]: /);
  });

  it('bad value type', () => {
    const r = check({ 'radiusd.conf': GOOD.replace('port = 1812', 'port = eighteen') });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/radiusd\.conf\[\d+\]: server default \{ listen \} \{ udp \{ port \} \}: expected an integer, got "eighteen"/);
  });

  it('unknown top-level item and unknown server section, with suggestions', () => {
    const a = check({ 'radiusd.conf': `max_request_tme = 5\n${GOOD}` });
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(/radiusd\.conf\[1\]: main \{ max_request_tme \}: unknown item; did you mean "max_request_time"\?/);
    const b = check({ 'radiusd.conf': GOOD.replace('recv Access-Request {', 'recv Access-Requets {') });
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/radiusd\.conf\[\d+\]: server default: unknown section "recv Access-Requets"; did you mean "recv Access-Request"\?/);
  });

  it('client without a secret, listener with an unknown packet type', () => {
    const a = check({ 'radiusd.conf': GOOD.replace('\tsecret = testing123\n', '') });
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(/radiusd\.conf\[1\]: .*secret/);
    const b = check({ 'radiusd.conf': GOOD.replace('type = Access-Request', 'type = Acces-Request') });
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/radiusd\.conf\[\d+\]: .*unknown packet type "Acces-Request"; did you mean "Access-Request"\?/);
  });

  it('a missing ")" is reported on the line where it is missing', () => {
    const policy = '\t\tif (User-Name == "bob" {\n\t\t\tok\n\t\t}\n\t\tpap\n\t\tok';
    const line = GOOD.split('\n').indexOf('\t\tpap') + 1;
    const r = check({ 'radiusd.conf': GOOD.replace('\t\tpap\n', `${policy}\n`) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`radiusd\\.conf\\[${line}\\]: missing '\\)' before '\\{'`));
    const r2 = check({ 'radiusd.conf': GOOD.replace('\t\tpap\n', '\t\tif (User-Name == "bob"\n\t\tpap\n') });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(new RegExp(`radiusd\\.conf\\[${line}\\]: '\\(' is not closed`));
  });

  it('misspelt module, keyword, attribute, xlat and enumeration value in a site: located, with a suggestion', () => {
    const cases: [string, RegExp][] = [
      ['\t\tpapp', /Unknown module, policy or keyword "papp"; did you mean "pap"\?/],
      ['\t\tswich User-Name {\n\t\t}', /Unknown module, policy or keyword "swich"; did you mean "switch"\?/],
      ['\t\trejet', /Unknown module, policy or keyword "rejet"; did you mean "reject"\?/],
      ['\t\treply.Reply-Mesage := "x"', /Unknown attribute "Reply-Mesage".*; did you mean "Reply-Message"\?/],
      ['\t\tif (Usr-Name == "x") {\n\t\t\tok\n\t\t}', /Unknown attribute "Usr-Name"; did you mean "User-Name"\?/],
      ['\t\treply.Reply-Message := "%str.uper(\'x\')"', /Unknown expansion function %str\.uper\(\); did you mean "str\.upper"\?/],
      ['\t\tif (Service-Type == Framed-Usr) {\n\t\t\tok\n\t\t}', /"Framed-Usr"; did you mean "Framed-User"\?/],
      ['\t\treply.Service-Type := Framed-Usr', /"Framed-Usr".*; did you mean "Framed-User"\?/],
      ['\t\treply.Cisco-AVPar := "x"', /Unknown attribute "Cisco-AVPar".*; did you mean "Cisco-AVPair"\?/],
      ['\t\tcall defualt {\n\t\t}', /unknown virtual server "defualt"; did you mean "default"\?/],
      ['\t\tmap paap "x" {\n\t\t}', /map: unknown module "paap"; did you mean "pap"\?/],
    ];
    for (const [policy, re] of cases) {
      const conf = GOOD.replace('\t\tpap\n', `${policy}\n`);
      const line = GOOD.split('\n').indexOf('\t\tpap') + 1;
      const r = check({ 'radiusd.conf': conf });
      expect(r.code, policy).toBe(1);
      expect(r.stderr, policy).toMatch(new RegExp(`radiusd\\.conf\\[${line}\\]: .*${re.source}`));
    }
  });

  it('misspelt attribute and enumeration value in the users file: located, with a suggestion', () => {
    const withUsers = (users: string) => ({
      'radiusd.conf': GOOD.replace('\tpap {\n\t}', '\tpap {\n\t}\n\tfiles {\n\t\tfilename = ${confdir}/users\n\t}').replace('\t\tpap\n', '\t\tfiles\n\t\tpap\n'),
      users,
    });
    const a = check(withUsers('bob Cleartext-Pasword := "hello"\n'));
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/users\[1\]: .*Unknown attribute "Cleartext-Pasword"; did you mean "Cleartext-Password"\?/);
    const b = check(withUsers('bob Cleartext-Password := "hello"\n\tService-Type = Framed-Usr\n'));
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/users\[2\]: .*Framed-Usr.*; did you mean "Framed-User"\?/);
  });

  it('the embedded default configuration checks clean', () => {
    const r = checkConfig(path.resolve(__dirname, '..', '..', 'raddb'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

/**
 * `radiusd -C` fails exactly when start-up does, with the same located message: each probe is
 * checked with `-C` and then started in the foreground (`-f -t`), which must exit non-zero
 * before serving.
 */
describe('radiusd -C agrees with start-up', () => {
  const withUsers = (users: string) => ({
    'radiusd.conf': GOOD.replace('\tpap {\n\t}', '\tpap {\n\t}\n\tfiles {\n\t\tfilename = ${confdir}/users\n\t}').replace('\t\tpap\n', '\t\tfiles\n\t\tpap\n').replace('port = 1812', 'port = 0'),
    users,
  });
  const start = (dir: string) => {
    const r = spawnSync(process.execPath, [RADIUSD, '-f', '-t', '-d', dir], { encoding: 'utf8', timeout: 30000 });
    return { code: r.status, out: r.stdout + r.stderr };
  };
  const probes: [string, Record<string, string>, RegExp][] = [
    ['a bare CR and a stray byte in the users file', withUsers('\r\xef'), /users\[1\]: reply items without an entry/],
    ['a bad IP address in the users file', withUsers('bob Cleartext-Password := "x"\n\tFramed-IP-Address := 300.1.2.3\n'), /users\[2\]: Framed-IP-Address := 300\.1\.2\.3: .*IPv4/],
    ['an attr_filter file naming an unknown attribute', {
      'radiusd.conf': GOOD.replace('\tpap {\n\t}', '\tpap {\n\t}\n\tattr_filter {\n\t\tfilename = ${confdir}/filter\n\t}').replace('port = 1812', 'port = 0'),
      filter: 'DEFAULT\n\tReply-Mesage =* ANY\n',
    }, /filter\[2\]: .*Reply-Mesage/],
    ['an empty radiusd.conf', { 'radiusd.conf': '' }, /radiusd\.conf\[\d+\]: main: no "server NAME .*nothing to serve/],
  ];
  for (const [name, files, re] of probes) {
    it(name, () => {
      const r = check(files);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(re);
      const s = start(r.dir);
      expect(s.out).not.toMatch(/Ready to process requests/);
      expect(s.out).toMatch(re);
      expect(s.code).not.toBe(0);
      expect(s.out).not.toMatch(/TypeError|Cannot read properties|at .*\.js:\d+/);
    });
  }
  it('users file with binary bytes in the middle (written as bytes, not text)', () => {
    const dir = writeTempFiles('check', withUsers(''));
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, 'users'), Buffer.from('bob Cleartext-Password := "x"\n\r\xef\n', 'latin1'));
    const c = checkConfig(dir);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/users\[2\]: /);
    const s = start(dir);
    expect(s.code).not.toBe(0);
    expect(s.out).toMatch(/users\[2\]: /);
  });
});

