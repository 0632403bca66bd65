/**
 * `listen [NAME] { … }` sections of a `server` block → {@link ListenerConfig}.
 *
 * ```
 * listen acct {
 *     type = Accounting-Request          # repeat for several packet types
 *     transport = udp                    # udp | tcp
 *     udp { ipaddr = 127.0.0.1  port = 1813 }
 *     limit { cleanup_delay = 5 }
 * }
 * listen tcp_auth {
 *     type = Access-Request
 *     transport = tcp
 *     tcp { ipaddr = *  port = 1812 }
 *     limit { max_connections = 16  max_connections_per_client = 4  idle_timeout = 30  read_timeout = 5 }
 * }
 * ```
 * The packet types and default ports come from the server's namespace (core/process/namespace.ts).
 * For `radius`: without a `port`, the port comes from the first packet type: 1812 for
 * Access-Request and Status-Server, 1813 for Accounting-Request, 3799 for CoA-Request and
 * Disconnect-Request.
 */
import { conf, parseSection, suggest } from '../config/schema';
import { ConfError } from '../config/errors';
import type { ConfSection } from '../config/ast';
import { TCP_LIMIT_DEFAULTS } from '../listen/tcp';
import type { ListenerConfig } from '../listen/types';
import { RADIUS_NAMESPACE } from '../process/radius/namespace';
import type { NamespaceListen } from '../process/namespace';

/** The radius namespace's packet names and codes (kept here for existing importers). */
export { REQUEST_TYPES } from '../process/radius/namespace';

const SocketSchema = {
  ipaddr: conf.ipaddr({ doc: 'Address to bind (`*` = all IPv4).' }),
  ipv4addr: conf.ipaddr({ version: 4, doc: 'IPv4 address to bind.' }),
  ipv6addr: conf.ipaddr({ version: 6, doc: 'IPv6 address to bind (`*` = all IPv6).' }),
  port: conf.integer({ min: 0, max: 65535, doc: 'Port (default from the first `type`).' }),
  interface: conf.string({ doc: 'Not supported; accepted for compatibility.' }),
  recv_buff: conf.integer({ min: 0, doc: 'SO_RCVBUF (UDP).' }),
  send_buff: conf.integer({ min: 0, doc: 'SO_SNDBUF (UDP).' }),
  max_packet_size: conf.integer({ default: 4096, min: 20, max: 65535, doc: 'Largest packet accepted.' }),
  max_connections: conf.integer({ min: 0, doc: 'TCP: simultaneous connections.' }),
  idle_timeout: conf.duration({ doc: 'TCP: close idle connections after this long (0 = never).' }),
  networks: conf.subsection({ allow: conf.list(conf.ipaddr({ prefix: true })), deny: conf.list(conf.ipaddr({ prefix: true })) }, { optional: true, doc: 'Accepted for compatibility; client definitions decide who may talk to the server.' }),
};

/** Schema of a `listen` section. */
export const ListenSchema = conf.section({
  type: conf.list(conf.string(), { doc: 'Packet types accepted (repeatable).' }),
  transport: conf.enum(['udp', 'tcp'] as const, { default: 'udp', doc: 'udp or tcp (RFC 6613).' }),
  udp: conf.subsection(SocketSchema, { optional: true }),
  tcp: conf.subsection(SocketSchema, { optional: true }),
  limit: conf.subsection({
    cleanup_delay: conf.duration({ min: 0, max: 30, doc: 'Seconds a reply stays cached for retransmits.' }),
    max_clients: conf.integer({ min: 0, doc: 'Accepted for v4 compatibility; ignored.' }),
    max_connections: conf.integer({ min: 0, doc: `TCP: simultaneous connections (default ${TCP_LIMIT_DEFAULTS.maxConnections}, 0 = unlimited).` }),
    max_connections_per_client: conf.integer({ min: 0, doc: `TCP: simultaneous connections from one source address (default ${TCP_LIMIT_DEFAULTS.maxConnectionsPerClient}, 0 = unlimited).` }),
    idle_timeout: conf.duration({ min: 0, doc: `TCP: close a connection without traffic after this long (default ${TCP_LIMIT_DEFAULTS.idleTimeout}s, 0 = never).` }),
    read_timeout: conf.duration({ min: 0, doc: `TCP: a started packet must arrive completely within this time (default ${TCP_LIMIT_DEFAULTS.readTimeout}s, 0 = no deadline).` }),
    lifetime: conf.duration({ min: 0, doc: 'Accepted for v3 compatibility; ignored.' }),
    max_packet_size: conf.integer({ min: 20, max: 65535 }),
    num_messages: conf.integer({ min: 0, doc: 'Accepted for v4 compatibility; ignored.' }),
  }, { optional: true }),
});

