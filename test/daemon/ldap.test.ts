/**
 * radiusd with the ldap module against the test's own slapd, driven by Debian's radtest: PAP
 * with the directory's {SSHA} password (pap), CHAP with a cleartext one (chap), bind
 * authentication (Auth-Type ldap), a group check with %ldap.group() and a rate-plan profile.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../interop/freeradius';
import { startSlapd, type Slapd } from '../support/slapd';
import { fixtureLdif, moduleBody, PASSWORDS } from '../../modules/ldap/fixture';
import { run, startDaemon, tempDir, type Daemon } from './harness';

describe('radiusd + ldap (Debian radtest as the NAS)', () => {
  let dir: Slapd;
  let d: Daemon;
  let conf: string;
  let port: number;
  beforeAll(async () => {
    dir = await startSlapd({ ldif: fixtureLdif() });
    [port] = await freePorts(1);
    conf = tempDir('ldap-daemon');
    fs.writeFileSync(`${conf}/radiusd.conf`, `confdir = .
log {
	destination = stdout
}
security {
	reject_delay = 0
}
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
	require_message_authenticator = no
}
modules {
	ldap {
${moduleBody([dir.url])}
	}
	ldap ldap_clear {
${moduleBody([dir.url]).replace("control.Password.With-Header += 'userPassword'", "control.Password.Cleartext := 'userPassword'")}
	}
	pap {
	}
	chap {
	}
}
server default {
	namespace = radius
	listen auth {
		type = Access-Request
		udp {
			ipaddr = 127.0.0.1
			port = ${port}
		}
	}
	recv Access-Request {
		if (CHAP-Password) {
			ldap_clear
			chap
		}
		else {
			ldap
			if (User-Name == "jane") {
				control.Auth-Type := ::LDAP
			}
			else {
				pap
			}
		}
		if (%ldap.group('staff')) {
			reply.Callback-Id := "staff"
		}
	}
	authenticate pap {
		pap
	}
	authenticate chap {
		chap
	}
	authenticate ldap {
		ldap
	}
}
`);
    d = await startDaemon(['-d', conf, '-f']);
  }, 60_000);
  afterAll(async () => {
    if (d) expect(await d.stop()).toBe(0);
    await dir?.stop();
    if (conf) fs.rmSync(conf, { recursive: true, force: true });
  });

  const radtest = (user: string, pw: string, extra: string[] = []) =>
    run('/usr/bin/radtest', [...extra, user, pw, `127.0.0.1:${port}`, '0', 'testing123']);

  it('PAP against the userPassword {SSHA}, with the profile and the group in the reply', async () => {
    const ok = await radtest('john', PASSWORDS.john);
    expect(ok.stdout).toMatch(/Received Access-Accept/);
    expect(ok.stdout).toMatch(/Session-Timeout = 7200/);
    expect(ok.stdout).toMatch(/Idle-Timeout = 600/);
    expect(ok.stdout).toMatch(/Reply-Message = "gold plan"/);
    expect(ok.stdout).toMatch(/Callback-Id = "staff"/);
    expect((await radtest('john', 'wrong')).stdout).toMatch(/Received Access-Reject/);
    expect((await radtest('eve', PASSWORDS.eve)).stdout).toMatch(/Received Access-Reject/);
    expect((await radtest('*', 'x')).stdout).toMatch(/Received Access-Reject/);
  });

  it('CHAP against a cleartext userPassword', async () => {
    const ok = await radtest('clara', PASSWORDS.clara, ['-t', 'chap']);
    expect(ok.stdout).toMatch(/Received Access-Accept/);
    expect((await radtest('clara', 'wrong', ['-t', 'chap'])).stdout).toMatch(/Received Access-Reject/);
  });

  it('bind authentication (Auth-Type ldap)', async () => {
    const ok = await radtest('jane', PASSWORDS.jane);
    expect(ok.stdout).toMatch(/Received Access-Accept/);
    expect(ok.stdout).not.toMatch(/Callback-Id/);
    expect((await radtest('jane', 'wrong')).stdout).toMatch(/Received Access-Reject/);
    expect(d.output()).not.toContain(PASSWORDS.jane);
  });
});
