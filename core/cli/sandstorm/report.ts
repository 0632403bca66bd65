/**
 * What Sandstorm prints: the JSON report, the human summary, the live
 * progress line, and a self-contained HTML page (inline SVG, no external
 * assets) with the latency histogram, the latency-by-percentile curve and
 * throughput/p99 over time.
 */
import { errorCount, type Counts, type RunResult, type TimelinePoint } from './engine';
import type { LatencySummary } from './histogram';

/** The JSON report (also embedded in the HTML page). */
export interface Report {
  tool: 'sandstorm';
  version: 1;
  started: string;
  config: Record<string, unknown>;
  io: { backend: string; transport: string; channels: number };
  seconds: number;
  rps: number;
  counts: Counts;
  errors: number;
  per_kind: Record<string, { sent: number; responses: number }>;
  latency_us: LatencySummary;
  /** [low µs, high µs, count] per logarithmic bin (20 per decade). */
  histogram_us: [number, number, number][];
  /** Latency at percentiles from 0 to 99.999 (for the percentile curve). */
  percentiles_us: [number, number][];
  cpu: { self_pct: number; servers_pct: number | null };
  timeline: TimelinePoint[];
}

const PCT_POINTS = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100];

export function buildReport(r: RunResult, config: Record<string, unknown>, started: Date, transport: string): Report {
  const h = r.latency;
  return {
    tool: 'sandstorm',
    version: 1,
    started: started.toISOString(),
    config,
    io: { backend: r.backend, transport, channels: r.channels },
    seconds: Math.round(r.seconds * 1000) / 1000,
    rps: Math.round(r.rps),
    counts: r.counts,
    errors: errorCount(r.counts),
    per_kind: r.perKind,
    latency_us: h.summaryUs(),
    histogram_us: h.logBins(20).map(([lo, hi, c]) => [lo / 1000, hi / 1000, c]),
    percentiles_us: PCT_POINTS.map((q) => [q, Math.round(q === 100 ? h.max : h.percentile(q)) / 1000]),
    cpu: { self_pct: Math.round(r.cpu.self_pct * 10) / 10, servers_pct: r.cpu.servers_pct === null ? null : Math.round(r.cpu.servers_pct * 10) / 10 },
    timeline: r.timeline,
  };
}

function ms(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`;
}

/** The readable summary (stderr). */
export function summaryText(rep: Report): string {
  const c = rep.counts;
  const l = rep.latency_us;
  const nz = (o: Record<string, number>): string => Object.entries(o).filter(([, v]) => v).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  return [
    `sandstorm: ${rep.io.transport} via ${rep.io.backend}, ${rep.io.channels} sockets, ${rep.seconds.toFixed(2)} s measured`,
    `  throughput: ${rep.rps} responses/s (sent ${c.sent}, responses ${c.responses})`,
    `  replies: accept=${c.accept} reject=${c.reject} acct_ok=${c.acct_ok} coa_ack=${c.coa_ack} coa_nak=${c.coa_nak}`
      + (c.challenge ? ` challenge=${c.challenge}` : '') + (c.other_code ? ` other=${c.other_code}` : ''),
    `  latency: p50=${ms(l.p50)} p90=${ms(l.p90)} p99=${ms(l.p99)} p99.9=${ms(l.p999)} max=${ms(l.max)} (n=${l.n})`,
    `  problems: ${nz({
      timeouts: c.timeouts, retransmits: c.retransmits, bad_auth: c.bad_auth, bad_msg_auth: c.bad_ma,
      malformed: c.malformed, stale: c.stale, unexpected_accept: c.unexpected_accept,
      unexpected_reject: c.unexpected_reject, missing_attrs: c.missing_attrs, send_errors: c.send_errors, late: c.late,
    })}`,
    `  cpu (% of one core): sandstorm=${rep.cpu.self_pct}` + (rep.cpu.servers_pct !== null ? ` servers=${rep.cpu.servers_pct}` : ''),
  ].join('\n');
}

/** The live progress line. */
export function progressLine(p: TimelinePoint, totals: { sent: number; responses: number; timeouts: number; elapsed: number }, planned: string): string {
  return `${totals.elapsed.toFixed(1)}s${planned}  ${p.rps.toLocaleString('en-US')} req/s  p99 ${ms(p.p99_us)}`
    + `  in flight ${p.in_flight}  sent ${totals.sent}  ok ${totals.responses}  timeouts ${totals.timeouts}${p.warmup ? '  (warm-up)' : ''}`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const W = 760;
const H = 280;
const M = { l: 64, r: 64, t: 20, b: 40 };

function niceTicks(max: number, n = 5): number[] {
  if (max <= 0) return [0];
  const step0 = max / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? mag * 10;
  const out: number[] = [];
  for (let v = 0; v <= max * 1.0001; v += step) out.push(v);
  return out;
}

function fmtUs(us: number): string {
  if (us >= 1e6) return `${+(us / 1e6).toPrecision(3)} s`;
  if (us >= 1000) return `${+(us / 1000).toPrecision(3)} ms`;
  return `${+us.toPrecision(3)} µs`;
}

/** Latency histogram: log x axis (µs), linear y (share of responses). */
function histogramSvg(bins: [number, number, number][]): string {
  if (bins.length === 0) return '<p>No responses.</p>';
  const total = bins.reduce((s, b) => s + b[2], 0);
  const lo = Math.log10(bins[0][0]);
  const hi = Math.log10(bins[bins.length - 1][1]);
  const x = (us: number): number => M.l + ((Math.log10(us) - lo) / Math.max(1e-9, hi - lo)) * (W - M.l - M.r);
  const ymax = Math.max(...bins.map((b) => b[2] / total));
  const y = (f: number): number => H - M.b - (f / ymax) * (H - M.t - M.b);
  const bars = bins.map(([a, b, c]) => {
    const x0 = x(a), x1 = x(b);
    return `<rect x="${x0.toFixed(1)}" y="${y(c / total).toFixed(1)}" width="${Math.max(1, x1 - x0 - 0.5).toFixed(1)}" height="${(H - M.b - y(c / total)).toFixed(1)}" fill="#4c78a8"><title>${fmtUs(a)}–${fmtUs(b)}: ${c}</title></rect>`;
  }).join('');
  const xt: string[] = [];
  for (let d = Math.floor(lo); d <= Math.ceil(hi); d++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** d;
      if (Math.log10(v) < lo || Math.log10(v) > hi) continue;
      xt.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${H - M.b}" y2="${H - M.b + 4}" stroke="#333"/><text x="${x(v)}" y="${H - M.b + 16}" text-anchor="middle">${fmtUs(v)}</text>`);
    }
  }
  const yt = niceTicks(ymax * 100).map((p) => `<text x="${M.l - 6}" y="${y(p / 100) + 4}" text-anchor="end">${p}%</text><line x1="${M.l}" x2="${W - M.r}" y1="${y(p / 100)}" y2="${y(p / 100)}" stroke="#eee"/>`);
  return svg(`${yt.join('')}${bars}${xt.join('')}${axes()}<text x="${W / 2}" y="${H - 4}" text-anchor="middle">latency (log scale)</text>`);
}

