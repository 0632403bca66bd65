/**
 * `radiusd -C` reports back-ends that do not answer (ldap, sql with PostgreSQL) as located
 * warnings and still passes: a directory or database that is down while the configuration is
 * checked is not a configuration error (start-up does not fail on it either). With the test's own
 * slapd and PostgreSQL up, the same configurations check clean, without a warning.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../interop/freeradius';
import { startSlapd, type Slapd } from '../support/slapd';
import { startPostgres, type PgServer } from '../support/postgres';
import { checkConfig, writeTempFiles } from './harness';

const dirs: string[] = [];
let slapd: Slapd;
let pg: PgServer;
let closed = 0;

beforeAll(async () => {
  [slapd, pg] = await Promise.all([startSlapd(), startPostgres()]);
  [closed] = await freePorts(1);
}, 120_000);
afterAll(async () => {
  await Promise.all([slapd?.stop(), pg?.stop()]);
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const conf = (modules: string) => `client localhost {
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
			port = 0
		}
	}
	recv Access-Request {
		ok
	}
}
`;

const ldap = (port: number) => `\tldap {\n\t\tserver = "ldap://127.0.0.1:${port}"\n\t\tbase_dn = "dc=example,dc=com"\n\t\toptions {\n\t\t\tinstantiate_timeout = 0\n\t\t}\n\t}`;
const sql = (port: number) => `\tsql {\n\t\tdriver = postgresql\n\t\tdialect = postgresql\n\t\tserver = "127.0.0.1:${port}"\n\t\tlogin = postgres\n\t\tradius_db = radius\n\t\tpool {\n\t\t\tstart = 0\n\t\t}\n\t}`;

function check(modules: string) {
  const dir = writeTempFiles('probe', { 'radiusd.conf': conf(modules) });
  dirs.push(dir);
  return checkConfig(dir);
}

describe('radiusd -C probes back-ends (warning, not failure)', () => {
  it('ldap and sql/postgresql up: no warning', () => {
    const r = check(`${ldap(slapd.port)}\n${sql(pg.port)}`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Configuration appears to be OK/);
    expect(r.code).toBe(0);
  });

  it('ldap down: a located warning naming the server, and -C still passes', () => {
    const r = check(ldap(closed));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Configuration appears to be OK/);
    expect(r.stderr).toMatch(new RegExp(`radiusd\\.conf\\[7\\]: ldap \\{ server \\}: LDAP server ldap://127\\.0\\.0\\.1:${closed} is unreachable: .*connection refused`));
    expect(r.stderr).toMatch(/a warning: the configuration is still valid/);
  });

  it('postgresql down: a located warning naming the server, and -C still passes', () => {
    const r = check(`${ldap(slapd.port)}\n${sql(closed)}`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Configuration appears to be OK/);
    const line = conf(`${ldap(slapd.port)}\n${sql(closed)}`).split('\n').findIndex((l) => l.includes(`127.0.0.1:${closed}`)) + 1;
    expect(r.stderr).toMatch(new RegExp(`radiusd\\.conf\\[${line}\\]: sql \\{ server \\}: PostgreSQL server 127\\.0\\.0\\.1:${closed} is unreachable: .*connection refused`));
    expect(r.stderr).not.toMatch(/LDAP server/);
  });
});
