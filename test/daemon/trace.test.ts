/**
 * The `-X` trace of a real daemon (issue 10 §3; docs/trace.md): every request line starts with
 * `(N)` (errors too), expansions show their result, sections name their source, a module call is
 * one line with its rcode, a module's thrown error shows its stack, enumerations print as in the
 * detail file, the banner shows the configuration as sections, a socket bound to every address
 * says `to *` instead of a made-up 0.0.0.0, and a start-up error is printed once.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePorts } from '../interop/freeradius';
import { RADIUSD, radclient, startDaemon, writeTempFiles } from './harness';

const conf = (port: number) => `confdir = .
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
}
modules {
	boom {
		module = "boom.js"
	}
	files {
		filename = \${confdir}/users
	}
	pap {
	}
}
server default {
	namespace = radius
	listen {
		type = Access-Request
		type = Accounting-Request
		udp {
			ipaddr = *
			port = ${port}
		}
	}
	recv Access-Request {
		reply.Reply-Message := "hi %{User-Name}"
		boom {
			fail = 1
		}
		files
		pap
	}
	authenticate pap {
		pap
	}
	recv Accounting-Request {
		ok
	}
}
`;

const BOOM = `'use strict';
class Boom {
  explode() { throw new Error('kaboom from the module'); }
}
module.exports = { name: 'boom', kind: 'rlm', config: { kind: 'section', allowUnknown: false, fields: {} }, impl: Boom, methods: { 'recv Access-Request': 'explode' } };
`;

describe('radiusd -X trace', () => {
  it('shows expansions, sources, one line per module call, stacks, (N) on every line', async () => {
    const [port] = await freePorts(1);
    const dir = writeTempFiles('trace', { 'radiusd.conf': conf(port), 'boom.js': BOOM, users: 'bob\tPassword.Cleartext := "hello"\n' });
    const d = await startDaemon(['-X', '-d', dir]);
    try {
      const banner = d.output();
      expect(banner).toMatch(/^main \{$/m);
      expect(banner).toMatch(/^# Loading module "pap" \(.*radiusd\.conf\[13\]\)\npap \{\n\tnormalise = yes\n/m);
      expect(banner).not.toMatch(/\{"/); // no JSON lines
      expect(banner).toMatch(/listening on udp \* port \d+ \(default\.listen0\): every address; the trace shows "to \*"/);

      const mark = d.output().length;
      const r = await radclient(`127.0.0.1:${port}`, 'auth', 'testing123', 'User-Name = "bob", User-Password = "hello"\n');
      expect(r.stdout).toMatch(/Received Access-Accept/);
      await d.waitFor(/Sending Access-Accept/, 10000, mark);
      const acct = await radclient(`127.0.0.1:${port}`, 'acct', 'testing123', 'User-Name = "bob", Acct-Status-Type = Start, Acct-Session-Id = "s1"\n');
      expect(acct.stdout).toMatch(/Received Accounting-Response/);
      await d.waitFor(/Sending Accounting-Response/, 10000, mark);
      const trace = d.output().slice(mark);
      const lines = trace.split('\n').filter((l) => l.trim() !== '');
      // Every line of a request starts with its number, errors included.
      for (const l of lines) expect(l).toMatch(/^\(\d+\) /);
      expect(trace).toMatch(new RegExp(`^\\(0\\) Received Access-Request ID \\d+ from 127\\.0\\.0\\.1:\\d+ to \\*:${port} length \\d+`, 'm'));
      expect(trace).toMatch(/^\(0\) recv Access-Request \{ # from .*radiusd\.conf\[26\]$/m);
      expect(trace).toMatch(/^\(0\) {3}reply\.Reply-Message := "hi %\{User-Name\}"\n\(0\) {5}EXPAND hi %\{User-Name\}\n\(0\) {5}--> hi bob$/m);
      expect(trace).toMatch(/^\(0\) +Error: .*radiusd\.conf\[28\]: boom: kaboom from the module$/m);
      expect(trace).toMatch(/^\(0\) +at Boom\.explode .*boom\.js:3/m);
      expect(trace).not.toMatch(/interpret\/interpreter\.js/); // the module's frames, not the server's
      expect(trace).toMatch(/^\(0\) {3}boom \(fail\)$/m);
      expect(trace).toMatch(/^\(0\) {3}pap \(updated\)$/m);
      expect(trace).not.toMatch(/yielded|resumed|# pap \(updated\) →/);
      expect(trace).toMatch(/^\(0\) {3}User-Password = <hidden>$/m);
      expect(trace).toMatch(/^\(1\) {3}Acct-Status-Type = Start$/m); // as in the detail file, not ::Start
      expect(trace).toMatch(/^\(0\) {3}EXPAND %\{Stripped-User-Name \|\| User-Name\}\n\(0\) {3}--> bob$/m);
    } finally {
      expect(await d.stop()).toBe(0);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60000);

  it('a start-up error is printed once', () => {
    const dir = writeTempFiles('trace-err', { 'radiusd.conf': 'confdir = .\nmodules {\n\tpapp {\n\t}\n}\n' });
    try {
      const r = spawnSync(process.execPath, [RADIUSD, '-X', '-d', dir], { encoding: 'utf8', timeout: 30000 });
      const all = r.stdout + r.stderr;
      expect(r.status).toBe(1);
      expect(all.split('unknown module "papp"').length - 1).toBe(1);
      expect(all).toContain(`${path.join(dir, 'radiusd.conf')}[3]`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
