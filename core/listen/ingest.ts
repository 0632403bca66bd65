/**
 * The transport-independent half of a listener: client lookup, rate limit,
 * packet checks, BlastRADIUS policy, duplicate detection, decode, and the
 * hand-off to the {@link PacketSink}. UDP and TCP feed raw packets into
 * {@link Ingest.packet}; it never throws.
 */
import { systemClock, type Clock } from '../clock/clock';
import type { Dictionary } from '../dict/dictionary';
import { loadDefaultDictionary } from '../dict/default';
import type { Logger } from '../log/logger';
import { checkPacket, decodePacket, packetCodeName } from '../protocol/radius/packet';
import { maRequired, proxyStateLimited, takeToken } from './clients';
import { maLearnedNote, type ClientStateSink } from './client-state';
import { DedupTable, type DedupEntry } from './dedup';
import { DropLog } from './rate-log';
import type {
  ClientLookup, Endpoint, InboundPacket, ListenerConfig, ListenerDeps, ListenerInfo, ListenerStats, PacketSink, RadiusClient,
} from './types';

/** Counters every listener reports (initialised to 0 so `stats()` lists them). */
export const BASE_COUNTERS = [
  'received', 'processed', 'replied', 'no_reply', 'dup_cached', 'dup_in_progress', 'dup_no_reply', 'superseded',
  'drop_unknown_client', 'drop_malformed', 'drop_bad_authenticator', 'drop_bad_message_authenticator',
  'drop_missing_message_authenticator', 'drop_proxy_state', 'drop_type_not_allowed', 'drop_rate_limited',
  'drop_too_large', 'drop_decode', 'drop_internal',
] as const;

/** Sum of the `drop_*` counters of a stats snapshot. */
export function totalDrops(s: ListenerStats): number {
  let n = 0;
  for (const k in s) if (k.startsWith('drop_')) n += s[k];
  return n;
}

const ATTR_PROXY_STATE = 33;

/** True when the packet's attributes include Proxy-State (framing already checked). */
function hasProxyState(buf: Buffer, len: number): boolean {
  for (let p = 20; p + 1 < len;) {
    if (buf[p] === ATTR_PROXY_STATE) return true;
    const l = buf[p + 1];
    if (l < 2) return false;
    p += l;
  }
  return false;
}

/** Writes a reply back to where the request came from. */
export type ReplyWriter = (reply: Buffer, to: Endpoint) => void;

/** Shared ingest logic of a listener. */
export class Ingest {
  /** Counters; the `malformed:<code>` keys are added on first use. */
  readonly counters: Record<string, number> = {};
  clients: ClientLookup;
  sink: PacketSink;
  dict: Dictionary;
  log: Logger | undefined;
  clientState: ClientStateSink | undefined;
  readonly info: ListenerInfo;
  /** The server clock (fixed for the listener's life). */
  readonly clock: Clock;
  private readonly allowed = new Uint8Array(256);
  private drops: DropLog;

  constructor(readonly config: ListenerConfig, deps: ListenerDeps, extraCounters: readonly string[] = []) {
    for (const k of BASE_COUNTERS) this.counters[k] = 0;
    for (const k of extraCounters) this.counters[k] = 0;
    this.clients = deps.clients;
    this.sink = deps.sink;
    this.dict = deps.dict ?? loadDefaultDictionary();
    this.log = deps.log;
    this.clock = deps.clock ?? systemClock;
    this.clientState = deps.clientState;
    this.drops = new DropLog(deps.log);
    for (const t of config.types) if (t >= 0 && t < 256) this.allowed[t] = 1;
    this.info = Object.freeze({ name: config.name, transport: config.transport, types: Object.freeze([...config.types]) });
  }

  /** Applies a reload. */
  update(deps: Partial<ListenerDeps>): void {
    if (deps.clients) this.clients = deps.clients;
    if (deps.sink) this.sink = deps.sink;
    if (deps.dict) this.dict = deps.dict;
    if (deps.clientState) this.clientState = deps.clientState;
    if (deps.log) { this.log = deps.log; this.drops = new DropLog(deps.log); }
  }

