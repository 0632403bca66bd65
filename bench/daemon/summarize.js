#!/usr/bin/env node
'use strict';
// summarize.js OUTROOT: medians per (label, type, window) over every RESULT line in
// OUTROOT/cycle*/<label>/raw.txt (or OUTROOT/<label>/raw.txt), and the ratio to FreeRADIUS.
// Prints markdown.
const fs = require('node:fs');
const path = require('node:path');
const root = process.argv[2] || '/tmp/radbench';
const files = [];
for (const d of fs.readdirSync(root)) {
  const p = path.join(root, d);
  if (!fs.statSync(p).isDirectory()) continue;
  if (/^cycle\d+$/.test(d)) for (const l of fs.readdirSync(p)) files.push([l, path.join(p, l, 'raw.txt')]);
  else files.push([d, path.join(p, 'raw.txt')]);
}
const rows = new Map(); // label -> key -> [kv]
for (const [label, f] of files) {
  if (!fs.existsSync(f)) continue;
  for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
    if (!line.startsWith('RESULT ')) continue;
    const kv = Object.fromEntries(line.split(' ').slice(1).map((x) => x.split('=')));
    const key = `${kv.type} ${kv.window}`;
    if (!rows.has(label)) rows.set(label, new Map());
    const m = rows.get(label);
    if (!m.has(key)) m.set(key, []);
    m.get(key).push(kv);
  }
}
const med = (a) => { const s = a.slice().sort((x, y) => x - y); const n = s.length; return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
const col = (runs, c) => med(runs.map((r) => Number(r[c])));
const sum = (runs, c) => runs.reduce((t, r) => t + Number(r[c] || 0), 0);
const f0 = (x) => Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–';
const f3 = (x) => Number.isFinite(x) ? (x / 1000).toFixed(3) : '–';
const out = [];
out.push('| server | type | window | runs | req/s | p50 ms | p99 ms | p99.9 ms | loadgen CPU% | server CPU% | other CPU% | req per server CPU-s | timeouts | errors | accept w/o attrs |');
out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const [label, m] of [...rows].sort()) {
  for (const [key, runs] of m) {
    const [type, w] = key.split(' ');
    const eff = med(runs.map((r) => Number(r.rps) / (Number(r.cpu_server) / 100)));
    out.push(`| ${label} | ${type} | ${w} | ${runs.length} | ${f0(col(runs, 'rps'))} | ${f3(col(runs, 'p50_us'))} | ${f3(col(runs, 'p99_us'))} | ${f3(col(runs, 'p999_us'))} | ${f0(col(runs, 'cpu_loadgen'))} | ${f0(col(runs, 'cpu_server'))} | ${f0(col(runs, 'cpu_other'))} | ${f0(eff)} | ${sum(runs, 'timeouts')} | ${sum(runs, 'errors')} | ${sum(runs, 'missing_attrs')} |`);
  }
}
out.push('');
// Ratios: each tsradius label against the FreeRADIUS label with the same accounting mode, or the pairs
// of PAIRS="ours:peer …" (bench/daemon/sql.sh).
const pairs = new Map((process.env.PAIRS || '').split(/\s+/).filter(Boolean).map((p) => p.split(':')));
out.push('| tsradius | vs | type | window | req/s ratio | p50 ratio | p99 ratio | req per CPU-s ratio |');
out.push('|---|---|---|---:|---:|---:|---:|---:|');
for (const [label, m] of [...rows].sort()) {
  if (!label.startsWith('tsradius')) continue;
  const peer = pairs.get(label) ?? (label.endsWith('-detail') ? 'freeradius-detail' : 'freeradius');
  const pm = rows.get(peer);
  if (!pm) continue;
  for (const [key, runs] of m) {
    const pr = pm.get(key);
    if (!pr) continue;
    const [type, w] = key.split(' ');
    const effOf = (rs) => med(rs.map((r) => Number(r.rps) / (Number(r.cpu_server) / 100)));
    out.push(`| ${label} | ${peer} | ${type} | ${w} | ${(col(runs, 'rps') / col(pr, 'rps')).toFixed(2)}× | ${(col(runs, 'p50_us') / col(pr, 'p50_us')).toFixed(2)}× | ${(col(runs, 'p99_us') / col(pr, 'p99_us')).toFixed(2)}× | ${(effOf(runs) / effOf(pr)).toFixed(2)}× |`);
  }
}
console.log(out.join('\n'));
