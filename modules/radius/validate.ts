/**
 * Start-time rules of the `radius` config that the schema cannot express, run by the loader
 * at start-up and under `radiusd -C` (the definition's `validate`), so that a check and a start
 * agree. Errors are located: `radius.conf[4]: radius home { udp }: secret is required`.
 *
 * The instance builds its status-check packet with the same function (`buildStatusCheck`,
 * status-check.ts), and takes the transport through `transportOf`.
 */
import type { ConfigAt, ValidateContext } from '../../core';
import type { RadiusConfig } from './config';
import { buildStatusCheck } from './status-check';

/** The transport section in use and the home server address (after validation both exist). */
export function transportOf(c: RadiusConfig): { tr: NonNullable<RadiusConfig['udp']>; host: string } {
  const tr = (c.transport === 'udp' ? c.udp : c.tcp)!;
  return { tr, host: (tr.ipaddr ?? tr.ipv4addr ?? tr.ipv6addr)! };
}

/** The definition's `validate`. */
export function validateRadiusConfig(c: RadiusConfig, at: ConfigAt, ctx: ValidateContext): void {
  if (c.type.includes('Status-Server')) at('type', 'type = Status-Server is not allowed; use status_check { type = Status-Server }');
  const tr = c.transport === 'udp' ? c.udp : c.tcp;
  if (!tr) at('transport', `transport = ${c.transport} needs a "${c.transport} { … }" section`);
  if ([tr.ipaddr, tr.ipv4addr, tr.ipv6addr].filter((x) => x !== undefined).length !== 1) {
    at(c.transport, 'exactly one of ipaddr, ipv4addr or ipv6addr is required');
  }
  if (!tr.secret) at(c.transport, 'secret is required');
  if (c.status_check && c.mode !== 'replicate') buildStatusCheck(c, ctx.dict, at);
}
