/**
 * No log injection: a User-Name carrying CR, LF, other control characters and a backslash,
 * sent by Debian's radclient to the real daemon, cannot forge a line in the server log
 * (`radius.log`), the `linelog` file (`auth.log`) or the `detail` file. Each value is written
 * escaped, FreeRADIUS style (`\n`, `\r`, `\001`; linelog and detail also double `\`).
 * Also here: a reply value too long for one attribute is truncated on the wire and the
 * truncation is logged (not cut short without a word).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../interop/freeradius';
import { radclient, sleep, startDaemon, writeTempFiles, type Daemon } from './harness';

const conf = (port: number) => `log {
	destination = files
	file = \${confdir}/radius.log
}
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
	require_message_authenticator = no
}
modules {
	linelog auth_log {
		filename = \${confdir}/auth.log
		format = "user=%{User-Name} nas=%{Packet-Src-IP-Address}"
	}
	detail {
		filename = \${confdir}/detail
	}
}
server default {
	namespace = radius
	listen {
		type = Access-Request
		type = Accounting-Request
		udp {
			ipaddr = 127.0.0.1
			port = ${port}
		}
	}
	recv Access-Request {
		%log.info("request from %{User-Name}")
		control.Auth-Type := Accept
		if (User-Name == "long") {
			reply.Reply-Message := "${'m'.repeat(297)}END"
		}
	}
	authenticate Accept {
		ok
	}
	send Access-Accept {
		auth_log
	}
	recv Accounting-Request {
		detail
	}
}
`;

/** radclient input: `bob`, LF, `forged line`, CR, 0x01, `x`, a backslash, `y`. */
const NAME = String.raw`"bob\nforged line\r\001x\\y"`;

describe('log injection through a User-Name', () => {
  let dir = '';
  let d: Daemon | undefined;
  let port = 0;
  beforeAll(async () => {
    [port] = await freePorts(1);
    dir = writeTempFiles('loginject', { 'radiusd.conf': conf(port) });
    d = await startDaemon(['-d', dir, '-f', '-t']);
    const auth = await radclient(`127.0.0.1:${port}`, 'auth', 'testing123', `User-Name = ${NAME}\n`);
    expect(auth.stdout).toMatch(/Received Access-Accept/);
    const acct = await radclient(`127.0.0.1:${port}`, 'acct', 'testing123', `User-Name = ${NAME}, Acct-Status-Type = Start, Acct-Session-Id = "s1"\n`);
    expect(acct.stdout).toMatch(/Received Accounting-Response/);
  }, 60_000);
  afterAll(async () => {
    if (d) expect(await d.stop()).toBe(0);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const read = async (name: string, re: RegExp): Promise<string> => {
    // The writers may flush just after the reply: wait (bounded) for the line to appear.
    for (let i = 0; i < 50; i++) {
      const f = path.join(dir, name);
      if (fs.existsSync(f) && re.test(fs.readFileSync(f, 'utf8'))) break;
      await sleep(100);
    }
    return fs.readFileSync(path.join(dir, name), 'utf8');
  };

  it('linelog: one line, value escaped (backslash doubled)', async () => {
    const text = await read('auth.log', /user=/);
    expect(text).toBe('user=bob\\nforged line\\r\\001x\\\\y nas=127.0.0.1\n');
  });

  it('server log: one line, control characters escaped', async () => {
    const text = await read('radius.log', /request from/);
    const lines = text.split('\n').filter((l) => l.includes('request from'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Info: \(\d+\) request from bob\\nforged line\\r\\001x\\y$/);
    expect(text).not.toMatch(/^forged line/m);
    expect(text).not.toMatch(/[\r\x01]/);
  });

  it('detail: one attribute line, value escaped', async () => {
    const text = await read('detail', /User-Name/);
    expect(text).toContain('\tUser-Name = "bob\\nforged line\\r\\001x\\\\y"\n');
    expect(text).not.toMatch(/^forged line/m);
    expect(text).not.toMatch(/[\r\x01]/);
  });

  it('a 300-byte Reply-Message arrives cut to 253 bytes and the server log says so', async () => {
    const r = await radclient(`127.0.0.1:${port}`, 'auth', 'testing123', 'User-Name = "long"\n');
    const m = /Reply-Message = "(m*)"/.exec(r.stdout);
    expect(m?.[1].length).toBe(253);
    const text = await read('radius.log', /Reply-Message is 300 bytes/);
    expect(text).toMatch(/Warning: .*Access-Accept to 127\.0\.0\.1:\d+: Reply-Message is 300 bytes, truncated to 253/);
  });
});
