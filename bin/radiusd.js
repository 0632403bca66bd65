#!/usr/bin/env node
'use strict';
// Thin launcher: the composition root is main/radiusd.ts (core/cli/radiusd.ts plus the built-in
// modules of modules/index.ts), built by `npm run build`
// (on a fresh clone the first run installs npm dependencies and builds it, see ensure-built.js).
require('./ensure-built')('radiusd', 'main/radiusd.js')
  .then((p) => require(p).radiusdMain(process.argv.slice(2)))
  // The server has stopped (or never started): leave even if a module left a handle open.
  .then((code) => process.exit(code), (e) => { process.stderr.write(`radiusd: ${e && e.stack || e}\n`); process.exit(1); });
