/**
 * Shutdown and reload of a running daemon with modules loaded by path (issue 10 §5):
 *
 * - SIGTERM while a request waits on a promise that never settles and holds no event-loop
 *   handle: the daemon drains (bounded), cancels the request (the module sees its abort
 *   signal), runs every module's `detach`, writes the stats file, removes the pid file, logs
 *   that it exits, and exits 0. (Before: Node exited at once with status 0, none of that done.)
 * - SIGHUP re-reads the code of every file of a CommonJS module loaded by path (not only the
 *   file named by `module = …`), and says in the log which ES modules keep their old code.
 *
 * The SIGTERM test runs the daemon as `radiusd -d DIR --daemon-child`: the very process a
 * daemonising `radiusd` forks (it writes the pid file, which `-f` does not), but as our own
 * child so that its exit status can be checked.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePorts } from '../interop/freeradius';
import { RADIUSD, radclient, sleep, startDaemon, writeTempFiles } from './harness';

const EMPTY_SCHEMA = "{ kind: 'section', allowUnknown: false, fields: {} }";

/** A module whose `recv Access-Request` never settles (and holds no handle); it records what happens to it. */
function hangModule(dir: string): string {
  const mark = (name: string) => JSON.stringify(path.join(dir, name));
  return `'use strict';
const fs = require('node:fs');
class Hang {
  hang(request, ctx) {
    ctx.signal.addEventListener('abort', () => fs.writeFileSync(${mark('aborted')}, 'aborted'));
    fs.writeFileSync(${mark('called')}, 'called');
    return new Promise(() => {});
  }
  detach() { fs.writeFileSync(${mark('detached')}, 'detached'); }
}
module.exports = { name: 'hang', kind: 'rlm', config: ${EMPTY_SCHEMA}, impl: Hang, methods: { 'recv Access-Request': 'hang' } };
`;
}

const conf = (port: number, modules: string, recv: string) => `confdir = .
run_dir = \${confdir}/run
log {
	destination = stdout
}
max_request_time = 30
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
}
modules {
${modules}
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
${recv}
	}
	authenticate pap {
		pap
	}
}
`;

async function waitForFile(file: string, ms: number): Promise<boolean> {
  for (let t = 0; t < ms; t += 50) {
    if (fs.existsSync(file)) return true;
    await sleep(50);
  }
  return fs.existsSync(file);
}

describe('shutdown', () => {
  it.each([
    ['one process (-t)', ['-t'], /SIGTERM: shutting down/],
    ['two cluster workers', ['--workers', '2'], /SIGTERM: stopping 2 workers/],
  ])('%s: SIGTERM during a request waiting on a never-settling promise: bounded drain, cancel, detach, stats, pid file removed, exit 0', async (_, mode, stopping) => {
    const [port] = await freePorts(1);
    const dir = writeTempFiles('shutdown', {});
    fs.writeFileSync(path.join(dir, 'hang.js'), hangModule(dir));
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), conf(port, '\thang {\n\t\tmodule = "hang.js"\n\t}', '\t\thang'));
    const proc = spawn(process.execPath, [RADIUSD, '-d', dir, ...mode, '--daemon-child'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (b) => (out += b));
    proc.stderr!.on('data', (b) => (out += b));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    try {
      const pidfile = path.join(dir, 'run', 'radiusd.pid');
      expect(await waitForFile(pidfile, 20000), out).toBe(true);
      expect(fs.readFileSync(pidfile, 'utf8').trim()).toBe(String(proc.pid));
      // One request that will never be answered (radclient gives up on its own).
      const client = radclient(`127.0.0.1:${port}`, 'auth', 'testing123', 'User-Name = "bob", User-Password = "hello"\n', ['-r', '1', '-t', '2']);
      expect(await waitForFile(path.join(dir, 'called'), 10000), out).toBe(true);
      proc.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(20000).then(() => 'still running')]);
      expect(code, out).toBe(0);
      expect(out).toMatch(stopping);
      expect(out).toMatch(/shutdown: 1 request\(s\) still in progress after 5s; cancelled/);
      expect(out).toMatch(/exiting/);
      expect(fs.readFileSync(path.join(dir, 'aborted'), 'utf8')).toBe('aborted');
      expect(fs.readFileSync(path.join(dir, 'detached'), 'utf8')).toBe('detached');
      expect(fs.existsSync(pidfile)).toBe(false);
      const stats = JSON.parse(fs.readFileSync(path.join(dir, 'run', 'radiusd.stats.json'), 'utf8')) as { total: Record<string, number> };
      expect(stats.total.received).toBe(1);
      expect((await client).stdout).not.toMatch(/Received Access/);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60000);
});

describe('SIGHUP reload of modules loaded by path', () => {
  it('re-reads every file of a CommonJS module; names the ES modules that keep their old code', async () => {
    const [port] = await freePorts(1);
    const dir = writeTempFiles('modreload', {
      'mods/tree/index.js': `'use strict';
const { verdict } = require('./lib/verdict');
class Tree { check() { return verdict(); } }
module.exports = { name: 'tree', kind: 'rlm', config: ${EMPTY_SCHEMA}, impl: Tree, methods: { 'recv Access-Request': 'check' } };
`,
      'mods/tree/lib/verdict.js': "exports.verdict = () => 'reject';\n",
      'mods/esm/esm.mjs': `class Esm { m() { return 'noop'; } }
export default { name: 'esm', kind: 'rlm', config: ${EMPTY_SCHEMA}, impl: Esm, methods: { 'recv Access-Request': 'm' } };
`,
      users: 'bob\tCleartext-Password := "hello"\n',
    });
    const modules = '\ttree {\n\t\tmodule = "mods/tree/index.js"\n\t}\n\tesm {\n\t\tmodule = "mods/esm/esm.mjs"\n\t}\n\tfiles {\n\t\tfilename = ${confdir}/users\n\t}';
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), conf(port, modules, '\t\tesm\n\t\ttree\n\t\tfiles\n\t\tpap'));
    const d = await startDaemon(['-d', dir, '-f']);
    const auth = async () => /Received (Access-\w+)/.exec((await radclient(`127.0.0.1:${port}`, 'auth', 'testing123', 'User-Name = "bob", User-Password = "hello"\n', ['-r', '1', '-t', '3'])).stdout)?.[1];
    try {
      expect(await auth()).toBe('Access-Reject');
      // Edit a file the module requires (not the file named by `module = …`).
      fs.writeFileSync(path.join(dir, 'mods/tree/lib/verdict.js'), "exports.verdict = () => 'noop';\n");
      const mark = d.output().length;
      d.signal('SIGHUP');
      await d.waitFor(/generation 2 is serving/, 15000, mark);
      const after = d.output().slice(mark);
      expect(after).toMatch(/tree: re-reading the module's code \(2 file\(s\) under .*mods\/tree\)/);
      expect(after).toMatch(/esm: ".*esm\.mjs" is an ES module, which Node loads once per process: it keeps the code it was first loaded with/);
      expect(await auth()).toBe('Access-Accept');
    } finally {
      expect(await d.stop()).toBe(0);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60000);
});
