/**
 * Status checks of the `radius` module (the trunk's health-check hook): the check packet built
 * once from `status_check { }` (static attributes only), and the probes sent on the ID reserved
 * on each connection with the `Status-Server { }` retry timers (RFC 5997 for Status-Server).
 */
import type { ConfItem, ConfSection } from '../../core';
import type { DictAttr } from '../../core';
import type { Dictionary } from '../../core';
import type { ConfigAt } from '../../core';
import type { Logger } from '../../core';
import { Pair } from '../../core';
import { parsePairList } from '../../core';
import { encodePacket, packetCodeName, PacketCode } from '../../core';
import type { HealthCheck, Trunk } from '../../core';
import { allowedCodes, CODE_OF, type RadiusConfig, type RetryConfig, type SendableType } from './config';
import type { Connection, Tracked } from './connection';
import { ATTR_MA, ATTR_PROXY_STATE, ATTR_USER_NAME, ATTR_USER_PASSWORD, NO_AUTH } from './exchange';
import { RetryTimer } from '../../core';

/**
 * The status-check packet of a `status_check { }` section: its code and static pairs. Throws
 * through `at` when the section is unusable (located: the definition's `validate` runs it, so
 * `radiusd -C` reports what start-up would; the instance builds its packet with it).
 */
export function buildStatusCheck(c: RadiusConfig, dict: Dictionary, at: ConfigAt): { code: number; pairs: Pair[] } {
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
  return { code: CODE_OF[type as SendableType | 'Status-Server'], pairs: pairs.filter((x) => x.da !== eventTimestamp) };
}

/** What the prober needs. */
export interface StatusCheckOptions {
  readonly code: number;
  readonly pairs: readonly Pair[];
  readonly answersToAlive: number;
  readonly retry: RetryConfig;
  readonly dict: Dictionary;
  readonly secret: Buffer;
  readonly eventTimestamp?: DictAttr;
  readonly log: Logger;
}

/** The health check of a `radius` trunk: one status check at a time per connection, on its reserved ID. */
export class StatusChecker implements HealthCheck<Connection> {
  readonly answersToAlive: number;
  /** Set by the owner once the trunk exists. */
  trunk!: Trunk<Connection>;
  private readonly state = new WeakMap<Connection, { timer?: ReturnType<typeof setTimeout>; retry?: RetryTimer }>();

  constructor(private readonly o: StatusCheckOptions) {
    this.answersToAlive = o.answersToAlive;
  }

  stop(c: Connection): void {
    const s = this.state.get(c);
    if (s) this.trunk.cancel(s.timer);
    this.state.delete(c);
    c.trackStatus(undefined);
  }

  /** Sends one status check on the reserved ID; `fresh` restarts the retry schedule. */
  probe(c: Connection, fresh: boolean): void {
    if (c.state !== 'zombie' && c.state !== 'opening') return;
    const o = this.o;
    let s = this.state.get(c);
    if (!s) this.state.set(c, (s = {}));
    this.trunk.cancel(s.timer);
    const now = Date.now();
    if (c.state === 'opening' && fresh && c.answersInRow === 0 && !s.retry) {
      o.log.info(`${c.label}: connected; needs ${this.answersToAlive} answers to ${packetCodeName(o.code)} before it is active`);
    }
    if (fresh || !s.retry) s.retry = new RetryTimer(o.retry, now);
    const pairs = o.pairs.slice();
    if (o.eventTimestamp) pairs.push(new Pair(o.eventTimestamp, Math.floor(now / 1000)));
    let buf: Buffer;
    try {
      buf = encodePacket({ code: o.code, id: c.statusId, authenticator: NO_AUTH, pairs }, { dict: o.dict, secret: o.secret, messageAuthenticator: true });
    } catch (e) {
      o.log.error(`${c.label}: cannot encode the status check: ${(e as Error).message}`);
      return;
    }
    const t: Tracked = { code: o.code, auth: Buffer.from(buf.subarray(4, 20)), onReply: () => undefined, onDead: () => undefined };
    c.trackStatus(t);
    if (o.log.debugEnabled) o.log.debug(`${c.label}: sending ${packetCodeName(o.code)} (id ${c.statusId}) as status check`);
    c.write(buf, !fresh);
    const retry = s.retry;
    // deadline: an answer received while this process was stalled is read before a retry or giving up.
    s.timer = this.trunk.deadline(retry.next - now, () => {
      if (c.state !== 'zombie' && c.state !== 'opening') return;
      const ev = retry.fire(Date.now());
      if (ev === 'retry') return this.probe(c, false);
      this.stop(c);
      c.fail(`status checks unanswered (${ev === 'mrc' ? `max_rtx_count ${o.retry.max_rtx_count}` : `max_rtx_duration ${o.retry.max_rtx_duration}s`})`);
    });
  }
}
