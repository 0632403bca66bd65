/**
 * The daemon: one object that owns the current configuration generation and the listeners.
 *
 * ```
 * start():  load generation 1 → bind every listener → start reload triggers
 * reload(): load generation N+1 completely (modules instantiated, sites compiled)
 *           → swap: listeners whose socket (transport, address, port) is unchanged get the new
 *             site sink and client table through Listener.update(); new sockets are bound,
 *             vanished ones closed
 *           → the old generation's in-flight requests finish on the old sinks
 *           → old modules detached
 *           A broken configuration throws located errors; the old generation keeps serving.
 *           (replies the old sinks hold for reject_delay are sent at the swap)
 * stop():   triggers off → held reject_delay replies sent → listeners closed → in-flight drained (bounded) → modules detached
 * ```
 *
 * Reloads are serialised: a trigger during a reload schedules one more reload afterwards.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../log/logger';
import { CLOSED_LISTENERS, emitListenerStats } from '../listen/metrics';
import { TcpListener } from '../listen/tcp';
import { UdpListener } from '../listen/udp';
import type { Listener, ListenerConfig, ListenerDeps, ListenerStats, PacketSink } from '../listen/types';
import type { CompiledSite, ProcessOptions } from '../process/radius/types';
import { createRadiusProcess } from '../process/radius/process';
import type { Collect, CounterChild, GaugeOptions, MetricOptions } from '../metrics/registry';
import { processServices, type ProcessServices } from '../module/container';
import type { ProcessStats } from '../process/radius/process';
import { loadGeneration, type Generation } from './generation';
import { serverStatsView, SERVER_METRICS } from './stats-view';
import { socketKey, type ListenSpec } from './listen-config';
import { ReloadTriggers } from './reload';
import { TrackingSink } from './tracking-sink';

/** `-i` / `-p` from the command line. */
export interface ListenOverride {
  /** Address for every listener. */
  readonly ipaddr?: string;
  /**
   * Port for the listeners of the first server: Access-Request / Status-Server listeners get
   * `port`, Accounting-Request listeners `port + 1`; CoA/Disconnect listeners keep theirs.
   */
  readonly port?: number;
}

/** Options of {@link Server}. */
export interface ServerOptions {
  /** Main configuration file. */
  readonly file: string;
  /** Server log. */
  readonly log: Logger;
  /** Per-request debug trace (`-X`). */
  readonly debug?: boolean;
  /** `-i` / `-p`. */
  readonly override?: ListenOverride;
  /** Enable the flag-file / periodic reload triggers (default true). */
  readonly triggers?: boolean;
  /** Listener factory (tests); default: UDP/TCP listeners of core/listen. */
  readonly createListener?: (config: ListenerConfig, deps: ListenerDeps) => Listener;
  /** Process factory (tests); default: createRadiusProcess. */
  readonly createProcess?: (site: CompiledSite, opts: ProcessOptions) => PacketSink;
  /** Called after every reload attempt (tests, logging). */
  readonly onReload?: (ok: boolean, error?: Error) => void;
  /** Where per-request log lines (the `-X` trace) go. */
  readonly requestLogSink?: import('../request/request-log').LogSink;
  /** Number of processes sharing the sockets (cluster); used for rate shares. Default: `services.topology.count`. */
  readonly share?: number;
  /**
   * Process-wide services registered in every generation's DI root (metrics registry, clock,
   * worker pools, topology); missing ones are created (see `processServices`).
   */
  readonly services?: Partial<ProcessServices>;
}