/** Latency by percentile: x = 1/(1−q) on a log scale, as HdrHistogram plots. */
function percentileSvg(points: [number, number][]): string {
  const pts = points.filter(([q]) => q < 100);
  if (pts.length === 0 || pts.every(([, v]) => v === 0)) return '<p>No responses.</p>';
  const xs = (q: number): number => Math.log10(1 / (1 - q / 100));
  const xmax = xs(pts[pts.length - 1][0]);
  const vmax = Math.max(...pts.map(([, v]) => v));
  const x = (q: number): number => M.l + (xs(q) / xmax) * (W - M.l - M.r);
  const y = (v: number): number => H - M.b - (v / vmax) * (H - M.t - M.b);
  const line = pts.map(([q, v], i) => `${i ? 'L' : 'M'}${x(q).toFixed(1)},${y(v).toFixed(1)}`).join('');
  const dots = pts.map(([q, v]) => `<circle cx="${x(q).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="#e45756"><title>p${q}: ${fmtUs(v)}</title></circle>`).join('');
  const xt = [0, 90, 99, 99.9, 99.99, 99.999].filter((q) => xs(q) <= xmax + 1e-9)
    .map((q) => `<text x="${x(q)}" y="${H - M.b + 16}" text-anchor="middle">p${q}</text>`).join('');
  const yt = niceTicks(vmax).map((v) => `<text x="${M.l - 6}" y="${y(v) + 4}" text-anchor="end">${fmtUs(v)}</text><line x1="${M.l}" x2="${W - M.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`).join('');
  return svg(`${yt}<path d="${line}" fill="none" stroke="#e45756" stroke-width="2"/>${dots}${xt}${axes()}<text x="${W / 2}" y="${H - 4}" text-anchor="middle">percentile</text>`);
}

