/**
 * The snapshot of a {@link MetricsRegistry}: plain JSON, so a cluster worker can send it to
 * the primary over IPC, and the primary sums the workers' snapshots with {@link mergeSnapshots}.
 */

/** Prometheus metric types we produce. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/**
 * How samples of the same series from several processes combine: `sum` (counters, histograms
 * and additive gauges such as open connections), `max` / `min` (e.g. a generation number, a
 * start time).
 */
export type MergeRule = 'sum' | 'max' | 'min';

/** One series. For a histogram, `value` is the observation count. */
export interface Sample {
  readonly labels: string[];
  value: number;
  /** Histogram: sum of the observations. */
  sum?: number;
  /** Histogram: observations per bucket (not cumulative), the last one `+Inf`. */
  counts?: number[];
}

/** One family and its series. */
export interface FamilySnapshot {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly labelNames: string[];
  readonly merge: MergeRule;
  /** Histogram upper bounds (without `+Inf`). */
  buckets?: number[];
  readonly samples: Sample[];
}

/** Every family of a registry at one moment. */
export interface MetricsSnapshot {
  readonly families: FamilySnapshot[];
}

/**
 * Combines the snapshots of several processes (cluster workers) series by series, using each
 * family's merge rule. Families and series present in only some snapshots are kept.
 */
export function mergeSnapshots(parts: readonly MetricsSnapshot[]): MetricsSnapshot {
  const fams = new Map<string, { f: FamilySnapshot; byKey: Map<string, Sample> }>();
  for (const part of parts) {
    for (const pf of part.families) {
      let e = fams.get(pf.name);
      if (!e) {
        const f: FamilySnapshot = { name: pf.name, help: pf.help, type: pf.type, labelNames: [...pf.labelNames], merge: pf.merge, samples: [] };
        if (pf.buckets) f.buckets = [...pf.buckets];
        e = { f, byKey: new Map() };
        fams.set(pf.name, e);
      }
      for (const s of pf.samples) {
        const key = s.labels.join('\u0000');
        const prev = e.byKey.get(key);
        if (!prev) {
          const n: Sample = { labels: [...s.labels], value: s.value };
          if (s.counts) { n.counts = [...s.counts]; n.sum = s.sum ?? 0; }
          e.byKey.set(key, n);
          e.f.samples.push(n);
          continue;
        }
        const rule = e.f.merge;
        if (rule === 'max') prev.value = Math.max(prev.value, s.value);
        else if (rule === 'min') prev.value = Math.min(prev.value, s.value);
        else prev.value += s.value;
        if (prev.counts && s.counts) {
          prev.sum = (prev.sum ?? 0) + (s.sum ?? 0);
          for (let i = 0; i < prev.counts.length && i < s.counts.length; i++) prev.counts[i] += s.counts[i];
        }
      }
    }
  }
  return { families: [...fams.values()].map((e) => e.f) };
}

/** The family called `name`, if present. */
export function findFamily(snap: MetricsSnapshot, name: string): FamilySnapshot | undefined {
  return snap.families.find((f) => f.name === name);
}

/** Sum of the samples of family `name` whose labels match `where` (label name → value); 0 when absent. */
export function sampleValue(snap: MetricsSnapshot, name: string, where: Record<string, string> = {}): number {
  const f = findFamily(snap, name);
  if (!f) return 0;
  const idx = Object.entries(where).map(([k, v]) => [f.labelNames.indexOf(k), v] as const);
  let n = 0;
  for (const s of f.samples) if (idx.every(([i, v]) => i >= 0 && s.labels[i] === v)) n += s.value;
  return n;
}
