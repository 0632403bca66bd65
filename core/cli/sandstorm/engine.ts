/**
 * Sandstorm's load engine: slots (socket × RADIUS ID), open- and closed-loop
 * scheduling, retransmission and timeouts, reply verification through our
 * codec, and the counters and histograms of a run.
 *
 * Every outstanding request is a preallocated {@link Slot} with its own packet
 * buffer; slots wait in per-target FIFOs (sockets interleaved, so an ID is
 * reused as late as possible and consecutive requests rotate over source
 * ports) and, while outstanding, in one intrusive list ordered by send time,
 * which the timeout scan walks from the oldest end.
 */
import * as dns from 'node:dns/promises';
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Dictionary } from '../../dict/dictionary';
import type { Pair } from '../../pair/pair';
import { PacketCode, decodePacket, verifyPacket } from '../../protocol/radius';
import { Histogram } from './histogram';
import { TcpChannel, UdpChannel, type Channel, type Receiver } from './transport';
import { Workload, type Kind } from './workload';

/** One server: its address and the ports each kind of request goes to. */
export interface ServerSpec {
  host: string;
  auth: number;
  acct: number;
  coa: number;
}

export interface EngineOptions {
  dict: Dictionary;
  secret: Buffer;
  servers: ServerSpec[];
  transport: 'udp' | 'tcp';
  family?: 4 | 6;
  workload: Workload;
  /** The mix schedule (one kind per request, repeated). */
  schedule: Kind[];
  /** Closed loop: requests in flight. Open loop (rate set): the most in flight at once. */
  window: number;
  /** Open loop: requests per second at the start and end of the run (equal: a fixed rate). 0: closed loop. */
  rateFrom: number;
  rateTo: number;
  /** Seconds measured (after warm-up); 0 with `count`. */
  duration: number;
  warmup: number;
  /** Stop after this many requests (0: no limit). */
  count: number;
  timeoutMs: number;
  /** Retransmissions per request (UDP only). */
  retries: number;
  /** Percentage of PAP/CHAP requests sent with a wrong password. */
  badPercent: number;
  /** Attribute names every Access-Accept must carry. */
  expectAttrs: string[];
  /** Length of one timeline interval, ms. */
  intervalMs: number;
  /** PIDs whose CPU is reported (`/proc/<pid>/stat`). */
  pids: number[];
  /** Called every interval with the latest point (progress line). */
  onInterval?(p: TimelinePoint, e: Engine): void;
}

/** Counters of a run (requests sent in the measured window, replies to them). */
export interface Counts {
  sent: number;
  responses: number;
  accept: number;
  reject: number;
  challenge: number;
  acct_ok: number;
  coa_ack: number;
  coa_nak: number;
  other_code: number;
  timeouts: number;
  retransmits: number;
  bad_auth: number;
  bad_ma: number;
  malformed: number;
  stale: number;
  unexpected_accept: number;
  unexpected_reject: number;
  missing_attrs: number;
  send_errors: number;
  /** Open loop: requests that could not start on time because every ID was in flight. */
  late: number;
}

function zeroCounts(): Counts {
  return {
    sent: 0, responses: 0, accept: 0, reject: 0, challenge: 0, acct_ok: 0, coa_ack: 0, coa_nak: 0, other_code: 0,
    timeouts: 0, retransmits: 0, bad_auth: 0, bad_ma: 0, malformed: 0, stale: 0, unexpected_accept: 0,
    unexpected_reject: 0, missing_attrs: 0, send_errors: 0, late: 0,
  };
}

/** Counts that make a run fail (as radload's `errors`). */
export function errorCount(c: Counts): number {
  return c.timeouts + c.bad_auth + c.bad_ma + c.malformed + c.other_code + c.unexpected_accept + c.unexpected_reject + c.missing_attrs;
}

/** One interval of the run. */
export interface TimelinePoint {
  /** Seconds since the start (end of the interval). */
  t: number;
  /** Responses per second in the interval. */
  rps: number;
  /** Requests started per second. */
  sent_rps: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
  timeouts: number;
  in_flight: number;
  warmup: boolean;
}

