import * as crypto from 'node:crypto';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../log/memory';
import { parseConfigString } from '../config/parser';
import { findSection } from '../config/ast';
import { ConfError } from '../config/errors';
import { Server } from './server';
import { parseListen } from './listen-config';
import { parseMainSettings } from './settings';
import { loadGeneration } from './generation';
import { BUILTIN_MODULES } from '../../test/support/builtins';

const ROOT = path.resolve(__dirname, '..', '..');
const SECRET = 'testing123';

function conf(message: string, extra = ''): string {
  return `confdir = .
client localhost {
	ipaddr = 127.0.0.1
	secret = ${SECRET}
	require_message_authenticator = no
}
modules {
	files {
		filename = \${confdir}/users
	}
	pap {
	}
	mymod greeter {
		module = "${path.join(ROOT, 'examples', 'mymod', 'index.ts')}"
		message = "${message}"
		delay = 600ms
	}
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
${extra}
	recv Access-Request {
		files
		pap
	}
	authenticate pap {
		pap
	}
	send Access-Accept {
		greeter
	}
}
`;
}

/** A PAP Access-Request built by hand. */
function accessRequest(id: number, user: string, pass: string): Buffer {
  const attr = (t: number, v: Buffer) => Buffer.concat([Buffer.from([t, v.length + 2]), v]);
  const auth = crypto.randomBytes(16);
  const pw = Buffer.alloc(16);
  Buffer.from(pass).copy(pw);
  const b = crypto.createHash('md5').update(Buffer.concat([Buffer.from(SECRET), auth])).digest();
  for (let i = 0; i < 16; i++) pw[i] ^= b[i];
  const attrs = Buffer.concat([attr(1, Buffer.from(user)), attr(2, pw)]);
  const hdr = Buffer.alloc(20);
  hdr[0] = 1;
  hdr[1] = id;
  hdr.writeUInt16BE(20 + attrs.length, 2);
  auth.copy(hdr, 4);
  return Buffer.concat([hdr, attrs]);
}

/** Sends one packet and resolves with the reply code and Reply-Message. */
function ask(port: number, pkt: Buffer): Promise<{ code: number; message?: string }> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => { s.close(); reject(new Error('no reply')); }, 5000);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      let message: string | undefined;
      for (let p = 20; p + 1 < m.length; p += m[p + 1]) if (m[p] === 18) message = m.subarray(p + 2, p + m[p + 1]).toString();
      resolve({ code: m[0], message });
    });
    s.send(pkt, port, '127.0.0.1');
  });
}

