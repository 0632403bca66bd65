#!/usr/bin/env node
'use strict';
// Thin launcher: the implementation is core/cli/sandstorm/, built into dist/.
require('./ensure-built')('sandstorm', 'core/cli/sandstorm/main.js')
  .then((p) => require(p).sandstormMain(process.argv.slice(2)))
  .then((code) => { process.exitCode = code; }, (e) => { process.stderr.write(`sandstorm: ${e && e.stack || e}\n`); process.exitCode = 1; });