class Slot {
  busy = false;
  measured = false;
  kind: Kind = 'pap';
  bad = false;
  len = 0;
  first = 0;
  sent = 0;
  tries = 0;
  prev: Slot | null = null;
  next: Slot | null = null;
  readonly reqAuth: Buffer;
  constructor(readonly target: Target, readonly chan: Channel, readonly id: number, readonly buf: Buffer) {
    this.reqAuth = buf.subarray(4, 20);
  }
}

/** A server port reached over several channels of 256 IDs each. */
class Target {
  /** Free slots, FIFO (ring buffer). */
  free: Slot[] = [];
  head = 0;
  size = 0;
  constructor(readonly label: string) {}

  push(s: Slot): void {
    this.free[(this.head + this.size) % this.free.length] = s;
    this.size++;
  }

  pop(): Slot | null {
    if (this.size === 0) return null;
    const s = this.free[this.head];
    this.head = (this.head + 1) % this.free.length;
    this.size--;
    return s;
  }
}

function procCpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
    } catch { /* gone */ }
  }
  return ticks / 100; // CLK_TCK is 100 on Linux
}

function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** The result of a run. */
export interface RunResult {
  backend: string;
  counts: Counts;
  /** Seconds of the measured window. */
  seconds: number;
  rps: number;
  latency: Histogram;
  timeline: TimelinePoint[];
  cpu: { self_pct: number; servers_pct: number | null };
  perKind: Record<string, { sent: number; responses: number }>;
  channels: number;
}

export class Engine implements Receiver {
  private readonly o: EngineOptions;
  private channels: Channel[] = [];
  /** Per channel: its 256 slots by ID. */
  private slotsOf: Slot[][] = [];
  /** Per kind: one target per server. */
  private targetsOf = new Map<Kind, Target[]>();
  private readonly counts = zeroCounts();
  private readonly perKind: Record<string, { sent: number; responses: number }> = {};
  readonly latency = new Histogram();
  private readonly interval = new Histogram();
  private head: Slot | null = null;
  private tail: Slot | null = null;
  inFlight = 0;
  private seq = 0;
  private serverRr = 0;
  private readonly userRr: Record<string, number> = {};
  private readonly acctSeq: Int32Array;
  private t0 = 0;
  private tMeas = 0;
  private tEnd = Infinity;
  private measuring = false;
  private stopping = false;
  private measStart = 0;
  private measEnd = 0;
  private inWindow = 0;
  private cpu0 = 0;
  private srv0 = 0;
  private cpu1 = 0;
  private srv1 = 0;
  private issued = 0;
  private ivResponses = 0;
  private ivSent = 0;
  private ivTimeouts = 0;
  private ivLast = 0;
  private readonly timeline: TimelinePoint[] = [];
  private dirty: Channel[] = [];
  private timers: NodeJS.Timeout[] = [];
  private done!: () => void;
  private readonly expect: Set<string>;
  backend = 'dgram';

  constructor(o: EngineOptions) {
    this.o = o;
    this.acctSeq = new Int32Array(o.workload.users.length);
    this.expect = new Set(o.expectAttrs);
  }

  /** True when a verified Access-Accept carries every attribute of `expectAttrs` (decoded only for this check). */
  private accepts(pkt: Buffer, reqAuth: Buffer): boolean {
    const d = decodePacket(pkt, { dict: this.o.dict, secret: this.o.secret, requestAuthenticator: reqAuth, verify: false });
    if (!d.ok) return false;
    const seen = new Set<string>();
    const walk = (ps: Pair[]): void => { for (const p of ps) { seen.add(p.da.name); if (p.children) walk(p.children); } };
    walk(d.packet.pairs);
    for (const n of this.expect) if (!seen.has(n)) return false;
    return true;
  }