const SITE_COUNTERS: readonly [keyof ProcessStats, MetricOptions][] = [
  ['requests', { name: 'tsradius_site_requests_total', help: 'Requests a site started.', labelNames: ['server'] }],
  ['replies', { name: 'tsradius_site_replies_total', help: 'Requests that ended with a reply.', labelNames: ['server'] }],
  ['noReply', { name: 'tsradius_site_no_reply_total', help: 'Requests that ended without a reply.', labelNames: ['server'] }],
  ['cancelled', { name: 'tsradius_site_cancelled_total', help: 'Requests cancelled (max_request_time, superseded, shutdown).', labelNames: ['server'] }],
  ['errors', { name: 'tsradius_site_errors_total', help: 'Requests ended by an internal error.', labelNames: ['server'] }],
];
const SITE_ACTIVE: GaugeOptions = { name: 'tsradius_site_active_requests', help: 'Requests in progress (including reject_delay).', labelNames: ['server'] };
const CLIENTS: GaugeOptions = { name: 'tsradius_clients', help: 'Clients configured for a server.', labelNames: ['server'] };

interface Bound {
  spec: ListenSpec;
  listener: Listener;
}

/** Counter snapshot of the whole server. */
export interface ServerStats {
  readonly generation: number;
  readonly started: string;
  readonly reloads: { ok: number; failed: number };
  /** Sum of every listener's counters (plus `drop_total`). */
  readonly total: ListenerStats;
  /** Counters by listener name. */
  readonly listeners: Record<string, ListenerStats>;
}

/** The daemon's server object. See the file comment. */
export class Server {
  private gen: Generation | undefined;
  private sinks = new Map<string, TrackingSink>();
  private bound = new Map<string, Bound>();
  private triggers: ReloadTriggers | undefined;
  private reloading: Promise<boolean> | undefined;
  private again = false;
  private stopped = false;
  private nextNumber = 1;
  /** The process-wide services (metrics, clock, worker pools, topology). */
  readonly services: ProcessServices;
  private readonly reloadsOk: CounterChild;
  private readonly reloadsFailed: CounterChild;
  /** Counters of listeners closed by a reload, so totals never go backwards. */
  private retired: ListenerStats = {};
  /** Sinks of older generations still draining, then their final counters by server name. */
  private draining = new Set<TrackingSink>();
  private retiredSites = new Map<string, Record<string, number>>();

  constructor(readonly opts: ServerOptions) {
    this.services = processServices(opts.services);
    const m = this.services.metrics;
    const reloads = m.counter({ name: SERVER_METRICS.reloads, help: 'Configuration reloads, by result.', labelNames: ['result'] });
    this.reloadsOk = reloads.labels('ok');
    this.reloadsFailed = reloads.labels('failed');
    m.gauge({ name: SERVER_METRICS.started, help: 'When the server started, in seconds since the epoch.', merge: 'min' }).labels()
      .set(this.services.clock.wall() / 1000);
    m.collect((out) => this.collect(out));
  }

  /** Emits the listener, site and client counters into a metrics snapshot. */
  private collect(out: Collect): void {
    out.gauge({ name: SERVER_METRICS.generation, help: 'Configuration generation serving.', merge: 'max' }, [], this.gen?.number ?? 0);
    for (const b of this.bound.values()) emitListenerStats(out, b.spec.name, b.listener.stats());
    emitListenerStats(out, CLOSED_LISTENERS, this.retired);
    const sites = new Map<string, Record<string, number>>();
    const addSite = (name: string, c: Record<string, number>) => {
      const s = sites.get(name) ?? {};
      for (const [k] of SITE_COUNTERS) s[k] = (s[k] ?? 0) + (c[k] ?? 0);
      sites.set(name, s);
    };
    for (const [name, c] of this.retiredSites) addSite(name, c);
    for (const s of this.draining) { const c = siteCounters(s); if (c) addSite(s.site, c); }
    for (const s of this.sinks.values()) {
      const c = siteCounters(s);
      if (!c) continue;
      addSite(s.site, c);
      out.gauge(SITE_ACTIVE, [s.site], c.active);
    }
    for (const [name, c] of sites) for (const [k, def] of SITE_COUNTERS) out.counter(def, [name], c[k]);
    if (this.gen) for (const [name, table] of this.gen.clients) out.gauge(CLIENTS, [name], table.size);
  }

  /** The current generation (after start). */
  get generation(): Generation | undefined {
    return this.gen;
  }

