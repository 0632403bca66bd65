/**
 * `map ldap "ldap:///…" { attr op 'ldapAttr' … }` inside an in-process Server against the test's own slapd:
 * fields from several entries, operational attributes (entryDN), notfound, and values expanded into the URL
 * filter-escaped (an injection attempt finds nothing). And `read_clients`: a NAS known only from the directory.
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLogger, printPairList, Server } from '../../core';
import { BUILTIN_MODULES } from '../../test/support/builtins';
import { freePorts } from '../../test/interop/freeradius';
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

describe('read_clients', () => {
  let dir: Slapd;
  let tmp: string;
  let server: Server;
  let port: number;
  // Client objects in standard schema (cosine device + nis ipHost), mapped through client { attribute { } }.
  const clientsLdif = `
dn: ou=clients,${BASE}
objectClass: organizationalUnit
ou: clients

dn: cn=nas-local,ou=clients,${BASE}
objectClass: device
objectClass: ipHost
cn: nas-local
ipHostNumber: 127.0.0.1
description: from-the-directory
l: cisco
ou: no

dn: cn=nas-nosecret,ou=clients,${BASE}
objectClass: device
objectClass: ipHost
cn: nas-nosecret
ipHostNumber: 192.0.2.99
`;
  beforeAll(async () => {
    dir = await startSlapd({ ldif: fixtureLdif() + clientsLdif });
    [port] = await freePorts(1);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-ldapclients-'));
    const file = path.join(tmp, 'radiusd.conf');
    fs.writeFileSync(file, `
modules {
	ldap {
		server = '${dir.url}'
		identity = 'cn=admin,${BASE}'
		password = secret
		base_dn = '${BASE}'
		read_clients = yes
		client {
			base_dn = "ou=clients,\${..base_dn}"
			filter = '(objectClass=ipHost)'
			scope = one
			attribute {
				ipaddr = 'ipHostNumber'
				secret = 'description'
				shortname = 'cn'
				nas_type = 'l'
				require_message_authenticator = 'ou'
			}
		}
	}
}
server default {
	namespace = radius
	listen {
		type = Access-Request
		transport = udp
		udp {
			ipaddr = 127.0.0.1
			port = ${port}
		}
	}
	recv Access-Request {
		reply.Reply-Message := "hello %{Client-Shortname}"
		control.Auth-Type := ::Accept
	}
}
`);
    server = new Server({ file, log: new MemoryLogger(), modules: BUILTIN_MODULES });
    await server.start();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await dir?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  // Asynchronous: the server runs in this process and must keep answering while radclient waits.
  const radclient = (secret: string) => new Promise<string>((resolve) => {
    const p = spawn('radclient', ['-x', '-r', '1', '-t', '2', `127.0.0.1:${port}`, 'auth', secret]);
    let out = '';
    p.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    p.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    p.on('close', () => resolve(out));
    p.stdin.end('User-Name = "bob", User-Password = "x"\n');
  });

  it('answers a NAS known only from the directory, with the secret read from it (Debian radclient)', async () => {
    const ok = await radclient('from-the-directory');
    expect(ok).toContain('Received Access-Accept');
    expect(ok).toContain('hello nas-local');
    const bad = await radclient('not-the-secret');
    expect(bad).not.toContain('Received Access-Accept');
  }, 30_000);
});
