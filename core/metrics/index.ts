/** The metrics registry (see README.md). */
export {
  MetricsRegistry, CounterChild, GaugeChild, HistogramChild, Family, DEFAULT_BUCKETS,
  type Counter, type Gauge, type Histogram, type Collect, type Collector, type MetricOptions, type GaugeOptions, type HistogramOptions,
} from './registry';
export {
  mergeSnapshots, findFamily, sampleValue,
  type MetricsSnapshot, type FamilySnapshot, type Sample, type MetricType, type MergeRule,
} from './snapshot';
export { renderPrometheus, PROMETHEUS_CONTENT_TYPE } from './prometheus';
