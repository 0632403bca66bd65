/**
 * The README's first command on a fresh clone (issue 10 §1):
 *
 * - `bin/ensure-built.js` (what `node bin/radiusd.js` runs first) installs the npm dependencies
 *   and builds, printing progress, and does nothing else: no Debian packages, no `service …
 *   stop`, no kill of a PID it did not start. It runs here in a scratch copy of the launcher
 *   with a tiny project and a PATH whose `npm`, `apt-get`, `service`, `systemctl`, `kill`, `sudo`
 *   and `dpkg` only record that they were called (`npm ci` also links the real TypeScript in).
 * - What the README says the embedded default binds is what it binds: every socket the daemon
 *   opens on the default configuration is one the README lists (loopback only), read from
 *   /proc for the daemon's own file descriptors.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from '../interop/freeradius';
import { ROOT, copyDefaultConfig, startDaemon, tempDir } from './harness';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

const SPIES = ['apt-get', 'apt', 'dpkg', 'service', 'systemctl', 'kill', 'pkill', 'killall', 'sudo'];

/** A scratch "clone": the real launcher, a one-file project, no node_modules/, no dist/. */
function scratchClone(): { root: string; spyDir: string; calls: string } {
  const root = tempDir('first-run');
  dirs.push(root);
  const spyDir = path.join(root, '.spy');
  const calls = path.join(root, '.calls');
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(root, 'main'), { recursive: true });
  fs.mkdirSync(path.join(root, 'scripts'), { recursive: true });
  fs.mkdirSync(spyDir);
  fs.copyFileSync(path.join(ROOT, 'bin', 'ensure-built.js'), path.join(root, 'bin', 'ensure-built.js'));
  fs.writeFileSync(path.join(root, 'package.json'), '{ "name": "scratch", "private": true }\n');
  fs.writeFileSync(path.join(root, 'package-lock.json'), '{ "lockfileVersion": 3 }\n');
  fs.writeFileSync(path.join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { rootDir: '.', outDir: 'dist', module: 'commonjs', strict: true, types: [] }, include: ['main/*.ts'] }));
  fs.writeFileSync(path.join(root, 'main', 'radiusd.ts'), 'export const radiusdMain = (): number => 0;\n');
  // The optional native addon: "fails to build" here, which the launcher must shrug off.
  fs.writeFileSync(path.join(root, 'scripts', 'build-native.js'), 'process.exit(1);\n');
  for (const s of SPIES) {
    fs.writeFileSync(path.join(spyDir, s), `#!/bin/sh\necho "${s} $*" >> "${calls}"\nexit 0\n`, { mode: 0o755 });
  }
  // `npm ci`: records the call and "installs" TypeScript (a link to the server's own).
  fs.writeFileSync(path.join(spyDir, 'npm'), `#!/bin/sh
echo "npm $*" >> "${calls}"
mkdir -p node_modules
ln -s "${fs.realpathSync(path.join(ROOT, 'node_modules', 'typescript'))}" node_modules/typescript
`, { mode: 0o755 });
  return { root, spyDir, calls };
}

