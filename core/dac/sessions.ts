/**
 * Sessions as the DAC originator sees them: which NAS holds a session, who the user is, and what
 * the last CoA/Disconnect exchange answered.
 *
 * {@link SessionLookup} is what `core/dac` and the `admin` app read; {@link SessionStore} adds the
 * accounting updates. {@link MemorySessions} is the in-process store (the `dac` module's
 * `accounting` method fills it). A store backed by SQL implements the same interfaces and is
 * handed to `DacService.useSessions`.
 */

/** What the last dynamic-authorization exchange for a session answered. */
export interface DacOutcome {
  readonly kind: 'coa' | 'disconnect';
  /** `ack`, `nak` (with Error-Cause when the NAS sent one), or `timeout` (no answer after the retransmissions). */
  readonly result: 'ack' | 'nak' | 'timeout' | 'error';
  readonly errorCause?: number;
  /** Error-Cause as its dictionary name (`Session-Context-Not-Found`), when known. */
  readonly errorCauseName?: string;
  /** ISO time of the answer. */
  readonly at: string;
  /** Round trip in ms, first transmission to answer. */
  readonly rttMs?: number;
  /** Transmissions made (1 = no retransmission). */
  readonly transmissions: number;
}

/** One session. */
export interface DacSession {
  /** Acct-Session-Id (a UUID in the VX flow). */
  readonly id: string;
  readonly user: string;
  /** The NAS: NAS-IP-Address / NAS-IPv6-Address, else the packet source. */
  readonly nas: string;
  /** The packet source the NAS's requests came from (finds its client and `coa_server`). */
  readonly src?: string;
  readonly nasPort?: number;
  /** Framed-IP-Address / Framed-IPv6-Address given to the session. */
  readonly framedIp?: string;
  /** The client's own address (the VX Framed-Route). */
  readonly clientIp?: string;
  state: 'active' | 'stopped';
  /** ISO times. */
  readonly started: string;
  updated: string;
  /** Totals including Gigawords. */
  inputOctets: number;
  outputOctets: number;
  /** The dynamic attributes last granted (Accept) or changed (CoA ACK): name → value text. */
  attributes: Record<string, string>;
  lastDac?: DacOutcome;
}

/** Which sessions an operator command addresses. */
export interface SessionFilter {
  readonly id?: string;
  readonly user?: string;
  readonly nas?: string;
  /** Include stopped sessions (default: active only). */
  readonly all?: boolean;
}

/** Read side: what `core/dac` and the `admin` app need. */
export interface SessionLookup {
  get(id: string): DacSession | undefined | Promise<DacSession | undefined>;
  find(filter: SessionFilter, limit?: number): DacSession[] | Promise<DacSession[]>;
  /** Number of active sessions. */
  count(): number | Promise<number>;
  /** Records the outcome of a CoA/Disconnect on the session (and new attributes on a CoA-ACK). */
  recordDac(id: string, outcome: DacOutcome, attributes?: Record<string, string>): void | Promise<void>;
}

/** A Start, Interim-Update or Stop. */
export interface AccountingUpdate {
  readonly id: string;
  readonly user?: string;
  readonly nas: string;
  readonly src?: string;
  readonly nasPort?: number;
  readonly framedIp?: string;
  readonly clientIp?: string;
  readonly inputOctets?: number;
  readonly outputOctets?: number;
  readonly attributes?: Record<string, string>;
}

/** What an accounting update found (an operator expects each of these logged and counted). */
export type UpdateResult = 'ok' | 'duplicate_start' | 'unknown_session' | 'stop_without_start';

/** What an Access-Accept granted, kept until the session's Start (the `dac` module). */
export interface Grant {
  readonly attributes: Record<string, string>;
  readonly framedIp?: string;
  readonly clientIp?: string;
  /** Epoch ms after which it is dropped. */
  readonly expires: number;
}

/** Read and write side. */
export interface SessionStore extends SessionLookup {
  start(u: AccountingUpdate): UpdateResult | Promise<UpdateResult>;
  interim(u: AccountingUpdate): UpdateResult | Promise<UpdateResult>;
  stop(u: AccountingUpdate): UpdateResult | Promise<UpdateResult>;
  /**
   * Optional: keeps the grants too, so the Start finds the Accept's grant whichever process
   * handled each (cluster workers). Without these the `dac` module keeps them in its process.
   */
  putGrant?(id: string, g: Grant): void | Promise<void>;
  /** The grant of `id` (removed when `take`). */
  grantOf?(id: string, take: boolean): Grant | undefined | Promise<Grant | undefined>;
}

