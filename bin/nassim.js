#!/usr/bin/env node
'use strict';
// Thin launcher: the implementation is core/cli/nassim/main.ts, built into dist/.
require('./ensure-built')('nassim', 'core/cli/nassim/main.js')
  .then((p) => require(p).nassimMain(process.argv.slice(2)))
  .then((code) => { process.exitCode = code; }, (e) => { process.stderr.write(`nassim: ${e && e.stack || e}\n`); process.exitCode = 1; });