  /** Opens the sockets: per target, enough channels of 256 IDs for twice the window. */
  async open(): Promise<void> {
    const o = this.o;
    const kinds = [...new Set(o.schedule)];
    const ports = (s: ServerSpec, k: Kind): number => (k === 'acct' ? s.acct : k === 'coa' ? s.coa : s.auth);
    const nTargets = o.servers.length * new Set(kinds.map((k) => ports(o.servers[0], k))).size;
    const perTarget = Math.max(o.transport === 'tcp' ? 1 : 2, Math.ceil((2 * o.window) / Math.max(1, nTargets) / 256));
    const slotBytes = o.workload.maxLength + o.secret.length + 16;
    const byKey = new Map<string, Target>();
    for (const k of kinds) {
      const list: Target[] = [];
      for (const s of o.servers) {
        const port = ports(s, k);
        const key = `${s.host}|${port}`;
        let t = byKey.get(key);
        if (!t) {
          t = new Target(`${s.host}:${port}`);
          byKey.set(key, t);
          const addr = (await dns.lookup(s.host, { family: o.family ?? 0 }));
          const family = addr.family === 6 ? 6 : 4;
          const slots: Slot[] = [];
          for (let c = 0; c < perTarget; c++) {
            const index = this.channels.length;
            const ch: Channel = o.transport === 'tcp'
              ? await TcpChannel.open(index, addr.address, port, this)
              : await UdpChannel.open(index, addr.address, port, family, slotBytes, this);
            this.channels.push(ch);
            const mine: Slot[] = [];
            for (let id = 0; id < 256; id++) mine.push(new Slot(t, ch, id, Buffer.alloc(slotBytes)));
            this.slotsOf.push(mine);
            slots.push(...mine);
          }
          t.free = new Array(slots.length);
          // Interleave channels: ID 0 of every channel, then ID 1, …
          for (let id = 0; id < 256; id++) for (let c = 0; c < perTarget; c++) t.push(slots[c * 256 + id]);
        }
        list.push(t);
      }
      this.targetsOf.set(k, list);
      this.perKind[k] = { sent: 0, responses: 0 };
      this.userRr[k] = 0;
    }
  }

  get channelCount(): number { return this.channels.length; }

  /** Runs the load; resolves when every request is answered or timed out after the end. */
  async run(): Promise<RunResult> {
    const o = this.o;
    this.t0 = performance.now();
    this.ivLast = this.t0;
    this.tMeas = this.t0 + o.warmup * 1000;
    if (o.duration > 0) this.tEnd = this.tMeas + o.duration * 1000;
    if (o.warmup <= 0) this.startMeasuring(this.t0);
    const finished = new Promise<void>((r) => { this.done = r; });
    const open = o.rateFrom > 0 || o.rateTo > 0;
    // The clock: window boundaries, timeouts, the open-loop pacer, timeline intervals.
    const tickMs = open ? 1 : Math.max(1, Math.min(20, Math.floor(o.timeoutMs / 20)));
    this.timers.push(setInterval(() => this.tick(), tickMs));
    this.timers.push(setInterval(() => this.sample(performance.now()), o.intervalMs));
    if (!open) this.fill(performance.now());
    else this.pace(performance.now());
    this.flushAll();
    await finished;
    for (const t of this.timers) clearInterval(t);
    this.sample(performance.now());
    for (const ch of this.channels) ch.close();
    const secs = (this.measEnd - this.measStart) / 1000;
    return {
      backend: this.backend,
      counts: this.counts,
      seconds: secs,
      rps: secs > 0 ? this.inWindow / secs : 0,
      latency: this.latency,
      timeline: this.timeline,
      cpu: {
        self_pct: secs > 0 ? (100 * (this.cpu1 - this.cpu0)) / secs : 0,
        servers_pct: o.pids.length && secs > 0 ? (100 * (this.srv1 - this.srv0)) / secs : null,
      },
      perKind: this.perKind,
      channels: this.channels.length,
    };
  }

  private startMeasuring(now: number): void {
    this.measuring = true;
    this.measStart = now;
    this.cpu0 = selfCpuSeconds();
    this.srv0 = procCpuSeconds(this.o.pids);
  }

  /**
   * No new requests from now on. With a duration the measured window ends
   * here (as radload's); with only a count it ends with the last reply.
   */
  private stopSending(now: number): void {
    if (this.stopping) return;
    this.stopping = true;
    if (!this.measuring && this.measStart === 0) this.startMeasuring(now);
    if (this.o.duration > 0) this.endMeasuring(now);
  }

