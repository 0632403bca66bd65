/**
 * Boundary types of the listener layer (bytes ↔ verified packets) and its
 * contract toward the process layer (packet → reply bytes).
 *
 * Layering (FreeRADIUS v4 `proto_radius` / `process_radius`):
 * - A {@link Listener} owns a socket. It finds the {@link RadiusClient} by
 *   source address, applies the per-client rate limit, checks and verifies the
 *   packet (authenticators, Message-Authenticator, BlastRADIUS policy),
 *   detects duplicates, and hands an {@link InboundPacket} to its
 *   {@link PacketSink}. It knows nothing of policy.
 * - A {@link PacketSink} (the process state machine, `core/process/radius`)
 *   runs the site and calls `done` exactly once with the encoded reply, or
 *   with `null` for "no reply".
 *
 * Rules:
 * - A listener MUST NOT throw out of a socket handler; every rejected input is
 *   dropped and counted in {@link ListenerStats}.
 * - A sink MUST call `done` exactly once per packet, also after `cancel`
 *   (then with `null`), and MUST NOT throw out of `process`.
 * - A sink MAY return an {@link InFlight} handle; the listener uses it to
 *   deliver `dup` (a retransmit arrived while processing) and `cancel`
 *   (the same ID arrived with a new authenticator, or shutdown).
 */
import type { RadiusPacket } from '../protocol/radius/packet';
import type { Logger } from '../log/logger';
import type { Dictionary } from '../dict/dictionary';
import type { Clock } from '../clock/clock';

/** Transport of a listener. */
export type Transport = 'udp' | 'tcp';

/** Three-valued client policy switches (`require_message_authenticator`, `limit_proxy_state`). */
export type YesNoAuto = 'yes' | 'no' | 'auto';

/** Configuration of one listener (`listen NAME { type = …; transport = …; udp { ipaddr; port } }`). */
export interface ListenerConfig {
  /** Name for logs and stats (`default.auth`, `acct` …). */
  name: string;
  transport: Transport;
  /** Address to bind: an IPv4/IPv6 literal, or `*` for all IPv4 (`::` for all IPv6). */
  ipaddr: string;
  /** Port to bind; 0 picks a free port (tests). */
  port: number;
  /** Packet codes accepted on this listener (e.g. `[1, 12]`); others are dropped and counted. */
  types: readonly number[];
  /** SO_RCVBUF in bytes (UDP). */
  recvBuff?: number;
  /** SO_SNDBUF in bytes (UDP). */
  sendBuff?: number;
  /** Seconds a finished request's reply stays cached for retransmits (default 5, 0 disables). */
  cleanupDelay: number;
  /** Largest packet accepted (default 4096, the RFC maximum). */
  maxPacketSize: number;
  /** TCP: connections without traffic are closed after this many seconds (default 30, 0 = never). */
  idleTimeout?: number;
  /** TCP: maximum simultaneous connections (default 16, 0 = unlimited). */
  maxConnections?: number;
  /** TCP: maximum simultaneous connections from one source address (default 4, 0 = unlimited). */
  maxConnectionsPerClient?: number;
  /** TCP: seconds a packet may take to arrive once its first bytes were read (default 5, 0 = no deadline). */
  readTimeout?: number;
  /**
   * Bind exclusively (default false). With `cluster`, a non-exclusive UDP bind
   * in a worker shares the primary's socket; see docs/multicore.md.
   */
  exclusive?: boolean;
}

/** A RADIUS client (NAS) as configured by a `client NAME { … }` section. */
export interface RadiusClient {
  /** Section name (`client NAME`). */
  readonly name: string;
  /** `shortname` (defaults to the name). */
  readonly shortname: string;
  /** Shared secret as bytes. Never logged. */
  readonly secret: Buffer;
  /** `nas_type` (default `other`). */
  readonly nasType: string;
  /** The network this client matches, as written canonically (`192.0.2.0/24`, `::1/128`). */
  readonly network: string;
  readonly requireMessageAuthenticator: YesNoAuto;
  readonly limitProxyState: YesNoAuto;
  /** Packets per second allowed from this client (0 = unlimited). */
  readonly maxPps: number;
  /**
   * Runtime state (mutable): set once a packet from this client carried a
   * valid Message-Authenticator; with `auto` it is required from then on.
   */
  maSeen: boolean;
}

/** Finds clients by source address (longest prefix match). */
export interface ClientLookup {
  /** The client for a source address (IPv4 or IPv6 text, IPv4-mapped IPv6 accepted), or undefined. */
  find(address: string): RadiusClient | undefined;
}

/** Where a packet came from or went to. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** What the process layer may know about the listener that received a packet. */
export interface ListenerInfo {
  readonly name: string;
  readonly transport: Transport;
  /** Packet codes accepted on the listener (Status-Server answers depend on it). */
  readonly types: readonly number[];
}

