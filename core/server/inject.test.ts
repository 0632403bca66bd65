/**
 * `Server.inject`: requests run in-process through a site, with no packet encoded or decoded.
 * The sockets are replaced by inert listeners (`createListener`), so nothing here touches the
 * network: every answer below comes from inject alone.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../log/memory';
import { inertListener } from '../../test/support/listen';
import { printPair } from '../pair/text';
import { Server } from './server';
import { BUILTIN_MODULES } from '../../test/support/builtins';

const ROOT = path.resolve(__dirname, '..', '..');

let server: Server | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A copy of the embedded raddb/ + sites/ (the example module loaded from its sources). */
function embeddedConfig(): string {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-inject-'));
  fs.cpSync(path.join(ROOT, 'raddb'), path.join(dir, 'raddb'), { recursive: true, filter: (src) => !src.includes(`${path.sep}var`) });
  fs.cpSync(path.join(ROOT, 'sites'), path.join(dir, 'sites'), { recursive: true });
  const mymod = path.join(dir, 'raddb', 'mods-enabled', 'mymod');
  fs.writeFileSync(mymod, fs.readFileSync(mymod, 'utf8').replace(/module = "[^"]*"/, `module = "${path.join(ROOT, 'examples', 'mymod', 'index.ts')}"`));
  return path.join(dir, 'raddb', 'radiusd.conf');
}

const pairsText = (pairs: readonly import('../pair/pair').Pair[]) => pairs.map((p) => printPair(p));

describe('Server.inject', () => {
  it('runs an Access-Request through the embedded default site: bob/hello → Accept, a wrong password → Reject', async () => {
    server = new Server({ modules: BUILTIN_MODULES, file: embeddedConfig(), log: new MemoryLogger(), triggers: false, createListener: inertListener });
    await server.start();

    const ok = await server.inject('default', { code: 'Access-Request', pairs: 'User-Name = "bob", User-Password = "hello"' });
    expect([ok.code, ok.name]).toEqual([2, 'Access-Accept']);
    const text = pairsText(ok.pairs);
    expect(text).toContain('Reply-Message = "Hello, bob"');
    expect(text.some((t) => t.startsWith('Framed-IP-Address = '))).toBe(true);
    expect(text.some((t) => t.startsWith('Packet-Type'))).toBe(false); // internal attributes stay out

    const bad = await server.inject('default', { code: 1, pairs: 'User-Name = "bob", User-Password = "wrong"', src: { address: '192.0.2.7', port: 4000 }, client: 'nas7' });
    expect([bad.code, bad.name]).toEqual([3, 'Access-Reject']);
    // The request list got the same internal attributes as a packet from that address.
    const req = pairsText(bad.request.request);
    expect(req).toContain('Packet-Src-IP-Address = 192.0.2.7');
    expect(req).toContain('Client-Shortname = "nas7"');

    // Counted like packets, under the pseudo-listener "inject".
    const st = server.stats();
    expect(st.listeners.inject).toEqual({ received: 2, processed: 2, replied: 2, no_reply: 0 });
    expect(st.total.received).toBe(2);
  });

  it('injectWith: the callback runs once, before it returns when the site does not yield; errors come through it too', async () => {
    server = new Server({ modules: BUILTIN_MODULES, file: embeddedConfig(), log: new MemoryLogger(), triggers: false, createListener: inertListener });
    await server.start();
    const calls: [string | undefined, number | null | undefined][] = [];
    server.injectWith('default', { code: 'Access-Request', pairs: 'User-Name = "bob", User-Password = "hello"' }, (err, reply) => calls.push([err?.message, reply?.code]));
    // The embedded default site answers bob from files + pap without yielding… unless its SQL or pool modules
    // yield; then the answer comes later. Either way, exactly once.
    for (let i = 0; i < 500 && calls.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(calls).toEqual([[undefined, 2]]);
    server.injectWith('nosuch', { code: 'Access-Request' }, (err, reply) => calls.push([err?.message, reply?.code]));
    expect(calls[1]?.[0]).toMatch(/no server "nosuch"/); // synchronously
    await new Promise((r) => setTimeout(r, 20));
    expect(calls.length).toBe(2);
  });

  it('rejects unknown sites, packet names and attributes with a reason', async () => {
    server = new Server({ modules: BUILTIN_MODULES, file: embeddedConfig(), log: new MemoryLogger(), triggers: false, createListener: inertListener });
    await server.start();
    await expect(server.inject('nosuch', { code: 'Access-Request' })).rejects.toThrow(/no server "nosuch" \(have default, /);
    await expect(server.inject('default', { code: 'Access-Requets' })).rejects.toThrow(/unknown request type "Access-Requets"/);
    await expect(server.inject('default', { code: 'Access-Request', pairs: 'No-Such-Attr = 1' })).rejects.toThrow(/server default: .*No-Such-Attr/);
    await server.stop();
    await expect(server.inject('default', { code: 'Access-Request' })).rejects.toThrow(/not running/);
  });
});

/** A site whose `send Access-Accept` yields in mymod for `delay`. */
function slowConf(message: string, delay: string, maxRequestTime = 30): string {
  return `confdir = .
max_request_time = ${maxRequestTime}
modules {
	files {
		filename = \${confdir}/users
	}
	pap {
	}
	mymod greeter {
		module = "${path.join(ROOT, 'examples', 'mymod', 'index.ts')}"
		message = "${message}"
		delay = ${delay}
	}
}
server default {
	namespace = radius
	listen {
		type = Access-Request
		udp {
			ipaddr = 127.0.0.1
			port = 1812
		}
	}
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

function writeSlow(text: string): string {
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-inject-'));
  fs.writeFileSync(path.join(dir, 'users'), 'bob\tCleartext-Password := "hello"\n');
  const file = path.join(dir, 'radiusd.conf');
  fs.writeFileSync(file, text);
  return file;
}

describe('Server.inject and the generation lifecycle', () => {
  it('an injected request in flight finishes on its generation across a reload; the next one uses the new generation', async () => {
    const file = writeSlow(slowConf('generation one', '400ms'));
    server = new Server({ modules: BUILTIN_MODULES, file, log: new MemoryLogger(), triggers: false, createListener: inertListener });
    await server.start();
    const gen1 = server.generation!;
    const inflight = server.inject('default', { code: 'Access-Request', pairs: 'User-Name = "bob", User-Password = "hello"' });
    await new Promise((r) => setTimeout(r, 50));
    fs.writeFileSync(file, slowConf('generation two', '0'));
    expect(await server.reload()).toBe(true);
    // The old generation is not detached while its injected request runs.
    expect(gen1.modules.get('greeter')!.state).toBe('instantiated');
    const a = await inflight;
    expect(a.name).toBe('Access-Accept');
    expect(pairsText(a.pairs)).toEqual(['Reply-Message = "generation one"']);
    const b = await server.inject('default', { code: 'Access-Request', pairs: 'User-Name = "bob", User-Password = "hello"' });
    expect(pairsText(b.pairs)).toEqual(['Reply-Message = "generation two"']);
    await new Promise((r) => setTimeout(r, 50));
    expect(gen1.modules.get('greeter')!.state).toBe('detached');
  });

  it('max_request_time cancels a stuck injected request: no reply, counted as no_reply', async () => {
    const file = writeSlow(slowConf('slow', '20s', 1));
    server = new Server({ modules: BUILTIN_MODULES, file, log: new MemoryLogger(), triggers: false, createListener: inertListener });
    await server.start();
    const r = await server.inject('default', { code: 'Access-Request', pairs: 'User-Name = "bob", User-Password = "hello"' });
    expect(r.code).toBeNull();
    expect(r.name).toBe('Do-Not-Respond');
    expect(server.stats().listeners.inject).toMatchObject({ received: 1, no_reply: 1, replied: 0 });
  });

  it('an AbortSignal cancels an injected request', async () => {
    const file = writeSlow(slowConf('slow', '20s'));
    server = new Server({ modules: BUILTIN_MODULES, file, log: new MemoryLogger(), triggers: false, createListener: inertListener });
    await server.start();
    const ac = new AbortController();
    const p = server.inject('default', { code: 'Access-Request', pairs: 'User-Name = "bob", User-Password = "hello"', signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    expect((await p).code).toBeNull();
  });
});
