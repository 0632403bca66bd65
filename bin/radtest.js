#!/usr/bin/env node
'use strict';
// Thin launcher: the implementation is core/cli/radtest.ts, built into dist/.
const main = require(require('./ensure-built')('radtest', 'core/cli/radtest.js'));
main.radtestMain(process.argv.slice(2)).then((code) => { process.exitCode = code; });
