#!/usr/bin/env node
'use strict';
// Thin launcher: the implementation is core/cli/radiusd.ts, built by `npm run build`
// (on a fresh clone the first run builds it, see ensure-built.js).
const ensureBuilt = require('./ensure-built');
require(ensureBuilt('radiusd', 'core/cli/radiusd.js'))
  .radiusdMain(process.argv.slice(2))
  // The server has stopped (or never started): leave even if a module left a handle open.
  .then((code) => process.exit(code), (e) => { process.stderr.write(`radiusd: ${e && e.stack || e}\n`); process.exit(1); });
