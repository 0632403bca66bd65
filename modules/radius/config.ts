/**
 * Config schema of the `radius` module (proxy / client / replicate), shaped like FreeRADIUS
 * v4's `raddb/mods-available/radius` so that operators feel at home. Cross-item rules
 * (a `udp { }` section for `transport = udp`, status-check attributes, Status-Server as a
 * `type`) are checked by `validateRadiusConfig` in `./validate.ts` (the definition's `validate`, so
 * `radiusd -C` catches them) with located errors.
 *
 * Deviations from the reference limits (documented in README.md): the lower bounds of the
 * retry timers, `zombie_period` and `revive_interval` are relaxed (10 ms / 1 s) so that
 * tests can run with short timers; the upper bounds are the reference ones.
 */
import { conf } from '../../core';
import { PacketCode } from '../../core';

/** Packet types an instance may be configured to send (`type = …`). Status-Server is not one of them. */
export const SENDABLE_TYPES = ['Access-Request', 'Accounting-Request', 'CoA-Request', 'Disconnect-Request'] as const;

/** One of {@link SENDABLE_TYPES}. */
export type SendableType = (typeof SENDABLE_TYPES)[number];

/** An RFC 5080 retry section (`Access-Request { initial_rtx_time … }`) with per-type defaults and limits. */
function retry(d: { irt: number; mrt: number; mrc: number; mrd: number }, max: { irt: number; mrt: number; mrc: number; mrd: number }, zeroForever = false) {
  return conf.subsection({
    initial_rtx_time: conf.duration({ default: d.irt, min: '10ms', max: max.irt, doc: 'IRT: first retransmission after this long (client mode; ±10 % jitter).' }),
    max_rtx_time: conf.duration({ default: d.mrt, min: '10ms', max: max.mrt, doc: 'MRT: upper bound of one retransmission interval.' }),
    max_rtx_count: conf.integer({ default: d.mrc, min: zeroForever ? 0 : 1, max: max.mrc, doc: `MRC: give up after this many transmissions${zeroForever ? ' (0 = no limit)' : ''}.` }),
    max_rtx_duration: conf.duration({ default: d.mrd, min: zeroForever ? 0 : '10ms', max: max.mrd, doc: `MRD: give up this long after the first transmission${zeroForever ? ' (0 = no limit)' : ''}.` }),
  });
}

/** Common items of the `udp { }` and `tcp { }` transport sections. */
const transportFields = {
  ipaddr: conf.ipaddr({ doc: 'Home server address (IPv4 or IPv6). One of ipaddr / ipv4addr / ipv6addr is required.' }),
  ipv4addr: conf.ipaddr({ version: 4, doc: 'Home server IPv4 address.' }),
  ipv6addr: conf.ipaddr({ version: 6, doc: 'Home server IPv6 address.' }),
  port: conf.integer({ default: 1812, min: 1, max: 65535, doc: 'Home server port.' }),
  secret: conf.string({ secret: true, doc: 'Shared secret with the home server (required).' }),
  src_ipaddr: conf.ipaddr({ doc: 'Source address of outgoing connections (default: chosen by the kernel).' }),
  recv_buff: conf.integer({ min: 0, max: 1 << 30, doc: 'SO_RCVBUF of each socket (default: the kernel\'s).' }),
  send_buff: conf.integer({ min: 0, max: 1 << 30, doc: 'SO_SNDBUF of each socket (default: the kernel\'s).' }),
};