/** A received, verified and decoded request, handed from the listener to the sink. */
export interface InboundPacket {
  /** The exact packet bytes (length from the header). Pairs in `packet` view into it. */
  readonly raw: Buffer;
  /** Decoded packet: code, id, Request Authenticator, lazily decoded pairs. */
  readonly packet: RadiusPacket;
  /** True when the request carried a (verified) Message-Authenticator. */
  readonly hasMessageAuthenticator: boolean;
  readonly client: RadiusClient;
  /** Source of the packet (the reply goes here). */
  readonly src: Endpoint;
  /** Local address and port it was received on. */
  readonly dst: Endpoint;
  readonly listener: ListenerInfo;
  /** Receive time in the server clock's monotonic milliseconds (`ListenerDeps.clock`). */
  readonly received: number;
}

/** Signals the listener sends to a request in progress. */
export type PacketSignal = 'dup' | 'cancel';

/** Handle on a request in progress, returned by {@link PacketSink.process}. */
export interface InFlight {
  /** Delivers `dup` (retransmit seen) or `cancel` (superseded, shutdown). */
  signal(s: PacketSignal): void;
}

/** Called once per packet with the encoded reply, or null for "do not respond". */
export type ReplyCallback = (reply: Buffer | null) => void;

/** The process side of a listener. */
export interface PacketSink {
  /**
   * Processes one packet. MUST call `done` exactly once (possibly
   * synchronously, possibly after a delay such as `reject_delay`). Returns a
   * handle for signals, or undefined when the request finished synchronously.
   */
  process(packet: InboundPacket, done: ReplyCallback): InFlight | undefined;
}

/**
 * Counter names of a listener. Drop counters start with `drop_`; malformed
 * packets are counted as `drop_malformed` and, per checkPacket reason code,
 * `malformed:<code>`.
 */
export type CounterName =
  | 'received'               // datagrams / framed packets read
  | 'processed'              // handed to the sink
  | 'replied'                // replies written (including from cache)
  | 'no_reply'               // sink answered null (Do-Not-Respond, cancel)
  | 'dup_cached'             // retransmit answered from the reply cache
  | 'dup_in_progress'        // retransmit while processing (dup signal sent)
  | 'dup_no_reply'           // retransmit of a finished request that had no reply
  | 'superseded'             // same ID, new authenticator while in progress (old one cancelled)
  | 'drop_unknown_client'
  | 'drop_malformed'
  | 'drop_bad_authenticator'
  | 'drop_bad_message_authenticator'
  | 'drop_missing_message_authenticator'
  | 'drop_proxy_state'       // limit_proxy_state: Proxy-State without Message-Authenticator
  | 'drop_type_not_allowed'  // valid packet code not served on this listener, or a response code
  | 'drop_rate_limited'      // client max_pps exceeded
  | 'drop_too_large'         // larger than maxPacketSize
  | 'drop_decode'            // attribute decoding failed after verification
  | 'drop_internal'          // an unexpected exception was caught
  | 'tcp_accepted'           // connections taken into service
  | 'tcp_open'               // connections open now
  | 'tcp_closed'             // closed by the peer or at shutdown
  | 'tcp_closed_bad'         // closed for garbage / bad framing
  | 'tcp_closed_idle'        // closed after idle_timeout without traffic
  | 'tcp_closed_read_timeout' // closed because a started packet was not complete within read_timeout
  | 'tcp_rejected'           // refused at accept time (sum of the three below)
  | 'tcp_rejected_unknown_client'
  | 'tcp_rejected_max_connections'
  | 'tcp_rejected_per_client' // over max_connections_per_client
  | 'tcp_accept_errors';     // accept() failed (EMFILE …) or the peer was gone before we saw it

/** A snapshot of a listener's counters (`stats()`); missing keys are 0. */
export type ListenerStats = Record<string, number>;

/** Dependencies of a listener. */
export interface ListenerDeps {
  clients: ClientLookup;
  sink: PacketSink;
  /** The RADIUS dictionary used to decode requests (default: `loadDefaultDictionary()`). */
  dict?: Dictionary;
  /** Server log (drops are logged at a limited rate). */
  log?: Logger;
  /** The server clock (receive times, `max_pps` buckets); default: the system clock. */
  clock?: Clock;
  /**
   * Where a client's first Message-Authenticator is reported (shared across workers, kept
   * across restarts: core/listen/client-state.ts). Without it the listener logs it itself.
   */
  clientState?: import('./client-state').ClientStateSink;
  /**
   * Processes sharing this listener's port (cluster workers; default 1). A worker's native UDP socket joins
   * their SO_REUSEPORT group, which then spreads packets over them by RADIUS ID (core/native/udp `spread`).
   */
  share?: number;
}

/** A running listener (UDP or TCP). */
export interface Listener {
  readonly config: ListenerConfig;
  /** Binds the socket. Rejects on bind errors. */
  start(): Promise<void>;
  /** Closes the socket (and TCP connections); cancels nothing in flight. */
  stop(): Promise<void>;
  /** The bound address, once started. */
  address(): { address: string; port: number; family: string } | undefined;
  /** Counter snapshot. */
  stats(): ListenerStats;
  /**
   * Swaps clients and sink (configuration reload). Requests in flight finish
   * on the old sink; new packets use the new one. The duplicate cache is kept.
   */
  update(deps: Partial<ListenerDeps>): void;
}
