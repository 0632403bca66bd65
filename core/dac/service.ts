/**
 * The DAC service: one per server process (a process-wide service like the metrics registry;
 * DI token `DAC`, and `AppHost.dac` for apps). It sends CoA-Request and Disconnect-Request for
 * sessions to the NAS that holds them:
 *
 * - the session comes from the {@link SessionLookup} in use (in-memory by default; a SQL-backed
 *   store plugs in with {@link DacService.useSessions});
 * - the NAS is the session's packet source (or NAS-IP-Address / NAS-IPv6-Address); its client
 *   definition gives the `coa_server { ipaddr, port, secret }` (defaults: the NAS address,
 *   port 3799, the client's secret);
 * - the request identifies the session (Acct-Session-Id, User-Name, NAS-IP-Address or
 *   NAS-IPv6-Address: RFC 5176 §3) and carries the given attributes (CoA) or none (Disconnect);
 * - the answer (ACK, NAK with Error-Cause, or timeout after the RFC 5080 retransmissions) is
 *   recorded on the session, counted and logged.
 *
 * The server hands it each new generation's dictionary and client tables (`setGeneration`).
 */
import * as net from 'node:net';
import type { Dictionary } from '../dict/dictionary';
import type { ClientLookup, RadiusClient } from '../listen/types';
import type { Logger } from '../log/logger';
import type { Counter, Histogram, MetricsRegistry } from '../metrics/registry';
import { forEachLeaf } from '../pair/list';
import { Pair } from '../pair/pair';
import { parsePairList } from '../pair/text';
import { PacketCode } from '../protocol/radius';
import type { RetrySettings } from '../client/retry';
import { printValueUnquoted } from '../value/print';
import { DacClient, type DacAnswer, type DacTarget } from './client';
import { MemorySessions, type DacOutcome, type DacSession, type SessionFilter, type SessionLookup } from './sessions';

/** The attributes a CoA-Request may change in the VX flow (the seed's "dynamic" column). */
export const VX_DYNAMIC_ATTRIBUTES: readonly string[] = Object.freeze([
  'Idle-Timeout', 'Port-Limit',
  'Actual-Data-Rate-Downstream', 'Actual-Data-Rate-Upstream',
  'Minimum-Data-Rate-Downstream', 'Minimum-Data-Rate-Upstream',
  'Maximum-Data-Rate-Downstream', 'Maximum-Data-Rate-Upstream',
]);

/** The outcome for one session of an operator or policy command. */
export interface DacResult {
  readonly session: string;
  readonly user?: string;
  readonly nas?: string;
  readonly result: DacOutcome['result'] | 'no_session' | 'no_client';
  readonly errorCause?: number;
  readonly errorCauseName?: string;
  readonly rttMs?: number;
  readonly transmissions?: number;
  readonly message?: string;
}

/** What to change with a CoA: pairs, text (`Idle-Timeout = 300, …`) or name → value text. */
export type CoaAttributes = Pair[] | string | Record<string, string | number>;

/** Options of {@link DacService}. */
export interface DacServiceOptions {
  readonly metrics?: MetricsRegistry;
  readonly log?: Logger;
  readonly retry?: RetrySettings;
  /** Sessions to start with (default: a {@link MemorySessions}). */
  readonly sessions?: SessionLookup;
}

const KINDS = { coa: PacketCode.CoARequest, disconnect: PacketCode.DisconnectRequest } as const;

/** See the file comment. */
export class DacService {
  private lookup: SessionLookup;
  private readonly memory: MemorySessions;
  private dict: Dictionary | undefined;
  private client: DacClient | undefined;
  private tables: readonly ClientLookup[] = [];
  private retry: RetrySettings | undefined;
  private log: Logger | undefined;
  private readonly requests: Counter | undefined;
  private readonly rtt: Histogram | undefined;
  private readonly removeCollector: (() => void) | undefined;

