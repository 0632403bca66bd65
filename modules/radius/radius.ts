/**
 * The `radius` instance: proxies, originates or replicates packets to one home server over a
 * trunk of connections (`core/trunk`: states, selection, backlog; `connection.ts`: sockets and IDs;
 * `exchange.ts`: one packet exchange; `status-check.ts`: the health check).
 *
 * - **proxy**: forwards the request's pairs with our own Proxy-State (loop detection: two
 *   copies of ours already in the request → `fail`). No timers of our own: the packet is
 *   re-sent (same bytes, same ID; UDP only) when the NAS retransmits (`dup` signal), and one
 *   `response_window` timeout applies.
 * - **client**: originates the packet with RFC 5080 timers per type (`retry.ts`). A
 *   retransmitted Accounting-Request gets its Acct-Delay-Time updated; a changed packet gets a
 *   new ID and is re-encoded (new authenticator, Message-Authenticator recomputed); an
 *   unchanged one is re-sent as it is. TCP never retransmits: one timeout of MRD.
 * - **replicate**: writes the packet and returns `ok`; replies are ignored.
 *
 * New packets go to the *most lively* active connection (the one that answered last). When
 * none is active the call fails at once if the home server is unwell (zombie / dead /
 * reopening after a failure), else it waits in a bounded backlog for a connection to open or
 * an ID to free. Limits (`max_outstanding`, `pool.max`) are divided between worker processes.
 */
import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { sectionOf } from '../../core';
import type { DictAttr } from '../../core';
import type { Dictionary } from '../../core';
import { MetricsRegistry } from '../../core';
import { SINGLE_PROCESS, type Topology } from '../../core';
import { radiusCollector } from './metrics';
import type { Logger } from '../../core';
import { RateLimitedLog } from '../../core';
import type { CallContext, Rcode } from '../../core';
import type { BootstrapContext, InstantiateContext, ModuleInstance } from '../../core';
import { METRICS, MODULE_CONFIG, MODULE_LOG, MODULE_NAME, TOPOLOGY, TRUNKS } from '../../core';
import { makeAt } from '../../core';
import { Pair } from '../../core';
import { packetCodeName, PacketCode, type RadiusPacket } from '../../core';
import { randomBytes } from '../../core';
import type { Request } from '../../core';
import { trunkFactory, type ConnState, type Trunk, type TrunkFactory } from '../../core';
import { allowedCodes, SENDABLE_TYPES, type RadiusConfig } from './config';
import { Connection, newCounters, udpIo, type ConnCounters, type ConnShared } from './connection';
import { ATTR_MA, ATTR_PROXY_STATE, Exchange } from './exchange';
import { buildStatusCheck, StatusChecker } from './status-check';
import { transportOf } from './validate';



export { replyRcode } from './exchange';

/** Instance-level counters (connection counters summed, plus instance events). */
export interface InstanceCounters extends ConnCounters {
  /** Calls refused because max_outstanding was reached. */
  limit_outstanding: number;
  /** Calls that failed at once because the home server is zombie / dead. */
  fail_fast: number;
  /** Calls that waited in the backlog. */
  backlogged: number;
  /** Calls that failed because the backlog was full or timed out. */
  backlog_failed: number;
  /** Calls refused by Proxy-State loop detection. */
  loops: number;
  /** Calls cancelled while in flight (ID released). */
  cancelled: number;
  /** Protocol-Error replies (RFC 7930): the call failed, nothing was forwarded to the NAS. */
  protocol_error: number;
}

/** One connection in {@link RadiusStats}. */
export interface ConnectionStats extends ConnCounters {
  number: number;
  state: ConnState;
  reason: string;
  outstanding: number;
  ids_in_use: number;
  local_port: number;
  last_reply: number;
}

/** What `stats()` returns. */
export interface RadiusStats {
  instance: string;
  mode: string;
  home: string;
  /** Summary state: active when some connection is active or full, else the best of the others. */
  state: ConnState;
  outstanding: number;
  backlog: number;
  limits: { max_outstanding: number; max_connections: number; workers: number };
  counters: InstanceCounters;
  connections: ConnectionStats[];
}


