/**
 * The core modules through the real module loader and the unlang interpreter: config text →
 * loadModules (DI, lifecycle) → compiled policy sections → requests.
 */
import 'reflect-metadata';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigString } from '../../core';
import { findSection, type ConfSection } from '../../core';
import { createRootContainer } from '../../core';
import { loadModules, type ModuleSet } from '../../core';
import { Compiler } from '../../core';
import { runSection } from '../../core';
import { printPairList } from '../../core';
import { makeRequest, memoryLogger, testDict } from '../../test/support/module-call';
import always from '../always';
import attrFilter from '../attr_filter';
import chap from '../chap';
import delay from '../delay';
import detail from '../detail';
import files from '../files';
import linelog from '../linelog';
import pap from '../pap';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modules-int-'));
let mods: ModuleSet;
let compiler: Compiler;
let server: ConfSection;

beforeAll(async () => {
  fs.writeFileSync(path.join(dir, 'users'), `bob	Password.Cleartext := "hello"
	Framed-IP-Address := 192.0.2.10,
	Session-Timeout := 3600,
	Reply-Message := "Hi %{User-Name}"
alice	Cleartext-Password := "wonderland"
`);
  fs.writeFileSync(path.join(dir, 'reject-filter'), 'DEFAULT\n\tReply-Message =* ANY\n');
  const conf = parseConfigString(`confdir = ${dir}
modules {
	always ok_mod {
		rcode = ok
	}
	files {
		filename = \${confdir}/users
	}
	pap {
	}
	chap {
	}
	detail {
		filename = \${confdir}/radacct/%{Packet-Src-IP-Address || 'unknown'}/detail-%Y%m%d
	}
	linelog {
		filename = \${confdir}/auth.log
		reference = "messages.%{reply.Packet-Type || 'default'}"
		messages {
			default = "login %{User-Name}"
		}
	}
	attr_filter access_reject {
		filename = \${confdir}/reject-filter
	}
	delay delay_reject {
		delay = 20ms
		relative = yes
	}
}
server default {
	recv Access-Request {
		files
		chap
		pap
	}
	authenticate pap {
		pap
	}
	authenticate chap {
		chap
	}
	send Access-Accept {
		linelog
	}
	send Access-Reject {
		access_reject
		delay_reject
	}
	recv Accounting-Request {
		detail
		ok_mod
	}
}
`, path.join(dir, 'radiusd.conf'));
  const dict = testDict();
  const root = createRootContainer({ dict, log: memoryLogger() });
  mods = await loadModules({
    section: findSection(conf, 'modules'), root, registry: [always, attrFilter, chap, delay, detail, files, linelog, pap],
  });
  compiler = new Compiler({ dict, xlats: mods.xlats, modules: mods.modules });
  server = findSection(conf, 'server', 'default')!;
});
afterAll(async () => {
  await mods?.detachAll();
  fs.rmSync(dir, { recursive: true, force: true });
});

const run = (name1: string, name2: string, r: ReturnType<typeof makeRequest>) =>
  runSection(compiler.compileSection(findSection(server, name1, name2)!), r);

describe('core modules through the loader and the interpreter', () => {
  it('files + pap: bob is accepted with his reply items', async () => {
    const r = makeRequest('User-Name = "bob", User-Password = "hello"');
    expect(await run('recv', 'Access-Request', r)).toBe('updated');
    expect(printPairList(r.control)).toContain('Auth-Type = ::PAP');
    expect(await run('authenticate', 'pap', r)).toBe('ok');
    expect(printPairList(r.reply)).toBe('Framed-IP-Address = 192.0.2.10, Session-Timeout = 3600, Reply-Message = "Hi bob"');
    await run('send', 'Access-Accept', r);
    expect(fs.readFileSync(path.join(dir, 'auth.log'), 'utf8')).toBe('login bob\n');
  });
  it('files + pap: wrong password rejects; attr_filter and delay in send Access-Reject', async () => {
    const r = makeRequest('User-Name = "alice", User-Password = "nope"');
    await run('recv', 'Access-Request', r);
    expect(await run('authenticate', 'pap', r)).toBe('reject');
    r.reply.push(...makeRequest('Reply-Message = "bad", Session-Timeout = 1').request);
    const t0 = Date.now();
    await run('send', 'Access-Reject', r);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(15);
    expect(printPairList(r.reply)).toBe('Reply-Message = "bad"');
  });
  it('files + chap with CHAP-Challenge', async () => {
    const challenge = crypto.randomBytes(16);
    const resp = Buffer.concat([Buffer.from([5]), crypto.createHash('md5').update(Buffer.from([5])).update('wonderland').update(challenge).digest()]);
    const r = makeRequest(`User-Name = "alice", CHAP-Password = 0x${resp.toString('hex')}, CHAP-Challenge = 0x${challenge.toString('hex')}`);
    await run('recv', 'Access-Request', r);
    expect(printPairList(r.control)).toContain('Auth-Type = ::CHAP');
    expect(await run('authenticate', 'chap', r)).toBe('ok');
  });
  it('detail: the accounting record is on disk when the section finishes', async () => {
    const r = makeRequest('Acct-Status-Type = Start, User-Name = "bob", Acct-Session-Id = "42", Packet-Src-IP-Address = 192.0.2.1', { code: 4 });
    expect(await run('recv', 'Accounting-Request', r)).toBe('ok');
    const sub = path.join(dir, 'radacct', '192.0.2.1');
    const [f] = fs.readdirSync(sub);
    expect(fs.readFileSync(path.join(sub, f), 'utf8')).toContain('\tAcct-Session-Id = "42"\n\tTimestamp = ');
  });
});