/** True when `x` has the write side. */
export function isSessionStore(x: SessionLookup): x is SessionStore {
  return typeof (x as SessionStore).start === 'function' && typeof (x as SessionStore).stop === 'function';
}

function matches(s: DacSession, f: SessionFilter): boolean {
  if (!f.all && s.state !== 'active') return false;
  if (f.id !== undefined && s.id !== f.id) return false;
  if (f.user !== undefined && s.user !== f.user) return false;
  if (f.nas !== undefined && s.nas !== f.nas) return false;
  return true;
}

/**
 * In-memory sessions. Stopped sessions are kept (for `list --all` and the outcome of a
 * Disconnect) up to `keepStopped`, oldest dropped first.
 */
export class MemorySessions implements SessionStore {
  private readonly byId = new Map<string, DacSession>();
  private readonly stopped: string[] = [];
  private active = 0;
  private readonly grants = new Map<string, Grant>();

  constructor(private readonly keepStopped = 10_000, private readonly now: () => Date = () => new Date()) {}

  get(id: string): DacSession | undefined {
    return this.byId.get(id);
  }

  find(filter: SessionFilter, limit = 1000): DacSession[] {
    if (filter.id !== undefined) {
      const s = this.byId.get(filter.id);
      return s && matches(s, filter) ? [s] : [];
    }
    const out: DacSession[] = [];
    for (const s of this.byId.values()) {
      if (out.length >= limit) break;
      if (matches(s, filter)) out.push(s);
    }
    return out;
  }

  count(): number {
    return this.active;
  }

  recordDac(id: string, outcome: DacOutcome, attributes?: Record<string, string>): void {
    const s = this.byId.get(id);
    if (!s) return;
    s.lastDac = outcome;
    if (attributes) Object.assign(s.attributes, attributes);
    s.updated = outcome.at;
  }

  putGrant(id: string, g: Grant): void {
    if (this.grants.size > 100_000) {
      const now = Date.now();
      for (const [k, x] of this.grants) if (x.expires < now) this.grants.delete(k);
    }
    this.grants.set(id, g);
  }

  grantOf(id: string, take: boolean): Grant | undefined {
    const g = this.grants.get(id);
    if (take) this.grants.delete(id);
    return g && g.expires >= Date.now() ? g : undefined;
  }

  start(u: AccountingUpdate): UpdateResult {
    const old = this.byId.get(u.id);
    if (old?.state === 'active') {
      this.apply(old, u);
      return 'duplicate_start';
    }
    if (old) this.byId.delete(u.id);
    const t = this.now().toISOString();
    this.byId.set(u.id, {
      id: u.id, user: u.user ?? '', nas: u.nas, src: u.src, nasPort: u.nasPort, framedIp: u.framedIp, clientIp: u.clientIp,
      state: 'active', started: t, updated: t, inputOctets: u.inputOctets ?? 0, outputOctets: u.outputOctets ?? 0,
      attributes: { ...u.attributes },
    });
    this.active++;
    return 'ok';
  }

  interim(u: AccountingUpdate): UpdateResult {
    const s = this.byId.get(u.id);
    if (!s || s.state !== 'active') {
      // Never lose the record: an Interim-Update for a session we do not know starts it.
      this.start(u);
      return 'unknown_session';
    }
    this.apply(s, u);
    return 'ok';
  }

  stop(u: AccountingUpdate): UpdateResult {
    let s = this.byId.get(u.id);
    let result: UpdateResult = 'ok';
    if (!s || s.state !== 'active') {
      if (s) return 'stop_without_start';
      this.start(u);
      s = this.byId.get(u.id)!;
      result = 'stop_without_start';
    }
    this.apply(s, u);
    s.state = 'stopped';
    this.active--;
    this.stopped.push(s.id);
    while (this.stopped.length > this.keepStopped) {
      const id = this.stopped.shift()!;
      if (this.byId.get(id)?.state === 'stopped') this.byId.delete(id);
    }
    return result;
  }

  private apply(s: DacSession, u: AccountingUpdate): void {
    if (u.inputOctets !== undefined) s.inputOctets = u.inputOctets;
    if (u.outputOctets !== undefined) s.outputOctets = u.outputOctets;
    if (u.attributes) Object.assign(s.attributes, u.attributes);
    s.updated = this.now().toISOString();
  }
}
