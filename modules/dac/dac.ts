/**
 * The `dac` instance: the policy side of core/dac.
 *
 * - `accounting` (bound to `recv Accounting-Request` and `accounting *`): keeps the session store
 *   up to date from Start / Interim-Update / Stop (octets with Gigawords). A duplicate Start, an
 *   Interim-Update or Stop for an unknown session are logged and counted, and still recorded
 *   (never a lost record).
 * - `grant` (bound to `send Access-Accept`): adds a UUID Acct-Session-Id when the reply has
 *   none, and remembers what the Accept granted (framed address,
 *   dynamic attributes, the client address from Framed-Route) until the session's Start.
 * - `coa` and `disconnect` (called by name, `dac.coa`): send a CoA-Request (with the dynamic
 *   attributes of the configured list) or a Disconnect-Request for the request's session to the
 *   NAS that holds it. rcode: `ok` ACK, `reject` NAK, `fail` no answer, `notfound` no such
 *   session or no client for its NAS. With `wait = no` the request is sent in the background
 *   and the call returns `ok`.
 */
import 'reflect-metadata';
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import { inject, injectable } from 'tsyringe';
import {
  DAC, DICT, METRICS, Pair, forEachLeaf, MODULE_CONFIG, MODULE_LOG, MODULE_NAME, isSessionStore, printValueUnquoted, VX_DYNAMIC_ATTRIBUTES,
  type AccountingUpdate, type CallContext, type CounterChild, type DacService, type EnvOf, type Logger,
  type Dictionary, type MetricsRegistry, type Rcode, type Request, type UpdateResult,
} from '../../core';
import type { DacConfig } from './config';

/** `env` of `coa` and `disconnect`: the session id, expanded per call. */
export const DAC_ENV = { session: 'session_id' } as const;
export type DacEnv = EnvOf<typeof DAC_ENV>;

/** Parses the VX Framed-Route `client_ip/{32|128} 0.0.0.0`; undefined when malformed. */
export function parseVxFramedRoute(text: string): string | undefined {
  const m = /^\s*([0-9a-fA-F:.]+)\/(32|128)\s+0\.0\.0\.0\s*$/.exec(text);
  if (!m) return undefined;
  const ip = m[1];
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4) return m[2] === '32' && v4.slice(1).every((o) => +o <= 255) ? ip : undefined;
  return m[2] === '128' && ip.includes(':') && net.isIPv6(ip) ? ip : undefined;
}

interface Grant {
  readonly attributes: Record<string, string>;
  readonly framedIp?: string;
  readonly clientIp?: string;
  readonly expires: number;
}

