/**
 * `map ldap "ldap:///…" { attr op 'ldapAttr' … }` inside an in-process Server against the test's own slapd:
 * fields from several entries, operational attributes (entryDN), notfound, and values expanded into the URL
 * filter-escaped (an injection attempt finds nothing).
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLogger, printPairList, Server } from '../../core';
import { BUILTIN_MODULES } from '../../test/support/builtins';
import { startSlapd, type Slapd } from '../../test/support/slapd';
import { BASE, fixtureLdif } from './fixture';

function config(url: string): string {
  return `
modules {
	ldap {
		server = '${url}'
		identity = 'cn=admin,${BASE}'
		password = secret
		base_dn = '${BASE}'
		user {
			base_dn = "ou=people,\${..base_dn}"
		}
	}
}
server default {
	namespace = radius
	recv Access-Request {
		if (User-Name == 'profiles') {
			map ldap "ldap:///ou=profiles,${BASE}??one?(objectClass=radiusObjectProfile)" {
				reply.Idle-Timeout := 'radiusIdleTimeout'
				reply.Filter-Id += 'entryDN'
				reply.Reply-Message := 'RADIUSREPLYATTRIBUTE'
			}
		}
		else {
			map ldap "ldap:///ou=people,${BASE}?cn,sn?sub?(uid=%{User-Name})" {
				reply.Reply-Message := 'cn'
				reply.Filter-Id := 'sn'
			}
		}
		if (updated) {
			reply.Class := 'updated'
		}
		elsif (notfound) {
			reply.Class := 'notfound'
		}
		control.Auth-Type := ::Accept
	}
}
`;
}

describe('map ldap', () => {
  let dir: Slapd;
  let tmp: string;
  let server: Server;
  beforeAll(async () => {
    dir = await startSlapd({ ldif: fixtureLdif() });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-ldapmap-'));
    const file = path.join(tmp, 'radiusd.conf');
    fs.writeFileSync(file, config(dir.url));
    server = new Server({ file, log: new MemoryLogger(), modules: BUILTIN_MODULES });
    await server.start();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await dir?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const ask = async (user: string) => {
    const r = await server.inject('default', { code: 'Access-Request', pairs: `User-Name = "${user.replace(/["\\]/g, '\\$&')}"` });
    return printPairList(r.pairs);
  };

  it('assigns the attributes of the entry found', async () => {
    const reply = await ask('john');
    expect(reply).toContain('Reply-Message = "John"');
    expect(reply).toContain('Filter-Id = "Smith"');
    expect(reply).toContain('Class = 0x75706461746564'); // "updated"
  });

  it('collects the values of every entry; field names are case-insensitive; entryDN is the DN', async () => {
    const reply = await ask('profiles');
    expect(reply).toContain('Idle-Timeout = 600');
    expect(reply).toContain(`Filter-Id = "cn=default,ou=profiles,${BASE}"`);
    expect(reply).toContain(`Filter-Id = "cn=gold,ou=profiles,${BASE}"`);
    expect(reply).toContain('Reply-Message = "Reply-Message := \\"gold plan\\""');
  });

  it('returns notfound when nothing matches, and escapes values expanded into the filter', async () => {
    expect(await ask('nobody')).toContain('Class = 0x6e6f74666f756e64'); // "notfound"
    // Unescaped, "*" would match every user and ")(uid=john" would rewrite the filter.
    expect(await ask('*')).toContain('Class = 0x6e6f74666f756e64');
    const inj = await ask('x)(uid=john');
    expect(inj).toContain('Class = 0x6e6f74666f756e64');
    expect(inj).not.toContain('Reply-Message');
  });
});
