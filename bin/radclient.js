#!/usr/bin/env node
'use strict';
// Thin launcher: the implementation is core/cli/radclient.ts, built into dist/.
require('./ensure-built')('radclient', 'core/cli/radclient.js')
  .then((p) => require(p).radclientMain(process.argv.slice(2)))
  .then((code) => { process.exitCode = code; }, (e) => { process.stderr.write(`radclient: ${e && e.stack || e}\n`); process.exitCode = 1; });
