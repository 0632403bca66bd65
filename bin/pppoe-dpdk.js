#!/usr/bin/env node
'use strict';
// Thin launcher: the implementation is modules/pppoe_dpdk/cli.ts (ring monitor, pending dump), built into dist/.
require('./ensure-built')('pppoe-dpdk', 'modules/pppoe_dpdk/cli.js')
  .then((p) => require(p).pppoeDpdkMain(process.argv.slice(2)))
  .then((code) => { process.exitCode = code; }, (e) => { process.stderr.write(`pppoe-dpdk: ${e && e.stack || e}\n`); process.exitCode = 1; });
