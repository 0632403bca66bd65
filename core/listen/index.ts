/**
 * Listeners: sockets, client table, duplicate detection, BlastRADIUS policy,
 * See README.md. (Process orchestration, the cluster helper, is core/server/cluster.ts.)
 */
export type {
  Transport, YesNoAuto, ListenerConfig, RadiusClient, ClientLookup, Endpoint, ListenerInfo, InboundPacket,
  PacketSignal, InFlight, ReplyCallback, PacketSink, CounterName, ListenerStats, ListenerDeps, Listener,
} from './types';
export { Client, ClientTable, ClientSchema, parseClient, parseClients, maRequired, proxyStateLimited, canonicalNetwork, normaliseAddress } from './clients';
export { UdpListener, bindAddress } from './udp';
export { TcpListener, TCP_LIMIT_DEFAULTS } from './tcp';
export { DedupTable } from './dedup';
export { BASE_COUNTERS, totalDrops } from './ingest';
import type { Listener, ListenerConfig, ListenerDeps } from './types';
import { TcpListener } from './tcp';
import { UdpListener } from './udp';

/** Creates the listener for `config.transport`. */
export function createListener(config: ListenerConfig, deps: ListenerDeps): Listener {
  return config.transport === 'tcp' ? new TcpListener(config, deps) : new UdpListener(config, deps);
}
export { MaSeenState, clientKey, maLearnedNote, type ClientStateSink } from './client-state';