  /** Listeners by name with their bound addresses. */
  addresses(): { name: string; transport: string; address: string; port: number }[] {
    const out = [];
    for (const b of this.bound.values()) {
      const a = b.listener.address();
      if (a) out.push({ name: b.spec.name, transport: b.spec.transport, address: a.address, port: a.port });
    }
    return out;
  }

  /** Loads the configuration and binds every listener. Throws located errors. */
  async start(): Promise<void> {
    const gen = await this.load();
    try {
      ensureDirs(gen);
      const sinks = this.makeSinks(gen);
      const specs = this.applyOverride(gen.listeners);
      for (const spec of specs) {
        const listener = this.newListener(spec, gen, sinks);
        await listener.start();
        this.bound.set(socketKey(spec), { spec, listener });
      }
      this.gen = gen;
      this.sinks = sinks;
    } catch (e) {
      for (const b of this.bound.values()) await b.listener.stop().catch(() => undefined);
      this.bound.clear();
      await gen.modules.detachAll();
      throw e;
    }
    this.logListening();
    if (this.opts.triggers !== false) {
      this.triggers = new ReloadTriggers(gen.paths.flagFile, gen.settings.reload.check_interval, gen.settings.reload.interval,
        () => void this.reload(), this.opts.log);
      this.triggers.start();
    }
  }