  constructor(opts: DacServiceOptions = {}) {
    this.memory = new MemorySessions();
    this.lookup = opts.sessions ?? this.memory;
    this.log = opts.log;
    this.retry = opts.retry;
    const m = opts.metrics;
    if (m) {
      this.requests = m.counter({ name: 'tsradius_dac_requests_total', help: 'CoA-Request and Disconnect-Request sent for sessions, by type and result.', labelNames: ['type', 'result'] });
      this.rtt = m.histogram({ name: 'tsradius_dac_rtt_seconds', help: 'CoA/Disconnect round trip, first transmission to answer.', labelNames: ['type'] });
      this.removeCollector = m.collect((out) => {
        const c = this.client?.counters;
        out.gauge({ name: 'tsradius_dac_in_flight', help: 'CoA/Disconnect requests waiting for an answer.' }, [], this.client?.inFlight ?? 0);
        out.counter({ name: 'tsradius_dac_retransmissions_total', help: 'CoA/Disconnect retransmissions (RFC 5080).' }, [], c?.retransmitted ?? 0);
        out.counter({ name: 'tsradius_dac_answers_dropped_total', help: 'CoA/Disconnect answers dropped (unknown ID, bad authenticator, wrong code).' }, [], c?.dropped ?? 0);
        const n = this.lookup.count();
        if (typeof n === 'number') out.gauge({ name: 'tsradius_sessions_active', help: 'Active sessions known to the DAC session store.' }, [], n);
      });
    }
  }

  /** The sessions in use. */
  get sessions(): SessionLookup {
    return this.lookup;
  }

  /** The built-in in-memory store (what the `dac` module's accounting method fills by default). */
  get memorySessions(): MemorySessions {
    return this.memory;
  }

  /** Uses another session store (e.g. SQL); `undefined` goes back to the in-memory one. */
  useSessions(lookup: SessionLookup | undefined): void {
    this.lookup = lookup ?? this.memory;
  }

  /** The generation's dictionary and client tables (called by the server on start and reload). */
  setGeneration(dict: Dictionary, clients: readonly ClientLookup[], log?: Logger): void {
    this.dict = dict;
    this.tables = clients;
    if (log) this.log = log.child('dac');
    this.client?.setDictionary(dict);
  }

  /** RFC 5080 timers for requests sent from now on. */
  setRetry(r: RetrySettings): void {
    this.retry = r;
    this.client?.setRetry(r);
  }

