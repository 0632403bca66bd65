/**
 * The metrics registry: counters, gauges and histograms with labels, in the Prometheus data
 * model (a family has a name, help text, a type and label names; a series is one set of label
 * values). See `README.md` beside this file.
 *
 * Two ways to feed it:
 * - **Owned series** for new code: `registry.counter({ … }).labels('auth')` returns a child bound
 *   to fixed label values, once, at set-up time. On the hot path an increment is `child.inc()`,
 *   a plain number field update: no Map lookup, no string building, no allocation.
 * - **Collectors** for state that already lives elsewhere (a listener's counter record, a
 *   connection pool's state): `registry.collect(fn)` runs `fn` only when a snapshot is taken,
 *   and `fn` emits samples. Collectors cost nothing per packet.
 *
 * A {@link MetricsSnapshot} is plain JSON: it can be written to a file, rendered in the
 * Prometheus text format (`prometheus.ts`), or sent to the cluster primary over IPC and summed
 * with the other workers' snapshots (`mergeSnapshots`, `snapshot.ts`).
 */
import type { FamilySnapshot, MergeRule, MetricType, MetricsSnapshot, Sample } from './snapshot';

/** What every family declares. */
export interface MetricOptions {
  /** `[a-zA-Z_:][a-zA-Z0-9_:]*`; counters end in `_total` by convention. */
  readonly name: string;
  /** One line of help text. */
  readonly help: string;
  /** Label names, in the order `labels(...)` takes their values. */
  readonly labelNames?: readonly string[];
}

/** Gauge options: how the cluster primary combines the workers' values (default `sum`). */
export interface GaugeOptions extends MetricOptions {
  readonly merge?: MergeRule;
}

/** Histogram options. */
export interface HistogramOptions extends MetricOptions {
  /** Upper bounds, increasing (the `+Inf` bucket is implicit). Default {@link DEFAULT_BUCKETS}. */
  readonly buckets?: readonly number[];
}

/** Default histogram buckets, in seconds (request durations). */
export const DEFAULT_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One counter series bound to its label values. */
export class CounterChild {
  value = 0;
  /** Adds `n` (default 1; never negative). */
  inc(n = 1): void {
    this.value += n;
  }
}

/** One gauge series bound to its label values. */
export class GaugeChild {
  value = 0;
  set(v: number): void {
    this.value = v;
  }
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
}

/** One histogram series bound to its label values. */
export class HistogramChild {
  /** Observations per bucket (not cumulative); the last slot is `+Inf`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }
}

/** Emits samples from a collector (see {@link MetricsRegistry.collect}). */
export interface Collect {
  counter(def: MetricOptions, labelValues: readonly string[], value: number): void;
  gauge(def: GaugeOptions, labelValues: readonly string[], value: number): void;
}

/** A collector: runs when a snapshot is taken. */
export type Collector = (out: Collect) => void;

/** Set (per snapshot) when collectors throw; its samples up to the throw are kept. */
const COLLECTOR_ERRORS: MetricOptions = { name: 'metrics_collector_failures', help: 'Collectors that threw while this snapshot was taken.' };

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A family of owned series. */
export class Family<C> {
  readonly labelNames: readonly string[];
  private readonly children = new Map<string, { labels: readonly string[]; child: C }>();

  constructor(
    readonly type: MetricType,
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
    private readonly make: () => C,
    readonly merge: MergeRule = 'sum',
    readonly buckets?: readonly number[],
  ) {
    this.labelNames = Object.freeze([...labelNames]);
  }

  /**
   * The series for these label values (created on first use). Call it at set-up time and keep
   * the child; it is the same object for the same values.
   */
  labels(...values: string[]): C {
    if (values.length !== this.labelNames.length) {
      throw new Error(`metric ${this.name}: expected ${this.labelNames.length} label value(s) (${this.labelNames.join(', ')}), got ${values.length}`);
    }
    const key = values.join('\u0000');
    let e = this.children.get(key);
    if (!e) {
      e = { labels: Object.freeze([...values]), child: this.make() };
      this.children.set(key, e);
    }
    return e.child;
  }

  /** Forgets the series with these label values (a listener or an instance went away). */
  remove(...values: string[]): void {
    this.children.delete(values.join('\u0000'));
  }

  /** @internal */
  series(): Iterable<{ labels: readonly string[]; child: C }> {
    return this.children.values();
  }
}

export type Counter = Family<CounterChild>;
export type Gauge = Family<GaugeChild>;
export type Histogram = Family<HistogramChild>;

/** The registry. One per process (see `README.md` for cluster workers). */
export class MetricsRegistry {
  private readonly families = new Map<string, Family<unknown>>();
  private readonly collectors = new Set<Collector>();

