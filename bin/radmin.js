#!/usr/bin/env node
'use strict';
// Thin launcher: the implementation is core/cli/radmin.ts, built into dist/.
require('./ensure-built')('radmin', 'core/cli/radmin.js')
  .then((p) => require(p).radminMain(process.argv.slice(2)))
  .then((code) => { process.exitCode = code; }, (e) => { process.stderr.write(`radmin: ${e && e.stack || e}\n`); process.exitCode = 1; });
