/**
 * `radiusd -C` on broken configurations prints `file[line]: …` and exits non-zero; on a good
 * one it exits 0 without opening sockets.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfig, writeTempFiles } from './harness';

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

  it('the embedded default configuration checks clean', () => {
    const r = checkConfig(path.resolve(__dirname, '..', '..', 'raddb'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
