#!/usr/bin/env node
'use strict';
// Thin launcher: the implementation is core/cli/radtest.ts, built into dist/.
require('./ensure-built')('radtest', 'core/cli/radtest.js')
  .then((p) => require(p).radtestMain(process.argv.slice(2)))
  .then((code) => { process.exitCode = code; }, (e) => { process.stderr.write(`radtest: ${e && e.stack || e}\n`); process.exitCode = 1; });
