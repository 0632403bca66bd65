import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from './registry';
import { mergeSnapshots, sampleValue } from './snapshot';
import { renderPrometheus } from './prometheus';

describe('metrics registry', () => {
  it('counters, gauges and histograms bound to label values', () => {
    const r = new MetricsRegistry();
    const rx = r.counter({ name: 'demo_received_total', help: 'Packets read.', labelNames: ['listener'] });
    const auth = rx.labels('auth');
    expect(rx.labels('auth')).toBe(auth); // the same child: bind once, increment on the hot path
    auth.inc();
    auth.inc(2);
    rx.labels('acct').inc();
    const open = r.gauge({ name: 'demo_open', help: 'Open things.' }).labels();
    open.set(5);
    open.dec();
    const h = r.histogram({ name: 'demo_seconds', help: 'Durations.', buckets: [0.1, 1] }).labels();
    for (const v of [0.05, 0.1, 0.5, 3]) h.observe(v);
    const s = r.snapshot();
    expect(sampleValue(s, 'demo_received_total', { listener: 'auth' })).toBe(3);
    expect(sampleValue(s, 'demo_received_total')).toBe(4);
    expect(sampleValue(s, 'demo_open')).toBe(4);
    const hs = s.families.find((f) => f.name === 'demo_seconds')!;
    expect(hs.samples[0]).toEqual({ labels: [], value: 4, sum: 3.65, counts: [2, 1, 1] });
  });

  it('collectors run at snapshot time and series with equal labels are summed', () => {
    const r = new MetricsRegistry();
    const state = { a: 1 };
    const def = { name: 'demo_events_total', help: 'Events.', labelNames: ['who'] };
    const off = r.collect((out) => { out.counter(def, ['x'], state.a); out.counter(def, ['x'], 10); });
    state.a = 7;
    expect(sampleValue(r.snapshot(), 'demo_events_total', { who: 'x' })).toBe(17);
    off();
    expect(r.snapshot().families).toEqual([]);
  });

  it('rejects bad names, label mismatches and type clashes', () => {
    const r = new MetricsRegistry();
    expect(() => r.counter({ name: 'bad-name', help: '' })).toThrow(/not a valid/);
    expect(() => r.counter({ name: 'x_total', help: '', labelNames: ['__x'] })).toThrow(/label name/);
    const c = r.counter({ name: 'x_total', help: 'x', labelNames: ['a'] });
    expect(r.counter({ name: 'x_total', help: 'x', labelNames: ['a'] })).toBe(c);
    expect(() => r.gauge({ name: 'x_total', help: 'x', labelNames: ['a'] })).toThrow(/already registered/);
    expect(() => c.labels()).toThrow(/expected 1 label/);
    r.collect((out) => out.gauge({ name: 'x_total', help: 'x', labelNames: ['a'] }, ['b'], 1));
    // A collector that throws is counted, not thrown: the other families still come out.
    const snap = r.snapshot();
    expect(sampleValue(snap, 'metrics_collector_failures')).toBe(1);
    expect(snap.families.map((f) => f.name)).toEqual(['x_total', 'metrics_collector_failures']);
  });

  it('merges worker snapshots by rule (sum, max) and keeps series seen by one worker only', () => {
    const mk = (n: number, gen: number) => {
      const r = new MetricsRegistry();
      r.counter({ name: 'rx_total', help: 'rx', labelNames: ['l'] }).labels('a').inc(n);
      if (n > 1) r.counter({ name: 'rx_total', help: 'rx', labelNames: ['l'] }).labels('b').inc();
      r.gauge({ name: 'gen', help: 'generation', merge: 'max' }).labels().set(gen);
      r.histogram({ name: 'lat', help: 'latency', buckets: [1] }).labels().observe(n);
      // Through JSON, as over IPC.
      return JSON.parse(JSON.stringify(r.snapshot()));
    };
    const m = mergeSnapshots([mk(1, 3), mk(2, 5)]);
    expect(sampleValue(m, 'rx_total', { l: 'a' })).toBe(3);
    expect(sampleValue(m, 'rx_total', { l: 'b' })).toBe(1);
    expect(sampleValue(m, 'gen')).toBe(5);
    expect(m.families.find((f) => f.name === 'lat')!.samples[0]).toEqual({ labels: [], value: 2, sum: 3, counts: [1, 1] });
  });
});

describe('Prometheus text format 0.0.4', () => {
  it('renders HELP/TYPE, escaped labels and cumulative histogram buckets', () => {
    const r = new MetricsRegistry();
    r.counter({ name: 'tsradius_listener_received_total', help: 'Packets read.\\ back', labelNames: ['listener'] }).labels('a"b\nc').inc(3);
    r.gauge({ name: 'tsradius_up', help: 'Up.' }).labels().set(1);
    const h = r.histogram({ name: 'tsradius_request_seconds', help: 'Time.', labelNames: ['site'], buckets: [0.5, 1] }).labels('default');
    h.observe(0.25);
    h.observe(0.75);
    h.observe(2);
    expect(renderPrometheus(r.snapshot())).toBe([
      '# HELP tsradius_listener_received_total Packets read.\\\\ back',
      '# TYPE tsradius_listener_received_total counter',
      'tsradius_listener_received_total{listener="a\\"b\\nc"} 3',
      '# HELP tsradius_request_seconds Time.',
      '# TYPE tsradius_request_seconds histogram',
      'tsradius_request_seconds_bucket{site="default",le="0.5"} 1',
      'tsradius_request_seconds_bucket{site="default",le="1"} 2',
      'tsradius_request_seconds_bucket{site="default",le="+Inf"} 3',
      'tsradius_request_seconds_sum{site="default"} 3',
      'tsradius_request_seconds_count{site="default"} 3',
      '# HELP tsradius_up Up.',
      '# TYPE tsradius_up gauge',
      'tsradius_up 1',
      '',
    ].join('\n'));
    expect(renderPrometheus({ families: [] })).toBe('');
  });
});