let server: Server | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('Server reload', () => {
  it('swaps atomically: same socket, in-flight request finishes on the old generation, then old modules are detached', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-server-'));
    const file = path.join(dir, 'radiusd.conf');
    fs.writeFileSync(file, conf('generation one'));
    fs.writeFileSync(path.join(dir, 'users'), 'bob\tCleartext-Password := "hello"\n');
    const log = new MemoryLogger();
    server = new Server({ modules: BUILTIN_MODULES, file, log, triggers: false });
    await server.start();
    const [addr] = server.addresses();
    const gen1 = server.generation!;
    const listener1 = (server as unknown as { bound: Map<string, { listener: unknown }> }).bound.values().next().value!.listener;

    // A request that is still in greeter's 600 ms delay when the reload happens.
    const inflight = ask(addr.port, accessRequest(1, 'bob', 'hello'));
    await new Promise((r) => setTimeout(r, 100));
    fs.writeFileSync(file, conf('generation two'));
    expect(await server.reload()).toBe(true);
    const gen2 = server.generation!;
    expect(gen2).not.toBe(gen1);
    expect(gen2.number).toBe(gen1.number + 1);
    const listener2 = (server as unknown as { bound: Map<string, { listener: unknown }> }).bound.values().next().value!.listener;
    expect(listener2).toBe(listener1);
    expect(server.addresses()[0].port).toBe(addr.port);
    expect(gen1.modules.get('greeter')!.state).toBe('instantiated');

    const old = await inflight;
    expect(old.code).toBe(2);
    expect(old.message).toBe('generation one');
    const fresh = await ask(addr.port, accessRequest(2, 'bob', 'hello'));
    expect(fresh.message).toBe('generation two');
    await new Promise((r) => setTimeout(r, 50));
    expect(gen1.modules.get('greeter')!.state).toBe('detached');
    expect(gen2.modules.get('greeter')!.state).toBe('instantiated');
  });

  it('Access-Rejects held by reject_delay go out at once on reload and on stop', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-server-'));
    const file = path.join(dir, 'radiusd.conf');
    const text = 'security {\n\treject_delay = 10\n}\n' + conf('x');
    fs.writeFileSync(file, text);
    fs.writeFileSync(path.join(dir, 'users'), 'bob\tCleartext-Password := "hello"\n');
    const mlog = new MemoryLogger();
    server = new Server({ modules: BUILTIN_MODULES, file, log: mlog, triggers: false });
    await server.start();
    const { port } = server.addresses()[0];
    const sink = (server as unknown as { sinks: Map<string, { inFlight: number }> }).sinks.get('default')!;
    const held = ask(port, accessRequest(1, 'bob', 'wrong'));
    await new Promise((r) => setTimeout(r, 100));
    expect(sink.inFlight).toBe(1); // held by reject_delay
    expect(await server.reload()).toBe(true);
    expect((await held).code).toBe(3);

    const held2 = ask(port, accessRequest(2, 'bob', 'wrong'));
    await new Promise((r) => setTimeout(r, 100));
    const stopping = server.stop();
    expect((await held2).code).toBe(3);
    await stopping;
  });

  it('rejects a broken configuration and keeps serving the old one', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-server-'));
    const file = path.join(dir, 'radiusd.conf');
    fs.writeFileSync(file, conf('kept'));
    fs.writeFileSync(path.join(dir, 'users'), 'bob\tCleartext-Password := "hello"\n');
    const log = new MemoryLogger();
    const results: boolean[] = [];
    server = new Server({ modules: BUILTIN_MODULES, file, log, triggers: false, onReload: (ok) => results.push(ok) });
    await server.start();
    const gen1 = server.generation!;
    fs.writeFileSync(file, conf('broken', '\tsend Access-Rejct {\n\t}\n'));
    expect(await server.reload()).toBe(false);
    expect(results).toEqual([false]);
    expect(server.generation).toBe(gen1);
    expect(log.lines.some((l) => /configuration rejected.*radiusd\.conf\[\d+\]: server default: unknown section "send Access-Rejct"; did you mean "send Access-Reject"\?/.test(l.msg))).toBe(true);
    const r = await ask(server.addresses()[0].port, accessRequest(3, 'bob', 'hello'));
    expect(r.message).toBe('kept');
    expect(server.stats().reloads).toEqual({ ok: 0, failed: 1 });
  });
});