/** A listener as configured, plus the server it feeds. */
export interface ListenSpec extends ListenerConfig {
  /** `server NAME` this listener belongs to. */
  readonly server: string;
  /** The server's namespace (`radius`). */
  readonly namespace: string;
  readonly loc: { file: string; line: number };
}

/**
 * Parses a `listen` section of server `server`. `index` numbers unnamed listeners;
 * `cleanupDelay` is the global default; `ns` names the namespace whose packet types and
 * default ports apply (default `radius`).
 */
export function parseListen(
  cs: ConfSection, server: string, index: number, cleanupDelay: number,
  ns: { name: string; listen: NamespaceListen } = { name: RADIUS_NAMESPACE.name, listen: RADIUS_NAMESPACE.listen! },
): ListenSpec {
  const REQUEST_TYPES = ns.listen.types;
  const label = cs.name2 ? `listen ${cs.name2}` : 'listen';
  const l = parseSection(ListenSchema, cs, `server ${server} { ${label} }`);
  const where = `server ${server} { ${label} }`;
  if (l.type.length === 0) throw new ConfError('ERR_CONF_MISSING', cs.loc, `${where}: at least one "type = …" is required`);
  const types: number[] = [];
  for (const t of l.type) {
    const code = REQUEST_TYPES[t] ?? Object.entries(REQUEST_TYPES).find(([k]) => k.toLowerCase() === t.toLowerCase())?.[1];
    if (code === undefined) {
      const hint = suggest(t, Object.keys(REQUEST_TYPES));
      const item = cs.children.find((c) => c.kind === 'pair' && c.attr === 'type' && c.value === t);
      throw new ConfError('ERR_CONF_VALUE', item?.loc ?? cs.loc,
        `${where} { type }: unknown packet type "${t}"${hint ? `; did you mean "${hint}"?` : ''} (one of ${Object.keys(REQUEST_TYPES).join(', ')})`);
    }
    if (!types.includes(code)) types.push(code);
  }
  const sock = l.transport === 'udp' ? l.udp : l.tcp;
  const other = l.transport === 'udp' ? l.tcp : l.udp;
  if (other && !sock) {
    throw new ConfError('ERR_CONF_VALUE', cs.loc, `${where}: transport = ${l.transport}, but only a "${l.transport === 'udp' ? 'tcp' : 'udp'} { }" subsection is given`);
  }
  // `ipv6addr = *` is the IPv6 wildcard (dual-stack), not the IPv4 one that a bare `*` means.
  const v6 = sock?.ipv6addr === '*' ? '::' : sock?.ipv6addr;
  const ipaddr = sock?.ipaddr ?? sock?.ipv4addr ?? v6 ?? '*';
  const port = sock?.port ?? ns.listen.defaultPort(types[0]);
  return {
    name: `${server}.${cs.name2 ?? `listen${index}`}`,
    server,
    namespace: ns.name,
    transport: l.transport,
    ipaddr,
    port,
    types,
    recvBuff: sock?.recv_buff,
    sendBuff: sock?.send_buff,
    cleanupDelay: l.limit?.cleanup_delay ?? cleanupDelay,
    maxPacketSize: l.limit?.max_packet_size ?? sock?.max_packet_size ?? 4096,
    idleTimeout: l.limit?.idle_timeout ?? sock?.idle_timeout,
    maxConnections: l.limit?.max_connections ?? sock?.max_connections,
    maxConnectionsPerClient: l.limit?.max_connections_per_client,
    readTimeout: l.limit?.read_timeout,
    loc: cs.loc,
  };
}

/** Key identifying a socket: listeners with the same key keep their socket across a reload. */
export function socketKey(l: Pick<ListenerConfig, 'transport' | 'ipaddr' | 'port'>): string {
  return `${l.transport}:${l.ipaddr}:${l.port}`;
}
