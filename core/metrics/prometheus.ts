/**
 * Renders a {@link MetricsSnapshot} in the Prometheus text exposition format, version 0.0.4
 * (`Content-Type: text/plain; version=0.0.4; charset=utf-8`): a `# HELP` and a `# TYPE` line per
 * family, then one line per series; histograms as cumulative `_bucket{le="…"}` lines ending
 * with `le="+Inf"`, then `_sum` and `_count`.
 *
 * It takes a snapshot, not the registry, so the cluster primary renders the merged snapshot of
 * its workers the same way a single process renders its own.
 */
import type { MetricsSnapshot } from './snapshot';

/** The Content-Type an HTTP endpoint serves this text with. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Help text escaping: backslash and newline. */
function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Label value escaping: backslash, double quote and newline. */
function escapeLabel(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value: integers as is, `+Inf` / `-Inf` / `NaN` spelt as Prometheus expects. */
function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelText(names: readonly string[], values: readonly string[], extra?: [string, string]): string {
  const parts: string[] = [];
  for (let i = 0; i < names.length; i++) parts.push(`${names[i]}="${escapeLabel(values[i] ?? '')}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** The snapshot as Prometheus text (families sorted by name, series in registration order). */
export function renderPrometheus(snap: MetricsSnapshot): string {
  const lines: string[] = [];
  const fams = [...snap.families].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const f of fams) {
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
    lines.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      if (f.type !== 'histogram') {
        lines.push(`${f.name}${labelText(f.labelNames, s.labels)} ${num(s.value)}`);
        continue;
      }
      const bounds = f.buckets ?? [];
      const counts = s.counts ?? [];
      let acc = 0;
      for (let i = 0; i < bounds.length; i++) {
        acc += counts[i] ?? 0;
        lines.push(`${f.name}_bucket${labelText(f.labelNames, s.labels, ['le', num(bounds[i])])} ${num(acc)}`);
      }
      acc += counts[bounds.length] ?? 0;
      lines.push(`${f.name}_bucket${labelText(f.labelNames, s.labels, ['le', '+Inf'])} ${num(acc)}`);
      lines.push(`${f.name}_sum${labelText(f.labelNames, s.labels)} ${num(s.sum ?? 0)}`);
      lines.push(`${f.name}_count${labelText(f.labelNames, s.labels)} ${num(s.value)}`);
    }
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}
