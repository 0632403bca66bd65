/**
 * Start-time rules of the `radius` config that the schema cannot express, run by the loader
 * at start-up and under `radiusd -C` (the definition's `validate`), so that a check and a start
 * agree. Errors are located: `radius.conf[4]: radius home { udp }: secret is required`.
 *
 * `statusCheck` is also used by the instance to build its check packet from a validated config.
 */
import type { ConfItem, ConfSection } from '../../core/config/ast';
import type { Dictionary } from '../../core/dict/dictionary';
import type { ConfigAt, ValidateContext } from '../../core/module/define';
import { Pair } from '../../core/pair/pair';
import { parsePairList } from '../../core/pair/text';
import { PacketCode } from '../../core/protocol/radius';
import type { RadiusConfig, SendableType } from './config';

const CODE_OF: Record<SendableType, number> = {
  'Access-Request': PacketCode.AccessRequest,
  'Accounting-Request': PacketCode.AccountingRequest,
  'CoA-Request': PacketCode.CoARequest,
  'Disconnect-Request': PacketCode.DisconnectRequest,
};

const ATTR_PROXY_STATE = 33;
const ATTR_MA = 80;
const ATTR_USER_NAME = 1;
const ATTR_USER_PASSWORD = 2;

/** Packet codes of the configured `type` items. */
export function allowedCodes(c: RadiusConfig): Set<number> {
  return new Set(c.type.filter((t): t is SendableType => t !== 'Status-Server').map((t) => CODE_OF[t]));
}

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
  if (c.status_check && c.mode !== 'replicate') statusCheck(c, ctx.dict, at);
}

/**
 * The status-check packet of a `status_check { }` section: its code and static pairs. Throws
 * through `at` when the section is unusable.
 */
export function statusCheck(c: RadiusConfig, dict: Dictionary, at: ConfigAt): { code: number; pairs: Pair[] } {
  const sc = c.status_check!;
  const allowed = allowedCodes(c);
  const pairs: Pair[] = [];
  for (const u of sc.update as ConfItem[]) {
    if (u.kind !== 'section') at.item(u, 'status_check.update', 'must be a section: update request { … }');
    const s = u as ConfSection;
    if (s.name2 !== undefined && s.name2 !== 'request') {
      at.item(s, `status_check.update ${s.name2}`, 'only "update request { … }" (or "update { … }") is allowed');
    }
    for (const p of s.children) {
      if (p.kind !== 'pair' || p.op === '' || p.value === undefined) at.item(p, 'status_check.update', 'expected "Attribute = value"');
      if (p.quote === 'back' || (p.quote === 'double' && p.value.includes('%')) || (p.quote === 'bare' && p.value.includes('%'))) {
        at.item(p, 'status_check.update', `${p.attr}: only static values are allowed (no expansions)`);
      }
      const v = p.quote === 'double' ? `"${p.value}"` : p.quote === 'single' ? `'${p.value}'` : p.value;
      let parsed: Pair[] = [];
      try {
        parsed = parsePairList(`${p.attr} = ${v}`, dict);
      } catch (e) {
        at.item(p, 'status_check.update', (e as Error).message);
      }
      for (const x of parsed) {
        const top = x.da.parent?.type === 'root';
        if (top && (x.da.attr === ATTR_PROXY_STATE || x.da.attr === ATTR_MA)) {
          at.item(p, 'status_check.update', `${x.da.name} is not allowed in a status check`);
        }
        (x as Pair & { loc?: unknown }).loc = p.loc;
        pairs.push(x);
      }
    }
  }
  const has = (attr: number): boolean => pairs.some((x) => x.da.attr === attr && x.da.parent?.type === 'root');
  let type = sc.type as string;
  if (type === 'auto') {
    if (allowed.has(PacketCode.AccessRequest)) type = 'Access-Request';
    else if (allowed.has(PacketCode.AccountingRequest)) type = 'Accounting-Request';
    else type = 'Status-Server';
  }
  if (type === 'Access-Request' && (!has(ATTR_USER_NAME) || !has(ATTR_USER_PASSWORD))) {
    at('status_check', 'a status check with Access-Request needs User-Name and User-Password in "update request { … }"');
  }
  if (type === 'Accounting-Request' && !has(ATTR_USER_NAME)) {
    at('status_check', 'a status check with Accounting-Request needs User-Name in "update request { … }"');
  }
  if (type !== 'Access-Request' && has(ATTR_USER_PASSWORD)) {
    at('status_check', 'User-Password is only allowed when the check type is Access-Request');
  }
  const nasId = dict.resolve('NAS-Identifier');
  if (pairs.length === 0 && nasId) pairs.push(new Pair(nasId, 'status check - are you alive?'));
  const eventTimestamp = dict.resolve('Event-Timestamp');
  return { code: type === 'Status-Server' ? PacketCode.StatusServer : CODE_OF[type as SendableType], pairs: pairs.filter((x) => x.da !== eventTimestamp) };
}