  private endMeasuring(now: number): void {
    if (!this.measuring) return;
    this.measuring = false;
    this.measEnd = now;
    this.cpu1 = selfCpuSeconds();
    this.srv1 = procCpuSeconds(this.o.pids);
  }

  /** Closed loop: start requests until the window is full. */
  private fill(now: number): void {
    const o = this.o;
    while (!this.stopping && this.inFlight < o.window) {
      if (!this.start(now)) break;
    }
  }

  /** Open loop: start the requests due by now (the integral of the rate). */
  private pace(now: number): void {
    const o = this.o;
    if (this.stopping) return;
    const t = (now - this.t0) / 1000;
    const total = o.warmup + (o.duration > 0 ? o.duration : 0);
    const slope = total > 0 ? (o.rateTo - o.rateFrom) / total : 0;
    const due = Math.floor(o.rateFrom * t + (slope * t * t) / 2) - this.issued;
    let n = 0;
    while (n < due && !this.stopping) {
      if (this.inFlight >= o.window || !this.start(now)) {
        this.counts.late += this.measuring ? due - n : 0;
        // Requests that cannot start on time are skipped, not queued: the offered rate stays honest.
        this.issued += due - n;
        return;
      }
      this.issued++;
      n++;
    }
  }

  /** Starts one request; false when no ID is free on its target. */
  private start(now: number): boolean {
    const o = this.o;
    if (o.count > 0 && this.seq >= o.count) { this.stopSending(now); this.maybeDone(); return false; }
    const kind = o.schedule[this.seq % o.schedule.length];
    const targets = this.targetsOf.get(kind)!;
    const target = targets[this.serverRr++ % targets.length];
    const slot = target.pop();
    if (!slot) return false;
    this.seq++;
    const users = o.workload.users.length;
    const u = this.userRr[kind]++ % users;
    let seq = 0;
    if (kind === 'acct') seq = this.acctSeq[u]++;
    else if (kind === 'coa') seq = this.userRr[kind];
    const bad = (kind === 'pap' || kind === 'chap') && o.badPercent > 0 && Math.random() * 100 < o.badPercent;
    slot.kind = kind;
    slot.bad = bad;
    slot.len = o.workload.encode(kind, u, seq, slot.id, bad, slot.buf);
    slot.first = slot.sent = now;
    slot.tries = 1;
    slot.busy = true;
    slot.measured = this.measuring;
    this.append(slot);
    this.inFlight++;
    this.ivSent++;
    if (slot.measured) { this.counts.sent++; this.perKind[kind].sent++; }
    this.send(slot);
    return true;
  }

  private send(slot: Slot): void {
    const ch = slot.chan;
    const was = ch.dirty;
    ch.queue(slot.buf, slot.len);
    if (!was && ch.dirty) this.dirty.push(ch);
    else if (!ch.dirty) this.counts.send_errors += ch.flush();
  }

  private flushAll(): void {
    const d = this.dirty;
    for (let i = 0; i < d.length; i++) this.counts.send_errors += d[i].flush();
    d.length = 0;
  }

  private append(s: Slot): void {
    s.prev = this.tail;
    s.next = null;
    if (this.tail) this.tail.next = s; else this.head = s;
    this.tail = s;
  }

  private unlink(s: Slot): void {
    if (s.prev) s.prev.next = s.next; else this.head = s.next;
    if (s.next) s.next.prev = s.prev; else this.tail = s.prev;
    s.prev = s.next = null;
  }

  private release(s: Slot): void {
    this.unlink(s);
    s.busy = false;
    this.inFlight--;
    s.target.push(s);
  }

