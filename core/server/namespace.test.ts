/**
 * A namespace other than radius, registered from this file only: `test`, with one request type
 * (`Test-Request`), sections `recv Test-Request` and `send Test-Ack` / `send Test-Nak`, a
 * listener kind of its own (in memory, no socket) and a tiny state machine. core/server is not
 * edited for it: the registry is handed to the Server.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../log/memory';
import type { Rcode } from '../request/rcode';
import type { Listener, ListenerConfig, ListenerStats } from '../listen/types';
import { parsePairList } from '../pair/text';
import { Request } from '../request/request';
import { Execution } from '../unlang/interpret/interpreter';
import type { CompiledSite } from '../process/namespace';
import { RADIUS_NAMESPACE } from '../process/radius/namespace';
import { loadGeneration } from './generation';
import { NamespaceRegistry, type InjectInput, type InjectReply, type Namespace, type NamespaceListenerDeps, type SiteProcess } from '../process/namespace';
import { Server } from './server';

const TEST_REQUEST = 1;
const TEST_ACK = 2;
const TEST_NAK = 3;
const REPLY_NAMES: Record<number, string> = { [TEST_ACK]: 'Test-Ack', [TEST_NAK]: 'Test-Nak' };

/** The toy state machine: `recv Test-Request` → ok/updated/noop → Test-Ack (then `send Test-Ack`), else Test-Nak. */
class TestProcess implements SiteProcess {
  runs = 0;
  constructor(readonly site: CompiledSite) {}

  process(): undefined {
    throw new Error('the test namespace has no packets');
  }

  inject(input: InjectInput, done: (reply: InjectReply) => void): undefined {
    this.runs++;
    const req = new Request({ code: input.code, id: 0, dict: this.site.dict });
    req.request = input.pairs;
    const run = (key: string, then: (rc: Rcode | undefined) => void) => {
      const sec = this.site.sections.get(key);
      if (!sec) return then('noop');
      const ex = new Execution(sec, req);
      const rc = ex.start();
      if (rc !== undefined) then(rc);
      else void ex.promise.then(then);
    };
    run('recv Test-Request', (rc) => {
      const code = rc === 'ok' || rc === 'updated' || rc === 'noop' ? TEST_ACK : TEST_NAK;
      run(`send ${REPLY_NAMES[code]}`, () => done({ code, name: REPLY_NAMES[code], pairs: req.reply, request: req }));
    });
    return undefined;
  }
}

/** An in-memory listener: `feed()` hands a request to the site it belongs to. */
class MemoryListener implements Listener {
  static all: MemoryListener[] = [];
  started = false;
  fed = 0;
  constructor(readonly config: ListenerConfig, public deps: NamespaceListenerDeps) {
    MemoryListener.all.push(this);
  }
  async start() { this.started = true; }
  async stop() { this.started = false; }
  address() { return this.started ? { address: 'memory', port: this.config.port, family: 'memory' } : undefined; }
  stats(): ListenerStats { return { received: this.fed, processed: this.fed }; }
  update(d: Partial<NamespaceListenerDeps>) { this.deps = { ...this.deps, ...d } as NamespaceListenerDeps; }
  feed(text: string): Promise<InjectReply> {
    this.fed++;
    return new Promise((resolve) => {
      const pairs = parsePairList(text, this.deps.dict);
      this.deps.sink.inject({ code: TEST_REQUEST, pairs, received: 0, via: this.config.name }, resolve);
    });
  }
}

const processes: TestProcess[] = [];
const TEST_NAMESPACE: Namespace = {
  name: 'test',
  sections: { recv: ['Test-Request'], send: ['Test-Ack', 'Test-Nak'] },
  requestTypes: { 'Test-Request': TEST_REQUEST },
  replyName: (code) => REPLY_NAMES[code] ?? String(code),
  listen: {
    types: { 'Test-Request': TEST_REQUEST },
    defaultPort: () => 7,
    create: (config, deps) => new MemoryListener(config, deps),
  },
  createProcess: (site) => {
    const p = new TestProcess(site);
    processes.push(p);
    return p;
  },
};

const registry = () => new NamespaceRegistry([RADIUS_NAMESPACE, TEST_NAMESPACE]);

const CONF = (message: string, extra = '') => `confdir = .
server toy {
	namespace = test
	listen mem {
		type = Test-Request
	}
	recv Test-Request {
		if (User-Name == "bob") {
			ok
		}
		else {
			reject
		}
	}
	send Test-Ack {
		reply.Reply-Message := "${message} %{User-Name}"
	}
${extra}
}
`;

let server: Server | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  MemoryListener.all = [];
  processes.length = 0;
});

function writeConf(text: string): string {
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-ns-'));
  const file = path.join(dir, 'radiusd.conf');
  fs.writeFileSync(file, text);
  return file;
}

describe('namespace registry', () => {
  it('a namespace registered from outside core/server serves a site: listener, sections and state machine', async () => {
    const file = writeConf(CONF('hello'));
    server = new Server({ file, log: new MemoryLogger(), triggers: false, namespaces: registry() });
    await server.start();
    expect(server.generation!.sites.get('toy')!.namespace.name).toBe('test');
    expect(server.addresses()).toEqual([{ name: 'toy.mem', transport: 'udp', address: 'memory', port: 7 }]);

    // Through the namespace's own listener …
    const [mem] = MemoryListener.all;
    const a = await mem.feed('User-Name = "bob"');
    expect(a.name).toBe('Test-Ack');
    expect(a.pairs.map((p) => String(p.value))).toEqual(['hello bob']);
    expect((await mem.feed('User-Name = "eve"')).name).toBe('Test-Nak');

    // … and in-process, by request name.
    const b = await server.inject('toy', { code: 'Test-Request', pairs: 'User-Name = "bob"' });
    expect([b.code, b.name]).toEqual([TEST_ACK, 'Test-Ack']);
    expect(server.stats().listeners.inject).toMatchObject({ received: 1, replied: 1 });

    // A reload keeps the listener (same socket key) and points it at the new generation's process.
    writeConf(CONF('again'));
    expect(await server.reload()).toBe(true);
    expect(MemoryListener.all).toHaveLength(1);
    const c = await mem.feed('User-Name = "bob"');
    expect(c.pairs.map((p) => String(p.value))).toEqual(['again bob']);
    expect(processes.map((p) => p.runs)).toEqual([3, 1]);
  });

  it('checks sections and the namespace name against the registry, with located errors', async () => {
    const log = new MemoryLogger();
    const load = (text: string) => loadGeneration({ file: writeConf(text), log, namespaces: registry(), check: true });
    await expect(load(CONF('x', '\tsend Test-Akc {\n\t}\n'))).rejects.toThrow(/radiusd\.conf\[\d+\]: server toy: unknown section "send Test-Akc"; did you mean "send Test-Ack"\?/);
    await expect(load(CONF('x', '\tauthenticate pap {\n\t}\n'))).rejects.toThrow(/radiusd\.conf\[\d+\]: server toy: unknown section "authenticate pap"/);
    await expect(load(CONF('x').replace('namespace = test', 'namespace = tset'))).rejects.toThrow(/radiusd\.conf\[3\]: server toy \{ namespace \}: unknown namespace "tset"; did you mean "test"\? \(one of radius, test\)/);
    await expect(load(CONF('x').replace('type = Test-Request', 'type = Access-Request'))).rejects.toThrow(/unknown packet type "Access-Request"/);
    // Without the registry entry, the built-in registry knows only radius.
    await expect(loadGeneration({ file: writeConf(CONF('x')), log, check: true })).rejects.toThrow(/unknown namespace "test".*\(one of radius\)/);
  });
});
