#!/usr/bin/env node
'use strict';
// Thin launcher: the implementation is modules/sqlippool/tool.ts, built into dist/.
require('./ensure-built')('sqlippool-tool', 'modules/sqlippool/tool.js')
  .then((p) => require(p).sqlippoolToolMain(process.argv.slice(2)))
  .then((code) => { process.exitCode = code; }, (e) => { process.stderr.write(`sqlippool-tool: ${e && e.stack || e}\n`); process.exitCode = 1; });
