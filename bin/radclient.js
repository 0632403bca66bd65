#!/usr/bin/env node
'use strict';
// Thin launcher: the implementation is core/cli/radclient.ts, built into dist/.
const main = require(require('./ensure-built')('radclient', 'core/cli/radclient.js'));
main.radclientMain(process.argv.slice(2)).then((code) => { process.exitCode = code; });