  /**
   * Builds a new generation and swaps it in. Resolves true on success; false when the new
   * configuration was rejected (the errors are logged; the old one keeps serving).
   */
  reload(): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      let ok = false;
      do {
        this.again = false;
        ok = await this.reloadOnce();
      } while (this.again && !this.stopped);
      this.reloading = undefined;
      return ok;
    })();
    return this.reloading;
  }

  private async reloadOnce(): Promise<boolean> {
    const log = this.opts.log;
    const old = this.gen;
    if (!old) return false;
    log.info(`reload: reading ${this.opts.file}`);
    let gen: Generation;
    try {
      gen = await this.load();
    } catch (e) {
      this.reloadsFailed.inc();
      log.error(`reload: configuration rejected, still serving generation ${old.number}: ${(e as Error).message}`);
      this.opts.onReload?.(false, e as Error);
      return false;
    }
    ensureDirs(gen);
    const sinks = this.makeSinks(gen);
    const specs = this.applyOverride(gen.listeners);
    const wanted = new Map(specs.map((s) => [socketKey(s), s]));
    // Bind new sockets first: if one cannot be bound, the old generation stays in place.
    const fresh = new Map<string, Bound>();
    try {
      for (const [key, spec] of wanted) {
        const cur = this.bound.get(key);
        if (cur && sameListener(cur.spec, spec)) continue;
        if (cur) continue; // same socket, other settings: rebound below after the old one closes
        const listener = this.newListener(spec, gen, sinks);
        await listener.start();
        fresh.set(key, { spec, listener });
      }
    } catch (e) {
      for (const b of fresh.values()) await b.listener.stop().catch(() => undefined);
      await gen.modules.detachAll();
      this.reloadsFailed.inc();
      log.error(`reload: cannot bind a new listener, still serving generation ${old.number}: ${(e as Error).message}`);
      this.opts.onReload?.(false, e as Error);
      return false;
    }
    // The swap: synchronous from here until the listeners point at the new generation.
    const oldSinks = this.sinks;
    for (const s of oldSinks.values()) this.draining.add(s);
    const toClose: Bound[] = [];
    const toRebind: ListenSpec[] = [];
    for (const [key, cur] of this.bound) {
      const spec = wanted.get(key);
      if (!spec) {
        toClose.push(cur);
        this.bound.delete(key);
      } else if (sameListener(cur.spec, spec)) {
        cur.listener.update({ sink: sinks.get(spec.server)!, clients: gen.clients.get(spec.server)!, dict: gen.dict });
        cur.spec = spec;
      } else {
        toClose.push(cur);
        this.bound.delete(key);
        toRebind.push(spec);
      }
    }
    for (const [key, b] of fresh) this.bound.set(key, b);
    this.inheritClientState(old, gen);
    this.gen = gen;
    this.sinks = sinks;
    // Access-Rejects the old generation holds for reject_delay go out now, while their sockets are open.
    for (const s of oldSinks.values()) s.close();
    // dgram resolves the destination on a later tick; let those sends leave before any socket closes.
    if (toClose.length) await new Promise((r) => setImmediate(r));
    for (const b of toClose) {
      this.retire(b.listener.stats());
      await b.listener.stop().catch(() => undefined);
    }
    for (const spec of toRebind) {
      try {
        const listener = this.newListener(spec, gen, sinks);
        await listener.start();
        this.bound.set(socketKey(spec), { spec, listener });
      } catch (e) {
        log.error(`reload: ${spec.name}: cannot bind ${spec.transport} ${spec.ipaddr}:${spec.port}: ${(e as Error).message}`);
      }
    }
    this.reloadsOk.inc();
    log.info(`reload: generation ${gen.number} is serving (${gen.sites.size} server(s), ${this.bound.size} listener(s))`);
    this.opts.onReload?.(true);
    this.triggers?.configure(gen.paths.flagFile, gen.settings.reload.check_interval, gen.settings.reload.interval);
    // In-flight requests finish on the old generation; then its modules are detached.
    void this.retireGeneration(old, oldSinks);
    return true;
  }

  private async retireGeneration(old: Generation, sinks: Map<string, TrackingSink>): Promise<void> {
    const limit = (old.settings.reload.drain_timeout || old.settings.max_request_time + 1) * 1000;
    const results = await Promise.all([...sinks.values()].map((s) => s.drain(limit)));
    if (results.some((r) => !r)) this.opts.log.warn(`reload: generation ${old.number} still had requests after ${limit / 1000}s; detaching anyway`);
    for (const s of sinks.values()) {
      this.draining.delete(s);
      const c = siteCounters(s);
      if (!c) continue;
      const r = this.retiredSites.get(s.site) ?? {};
      for (const [k] of SITE_COUNTERS) r[k] = (r[k] ?? 0) + (c[k] ?? 0);
      this.retiredSites.set(s.site, r);
    }
    await old.modules.detachAll();
    this.opts.log.debug(`reload: generation ${old.number} detached`);
  }

  /** Stops the triggers and listeners, waits (bounded) for in-flight requests, detaches modules. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.triggers?.stop();
    if (this.reloading) await this.reloading.catch(() => undefined);
    // Access-Rejects held by reject_delay go out now, before the sockets close.
    for (const s of this.sinks.values()) s.close();
    await new Promise((r) => setImmediate(r)); // dgram sends complete a tick later
    for (const b of this.bound.values()) {
      this.retire(b.listener.stats());
      await b.listener.stop().catch(() => undefined);
    }
    this.bound.clear();
    const gen = this.gen;
    if (gen) {
      const limit = Math.min(5, gen.settings.max_request_time || 5) * 1000;
      await Promise.all([...this.sinks.values()].map((s) => s.drain(limit)));
      await gen.modules.detachAll();
    }
  }

  /** Counter snapshot (see docs/configuration.md, "Counters"): a view of the metrics registry. */
  stats(): ServerStats {
    return serverStatsView(this.services.metrics.snapshot());
  }

  /** Writes {@link stats} as JSON to the generation's stats file. */
  writeStats(file = this.gen?.paths.statsFile): string | undefined {
    if (!file) return undefined;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(this.stats(), null, 2) + '\n');
      fs.renameSync(tmp, file);
      return file;
    } catch (e) {
      this.opts.log.error(`stats: cannot write ${file}: ${(e as Error).message}`);
      return undefined;
    }
  }

  // ------------------------------------------------------------------ helpers

  /** Processes sharing the sockets (cluster workers): `share`, else the topology's count. */
  private get share(): number {
    return this.opts.share ?? this.services.topology.count;
  }

  private async load(): Promise<Generation> {
    const number = this.nextNumber++;
    return loadGeneration({
      file: this.opts.file, log: this.opts.log, number, counter: (name) => this.stats().total[name] ?? 0, services: this.services,
    });
  }

  private makeSinks(gen: Generation): Map<string, TrackingSink> {
    const create = this.opts.createProcess ?? createRadiusProcess;
    const sinks = new Map<string, TrackingSink>();
    for (const [name, build] of gen.sites) {
      const inner = create(build.site, { log: this.opts.log, debug: this.opts.debug, requestLogSink: this.opts.requestLogSink, clock: this.services.clock });
      sinks.set(name, new TrackingSink(inner, name));
    }
    return sinks;
  }

  private newListener(spec: ListenSpec, gen: Generation, sinks: Map<string, TrackingSink>): Listener {
    const deps: ListenerDeps = {
      sink: sinks.get(spec.server)!, clients: gen.clients.get(spec.server)!, log: this.opts.log, dict: gen.dict, clock: this.services.clock,
    };
    if (this.share > 1) (deps.clients as { setShare?: (n: number) => void }).setShare?.(this.share);
    if (this.opts.createListener) return this.opts.createListener(spec, deps);
    return spec.transport === 'tcp' ? new TcpListener(spec, deps) : new UdpListener(spec, deps);
  }

  private applyOverride(specs: readonly ListenSpec[]): ListenSpec[] {
    const o = this.opts.override;
    if (!o || (o.ipaddr === undefined && o.port === undefined)) return [...specs];
    const first = specs[0]?.server;
    return specs.map((s) => {
      let port = s.port;
      if (o.port !== undefined && s.server === first) {
        if (s.types.includes(1) || s.types.includes(12)) port = o.port;
        else if (s.types.includes(4)) port = o.port + 1;
      }
      return { ...s, ipaddr: o.ipaddr ?? s.ipaddr, port };
    });
  }

  private inheritClientState(old: Generation, gen: Generation): void {
    const inherit = (n: unknown, o: unknown) => (n as { inheritState?: (o: unknown) => void }).inheritState?.(o);
    inherit(gen.globalClients, old.globalClients);
    for (const [name, table] of gen.clients) {
      const prev = old.clients.get(name);
      if (prev && table !== gen.globalClients) inherit(table, prev);
    }
    if (this.share > 1) {
      for (const table of gen.clients.values()) (table as { setShare?: (n: number) => void }).setShare?.(this.share);
    }
  }

  private retire(s: ListenerStats): void {
    for (const [k, v] of Object.entries(s)) this.retired[k] = (this.retired[k] ?? 0) + v;
  }

  private logListening(): void {
    for (const a of this.addresses()) {
      this.opts.log.info(`listening on ${a.transport} ${a.address} port ${a.port} (${a.name})`);
    }
  }
}

/** The process counters behind a tracking sink (a `RadiusProcess`), if it has them. */
function siteCounters(s: TrackingSink): (ProcessStats & Record<string, number>) | undefined {
  return (s.inner as { counters?: ProcessStats & Record<string, number> }).counters;
}

/** Creates run_dir (flag file, pid file, stats) and logdir when they are missing. */
function ensureDirs(gen: Generation): void {
  for (const dir of [gen.paths.runDir, gen.paths.logdir]) {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch { /* reported when something is written there */ }
  }
}

function sameListener(a: ListenSpec, b: ListenSpec): boolean {
  return a.transport === b.transport && a.ipaddr === b.ipaddr && a.port === b.port && a.server === b.server
    && a.types.join(',') === b.types.join(',') && a.cleanupDelay === b.cleanupDelay && a.maxPacketSize === b.maxPacketSize
    && a.recvBuff === b.recvBuff && a.sendBuff === b.sendBuff && a.idleTimeout === b.idleTimeout && a.maxConnections === b.maxConnections;
}
