#!/usr/bin/env node
'use strict';
// Thin launcher: the implementation is modules/redis_ippool/tool.ts, built into dist/.
require('./ensure-built')('redis-ippool-tool', 'modules/redis_ippool/tool.js')
  .then((p) => require(p).redisIppoolToolMain(process.argv.slice(2)))
  .then((code) => { process.exitCode = code; }, (e) => { process.stderr.write(`redis-ippool-tool: ${e && e.stack || e}\n`); process.exitCode = 1; });