describe('configuration pieces', () => {
  const parse = (text: string) => parseConfigString(text, '/etc/raddb/radiusd.conf');

  it('listen: default ports by type, errors located with suggestions', () => {
    const root = parse('server s {\n listen acct {\n  type = Accounting-Request\n }\n listen {\n  type = CoA-Request\n  transport = tcp\n  tcp {\n   ipaddr = ::1\n  }\n }\n}\n');
    const s = findSection(root, 'server')!;
    const [a, b] = s.children.filter((c) => c.kind === 'section') as never[];
    expect(parseListen(a, 's', 0, 5)).toMatchObject({ name: 's.acct', transport: 'udp', ipaddr: '*', port: 1813, types: [4], cleanupDelay: 5 });
    expect(parseListen(b, 's', 1, 5)).toMatchObject({ name: 's.listen1', transport: 'tcp', ipaddr: '::1', port: 3799, types: [43] });
    const six = findSection(parse('listen {\n type = Access-Request\n udp {\n  ipv6addr = *\n }\n}\n'), 'listen')!;
    expect(parseListen(six, 's', 2, 5)).toMatchObject({ ipaddr: '::' }); // dual-stack, not the IPv4 wildcard
    const bad = findSection(parse('listen {\n type = Status-Sever\n}\n'), 'listen')!;
    expect(() => parseListen(bad, 's', 0, 5)).toThrow(/radiusd\.conf\[2\]: .*unknown packet type "Status-Sever"; did you mean "Status-Server"\?/);
  });

  it('top-level settings: defaults and did-you-mean', () => {
    const s = parseMainSettings(parse('max_request_time = 10\nsecurity {\n reject_delay = 0\n}\n'));
    expect(s.max_request_time).toBe(10);
    expect(s.security.reject_delay).toBe(0);
    expect(s.security.require_message_authenticator).toBe('auto');
    expect(s.reload.check_interval).toBe(5);
    expect(s.reload.interval).toBe(0);
    expect(() => parseMainSettings(parse('cleanup_dely = 3\n'))).toThrow(ConfError);
    expect(() => parseMainSettings(parse('cleanup_dely = 3\n'))).toThrow(/did you mean "cleanup_delay"/);
  });

  it('clients: server-wide BlastRADIUS defaults apply unless the client sets its own; server-local clients win', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-server-'));
    const file = path.join(dir, 'radiusd.conf');
    fs.writeFileSync(file, `security {
	require_message_authenticator = yes
}
client a {
	ipaddr = 127.0.0.1
	secret = x
}
client b {
	ipaddr = 192.0.2.0/24
	secret = y
	require_message_authenticator = no
}
server s {
	namespace = radius
	listen {
		type = Access-Request
		udp {
			port = 0
		}
	}
	client local {
		ipaddr = 127.0.0.1
		secret = z
	}
}
`);
    const gen = await loadGeneration({ modules: BUILTIN_MODULES, file, log: new MemoryLogger(), check: true });
    expect(gen.globalClients.find('127.0.0.1')!.requireMessageAuthenticator).toBe('yes');
    expect(gen.globalClients.find('192.0.2.7')!.requireMessageAuthenticator).toBe('no');
    expect(gen.clients.get('s')!.find('127.0.0.1')!.name).toBe('local');
    expect(gen.clients.get('s')!.find('192.0.2.7')!.name).toBe('b');
    await gen.modules.detachAll();
  });

  it('dictionary = DIR replaces the bundled dictionary (sites may use its attributes)', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-server-'));
    fs.mkdirSync(path.join(dir, 'dict'));
    fs.writeFileSync(path.join(dir, 'dict', 'dictionary'),
      `$INCLUDE ${path.join(ROOT, 'dictionaries', 'radius', 'dictionary')}\nATTRIBUTE Site-Local-Tag 3999 string\n`);
    const site = `server s {\n\tnamespace = radius\n\tlisten {\n\t\ttype = Access-Request\n\t\tudp {\n\t\t\tport = 0\n\t\t}\n\t}\n\trecv Access-Request {\n\t\tcontrol.Site-Local-Tag := "x"\n\t}\n}\n`;
    const file = path.join(dir, 'radiusd.conf');
    fs.writeFileSync(file, `dictionary = \${confdir}/dict\n${site}`);
    const gen = await loadGeneration({ modules: BUILTIN_MODULES, file, log: new MemoryLogger(), check: true });
    expect(gen.dict.resolve('Site-Local-Tag')).toBeDefined();
    await gen.modules.detachAll();
    fs.writeFileSync(file, site);
    await expect(loadGeneration({ modules: BUILTIN_MODULES, file, log: new MemoryLogger(), check: true })).rejects.toThrow(/radiusd\.conf\[10\]: .*Site-Local-Tag/);
  });
});
