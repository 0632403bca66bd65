/**
 * Listener counters in the metrics registry. A listener keeps its counters in a plain record
 * (`Ingest.counters`, incremented on the hot path); the server registers a collector that emits
 * every listener's record through {@link emitListenerStats} when a snapshot is taken, and the
 * stats file and `%stats()` read them back with {@link listenerStatsFrom}. The mapping is
 * generic, so a counter added to a listener appears in both without further changes:
 *
 * | listener counter | metric |
 * |---|---|
 * | `drop_<reason>` | `tsradius_listener_dropped_total{listener, reason}` |
 * | `malformed:<code>` | `tsradius_listener_malformed_total{listener, code}` |
 * | `tracked` (dedup entries), `tcp_open` | gauges `tsradius_listener_dedup_entries`, `tsradius_listener_tcp_connections` |
 * | any other `<name>` | `tsradius_listener_<name>_total{listener}` |
 */
import type { Collect, MetricOptions } from '../metrics/registry';
import type { MetricsSnapshot } from '../metrics/snapshot';
import type { ListenerStats } from './types';

/** Label value under which the server reports the counters of listeners a reload closed. */
export const CLOSED_LISTENERS = '_closed';

const PREFIX = 'tsradius_listener_';
const DROPPED: MetricOptions = { name: `${PREFIX}dropped_total`, help: 'Packets dropped, by reason.', labelNames: ['listener', 'reason'] };
const MALFORMED: MetricOptions = { name: `${PREFIX}malformed_total`, help: 'Malformed packets, by checkPacket reason code.', labelNames: ['listener', 'code'] };
const GAUGES: Readonly<Record<string, MetricOptions>> = {
  tracked: { name: `${PREFIX}dedup_entries`, help: 'Entries in the duplicate-detection table.', labelNames: ['listener'] },
  tcp_open: { name: `${PREFIX}tcp_connections`, help: 'Open TCP connections.', labelNames: ['listener'] },
};
const HELP: Readonly<Record<string, string>> = {
  received: 'Datagrams or framed packets read.',
  processed: 'Packets handed to the site.',
  replied: 'Replies written (including from the duplicate cache).',
  no_reply: 'Requests that ended without a reply.',
  dup_cached: 'Retransmits answered from the duplicate cache.',
  dup_in_progress: 'Retransmits of a request still in progress.',
  dup_no_reply: 'Retransmits of a finished request that had no reply.',
  superseded: 'Requests cancelled by a new packet with the same ID.',
  send_errors: 'Failed writes.',
  tcp_accepted: 'TCP connections accepted.',
  tcp_closed: 'TCP connections closed by the peer or at shutdown.',
  tcp_closed_bad: 'TCP connections closed for garbage or bad framing.',
  tcp_closed_idle: 'TCP connections closed after idle_timeout.',
  tcp_closed_read_timeout: 'TCP connections closed because a started packet missed read_timeout.',
  tcp_rejected: 'TCP connections refused (sum of the tcp_rejected_* reasons).',
  tcp_rejected_unknown_client: 'TCP connections refused: unknown client.',
  tcp_rejected_max_connections: 'TCP connections refused: listener max_connections reached.',
  tcp_rejected_per_client: 'TCP connections refused: max_connections_per_client reached.',
  tcp_accept_errors: 'TCP accept() failures.',
};
const NAME_PART = /^[a-z0-9_]+$/;

const counterDefs = new Map<string, MetricOptions>();
function counterDef(key: string): MetricOptions {
  let d = counterDefs.get(key);
  if (!d) {
    d = { name: `${PREFIX}${key}_total`, help: HELP[key] ?? `Listener counter ${key}.`, labelNames: ['listener'] };
    counterDefs.set(key, d);
  }
  return d;
}

/** Emits one listener's counter record. */
export function emitListenerStats(out: Collect, listener: string, s: ListenerStats): void {
  for (const key in s) {
    const v = s[key];
    if (key.startsWith('drop_')) out.counter(DROPPED, [listener, key.slice(5)], v);
    else if (key.startsWith('malformed:')) out.counter(MALFORMED, [listener, key.slice(10)], v);
    else if (GAUGES[key]) out.gauge(GAUGES[key], [listener], v);
    else if (NAME_PART.test(key)) out.counter(counterDef(key), [listener], v);
  }
}

const GAUGE_KEYS = new Map(Object.entries(GAUGES).map(([k, d]) => [d.name, k]));

/** The listener counter records in a snapshot, by listener label (in order of appearance). */
export function listenerStatsFrom(snap: MetricsSnapshot): Map<string, ListenerStats> {
  const out = new Map<string, ListenerStats>();
  for (const f of snap.families) {
    if (!f.name.startsWith(PREFIX) || f.labelNames[0] !== 'listener') continue;
    let key: ((labels: readonly string[]) => string) | undefined;
    if (f.name === DROPPED.name) key = (l) => `drop_${l[1]}`;
    else if (f.name === MALFORMED.name) key = (l) => `malformed:${l[1]}`;
    else if (GAUGE_KEYS.has(f.name)) { const k = GAUGE_KEYS.get(f.name)!; key = () => k; }
    else if (f.name.endsWith('_total') && f.labelNames.length === 1) { const k = f.name.slice(PREFIX.length, -6); key = () => k; }
    if (!key) continue;
    for (const s of f.samples) {
      let rec = out.get(s.labels[0]);
      if (!rec) out.set(s.labels[0], (rec = {}));
      const k = key(s.labels);
      rec[k] = (rec[k] ?? 0) + s.value;
    }
  }
  return out;
}