  /** A counter family (the same object when called again with the same definition). */
  counter(o: MetricOptions): Counter {
    return this.family('counter', o, () => new CounterChild()) as Counter;
  }

  /** A gauge family. */
  gauge(o: GaugeOptions): Gauge {
    return this.family('gauge', o, () => new GaugeChild(), o.merge) as Gauge;
  }

  /** A histogram family. */
  histogram(o: HistogramOptions): Histogram {
    const buckets = [...(o.buckets ?? DEFAULT_BUCKETS)];
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i] > buckets[i - 1])) throw new Error(`metric ${o.name}: buckets must increase`);
    }
    return this.family('histogram', o, () => new HistogramChild(buckets), 'sum', buckets) as Histogram;
  }

  /** Adds a collector; returns the function that removes it (call it in `detach`). */
  collect(fn: Collector): () => void {
    this.collectors.add(fn);
    return () => { this.collectors.delete(fn); };
  }

  /** Every family with its current samples. Series with equal labels are summed. */
  snapshot(): MetricsSnapshot {
    const out = new Map<string, FamilySnapshot>();
    const index = new Map<FamilySnapshot, Map<string, Sample>>();
    const familyOf = (type: MetricType, o: MetricOptions, merge: MergeRule, buckets?: readonly number[]): FamilySnapshot => {
      let f = out.get(o.name);
      if (!f) {
        checkDef(o);
        const owned = this.families.get(o.name);
        if (owned && owned.type !== type) throw new Error(`metric ${o.name}: emitted as ${type} but registered as ${owned.type}`);
        f = { name: o.name, help: o.help, type, labelNames: [...(o.labelNames ?? [])], merge, samples: [] };
        if (buckets) f.buckets = [...buckets];
        out.set(o.name, f);
        index.set(f, new Map());
      } else if (f.type !== type) {
        throw new Error(`metric ${o.name}: emitted as ${type} and as ${f.type}`);
      }
      return f;
    };
    const add = (f: FamilySnapshot, labels: readonly string[], value: number, h?: HistogramChild): void => {
      if (labels.length !== f.labelNames.length) throw new Error(`metric ${f.name}: expected ${f.labelNames.length} label value(s), got ${labels.length}`);
      const key = labels.join('\u0000');
      const seen = index.get(f)!;
      const s = seen.get(key);
      if (s) {
        s.value += value;
        if (h && s.counts && s.sum !== undefined) {
          s.sum += h.sum;
          for (let i = 0; i < h.counts.length; i++) s.counts[i] += h.counts[i];
        }
        return;
      }
      const n: Sample = h ? { labels: [...labels], value: h.count, sum: h.sum, counts: Array.from(h.counts) } : { labels: [...labels], value };
      seen.set(key, n);
      f.samples.push(n);
    };
    for (const fam of this.families.values()) {
      const f = familyOf(fam.type, fam, fam.merge, fam.buckets);
      for (const { labels, child } of fam.series()) {
        if (child instanceof HistogramChild) add(f, labels, child.count, child);
        else add(f, labels, (child as CounterChild).value);
      }
    }
    const emit: Collect = {
      counter: (def, labels, value) => add(familyOf('counter', def, 'sum'), labels, value),
      gauge: (def, labels, value) => add(familyOf('gauge', def, def.merge ?? 'sum'), labels, value),
    };
    let failed = 0;
    for (const c of this.collectors) {
      try { c(emit); } catch { failed++; }
    }
    // A broken collector must not take the stats file or the Status-Server answer down with it.
    if (failed) add(familyOf('gauge', COLLECTOR_ERRORS, 'sum'), [], failed);
    return { families: [...out.values()] };
  }

  private family(type: MetricType, o: MetricOptions, make: () => unknown, merge?: MergeRule, buckets?: readonly number[]): Family<unknown> {
    checkDef(o);
    const labelNames = o.labelNames ?? [];
    const prev = this.families.get(o.name);
    if (prev) {
      if (prev.type !== type || prev.labelNames.join(',') !== labelNames.join(',')) {
        throw new Error(`metric ${o.name}: already registered as a ${prev.type} with labels (${prev.labelNames.join(', ')})`);
      }
      return prev;
    }
    const f = new Family(type, o.name, o.help, labelNames, make, merge ?? 'sum', buckets);
    this.families.set(o.name, f);
    return f;
  }
}

function checkDef(o: MetricOptions): void {
  if (!NAME.test(o.name)) throw new Error(`metric name "${o.name}" is not a valid Prometheus name`);
  for (const l of o.labelNames ?? []) {
    if (!LABEL.test(l) || l.startsWith('__')) throw new Error(`metric ${o.name}: label name "${l}" is not valid`);
  }
}
