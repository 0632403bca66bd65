#!/usr/bin/env node
'use strict';
// Thin launcher: the implementation is core/cli/radiusd.ts, built by `npm run build`
// (on a fresh clone the first run builds it, see ensure-built.js).
const ensureBuilt = require('./ensure-built');
require(ensureBuilt('radiusd', 'core/cli/radiusd.js'))
  .radiusdMain(process.argv.slice(2))
  .then((code) => { process.exitCode = code; if (code !== 0 || process.argv.includes('-C')) process.exit(code); });
