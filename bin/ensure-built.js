'use strict';
// Shared by the bin launchers: on a fresh clone, install the npm dependencies and build once,
// so that `node bin/radiusd.js -X` (and `npx radtest …`) work before `npm test` has ever run.
// It installs npm packages and runs tsc, nothing else: Debian packages for the interop tests
// are `npm test`'s business (scripts/setup.sh), never the daemon's.
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const root = path.resolve(__dirname, '..');

/** Runs a command with its output on our stderr, printing a progress line every few seconds. */
function run(tool, what, cmd, args) {
  const t0 = Date.now();
  process.stderr.write(`${tool}: ${what}…\n`);
  const tick = setInterval(() => {
    process.stderr.write(`${tool}: ${what}, ${Math.round((Date.now() - t0) / 1000)} s\n`);
  }, 5000);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 2, 2] });
    child.on('error', (e) => { clearInterval(tick); resolve({ status: 1, error: e }); });
    child.on('close', (status) => {
      clearInterval(tick);
      process.stderr.write(`${tool}: ${what}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      resolve({ status });
    });
  });
}

/**
 * Resolves to the path of `dist/<rel>`, installing npm dependencies (npm ci) and running the tsc
 * build first when it is missing.
 */
module.exports = async function ensureBuilt(tool, rel) {
  const target = path.join(root, 'dist', rel);
  if (fs.existsSync(target)) return target;
  const fail = (cmd) => {
    process.stderr.write(`${tool}: '${cmd}' failed; run \`npm test\` in ${root} for the full setup\n`);
    process.exit(1);
  };
  process.stderr.write(`${tool}: first run: installing npm dependencies and building into dist/ (once)\n`);
  if (!fs.existsSync(path.join(root, 'node_modules', 'typescript'))) {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const lock = fs.existsSync(path.join(root, 'package-lock.json'));
    const args = lock ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
    const r = await run(tool, `npm ${args[0]}`, npm, args);
    if (r.status !== 0) fail(`npm ${args.join(' ')}`);
  }
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = await run(tool, 'building with tsc', process.execPath, [tsc, '-p', 'tsconfig.json']);
  // tsc emits even with type errors elsewhere; what counts is the file we need.
  if (r.status !== 0 && !fs.existsSync(target)) fail('tsc -p tsconfig.json');
  // The batched UDP addon (core/native/udp) when a compiler is there; without it the daemon uses node:dgram.
  if (!fs.existsSync(path.join(root, 'core', 'native', 'udp', 'build', 'Release', 'tsradius_udp.node'))) {
    const n = await run(tool, 'building the native UDP addon (optional)', process.execPath, [path.join(root, 'scripts', 'build-native.js')]);
    if (n.status !== 0) process.stderr.write(`${tool}: no native UDP addon; using node:dgram\n`);
  }
  return target;
};
