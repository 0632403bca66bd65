/**
 * A module author's own TypeScript project, outside the server's tree (issue 10 §6): the
 * `package.json` and `tsconfig.json` of docs/writing-a-module.md §10a, and examples/mymod's three
 * files importing `from 'tsradius'`, compile under `strict` against the installed server (its
 * `exports` map and type declarations), write nothing into the server's tree, and the emitted
 * `dist/index.js` loads into a running daemon by path and greets on Access-Accept. A `.ts` path
 * is refused with how to build it.
 *
 * "Installed" is what `npm install` does with the guide's `file:` dependency: a link to the
 * server's checkout in the project's node_modules/ (typescript and @types/node are linked from
 * the server's own node_modules/ too, so the test needs no registry).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../interop/freeradius';
import { ROOT, checkConfig, radclient, startDaemon, tempDir, type Daemon } from './harness';

const guide = fs.readFileSync(path.join(ROOT, 'docs', 'writing-a-module.md'), 'utf8');

/** The ```json block under the guide's `#### \`name\`` heading. */
function guideFile(name: string): string {
  const m = new RegExp('#### `' + name.replace('.', '\\.') + '`\\n\\n```json\\n([\\s\\S]*?)```').exec(guide);
  if (!m) throw new Error(`docs/writing-a-module.md has no ${name} block`);
  return m[1];
}

/** Every file under `dir` (relative), for "nothing was written into the server's tree". */
function listJs(dir: string): Set<string> {
  const out = new Set<string>();
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && /\.(js|d\.ts|js\.map)$/.test(e.name)) out.add(path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
  }
  return out;
}

let project: string;
let daemon: Daemon | undefined;
let port = 0;

beforeAll(async () => {
  [port] = await freePorts(1);
  project = path.join(tempDir('out-of-tree'), 'mymod');
  fs.mkdirSync(path.join(project, 'src'), { recursive: true });
  fs.mkdirSync(path.join(project, 'node_modules', '@types'), { recursive: true });
  fs.writeFileSync(path.join(project, 'package.json'), guideFile('package.json'));
  fs.writeFileSync(path.join(project, 'tsconfig.json'), guideFile('tsconfig.json'));
  for (const f of ['config.ts', 'mymod.ts', 'index.ts']) {
    const src = fs.readFileSync(path.join(ROOT, 'examples', 'mymod', f), 'utf8');
    fs.writeFileSync(path.join(project, 'src', f), src.replaceAll("from '../../core'", "from 'tsradius'"));
  }
  // What `npm install` makes of the guide's devDependencies.
  fs.symlinkSync(ROOT, path.join(project, 'node_modules', 'tsradius'), 'dir');
  fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules', 'typescript')), path.join(project, 'node_modules', 'typescript'), 'dir');
  fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules', '@types', 'node')), path.join(project, 'node_modules', '@types', 'node'), 'dir');
});

afterAll(async () => {
  await daemon?.stop();
  fs.rmSync(path.dirname(project), { recursive: true, force: true });
});

describe('an out-of-tree TypeScript module built against the public surface', () => {
  it('the guide\'s package.json and tsconfig.json: strict, decorators, the server as a dependency', () => {
    const pkg = JSON.parse(guideFile('package.json')) as { devDependencies: Record<string, string>; main: string };
    expect(Object.keys(pkg.devDependencies).sort()).toEqual(['@types/node', 'tsradius', 'typescript']);
    expect(pkg.main).toBe('dist/index.js');
    const ts = JSON.parse(guideFile('tsconfig.json')) as { compilerOptions: Record<string, unknown> };
    expect(ts.compilerOptions).toMatchObject({ strict: true, experimentalDecorators: true, emitDecoratorMetadata: true, outDir: 'dist' });
    const server = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, { types: string }> };
    expect(server.name).toBe('tsradius');
    expect(fs.existsSync(path.join(ROOT, server.exports['.'].types))).toBe(true);
  });

  it('compiles with tsc under strict, emitting into its own dist/ only', () => {
    const before = listJs(path.join(ROOT, 'examples'));
    const coreBefore = listJs(path.join(ROOT, 'core'));
    const r = spawnSync(process.execPath, [path.join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], { cwd: project, encoding: 'utf8', timeout: 180_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const f of ['index.js', 'config.js', 'mymod.js']) expect(fs.existsSync(path.join(project, 'dist', f)), f).toBe(true);
    expect(listJs(path.join(ROOT, 'examples'))).toEqual(before);
    expect(listJs(path.join(ROOT, 'core'))).toEqual(coreBefore);
    // It imports the server as a package, not by a path into its tree.
    expect(fs.readFileSync(path.join(project, 'dist', 'index.js'), 'utf8')).toMatch(/require\("tsradius"\)/);
  }, 200_000);

  it('loads into a running daemon by path and runs on Access-Accept', async () => {
    const dir = tempDir('out-of-tree-conf');
    fs.writeFileSync(path.join(dir, 'users'), 'bob\tCleartext-Password := "hello"\n');
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), `client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
}
modules {
	mymod greeter {
		module = "${path.join(project, 'dist', 'index.js')}"
		message = "Welcome from out of tree, %{User-Name}"
		limit = 5
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
		greeter
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
`);
    daemon = await startDaemon(['-f', '-t', '-d', dir]);
    const r = await radclient(`127.0.0.1:${port}`, 'auth', 'testing123', 'User-Name = "bob", User-Password = "hello"\n');
    expect(r.stdout).toMatch(/Received Access-Accept/);
    expect(r.stdout).toMatch(/Reply-Message = "Welcome from out of tree, bob"/);
    expect(await daemon.stop()).toBe(0);
    daemon = undefined;

    // The same module named by its TypeScript source: refused, with how to build it.
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), fs.readFileSync(path.join(dir, 'radiusd.conf'), 'utf8').replace(path.join(project, 'dist', 'index.js'), path.join(project, 'src', 'index.ts')));
    const c = checkConfig(dir);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/radiusd\.conf\[7\]: mymod greeter \{ module \}: ".*src\/index\.ts" is TypeScript: compile it first \(npm run build, with the tsconfig\.json of docs\/writing-a-module\.md §10a\) and name the emitted \.js file, e\.g\. module = ".*dist\/index\.js"/);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