  /** A copy of the counters. */
  stats(): ListenerStats {
    return { ...this.counters };
  }

  private drop(counter: string, logKey: string | undefined, msg?: () => string): void {
    this.counters[counter] = (this.counters[counter] ?? 0) + 1;
    if (logKey !== undefined && msg) this.drops.warn(logKey, msg);
  }

  /** Looks a client up and counts/logs an unknown one. */
  client(src: Endpoint): RadiusClient | undefined {
    let c = this.clients.find(src.address);
    // A client restricted to the other transport (`proto = tcp|udp`) is unknown here.
    const proto = (c as { proto?: string } | undefined)?.proto;
    if (c && proto !== undefined && proto !== '*' && proto !== this.config.transport) c = undefined;
    if (!c) {
      this.drop('drop_unknown_client', 'unknown-client',
        () => `${this.config.name}: ignoring packet from unknown client ${src.address} port ${src.port}`);
    }
    return c;
  }

  /**
   * Processes one raw packet. `client` is known for TCP (looked up at
   * connect time) and undefined for UDP. `dedup` is the listener's table (UDP)
   * or the connection's (TCP). Never throws. Returns false when the packet
   * was malformed (TCP closes the connection then), true otherwise.
   */
  packet(buf: Buffer, src: Endpoint, dst: Endpoint, client: RadiusClient | undefined, dedup: DedupTable, write: ReplyWriter): boolean {
    const c = this.counters;
    c.received++;
    try {
      if (client === undefined) {
        client = this.client(src);
        if (client === undefined) return true;
      }
      if (client.maxPps > 0 && !takeToken(client, this.clock.now())) {
        this.drop('drop_rate_limited', 'rate:' + client.name,
          () => `${this.config.name}: client ${client!.shortname} is over max_pps, dropping packets`);
        return true;
      }
      if (buf.length > this.config.maxPacketSize) {
        this.drop('drop_too_large', 'too-large', () => `${this.config.name}: dropping ${buf.length}-byte packet from ${src.address} (max ${this.config.maxPacketSize})`);
        return true;
      }
      const requireMa = maRequired(client);
      const bad = checkPacket(buf, { requireMessageAuthenticator: requireMa });
      if (bad) {
        if (bad.code === 'ma-missing') {
          this.drop('drop_missing_message_authenticator', 'ma-missing:' + client.name,
            () => `${this.config.name}: dropping ${packetCodeName(buf[0])} from client ${client!.shortname} without Message-Authenticator (BlastRADIUS protection; require_message_authenticator = ${client!.requireMessageAuthenticator})`);
        } else {
          const k = 'malformed:' + bad.code;
          c[k] = (c[k] ?? 0) + 1;
          this.drop('drop_malformed', k, () => `${this.config.name}: malformed packet from ${src.address} port ${src.port}: ${bad.message}`);
          return false;
        }
        return true;
      }
      const code = buf[0];
      if (this.allowed[code] === 0) {
        this.drop('drop_type_not_allowed', 'type:' + code,
          () => `${this.config.name}: ${packetCodeName(code)} is not accepted on this listener (from ${src.address})`);
        return true;
      }
      const len = (buf[2] << 8) | buf[3];
      const raw = len === buf.length ? buf : buf.subarray(0, len);
      const auth = raw.subarray(4, 20);
      // Duplicate check before the cryptography: a retransmit costs one Map lookup.
      const key = src.address + '|' + src.port + '|' + raw[1];
      const hit = dedup.lookup(key, auth);
      if (hit.kind === 'done') {
        const r = hit.entry.reply;
        if (r) {
          c.dup_cached++;
          c.replied++;
          write(r, src);
        } else {
          c.dup_no_reply++;
        }
        return true;
      }
      if (hit.kind === 'running') {
        c.dup_in_progress++;
        if (this.log?.debugEnabled) this.log.debug(`${this.config.name}: retransmit of ${packetCodeName(code)} id ${raw[1]} from ${src.address} port ${src.port} while in progress`);
        hit.entry.inflight?.signal('dup');
        return true;
      }
      const dec = decodePacket(raw, { dict: this.dict, secret: client.secret, requireMessageAuthenticator: requireMa });
      if (!dec.ok) {
        const e = dec.error;
        if (e.code === 'bad-message-authenticator') {
          this.drop('drop_bad_message_authenticator', 'bad-ma:' + client.name,
            () => `${this.config.name}: dropping packet from client ${client!.shortname}: ${e.message}`);
        } else if (e.code === 'bad-authenticator') {
          this.drop('drop_bad_authenticator', 'bad-auth:' + client.name,
            () => `${this.config.name}: dropping packet from client ${client!.shortname}: ${e.message}`);
        } else if (e.code === 'ma-missing') {
          this.drop('drop_missing_message_authenticator', 'ma-missing:' + client.name,
            () => `${this.config.name}: dropping packet from client ${client!.shortname}: ${e.message}`);
        } else {
          this.drop('drop_decode', 'decode:' + e.code, () => `${this.config.name}: cannot decode packet from client ${client!.shortname}: ${e.message}`);
        }
        return true;
      }
      const hasMa = dec.hasMessageAuthenticator;
      if (hasMa && code === 1 && !client.maSeen) this.learned(client);
      if (code === 1 && !hasMa && proxyStateLimited(client) && hasProxyState(raw, len)) {
        this.drop('drop_proxy_state', 'proxy-state:' + client.name,
          () => `${this.config.name}: dropping Access-Request from client ${client!.shortname} with Proxy-State but no Message-Authenticator (limit_proxy_state = ${client!.limitProxyState})`);
        return true;
      }
      // Only a verified packet may replace (and cancel) an earlier request with the same ID.
      const entry = dedup.add(key, auth);
      const old = hit.previous;
      if (old !== undefined && !old.done) {
        c.superseded++;
        old.inflight?.signal('cancel');
      }
      c.processed++;
      const pkt: InboundPacket = {
        raw, packet: dec.packet, hasMessageAuthenticator: hasMa, client, src, dst, listener: this.info, received: this.clock.now(),
      };
      this.dispatch(pkt, entry, dedup, write);
      return true;
    } catch (e) {
      this.drop('drop_internal', 'internal', () => `${this.config.name}: internal error while reading a packet: ${(e as Error)?.stack ?? String(e)}`);
      return true;
    }
  }

