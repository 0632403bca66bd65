#!/usr/bin/env node
'use strict';
// Thin launcher: the implementation is core/cli/radtest.ts, built by `npm run build`.
require('../dist/core/cli/radtest.js')
  .radtestMain(process.argv.slice(2))
  .then((code) => { process.exitCode = code; });
