#!/usr/bin/env node
'use strict';
// build-native.js: builds the optional native addons (`npm run build:native`).
// Today: core/native/udp (batched UDP I/O) and modules/pppoe_dpdk/native (AF_PACKET raw Ethernet for the
// pppoe_dpdk wire; no fallback, its tests need it). Nothing else runs this: `npm ci`, `npm test` and the daemon work
// without it (they fall back to node:dgram and say so). It uses the node-gyp bundled with npm and the Node
// headers installed beside the node binary (no download), and fails with a clear message when a compiler,
// node-gyp or the headers are missing.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const addons = ['core/native/udp', 'modules/pppoe_dpdk/native'];
const prefix = path.resolve(path.dirname(process.execPath), '..');
const candidates = [
  process.env.npm_config_node_gyp,
  path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].filter(Boolean);
const gyp = candidates.find((p) => fs.existsSync(p));
if (!gyp) {
  console.error('build-native: node-gyp not found (looked for npm\'s bundled copy); the dgram fallback stays in use');
  process.exit(1);
}
const args = ['rebuild'];
if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
let status = 0;
for (const dir of addons) {
  console.error(`build-native: ${dir}: node-gyp ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [gyp, ...args], { cwd: path.join(root, dir), stdio: ['ignore', 2, 2] });
  if (r.status !== 0) {
    console.error(`build-native: ${dir} failed (status ${r.status}); the dgram fallback stays in use`);
    status = 1;
  } else {
    console.error(`build-native: ${dir}: built ${path.join(dir, 'build', 'Release')}`);
  }
}
process.exit(status);
