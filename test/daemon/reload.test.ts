/**
 * Reload of a running daemon: SIGHUP, the flag file, a rejected broken configuration (the
 * old one keeps serving), a listener added by a reload, and the stats file (SIGUSR1).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonForSuite, radclient, sleep } from './harness';

// Random ports, so parallel test files and other daemons on the machine do not collide.
const PORT = 21000 + 2 * Math.floor(Math.random() * 10000);
const PORT2 = PORT + 1;

const conf = (extraListen = '', extraModule = '') => `confdir = .
run_dir = \${confdir}/run
reload {
	flag_file = \${run_dir}/reload.flag
	check_interval = 100ms
}
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
}
modules {
	files {
		filename = \${confdir}/users
	}
	pap {
	}
${extraModule}
}
server default {
	namespace = radius
	listen {
		type = Access-Request
		type = Status-Server
		udp {
			ipaddr = 127.0.0.1
			port = ${PORT}
		}
	}
${extraListen}
	recv Access-Request {
		files
		pap
	}
	authenticate pap {
		pap
	}
	send Access-Accept {
		reply.Reply-Message := "gen %{User-Name}"
	}
}
`;

async function auth(port: number, user: string, pass: string): Promise<string> {
  const r = await radclient(`127.0.0.1:${port}`, 'auth', 'testing123', `User-Name = "${user}", User-Password = "${pass}"\n`, ['-r', '1', '-t', '3']);
  const m = /Received (Access-\w+)/.exec(r.stdout);
  return m ? m[1] : 'no reply';
}

describe('reload', () => {
  const s = daemonForSuite('reload', { 'radiusd.conf': conf(), users: 'bob\tCleartext-Password := "hello"\n' });

  it('SIGHUP: a changed users file is picked up', async () => {
    expect(await auth(PORT, 'bob', 'hello')).toBe('Access-Accept');
    expect(await auth(PORT, 'carol', 'secret')).toBe('Access-Reject');
    fs.appendFileSync(path.join(s.dir, 'users'), 'carol\tCleartext-Password := "secret"\n');
    const mark = s.d.output().length;
    s.d.signal('SIGHUP');
    await s.d.waitFor(/generation 2 is serving/, 10000, mark);
    expect(await auth(PORT, 'carol', 'secret')).toBe('Access-Accept');
    expect(await auth(PORT, 'bob', 'hello')).toBe('Access-Accept');
  });

  it('flag file: a broken configuration is rejected with a located error, the old one keeps serving', async () => {
    fs.writeFileSync(path.join(s.dir, 'radiusd.conf'), conf('', '\tpapp {\n\t}\n'));
    const mark = s.d.output().length;
    const flag = path.join(s.dir, 'run', 'reload.flag');
    fs.writeFileSync(flag, '');
    const line = await s.d.waitFor(/configuration rejected[^\n]*/, 10000, mark);
    expect(line).toMatch(/radiusd\.conf\[\d+\]: modules \{ papp \}: unknown module "papp"; did you mean "pap"\?/);
    expect(fs.existsSync(flag)).toBe(false);
    expect(await auth(PORT, 'bob', 'hello')).toBe('Access-Accept');
    expect(await auth(PORT, 'carol', 'secret')).toBe('Access-Accept');
  });

  it('a reload that adds a listener binds it and keeps the old socket', async () => {
    expect(await auth(PORT2, 'bob', 'hello')).toBe('no reply');
    fs.writeFileSync(path.join(s.dir, 'radiusd.conf'), conf(`\tlisten second {\n\t\ttype = Access-Request\n\t\tudp {\n\t\t\tipaddr = 127.0.0.1\n\t\t\tport = ${PORT2}\n\t\t}\n\t}\n`));
    const mark = s.d.output().length;
    fs.writeFileSync(path.join(s.dir, 'run', 'reload.flag'), '');
    await s.d.waitFor(/generation \d+ is serving \(1 server\(s\), 2 listener\(s\)\)/, 10000, mark);
    expect(await auth(PORT2, 'bob', 'hello')).toBe('Access-Accept');
    expect(await auth(PORT, 'bob', 'hello')).toBe('Access-Accept');
  });

  it('SIGUSR1 writes the stats file (counters; reload counts when single-process)', async () => {
    const file = path.join(s.dir, 'run', 'radiusd.stats.json');
    s.d.signal('SIGUSR1');
    for (let i = 0; i < 50 && !fs.existsSync(file); i++) await sleep(100);
    const stats = JSON.parse(fs.readFileSync(file, 'utf8'));
    // One process: the server's own snapshot; under cluster workers: the primary's sum.
    if (stats.workers === undefined) expect(stats.reloads).toEqual({ ok: 2, failed: 1 });
    else expect(stats.workers).toBeGreaterThan(1);
    expect(stats.total.received).toBeGreaterThanOrEqual(8);
    expect(Object.keys(stats.listeners)).toEqual(['default.listen0', 'default.second']);
  });
});