  /** First valid Message-Authenticator from this client: protect it here at once, then share and log (once). */
  private learned(client: RadiusClient): void {
    client.maSeen = true;
    const note = maLearnedNote(client);
    if (note === undefined) return;
    if (this.clientState) this.clientState.messageAuthenticatorSeen(client, note);
    else this.log?.info(`${this.config.name}: ${note}`);
  }

  private dispatch(pkt: InboundPacket, entry: DedupEntry, dedup: DedupTable, write: ReplyWriter): void {
    const c = this.counters;
    let called = false;
    const done = (reply: Buffer | null): void => {
      if (called) return;
      called = true;
      try {
        const current = dedup.isCurrent(entry);
        dedup.finish(entry, reply);
        // A superseded request (same ID, new authenticator) gets no reply: the NAS moved on.
        if (reply && current) {
          c.replied++;
          write(reply, pkt.src);
        } else {
          c.no_reply++;
        }
      } catch (e) {
        this.drop('drop_internal', 'internal', () => `${this.config.name}: internal error while replying: ${(e as Error)?.stack ?? String(e)}`);
      }
    };
    try {
      const h = this.sink.process(pkt, done);
      if (!called && h) entry.inflight = h;
    } catch (e) {
      this.drop('drop_internal', 'internal', () => `${this.config.name}: the request handler threw: ${(e as Error)?.stack ?? String(e)}`);
      if (!called) { called = true; dedup.remove(entry); }
    }
  }
}
