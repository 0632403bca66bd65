#!/usr/bin/env node
'use strict';
// Bench launcher: the same as bin/radiusd.js, under a name that does not contain "radiusd",
// so that test clean-ups elsewhere on a shared machine that kill daemons by name leave the
// benchmark alone. Needs the tsc build (dist/).
const path = require('node:path');
require(path.join(__dirname, '..', '..', 'dist', 'main', 'radiusd.js'))
  .radiusdMain(process.argv.slice(2))
  .then((code) => process.exit(code), (e) => { process.stderr.write(`tsr-bench: ${e && e.stack || e}\n`); process.exit(1); });
