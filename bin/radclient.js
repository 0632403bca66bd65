#!/usr/bin/env node
'use strict';
// Thin launcher: the implementation is core/cli/radclient.ts, built by `npm run build`.
require('../dist/core/cli/radclient.js')
  .radclientMain(process.argv.slice(2))
  .then((code) => { process.exitCode = code; });
