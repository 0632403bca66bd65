/**
 * The `radius` namespace: what `server NAME { namespace = radius … }` may hold, which listeners
 * it opens and which state machine serves it, implementing the namespace contract of
 * ../namespace.ts. core/server finds it in its namespace registry (the default one:
 * ../default.ts) and knows nothing RADIUS-specific itself.
 */
import type { ConfSection } from '../../config/ast';
import { ConfError } from '../../config/errors';
import type { Dictionary } from '../../dict/dictionary';
import { PacketCode, packetCodeName } from '../../protocol/radius/packet';
import { TcpListener } from '../../listen/tcp';
import { UdpListener } from '../../listen/udp';
import type { Namespace } from '../namespace';
import { createRadiusProcess } from './process';

/** `recv` section names of the radius namespace. */
export const RECV_SECTIONS = ['Access-Request', 'Accounting-Request', 'Status-Server', 'CoA-Request', 'Disconnect-Request'] as const;
/** `send` section names of the radius namespace. */
export const SEND_SECTIONS = [
  'Access-Accept', 'Access-Reject', 'Access-Challenge', 'Accounting-Response', 'CoA-ACK', 'CoA-NAK',
  'Disconnect-ACK', 'Disconnect-NAK', 'Protocol-Error', 'Do-Not-Respond',
] as const;

/** Packet names a listener may accept (and `Server.inject` may run), and their codes. */
export const REQUEST_TYPES: Readonly<Record<string, number>> = Object.freeze({
  'Access-Request': PacketCode.AccessRequest,
  'Accounting-Request': PacketCode.AccountingRequest,
  'Status-Server': PacketCode.StatusServer,
  'Disconnect-Request': PacketCode.DisconnectRequest,
  'CoA-Request': PacketCode.CoARequest,
});

const DEFAULT_PORT: Readonly<Record<number, number>> = { 1: 1812, 12: 1812, 4: 1813, 40: 3799, 43: 3799 };

/** Acct-Status-Type value names known to the dictionary (for `accounting X` checks). */
function acctStatusNames(dict: Dictionary): string[] | undefined {
  const da = dict.resolve('Acct-Status-Type');
  if (!da?.valueNames) return undefined;
  return [...new Set(da.valueNames.values())];
}

/**
 * Each `authenticate <name>` section defines the `Auth-Type` value `<name>` (as FreeRADIUS v4 does), so
 * `control.Auth-Type := proxy` compiles when the server has `authenticate proxy { … }`. Runs before any
 * section of the server is compiled.
 */
export function registerAuthTypes(cs: ConfSection, dict: Dictionary): void {
  const da = dict.resolve('Auth-Type');
  if (!da) return;
  for (const item of cs.children) {
    if (item.kind !== 'section' || item.name1 !== 'authenticate' || !item.name2 || item.name2 === '*') continue;
    try {
      dict.addEnumName(da, item.name2);
    } catch (e) {
      throw new ConfError('ERR_CONF_VALUE', item.loc, `server ${cs.name2 ?? ''}: authenticate ${item.name2}: ${(e as Error).message}`);
    }
  }
}

/** The `radius` namespace. */
export const RADIUS_NAMESPACE: Namespace = {
  name: 'radius',
  sections: {
    recv: RECV_SECTIONS,
    send: SEND_SECTIONS,
    authenticate: 'any',
    accounting: acctStatusNames,
    // `finally [<request type>]`: runs last for every request (of that type).
    finally: RECV_SECTIONS,
  },
  bareSections: ['finally'],
  prepare: registerAuthTypes,
  requestTypes: REQUEST_TYPES,
  replyName: (code) => packetCodeName(code),
  settingsSections: ['radius'],
  listen: {
    types: REQUEST_TYPES,
    defaultPort: (code) => DEFAULT_PORT[code] ?? 1812,
    create: (config, deps) => (config.transport === 'tcp' ? new TcpListener(config, deps) : new UdpListener(config, deps)),
    // `radiusd -p PORT`: auth/status listeners get PORT, accounting ones PORT + 1, CoA ones keep theirs.
    overridePort: (types, port) => {
      if (types.includes(PacketCode.AccessRequest) || types.includes(PacketCode.StatusServer)) return port;
      if (types.includes(PacketCode.AccountingRequest)) return port + 1;
      return undefined;
    },
  },
  createProcess: (site, opts) => createRadiusProcess(site, opts),
};