/** `radius [instance] { … }` */
export const RadiusConfig = conf.section({
  mode: conf.enum(['proxy', 'client', 'replicate'] as const, {
    default: 'proxy',
    doc: 'proxy: forward the request, retransmit only when the NAS does; client: originate with our own RFC 5080 timers; replicate: send and forget. (unconnected-replicate and dynamic-proxy are not implemented.)',
  }),
  transport: conf.enum(['udp', 'tcp'] as const, { default: 'udp', doc: 'udp, or tcp (RFC 6613). The matching `udp { }` / `tcp { }` section is required.' }),
  type: conf.list(conf.enum(['Access-Request', 'Accounting-Request', 'CoA-Request', 'Disconnect-Request', 'Status-Server'] as const), {
    min: 1,
    doc: 'Packet types this instance may send (repeat the item). Status-Server is not allowed: it is used by status_check.',
  }),
  max_packet_size: conf.integer({ default: 4096, min: 64, max: 65535, doc: 'Largest packet accepted from the home server (RADIUS itself stops at 4096).' }),
  max_attributes: conf.integer({ default: 255, min: 0, max: 65535, doc: 'Replies with more attributes are dropped as malformed (0 = no limit).' }),
  require_message_authenticator: conf.enum(['yes', 'no', 'auto'] as const, {
    default: 'auto',
    doc: 'Access-Accept/Reject/Challenge replies must carry a valid Message-Authenticator: yes; no (verified when present); auto: required once the home server has sent one in such a reply. Accounting-Response, CoA/Disconnect ACK/NAK and Protocol-Error never need one (verified when present).',
  }),
  response_window: conf.duration({ default: 20, min: '10ms', max: 120, doc: 'Proxy mode: how long to wait for a reply. Also the zombie test: no reply on a connection for this long while packets are outstanding.' }),
  zombie_period: conf.duration({ default: 40, min: '10ms', max: 120, doc: 'Without status_check: how long a zombie connection stays zombie (fail fast; any reply, a late one included, makes it active again) before revive_interval starts.' }),
  revive_interval: conf.duration({ default: 120, min: '10ms', max: 3600, doc: 'Without status_check: after zombie_period the connection is closed and calls return fail at once for this long; then it is reopened. Default 120 as FreeRADIUS 3 (v4 ships 3600).' }),
  max_outstanding: conf.integer({ default: 65536, min: 1, max: 1 << 24, doc: 'Most packets in flight for the whole instance (across all worker processes: each worker gets floor(max / workers), at least 1).' }),
  originate_list: conf.enum(['control', 'request', 'reply'] as const, {
    default: 'control',
    doc: 'Client mode: the pair list sent when the packet code differs from the request being processed (e.g. a CoA-Request originated from an Accounting flow; the code is control.Packet-Type).',
  }),
  status_check: conf.subsection({
    type: conf.enum(['Status-Server', 'Access-Request', 'Accounting-Request', 'auto'] as const, {
      default: 'Status-Server',
      doc: 'Packet used to ping a connection. auto: Status-Server unless … picks from the allowed types (see README).',
    }),
    num_answers_to_alive: conf.integer({ default: 3, min: 1, max: 1000, doc: 'Consecutive answers that make a new or zombie connection active.' }),
    update: conf.raw({ doc: '`update request { Attr = value … }` (or v4 `update { }`): static attributes of the check packet. Access-Request needs User-Name and User-Password, Accounting-Request needs User-Name.' }),
  }, { optional: true, doc: 'Application-level watchdog. Without it a zombie comes back after zombie_period + revive_interval.' }),
  udp: conf.subsection(transportFields, { optional: true, doc: 'UDP transport: connected sockets, one per connection (each its own source port).' }),
  tcp: conf.subsection(transportFields, { optional: true, doc: 'TCP transport (RFC 6613): one stream per connection, never retransmits.' }),
  pool: conf.subsection({
    start: conf.integer({ default: 1, min: 0, max: 1024, doc: 'Connections opened at start.' }),
    min: conf.integer({ default: 1, min: 0, max: 1024, doc: 'Connections kept open (reopened when they fail).' }),
    max: conf.integer({ default: 8, min: 1, max: 1024, doc: 'Most outgoing connections (across all worker processes: each worker gets floor(max / workers), at least 1).' }),
    per_connection_max: conf.integer({ default: 255, min: 2, max: 255, doc: 'Packets in flight per connection (one ID is reserved for status checks when configured).' }),
    max_backlog: conf.integer({ default: 1000, min: 0, max: 1 << 20, doc: 'Requests queued while every connection is full or opening (0 = fail at once).' }),
    connect_timeout: conf.duration({ default: 3, min: '10ms', max: 60, doc: 'A TCP connection that takes longer is dead.' }),
    reconnect_delay: conf.duration({ default: 1, min: 0, max: 3600, doc: 'Wait this long before reopening a dead connection.' }),
  }),
  'Access-Request': retry({ irt: 2, mrt: 16, mrc: 5, mrd: 30 }, { irt: 15, mrt: 30, mrc: 10, mrd: 90 }),
  'Accounting-Request': retry({ irt: 2, mrt: 5, mrc: 1, mrd: 30 }, { irt: 5, mrt: 30, mrc: 10, mrd: 30 }, true),
  'CoA-Request': retry({ irt: 2, mrt: 16, mrc: 5, mrd: 30 }, { irt: 5, mrt: 60, mrc: 10, mrd: 30 }),
  'Disconnect-Request': retry({ irt: 2, mrt: 16, mrc: 5, mrd: 30 }, { irt: 5, mrt: 30, mrc: 10, mrd: 30 }),
  'Status-Server': retry({ irt: 2, mrt: 5, mrc: 5, mrd: 30 }, { irt: 5, mrt: 30, mrc: 10, mrd: 30 }),
});

/** The parsed config. */
export type RadiusConfig = conf.Infer<typeof RadiusConfig>;

/** The parsed retry section of one packet type. */
export type RetryConfig = RadiusConfig['Access-Request'];

/** Packet code of each sendable type (and of Status-Server, for status checks). */
export const CODE_OF: Record<SendableType | 'Status-Server', number> = {
  'Access-Request': PacketCode.AccessRequest,
  'Accounting-Request': PacketCode.AccountingRequest,
  'CoA-Request': PacketCode.CoARequest,
  'Disconnect-Request': PacketCode.DisconnectRequest,
  'Status-Server': PacketCode.StatusServer,
};

/** Packet codes of the configured `type` items. */
export function allowedCodes(c: RadiusConfig): Set<number> {
  return new Set(c.type.filter((t): t is SendableType => t !== 'Status-Server').map((t) => CODE_OF[t]));
}