/** Throughput (bars) and p99 (line, right axis) per interval. */
function timelineSvg(tl: TimelinePoint[]): string {
  if (tl.length === 0) return '<p>No intervals.</p>';
  const tmax = tl[tl.length - 1].t;
  const rmax = Math.max(1, ...tl.map((p) => Math.max(p.rps, p.sent_rps)));
  const pmax = Math.max(1, ...tl.map((p) => p.p99_us));
  const x = (t: number): number => M.l + (t / Math.max(1e-9, tmax)) * (W - M.l - M.r);
  const yr = (v: number): number => H - M.b - (v / rmax) * (H - M.t - M.b);
  const yp = (v: number): number => H - M.b - (v / pmax) * (H - M.t - M.b);
  let prev = 0;
  const bars = tl.map((p) => {
    const x0 = x(prev), x1 = x(p.t);
    prev = p.t;
    return `<rect x="${x0.toFixed(1)}" y="${yr(p.rps).toFixed(1)}" width="${Math.max(0.5, x1 - x0 - 0.5).toFixed(1)}" height="${(H - M.b - yr(p.rps)).toFixed(1)}" fill="${p.warmup ? '#bbb' : '#4c78a8'}"><title>${p.t}s: ${p.rps} req/s, p99 ${fmtUs(p.p99_us)}, ${p.timeouts} timeouts</title></rect>`;
  }).join('');
  const p99 = tl.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${yp(p.p99_us).toFixed(1)}`).join('');
  const sent = tl.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${yr(p.sent_rps).toFixed(1)}`).join('');
  const yl = niceTicks(rmax).map((v) => `<text x="${M.l - 6}" y="${yr(v) + 4}" text-anchor="end">${v >= 1000 ? `${v / 1000}k` : v}</text><line x1="${M.l}" x2="${W - M.r}" y1="${yr(v)}" y2="${yr(v)}" stroke="#eee"/>`).join('');
  const yrt = niceTicks(pmax).map((v) => `<text x="${W - M.r + 6}" y="${yp(v) + 4}" fill="#e45756">${fmtUs(v)}</text>`).join('');
  const xt = niceTicks(tmax, 8).map((t) => `<text x="${x(t)}" y="${H - M.b + 16}" text-anchor="middle">${+t.toPrecision(3)}s</text>`).join('');
  return svg(`${yl}${bars}<path d="${sent}" fill="none" stroke="#54a24b" stroke-dasharray="4 3"/><path d="${p99}" fill="none" stroke="#e45756" stroke-width="2"/>${yrt}${xt}${axes()}`
    + `<text x="${M.l}" y="12">responses/s (bars; grey: warm-up), sent/s (green, dashed)</text><text x="${W - M.r}" y="12" text-anchor="end" fill="#e45756">p99 (right axis)</text>`);
}

function axes(): string {
  return `<line x1="${M.l}" x2="${M.l}" y1="${M.t}" y2="${H - M.b}" stroke="#333"/><line x1="${M.l}" x2="${W - M.r}" y1="${H - M.b}" y2="${H - M.b}" stroke="#333"/>`;
}

function svg(body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="11">${body}</svg>`;
}

/** A self-contained HTML page: summary table, three plots, the JSON report. */
export function htmlReport(rep: Report): string {
  const l = rep.latency_us;
  const rows: [string, string][] = [
    ['started', rep.started], ['I/O', `${rep.io.transport} via ${rep.io.backend}, ${rep.io.channels} sockets`],
    ['measured', `${rep.seconds} s`], ['throughput', `${rep.rps} responses/s`],
    ['sent / responses', `${rep.counts.sent} / ${rep.counts.responses}`],
    ['accept / reject / acct_ok / coa ack / nak', `${rep.counts.accept} / ${rep.counts.reject} / ${rep.counts.acct_ok} / ${rep.counts.coa_ack} / ${rep.counts.coa_nak}`],
    ['timeouts / retransmits / errors', `${rep.counts.timeouts} / ${rep.counts.retransmits} / ${rep.errors}`],
    ['latency p50 / p90 / p99 / p99.9 / max', [l.p50, l.p90, l.p99, l.p999, l.max].map(fmtUs).join(' / ')],
    ['CPU (% of a core)', `sandstorm ${rep.cpu.self_pct}` + (rep.cpu.servers_pct !== null ? `, servers ${rep.cpu.servers_pct}` : '')],
  ];
  const cfg = Object.entries(rep.config).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandstorm report ${esc(rep.started)}</title>
<style>body{font-family:sans-serif;margin:2em;color:#222;max-width:${W + 40}px}table{border-collapse:collapse}td{padding:2px 12px 2px 0;vertical-align:top}td:first-child{color:#555}h2{font-size:1.1em;margin-top:1.6em}code{font-size:.85em;word-break:break-all}</style>
</head><body>
<h1>Sandstorm report</h1>
<table>${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</table>
<p><code>${esc(cfg)}</code></p>
<h2>Throughput and p99 over time</h2>
${timelineSvg(rep.timeline)}
<h2>Latency histogram (share of responses in the measured window)</h2>
${histogramSvg(rep.histogram_us)}
<h2>Latency by percentile</h2>
${percentileSvg(rep.percentiles_us)}
<script type="application/json" id="report">${JSON.stringify(rep).replace(/</g, '\\u003c')}</script>
</body></html>
`;
}