/** The `dac` module instance. */
@injectable()
export class Dac {
  private readonly grants = new Map<string, Grant>();
  private readonly anomalies: Record<Exclude<UpdateResult, 'ok'>, CounterChild>;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: DacConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
    @inject(MODULE_NAME) private readonly name: string,
    @inject(DAC) private readonly dac: DacService,
    @inject(METRICS) metrics: MetricsRegistry,
    @inject(DICT) private readonly dict: Dictionary,
  ) {
    const c = metrics.counter({ name: 'tsradius_accounting_anomalies_total', help: 'Accounting requests that did not match the session store, by kind.', labelNames: ['instance', 'kind'] });
    this.anomalies = {
      duplicate_start: c.labels(name, 'duplicate_start'),
      unknown_session: c.labels(name, 'unknown_session'),
      stop_without_start: c.labels(name, 'stop_without_start'),
    };
  }

  instantiate(): void {
    this.dac.setRetry(this.config.retry);
  }

  /** `send Access-Accept`: a UUID Acct-Session-Id when the reply has none; keeps what was granted until the Start. */
  grant(request: Request): Rcode | Promise<Rcode> {
    let id = text(request.reply, 'Acct-Session-Id');
    if (!id) {
      const da = this.dict.resolve('Acct-Session-Id');
      if (!da) return 'noop';
      id = crypto.randomUUID();
      request.reply.push(new Pair(da, id));
    }
    const now = Date.now();
    const route = text(request.request, 'Framed-Route');
    const g = {
      attributes: dynamic(request.reply),
      framedIp: text(request.reply, 'Framed-IP-Address') ?? text(request.reply, 'Framed-IPv6-Address'),
      clientIp: route ? parseVxFramedRoute(route) : undefined,
      expires: now + this.config.grant_ttl * 1000,
    };
    const store = this.dac.sessions;
    if (isSessionStore(store) && store.putGrant) return Promise.resolve(store.putGrant(id, g)).then(() => 'ok' as const);
    if (this.grants.size > 100_000) {
      for (const [k, x] of this.grants) if (x.expires < now) this.grants.delete(k);
    }
    this.grants.set(id, g);
    return 'ok';
  }

  /** Start / Interim-Update / Stop → the session store. */
  async accounting(request: Request, ctx: CallContext): Promise<Rcode> {
    const store = this.dac.sessions;
    if (!isSessionStore(store)) return 'noop';
    const status = text(request.request, 'Acct-Status-Type');
    const id = text(request.request, 'Acct-Session-Id');
    if (!id) {
      ctx.log.warn('Accounting-Request without Acct-Session-Id: not recorded');
      return 'invalid';
    }
    const src = text(request.request, 'Packet-Src-IP-Address') ?? text(request.request, 'Packet-Src-IPv6-Address');
    const g = store.grantOf ? await store.grantOf(id, status === 'Start' || status === 'Stop') : this.grants.get(id);
    const u: AccountingUpdate = {
      id,
      user: text(request.request, 'User-Name'),
      nas: text(request.request, 'NAS-IP-Address') ?? text(request.request, 'NAS-IPv6-Address') ?? src ?? '',
      src,
      nasPort: num(request.request, 'NAS-Port'),
      framedIp: text(request.request, 'Framed-IP-Address') ?? text(request.request, 'Framed-IPv6-Address') ?? g?.framedIp,
      clientIp: g?.clientIp,
      inputOctets: octets(request.request, 'Acct-Input-Octets', 'Acct-Input-Gigawords'),
      outputOctets: octets(request.request, 'Acct-Output-Octets', 'Acct-Output-Gigawords'),
      attributes: g?.attributes,
    };
    let r: UpdateResult;
    switch (status) {
      case 'Start': r = await store.start(u); this.grants.delete(id); break;
      case 'Interim-Update': r = await store.interim(u); break;
      case 'Stop': r = await store.stop(u); this.grants.delete(id); break;
      default: return 'noop';
    }
    if (r !== 'ok') {
      this.anomalies[r].inc();
      this.log.warn(`${status} for session ${id} from ${u.nas}: ${r.replace(/_/g, ' ')} (recorded)`);
      return 'updated';
    }
    return 'ok';
  }

  /** CoA-Request with the dynamic attributes of the configured list. */
  coa(request: Request, ctx: CallContext<DacEnv>): Rcode | Promise<Rcode> {
    return this.send(request, ctx, 'coa');
  }

  /** Disconnect-Request. */
  disconnect(request: Request, ctx: CallContext<DacEnv>): Rcode | Promise<Rcode> {
    return this.send(request, ctx, 'disconnect');
  }

  private async send(request: Request, ctx: CallContext<DacEnv>, kind: 'coa' | 'disconnect'): Promise<Rcode> {
    const id = ctx.env.session;
    if (!id) {
      ctx.log.warn(`${kind}: no session id`);
      return 'notfound';
    }
    const s = await this.dac.sessions.get(id);
    if (!s || s.state !== 'active') {
      ctx.log.warn(`${kind}: no active session ${id}`);
      return 'notfound';
    }
    const list = this.config.attributes === 'control' ? request.control : this.config.attributes === 'reply' ? request.reply : request.request;
    const attrs = kind === 'coa' ? dynamic(list, false) : {};
    if (kind === 'coa' && Object.keys(attrs).length === 0) {
      ctx.log.warn(`coa: no dynamic attributes in ${this.config.attributes} to send`);
      return 'noop';
    }
    const done = this.dac.send(s, kind, attrs);
    if (!this.config.wait) {
      done.catch((e) => this.log.error(`${kind} session ${id}: ${(e as Error).message}`));
      return 'ok';
    }
    const r = await done;
    switch (r.result) {
      case 'ack': return 'ok';
      case 'nak': ctx.log.info(`${kind} session ${id}: NAK${r.errorCauseName ? ` (${r.errorCauseName})` : ''}`); return 'reject';
      case 'no_client': case 'no_session': return 'notfound';
      default: ctx.log.warn(`${kind} session ${id}: ${r.result}${r.message ? `: ${r.message}` : ''}`); return 'fail';
    }
  }
}

function find(list: readonly Pair[], name: string): Pair | undefined {
  for (const p of list) if (p.da.name === name) return p;
  return undefined;
}

function text(list: readonly Pair[], name: string): string | undefined {
  const p = find(list, name);
  return p && p.value !== undefined ? printValueUnquoted(p.da, p.value) : undefined;
}

function num(list: readonly Pair[], name: string): number | undefined {
  const p = find(list, name);
  return p && typeof p.value === 'number' ? p.value : undefined;
}

function octets(list: readonly Pair[], lo: string, hi: string): number | undefined {
  const l = num(list, lo);
  if (l === undefined) return undefined;
  return (num(list, hi) ?? 0) * 2 ** 32 + l;
}

/** The dynamic attributes of a list (at any depth: the RFC 4679 rates are DSL Forum VSAs), plus Session-Timeout when `withTimeout`. */
function dynamic(list: readonly Pair[], withTimeout = true): Record<string, string> {
  const out: Record<string, string> = {};
  forEachLeaf(list, (p) => {
    if ((VX_DYNAMIC_ATTRIBUTES.includes(p.da.name) || (withTimeout && p.da.name === 'Session-Timeout')) && p.value !== undefined) out[p.da.name] = printValueUnquoted(p.da, p.value);
  });
  return out;
}