/** The `radius` module instance. */
@injectable()
export class Radius implements ModuleInstance {
  private dict!: Dictionary;
  private trunk!: Trunk<Connection>;
  private checker?: StatusChecker;
  private shared!: ConnShared;
  private allowed = new Set<number>();
  private proxyState = randomBytes(8);
  /** Our Proxy-State as a pair (only ever read by the encoder, so one object serves every packet). */
  private proxyStatePair: Pair | undefined;
  private da: Record<string, DictAttr | undefined> = {};
  private statusCode = 0;
  private maSeen = false;
  private inflight = 0;
  private maxOutstanding = 1;
  private maxConns = 1;
  private workers = 1;
  /** Counters of connections that were replaced. */
  private retiredCounters = newCounters();
  private readonly extra = { limit_outstanding: 0, loops: 0, cancelled: 0, protocol_error: 0 };
  /** Rate-limited log of unusual replies (Protocol-Error). */
  private rareLog?: RateLimitedLog;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: RadiusConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
    @inject(MODULE_NAME) private readonly name: string,
    @inject(TRUNKS) private readonly trunks: TrunkFactory = trunkFactory,
    @inject(METRICS) private readonly metrics: MetricsRegistry = new MetricsRegistry(),
    @inject(TOPOLOGY) private readonly topology: Topology = SINGLE_PROCESS,
  ) {}

  /** Removes this instance's metrics collector. */
  private unregisterMetrics: (() => void) | undefined;

  /** Registers `%<instance>.stats([counter])`. */
  bootstrap(ctx: BootstrapContext): void {
    ctx.registerXlat(`${this.name}.stats`, (_x, args) => [this.statsValue(statsKey(args))], { maxArgs: 1, wordArgs: true });
  }

  /** Builds the status check and opens `pool.start` connections (the config was checked by `validateRadiusConfig`). */
  instantiate(ctx: InstantiateContext): void {
    this.dict = ctx.dict;
    const c = this.config;
    this.allowed = allowedCodes(c);
    const { tr, host } = transportOf(c);
    for (const n of ['Proxy-State', 'Message-Authenticator', 'User-Name', 'User-Password', 'Acct-Delay-Time', 'Event-Timestamp',
      'NAS-Identifier', 'CHAP-Password', 'CHAP-Challenge', 'Packet-Authentication-Vector', 'Packet-Type', 'Error-Cause',
      'Original-Packet-Code']) {
      this.da[n] = ctx.dict.resolve(n);
    }
    if (this.da['Proxy-State']) this.proxyStatePair = new Pair(this.da['Proxy-State'], this.proxyState);
    const sc = c.status_check && c.mode !== 'replicate' ? buildStatusCheck(c, ctx.dict, makeAt(sectionOf(c)!)) : undefined;
    if (sc) this.statusCode = sc.code;
    this.rareLog = new RateLimitedLog(this.log, { burst: 5, interval: 10_000 });
    this.workers = this.topology.count;
    this.maxOutstanding = Math.max(1, Math.floor(c.max_outstanding / this.workers));
    this.maxConns = Math.max(1, Math.floor(c.pool.max / this.workers));
    this.shared = {
      transport: c.transport, host, port: tr.port, srcAddr: tr.src_ipaddr, recvBuff: tr.recv_buff, sendBuff: tr.send_buff,
      secret: Buffer.from(tr.secret!, 'utf8'), dict: ctx.dict, maxPacketSize: c.max_packet_size, maxAttributes: c.max_attributes,
      perConnectionMax: this.statusCode ? Math.min(c.pool.per_connection_max, 254) : c.pool.per_connection_max,
      connectTimeout: c.pool.connect_timeout,
      requireMa: () => c.require_message_authenticator === 'yes' || (c.require_message_authenticator === 'auto' && this.maSeen),
      sawMa: () => { this.maSeen = true; },
      replicate: c.mode === 'replicate',
    };
    if (sc) {
      this.checker = new StatusChecker({ code: sc.code, pairs: sc.pairs, answersToAlive: c.status_check!.num_answers_to_alive, retry: c['Status-Server'],
        dict: ctx.dict, secret: this.shared.secret, eventTimestamp: this.da['Event-Timestamp'], log: this.log });
    }
    this.trunk = this.trunks.create<Connection>({
      start: c.pool.start, min: c.pool.min, max: this.maxConns, maxBacklog: c.pool.max_backlog, reconnectDelay: c.pool.reconnect_delay * 1000,
      zombiePeriod: c.zombie_period * 1000, reviveInterval: c.revive_interval * 1000,
    }, {
      create: (reviving) => this.createConn(reviving),
      health: this.checker,
      perConnectionMax: this.shared.perConnectionMax,
      onState: (conn, from, to, reason) => this.onState(conn, from, to, reason),
      onZombie: (conn) => this.onZombie(conn),
    });
    this.trunk.retired = (conn) => add(this.retiredCounters, conn.counters);
    if (this.checker) this.checker.trunk = this.trunk;
    const n = Math.min(Math.max(c.pool.start, c.pool.min), this.maxConns);
    this.log.info(`${c.mode} to ${c.transport} ${host}:${tr.port}; ${n} connection(s) at start, at most ${this.maxConns}` +
      `${this.workers > 1 ? ` per worker (${this.workers} workers)` : ''}; max_outstanding ${this.maxOutstanding}` +
      `${this.statusCode ? `; status checks with ${packetCodeName(this.statusCode)}` : ''}` +
      `${c.transport === 'udp' ? `; UDP I/O ${udpIo(this.shared)}` : ''}`);
    this.trunk.open();
    this.unregisterMetrics = this.metrics.collect(radiusCollector(this.name, () => this.stats()));
  }

  /** A new connection for the trunk (not yet open). */
  private createConn(reviving: boolean): Connection {
    const conn = new Connection(this.shared);
    if (this.statusCode) conn.reserveStatusId();
    this.log.info(`${conn.label}: opening${reviving ? ' (reopening after a failure)' : ''}`);
    return conn;
  }

  /** Closes every connection and fails whatever is still waiting. Safe after a partial instantiate. */
  detach(): void {
    this.unregisterMetrics?.();
    this.unregisterMetrics = undefined;
    this.rareLog?.close();
    this.trunk?.close();
  }


  // ───────────────────────── trunk glue ─────────────────────────

  private onState(c: Connection, from: ConnState, to: ConnState, reason: string): void {
    this.log.info(`${c.label}: ${from} -> ${to} (${reason})`);
  }

  /** The connection became a zombie: packets still in flight on it move to a live one (new ID, re-sent). */
  private onZombie(c: Connection): void {
    for (const { t } of c.inFlight()) {
      const to = this.trunk.pick();
      if (!to) break;
      if (t instanceof Exchange) t.requeue(to);
    }
  }

  /** Zombie test after a timeout, retransmit or dup of a packet first sent at `firstSent`. */
  private checkZombie(c: Connection, firstSent: number): void {
    const rw = this.config.response_window;
    this.trunk.suspect(c, firstSent, rw * 1000, (since) => `no reply for ${since} with ${c.outstanding} packet(s) outstanding (response_window ${rw}s)`);
  }

  // ───────────────────────── the method ─────────────────────────

  /** Sends the packet according to `mode`; see the module comment. */
  send(request: Request, ctx: CallContext): Rcode | Promise<Rcode> {
    if (!this.trunk) return 'fail';
    const mode = this.config.mode;
    let code = request.code;
    let pairs: readonly Pair[] = request.request;
    let originated = false;
    if (mode === 'client') {
      const pt = this.da['Packet-Type'] && request.control.find((p) => p.da === this.da['Packet-Type']);
      if (pt && typeof pt.value === 'number' && pt.value !== request.code) {
        code = pt.value;
        originated = true;
      } else if (!this.allowed.has(code) && this.allowed.size === 1) {
        code = [...this.allowed][0];
        originated = true;
      }
      if (originated) pairs = request.list(this.config.originate_list).filter((p) => p.da !== this.da['Packet-Type']);
    }
    if (code === PacketCode.StatusServer) {
      ctx.log.debug('Status-Server is never proxied');
      return 'noop';
    }
    if (!this.allowed.has(code)) {
      ctx.log.warn(`${packetCodeName(code)} is not a "type" this instance may send`);
      return 'invalid';
    }
    // Build the pair list to send.
    const out: Pair[] = [];
    let ours = 0;
    let chapPw = false;
    let chapChallenge = false;
    let vector: Buffer | undefined;
    for (const p of pairs) {
      const top = p.da.parent?.type === 'root';
      if (top && p.da.attr === ATTR_MA) continue;
      if (p.da === this.da['Packet-Authentication-Vector']) { vector = p.value as Buffer; continue; }
      if (top && p.da.attr === ATTR_PROXY_STATE && Buffer.isBuffer(p.value) && p.value.equals(this.proxyState)) ours++;
      if (p.da === this.da['CHAP-Password']) chapPw = true;
      if (p.da === this.da['CHAP-Challenge']) chapChallenge = true;
      out.push(p);
    }
    if (mode === 'proxy') {
      if (ours >= 2) {
        this.extra.loops++;
        ctx.log.error(`proxy loop: the request already carries our Proxy-State ${ours} times`);
        return 'fail';
      }
      if (this.proxyStatePair) out.push(this.proxyStatePair);
    }
    // Our Request Authenticator differs from the NAS's: keep CHAP verifiable (RFC 2865 §2.2).
    if (chapPw && !chapChallenge && vector && this.da['CHAP-Challenge']) out.push(new Pair(this.da['CHAP-Challenge'], vector));
    if (this.inflight >= this.maxOutstanding) {
      this.extra.limit_outstanding++;
      ctx.log.warn(`max_outstanding (${this.maxOutstanding}${this.workers > 1 ? ' in this worker' : ''}) reached`);
      return 'fail';
    }
    if (mode === 'replicate') return this.replicate(code, out, ctx);
    return new Exchange(this, request, ctx, code, out, mode === 'client', !originated).run();
  }

  private replicate(code: number, pairs: Pair[], ctx: CallContext): Rcode | Promise<Rcode> {
    const c = this.trunk.pick();
    if (!c) { this.trunk.counters.fail_fast++; ctx.log.debug('no active connection to replicate on'); return 'fail'; }
    let buf: Buffer;
    try {
      buf = c.encoder.encode(code, c.nextReplicateId(), pairs);
    } catch (e) {
      ctx.log.error(`cannot encode ${packetCodeName(code)}: ${(e as Error).message}`);
      return 'fail';
    }
    this.inflight++;
    return new Promise<Rcode>((resolve) => {
      const ok = c.write(buf, false, (err) => { this.inflight--; resolve(err ? 'fail' : 'ok'); });
      if (!ok) { this.inflight--; resolve('fail'); }
    });
  }

  // ───────────────────────── internals shared with Exchange ─────────────────────────

  /** @internal */ get _dict(): Dictionary { return this.dict; }
  /** @internal */ get _shared(): ConnShared { return this.shared; }
  /** @internal */ get _config(): RadiusConfig { return this.config; }
  /** @internal */ get _extra(): Radius['extra'] { return this.extra; }
  /** @internal */ get _da(): Record<string, DictAttr | undefined> { return this.da; }
  /** @internal */ get _trunk(): Trunk<Connection> { return this.trunk; }
  /** @internal */ _zombie(c: Connection, firstSent: number): void { this.checkZombie(c, firstSent); }
  /** @internal */ _inflight(d: number): void { this.inflight += d; }

  /**
   * A Protocol-Error reply (RFC 7930) to a packet of code `code`: hop-by-hop, never forwarded to
   * the NAS. Counted and logged at a limited rate; the call fails (fail-over applies, and an
   * Accounting-Request is not acknowledged for data the home server did not take).
   */
  /** @internal */ _protocolError(pkt: RadiusPacket, code: number): void {
    this.extra.protocol_error++;
    const cause = this.da['Error-Cause'] ? pkt.pairs.find((p) => p.da === this.da['Error-Cause'])?.value : undefined;
    const orig = this.da['Original-Packet-Code'] ? pkt.pairs.find((p) => p.da === this.da['Original-Packet-Code'])?.value : undefined;
    this.rareLog?.warn('protocol-error', `${this.shared.host}:${this.shared.port} answered ${packetCodeName(code)} with Protocol-Error` +
      `${cause !== undefined ? ` (Error-Cause ${String(cause)})` : ''}${orig !== undefined ? ` for Original-Packet-Code ${String(orig)}` : ''}; the call fails`);
  }

  // ───────────────────────── observability ─────────────────────────

  /** Counters and states of the instance and of every connection (for tests, xlat and status). */
  stats(): RadiusStats {
    const counters: InstanceCounters = { ...newCounters(), ...this.trunk?.counters ?? { fail_fast: 0, backlogged: 0, backlog_failed: 0 }, ...this.extra };
    add(counters, this.retiredCounters);
    const conns = this.trunk?.conns ?? [];
    const connections: ConnectionStats[] = conns.map((c) => {
      add(counters, c.counters);
      return {
        ...c.counters, dropped_by_reason: { ...c.counters.dropped_by_reason },
        number: c.number, state: c.state, reason: c.reason, outstanding: c.outstanding, ids_in_use: c.inUse,
        local_port: c.localPort, last_reply: c.lastReply,
      };
    });
    const state: ConnState = this.trunk ? this.trunk.state() : 'dead';
    return {
      instance: this.name, mode: this.config.mode,
      home: this.shared ? `${this.shared.transport} ${this.shared.host}:${this.shared.port}` : '',
      state, outstanding: this.inflight, backlog: this.trunk?.backlog.length ?? 0,
      limits: { max_outstanding: this.maxOutstanding, max_connections: this.maxConns, workers: this.workers },
      counters, connections,
    };
  }

  /** IDs in use over every connection (status checks included); 0 when idle = no leak. */
  idsInUse(): number {
    return (this.trunk?.conns ?? []).reduce((n, c) => n + c.outstanding, 0);
  }

  private statsValue(key: string): { type: 'string'; value: string } | { type: 'uint32'; value: number } {
    const s = this.stats();
    if (!key) return { type: 'string', value: JSON.stringify(s) };
    if (key === 'state') return { type: 'string', value: s.state };
    if (key === 'outstanding') return { type: 'uint32', value: s.outstanding };
    if (key === 'connections') return { type: 'uint32', value: s.connections.length };
    const v = (s.counters as unknown as Record<string, unknown>)[key];
    if (typeof v === 'number') return { type: 'uint32', value: v };
    const d = s.counters.dropped_by_reason[key.replace(/^dropped\./, '')];
    return { type: 'uint32', value: d ?? 0 };
  }
}

/** The counter named by the xlat's argument ('' = all, as JSON); bare words are text (`wordArgs`). */
function statsKey(args: readonly (readonly { value: unknown }[])[]): string {
  let key = '';
  for (const b of args[0] ?? []) key += String(b.value);
  return key;
}

function add(into: ConnCounters, from: ConnCounters): void {
  into.sent += from.sent;
  into.retransmitted += from.retransmitted;
  into.answered += from.answered;
  into.timed_out += from.timed_out;
  into.late += from.late;
  into.dropped += from.dropped;
  into.state_changes += from.state_changes;
  for (const [k, v] of Object.entries(from.dropped_by_reason)) into.dropped_by_reason[k] = (into.dropped_by_reason[k] ?? 0) + v;
}

export { SENDABLE_TYPES };
