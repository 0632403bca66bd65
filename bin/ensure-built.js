'use strict';
// Shared by the bin launchers: on a fresh clone, install dependencies and build
// once, so that `npx radtest …` works before `npm test` has ever run.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');

/** Makes sure `dist/<rel>` exists (running scripts/setup.sh and the tsc build if not) and returns its path. */
module.exports = function ensureBuilt(tool, rel) {
  const target = path.join(root, 'dist', rel);
  if (fs.existsSync(target)) return target;
  const run = (cmd, args) => {
    const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 2, 2] });
    // tsc emits even with type errors elsewhere; what counts is the file we need.
    if (r.status !== 0 && !(cmd === process.execPath && fs.existsSync(target))) {
      process.stderr.write(`${tool}: '${cmd} ${args.join(' ')}' failed; run \`npm test\` in ${root} first\n`);
      process.exit(1);
    }
  };
  process.stderr.write(`${tool}: first run, installing dependencies and building (once)…\n`);
  if (!fs.existsSync(path.join(root, 'node_modules', 'typescript'))) run('bash', ['scripts/setup.sh']);
  run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
  return target;
};