  /** Sockets closed; requests in flight end as timeouts (a later request opens new ones). */
  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.close();
  }

  /** Closes and removes the metrics collector (the service is not used again). */
  async dispose(): Promise<void> {
    this.removeCollector?.();
    await this.close();
  }

  /** Requests in flight (for health). */
  get inFlight(): number {
    return this.client?.inFlight ?? 0;
  }

  /** Where CoA/Disconnect for this session go, or why there is no such place. */
  target(s: Pick<DacSession, 'nas' | 'src'>): DacTarget | string {
    const client = this.findClient(s.src) ?? this.findClient(s.nas);
    if (!client) return `no client matches NAS ${s.nas}${s.src && s.src !== s.nas ? ` (source ${s.src})` : ''}`;
    const coa = (client as { coaServer?: { ipaddr?: string; port: number; secret?: Buffer } }).coaServer;
    return { address: coa?.ipaddr ?? s.src ?? s.nas, port: coa?.port ?? 3799, secret: coa?.secret ?? client.secret };
  }

  /** Sends a CoA-Request with `attrs` to every session matching `filter`. Throws when `attrs` do not parse. */
  async coa(filter: SessionFilter, attrs: CoaAttributes, signal?: AbortSignal): Promise<DacResult[]> {
    // Bad attributes are the caller's error, reported once (throws), not per session.
    if (this.dict) this.toPairs(this.dict, attrs);
    return this.each(filter, (s) => this.send(s, 'coa', attrs, signal));
  }

  /** Sends a Disconnect-Request to every session matching `filter`. */
  async disconnect(filter: SessionFilter, signal?: AbortSignal): Promise<DacResult[]> {
    return this.each(filter, (s) => this.send(s, 'disconnect', [], signal));
  }

  /** One session, by object (policy: the `dac` module). */
  async send(s: DacSession, kind: 'coa' | 'disconnect', attrs: CoaAttributes, signal?: AbortSignal): Promise<DacResult> {
    const dict = this.dict;
    if (!dict) return { session: s.id, result: 'error', message: 'the server has not started' };
    const target = this.target(s);
    if (typeof target === 'string') {
      this.requests?.labels(kind, 'no_client').inc();
      this.log?.warn(`${kind} for session ${s.id}: ${target}`);
      return { session: s.id, user: s.user, nas: s.nas, result: 'no_client', message: target };
    }
    let pairs: Pair[];
    let granted: Record<string, string>;
    try {
      const extra = kind === 'coa' ? this.toPairs(dict, attrs) : [];
      granted = {};
      forEachLeaf(extra, (p) => { if (p.value !== undefined) granted[p.da.name] = printValueUnquoted(p.da, p.value); });
      pairs = [...this.identity(dict, s), ...extra];
    } catch (e) {
      return { session: s.id, user: s.user, nas: s.nas, result: 'error', message: (e as Error).message };
    }
    const client = (this.client ??= new DacClient(dict, { retry: this.retry }));
    let a: DacAnswer;
    try {
      a = await client.send(target, KINDS[kind], pairs, signal);
    } catch (e) {
      return { session: s.id, user: s.user, nas: s.nas, result: 'error', message: (e as Error).message };
    }
    const ecName = a.errorCause !== undefined ? this.errorCauseName(dict, a.errorCause) : undefined;
    const outcome: DacOutcome = {
      kind, result: a.result, errorCause: a.errorCause, errorCauseName: ecName,
      at: new Date().toISOString(), rttMs: Math.round(a.rttMs * 10) / 10, transmissions: a.transmissions,
    };
    await this.lookup.recordDac(s.id, outcome, kind === 'coa' && a.result === 'ack' ? granted : undefined);
    this.requests?.labels(kind, a.result).inc();
    if (a.result !== 'timeout') this.rtt?.labels(kind).observe(a.rttMs / 1000);
    const how = a.result === 'nak' ? `NAK${ecName ? ` (Error-Cause ${ecName})` : a.errorCause !== undefined ? ` (Error-Cause ${a.errorCause})` : ''}`
      : a.result === 'ack' ? 'ACK' : `no answer after ${a.transmissions} transmissions`;
    this.log?.info(`${kind} session ${s.id} user "${s.user}" → ${target.address} port ${target.port}: ${how}`);
    return { session: s.id, user: s.user, nas: s.nas, ...outcome };
  }

  private async each(filter: SessionFilter, fn: (s: DacSession) => Promise<DacResult>): Promise<DacResult[]> {
    if (filter.id === undefined && filter.user === undefined && filter.nas === undefined) {
      throw new Error('a CoA/Disconnect needs a session id, a user or a NAS');
    }
    const found = await this.lookup.find({ ...filter, all: false }, 100_000);
    if (found.length === 0) return [{ session: filter.id ?? '', user: filter.user, nas: filter.nas, result: 'no_session', message: 'no active session matches' }];
    return Promise.all(found.map(fn));
  }

  /** Acct-Session-Id, User-Name and the NAS identification of the session. */
  private identity(dict: Dictionary, s: DacSession): Pair[] {
    const out: Pair[] = [];
    const add = (name: string, v: string | number | undefined) => {
      const da = dict.resolve(name);
      if (da && v !== undefined && v !== '') out.push(new Pair(da, v as never));
    };
    add('User-Name', s.user);
    add('Acct-Session-Id', s.id);
    if (net.isIPv4(s.nas)) add('NAS-IP-Address', s.nas);
    else if (net.isIPv6(s.nas)) add('NAS-IPv6-Address', s.nas);
    return out;
  }

  private toPairs(dict: Dictionary, attrs: CoaAttributes): Pair[] {
    if (Array.isArray(attrs)) return attrs;
    const text = typeof attrs === 'string' ? attrs
      : Object.entries(attrs).map(([k, v]) => `${k} = ${typeof v === 'number' ? v : JSON.stringify(v)}`).join(', ');
    return text.trim() === '' ? [] : parsePairList(text, dict);
  }

  private errorCauseName(dict: Dictionary, v: number): string | undefined {
    const da = dict.resolve('Error-Cause');
    if (!da) return undefined;
    const name = printValueUnquoted(da, v);
    return name === String(v) ? undefined : name;
  }

  private findClient(address: string | undefined): RadiusClient | undefined {
    if (!address) return undefined;
    for (const t of this.tables) {
      const c = t.find(address);
      if (c) return c;
    }
    return undefined;
  }
}
