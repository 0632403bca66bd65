/**
 * Issue 10 §4 in a running daemon: a module loaded by path registers `%broken.boom()`, which
 * throws. An edit expanding it fails (rcode fail): no partial Reply-Message is written, the
 * Access-Request is rejected instead of accepted, and the log names the statement and the
 * function. The same site without the failing edit accepts, so the reject is the failure's doing.
 * In a condition the failure is logged and taken as FreeRADIUS v4 does (see the tests below).
 */
import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from '../interop/freeradius';
import { radclient, startDaemon, writeTempFiles } from './harness';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

const BROKEN_JS = `'use strict';
class Broken {
  bootstrap(ctx) {
    ctx.registerXlat('broken.boom', () => { throw new Error('back-end on fire'); });
  }
}
module.exports = { name: 'broken', kind: 'rlm', config: { kind: 'section', allowUnknown: false, fields: {} }, impl: Broken, methods: {} };
`;

const conf = (port: number, edit: string) => `client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
}
modules {
	broken {
		module = "broken.js"
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
		udp {
			ipaddr = 127.0.0.1
			port = ${port}
		}
	}
	recv Access-Request {
		files
		pap
${edit}
	}
	authenticate pap {
		pap
	}
}
`;

async function ask(edit: string): Promise<{ reply: string; log: string }> {
  const [port] = await freePorts(1);
  const dir = writeTempFiles('xlat-failure', {
    'radiusd.conf': conf(port, edit),
    'broken.js': BROKEN_JS,
    users: 'bob\tCleartext-Password := "hello"\n',
  });
  dirs.push(dir);
  const d = await startDaemon(['-X', '-d', dir]);
  try {
    const r = await radclient(`127.0.0.1:${port}`, 'auth', 'testing123', 'User-Name = "bob", User-Password = "hello"\n', ['-r', '1', '-t', '3']);
    return { reply: r.stdout, log: d.output() };
  } finally {
    expect(await d.stop()).toBe(0);
  }
}

describe('a failing expansion in a running daemon', () => {
  it('without the failing edit the site accepts bob', async () => {
    const r = await ask('\t\treply.Reply-Message := "fine"');
    expect(r.reply).toMatch(/Received Access-Accept/);
    expect(r.reply).toMatch(/Reply-Message = "fine"/);
  }, 40_000);

  it('%broken.boom() throwing in an edit: fail, no partial value, Access-Reject, the log says why', async () => {
    const r = await ask('\t\treply.Reply-Message := "partial %broken.boom() value"');
    expect(r.reply).toMatch(/Received Access-Reject/);
    expect(r.reply).not.toMatch(/partial/);
    expect(r.log).toMatch(new RegExp(`radiusd\\.conf\\[\\d+\\]: reply\\.Reply-Message := .*: %broken\\.boom\\(\\) failed: back-end on fire`));
    expect(r.log).toMatch(/recv Access-Request \(fail\)/);
  }, 40_000);

  // A condition that fails is FreeRADIUS v4's: logged, then the `else` (or `elsif`) runs as if the
  // condition were false; without one the `if` gives fail at the lowest priority and the section
  // goes on (core/unlang/README.md).
  it('in a condition with an else: logged, the then-branch is not taken, the else runs', async () => {
    const r = await ask('\t\tif (%broken.boom() == "x") {\n\t\t\treply.Reply-Message := "then"\n\t\t}\n\t\telse {\n\t\t\treply.Reply-Message := "else"\n\t\t}');
    expect(r.reply).toMatch(/Received Access-Accept/);
    expect(r.reply).toMatch(/Reply-Message = "else"/);
    expect(r.reply).not.toMatch(/"then"/);
    expect(r.log).toMatch(/%broken\.boom\(\) failed: back-end on fire/);
  }, 40_000);

  it('in a condition without an else: logged, no branch runs, the section goes on', async () => {
    const r = await ask('\t\tif (%broken.boom() == "x") {\n\t\t\treply.Reply-Message := "then"\n\t\t}\n\t\treply.Reply-Message += "after"');
    expect(r.reply).toMatch(/Reply-Message = "after"/);
    expect(r.reply).not.toMatch(/"then"/);
    expect(r.log).toMatch(/%broken\.boom\(\) failed: back-end on fire/);
  }, 40_000);
});
