#!/usr/bin/env node
'use strict';
// sandstorm-result.js REPORT.json LABEL TYPE WINDOW CPU_OTHER: one radload-style RESULT line from a
// sandstorm JSON report, for ../shared/bench/run-matrix.sh's raw.txt and bench/daemon/summarize.js
// (bench/daemon/sql.sh drives its accounting rows with sandstorm). CPU figures in % of one core.
const fs = require('node:fs');
const [file, label, type, window, other] = process.argv.slice(2);
const r = JSON.parse(fs.readFileSync(file, 'utf8'));
const c = r.counts;
const l = r.latency_us;
const kv = {
  label, type, window,
  rps: r.rps,
  sent: c.sent, accept: c.accept, reject: c.reject, acct_ok: c.acct_ok, timeouts: c.timeouts, errors: r.errors,
  missing_attrs: c.missing_attrs,
  p50_us: Math.round(l.p50), p99_us: Math.round(l.p99), p999_us: Math.round(l.p999), max_us: Math.round(l.max),
  cpu_loadgen: r.cpu.self_pct, cpu_server: r.cpu.servers_pct ?? 0, cpu_other: Number(other) || 0,
};
console.log(`RESULT ${Object.entries(kv).map(([k, v]) => `${k}=${v}`).join(' ')}`);