  onPacket(ch: Channel, buf: Buffer, off: number, len: number): void {
    const now = performance.now();
    const c = this.counts;
    if (len < 20) { c.malformed++; return; }
    const slot = this.slotsOf[ch.index][buf[off + 1]];
    if (!slot.busy) { c.stale++; return; }
    const pkt = off === 0 && len === buf.length ? buf : buf.subarray(off, off + len);
    const err = verifyPacket(pkt, {
      secret: this.o.secret, requestAuthenticator: slot.reqAuth,
      requestCode: slot.kind === 'status' ? PacketCode.StatusServer : undefined,
    });
    if (err) {
      // A forged or broken reply: count it and keep waiting for the real one (as radload).
      if (err.code === 'bad-authenticator') c.bad_auth++;
      else if (err.code === 'bad-message-authenticator') c.bad_ma++;
      else c.malformed++;
      return;
    }
    const code = pkt[0];
    if (slot.measured) {
      c.responses++;
      this.perKind[slot.kind].responses++;
      switch (code) {
        case PacketCode.AccessAccept:
          if (slot.kind === 'pap' || slot.kind === 'chap' || slot.kind === 'status') {
            c.accept++;
            if (slot.bad) c.unexpected_accept++;
            else if (slot.kind !== 'status' && this.expect.size && !this.accepts(pkt, slot.reqAuth)) c.missing_attrs++;
          } else c.other_code++;
          break;
        case PacketCode.AccessReject:
          if (slot.kind === 'pap' || slot.kind === 'chap' || slot.kind === 'status') {
            c.reject++;
            if (!slot.bad) c.unexpected_reject++;
          } else c.other_code++;
          break;
        case PacketCode.AccessChallenge: c.challenge++; break;
        case PacketCode.AccountingResponse:
          if (slot.kind === 'acct' || slot.kind === 'status') c.acct_ok++; else c.other_code++;
          break;
        case PacketCode.CoAACK: if (slot.kind === 'coa') c.coa_ack++; else c.other_code++; break;
        case PacketCode.CoANAK: if (slot.kind === 'coa') c.coa_nak++; else c.other_code++; break;
        default: c.other_code++;
      }
    }
    const ns = (now - slot.first) * 1e6;
    this.interval.record(ns);
    this.ivResponses++;
    if (this.measuring && now < this.tEnd) {
      this.latency.record(ns);
      this.inWindow++;
    }
    this.release(slot);
  }

  onBatchEnd(): void {
    const now = performance.now();
    if (this.o.rateFrom === 0 && this.o.rateTo === 0) this.fill(now);
    this.flushAll();
    this.maybeDone();
  }

  private tick(): void {
    const now = performance.now();
    if (!this.measuring && !this.stopping && now >= this.tMeas) this.startMeasuring(now);
    if (now >= this.tEnd) this.stopSending(now);
    const o = this.o;
    const limit = o.timeoutMs;
    const maxTries = o.transport === 'tcp' ? 1 : 1 + o.retries;
    for (let s = this.head; s !== null && now - s.sent >= limit; s = this.head) {
      if (s.tries < maxTries) {
        s.tries++;
        s.sent = now;
        this.unlink(s);
        this.append(s);
        if (s.measured) this.counts.retransmits++;
        this.send(s);
        continue;
      }
      if (s.measured) this.counts.timeouts++;
      this.ivTimeouts++;
      this.release(s);
    }
    if (o.rateFrom > 0 || o.rateTo > 0) this.pace(now);
    else this.fill(now);
    this.flushAll();
    this.maybeDone();
  }

  private maybeDone(): void {
    if (this.stopping && this.inFlight === 0) {
      this.endMeasuring(performance.now());
      this.done();
    }
  }

  private sample(now: number): void {
    const dt = (now - this.ivLast) / 1000;
    if (dt <= 0) return;
    const p: TimelinePoint = {
      t: Math.round((now - this.t0)) / 1000,
      rps: Math.round(this.ivResponses / dt),
      sent_rps: Math.round(this.ivSent / dt),
      p50_us: Math.round(this.interval.percentile(50)) / 1000,
      p99_us: Math.round(this.interval.percentile(99)) / 1000,
      max_us: Math.round(this.interval.max) / 1000,
      timeouts: this.ivTimeouts,
      in_flight: this.inFlight,
      warmup: now < this.tMeas,
    };
    this.timeline.push(p);
    this.interval.reset();
    this.ivResponses = this.ivSent = this.ivTimeouts = 0;
    this.ivLast = now;
    this.o.onInterval?.(p, this);
  }

  /** Live figures for the progress line. */
  get totals(): { sent: number; responses: number; timeouts: number; elapsed: number } {
    const c = this.counts;
    return { sent: this.seq, responses: c.responses, timeouts: c.timeouts, elapsed: (performance.now() - this.t0) / 1000 };
  }
}