function launch(root: string, spyDir: string) {
  const r = spawnSync(process.execPath, ['-e', "require('./bin/ensure-built')('radiusd', 'main/radiusd.js').then((p) => console.log('TARGET ' + p))"], {
    cwd: root, encoding: 'utf8', timeout: 180_000, env: { ...process.env, PATH: `${spyDir}:${process.env.PATH}` },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('first run', () => {
  it('installs npm dependencies and builds, with progress, and touches nothing else', () => {
    const { root, spyDir, calls } = scratchClone();
    const r = launch(root, spyDir);
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim()).toBe(`TARGET ${path.join(root, 'dist', 'main', 'radiusd.js')}`);
    expect(fs.existsSync(path.join(root, 'dist', 'main', 'radiusd.js'))).toBe(true);
    // Progress: what it does, each step's start and end.
    expect(r.err).toMatch(/radiusd: first run: installing npm dependencies and building into dist\/ \(once\)/);
    expect(r.err).toMatch(/radiusd: npm ci…/);
    expect(r.err).toMatch(/radiusd: npm ci: done in [\d.]+ s/);
    expect(r.err).toMatch(/radiusd: building with tsc…/);
    expect(r.err).toMatch(/radiusd: building with tsc: done in [\d.]+ s/);
    expect(r.err).toMatch(/no native UDP addon; using node:dgram/);
    // npm ci (the lock file is there) and nothing else.
    expect(fs.readFileSync(calls, 'utf8').trim().split('\n')).toEqual(['npm ci --no-audit --no-fund']);

    // Built once: the next start goes straight on, silently.
    fs.rmSync(calls);
    const again = launch(root, spyDir);
    expect(again.code).toBe(0);
    expect(again.err).toBe('');
    expect(fs.existsSync(calls)).toBe(false);
  }, 200_000);

  it('the launchers name no package manager, service or kill', () => {
    for (const f of fs.readdirSync(path.join(ROOT, 'bin')).filter((n) => n.endsWith('.js'))) {
      const text = fs.readFileSync(path.join(ROOT, 'bin', f), 'utf8').replace(/^\s*\/\/.*$/gm, '');
      expect(text, f).not.toMatch(/apt-get|\bdpkg\b|\bservice\b|systemctl|process\.kill|\bpkill\b|setup\.sh/);
    }
  });
});

/** Local address of a /proc/net row (hex, host byte order for IPv4 on little-endian). */
function decode(hex: string, v6: boolean): string {
  const [a, p] = hex.split(':');
  const port = parseInt(p, 16);
  if (!v6) return `${Buffer.from(a, 'hex').reverse().join('.')}:${port}`;
  const words: string[] = [];
  for (let i = 0; i < 32; i += 8) words.push(...Buffer.from(a.slice(i, i + 8), 'hex').reverse().toString('hex').match(/.{4}/g)!);
  const addr = words.map((w) => w.replace(/^0+(?=.)/, '')).join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
  return `[${addr}]:${port}`;
}

/** Every socket the process `pid` has bound: `udp 127.0.0.1:1812`, `tcp [::1]:1812` (TCP: listening ones). */
function boundSockets(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch { /* closed meanwhile */ }
  }
  const out: string[] = [];
  for (const t of ['udp', 'udp6', 'tcp', 'tcp6']) {
    for (const row of fs.readFileSync(`/proc/net/${t}`, 'utf8').split('\n').slice(1)) {
      const f = row.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9])) continue;
      if (t.startsWith('tcp') && f[3] !== '0A') continue;
      out.push(`${t.replace('6', '')} ${decode(f[1], t.endsWith('6'))}`);
    }
  }
  return out.sort();
}

describe('the embedded default binds what the README says', () => {
  it('loopback only: auth UDP+TCP on 127.0.0.1 and UDP on ::1, accounting, CoA, status and the example site on 127.0.0.1', async () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).toMatch(/on loopback only/);
    for (const s of ['auth on 127.0.0.1:1812 over UDP and TCP and on [::1]:1812', 'accounting on 127.0.0.1:1813', 'CoA/Disconnect on\n127.0.0.1:3799', '127.0.0.1:18121', 'example site on\n127.0.0.1:1814']) {
      expect(readme.replace(/\s+/g, ' ')).toContain(s.replace(/\s+/g, ' '));
    }
    const dir = tempDir('first-run-binds');
    dirs.push(dir);
    const [auth, acct, status, coa, example] = await freePorts(5);
    const confdir = copyDefaultConfig(dir, { auth, acct, status, coa, example });
    const d = await startDaemon(['-d', confdir, '-f', '-t']);
    try {
      expect(boundSockets(d.proc.pid!)).toEqual([
        `tcp 127.0.0.1:${auth}`,
        `udp 127.0.0.1:${acct}`, `udp 127.0.0.1:${auth}`, `udp 127.0.0.1:${coa}`, `udp 127.0.0.1:${example}`, `udp 127.0.0.1:${status}`,
        `udp [::1]:${auth}`,
      ].sort());
    } finally {
      expect(await d.stop()).toBe(0);
    }
  }, 60_000);
});
