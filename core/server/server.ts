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
 *           Apps (app.ts): new ones start before the swap (a failure rejects the reload); after
 *           it, kept ones take the new config in place (`reload`) or are replaced, vanished ones stop.
 * stop():   triggers off → apps stopped → held reject_delay replies sent → listeners closed
 *           → in-flight drained (bounded) → modules detached
 * inject(): runs a request through a site of the current generation in-process (no encoding),
 *           tracked like a packet (reload drains it, max_request_time applies, counted as `inject`).
 * ```
 *
 * What a `server { namespace = X }` means (sections, listeners, state machine) comes from the
 * namespace registry (namespace.ts); nothing here is specific to RADIUS.
 * Reloads are serialised: a trigger during a reload schedules one more reload afterwards.
 */
import type { XlatRegistry } from '../unlang/xlat/registry';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../log/logger';
import { CLOSED_LISTENERS, emitListenerStats } from '../listen/metrics';
import { TCP_LIMIT_DEFAULTS } from '../listen/tcp';
import type { InFlight, Listener, ListenerConfig, ListenerDeps, ListenerStats, PacketSink, RadiusClient } from '../listen/types';
import { clientKey, MaSeenState, type ClientStateSink } from '../listen/client-state';
import type { ClientTable } from '../listen/clients';
import type { ProcessOptions } from '../process/radius/types';
import type { CompiledSite, InjectReply, NamespaceRegistry, SiteProcess } from '../process/namespace';
import type { ProcessStats } from '../process/radius/process';
import type { Collect, CounterChild, GaugeOptions, Histogram, MetricOptions } from '../metrics/registry';
import { processServices, type ProcessServices } from '../module/container';
import type { Pair } from '../pair/pair';
import { parsePairList } from '../pair/text';
import type { AppHost, AppInstance, AppRegistry, AppSpec, ClientSummary, Health, InjectRequest, ServerHealth } from './app';
import { loadGeneration, type Generation, type GenerationOptions } from './generation';
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
  /** Process factory (tests); default: the site's namespace (`createRadiusProcess` for radius). */
  readonly createProcess?: (site: CompiledSite, opts: ProcessOptions) => PacketSink & Partial<Pick<SiteProcess, 'inject' | 'close'>>;
  /** Namespaces `server { namespace = … }` may name (default: the built-in `radius`). */
  readonly namespaces?: NamespaceRegistry;
  /** App kinds `app KIND { … }` may name (default: the built-in `health`). */
  readonly apps?: AppRegistry;
  /** Module definitions `modules { … }` may name (default: none; see `GenerationOptions.modules`). */
  readonly modules?: GenerationOptions['modules'];
  /** Called after every reload attempt (tests, logging). */
  readonly onReload?: (ok: boolean, error?: Error) => void;
  /** Where per-request log lines (the `-X` trace) go. */
  readonly requestLogSink?: import('../request/request-log').LogSink;
  /** Number of processes sharing the sockets (cluster); used for rate shares. Default: `services.topology.count`. */
  readonly share?: number;
  /**
   * Load the configuration and instantiate the modules, but bind no listener, start no app and
   * no reload trigger: the server only runs in-process requests (`inject`), e.g. `radiusd test`
   * beside a daemon that holds the ports.
   */
  readonly offline?: boolean;
  /** Extra `${name}` variables for the configuration (lowest priority), as in `loadGeneration`. */
  readonly variables?: Record<string, string>;
  /** Parent of every generation's expansion functions, as in `loadGeneration` (default: the built-ins). */
  readonly xlats?: XlatRegistry;
  /**
   * Process-wide services registered in every generation's DI root (metrics registry, clock,
   * worker pools, topology); missing ones are created (see `processServices`).
   */
  readonly services?: Partial<ProcessServices>;
  /** Under cluster: the metrics of every worker merged (the admin app's `/metrics`); default: this process's. */
  readonly clusterMetrics?: () => Promise<import('../metrics/snapshot').MetricsSnapshot>;
  /**
   * Cluster worker: report learned client state (Message-Authenticator seen) to the primary,
   * which writes the state file, logs once and broadcasts (`workerLearn`). Without it this
   * process writes `${run_dir}/${name}.ma-seen` and logs itself.
   */
  readonly shareLearned?: (key: string, note: string) => void;
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
const APP_UP: GaugeOptions = {
  name: SERVER_METRICS.appUp, help: 'An app reports ok (1) or not (0); across workers the lowest.', labelNames: ['kind', 'name'], merge: 'min',
};
/** The pseudo-listener in-process requests (`Server.inject`) are counted under. */
const INJECT_LISTENER = 'inject';

interface Bound {
  spec: ListenSpec;
  listener: Listener;
}

/** A running (or failed) app. */
interface RunningApp {
  spec: AppSpec;
  instance: AppInstance | undefined;
  /** Generation whose config it runs. */
  generation: number;
  /** Why it is not running (start failed after a reload). */
  error?: string;
}

const appKey = (a: AppSpec): string => `${a.kind} ${a.name}`;
const appLabel = (a: AppSpec): string => `app ${a.kind}${a.name !== a.kind ? ' ' + a.name : ''}`;

/** Counter snapshot of the whole server. */
export interface ServerStats {
  readonly generation: number;
  readonly started: string;
  readonly reloads: { ok: number; failed: number };
  /** Sum of every listener's counters (plus `drop_total`). */
  readonly total: ListenerStats;
  /** Counters by listener name (`inject` counts in-process requests, once there were any). */
  readonly listeners: Record<string, ListenerStats>;
  /** Health of the apps, by name. */
  readonly apps: Record<string, Health & { kind: string }>;
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
  /** Time from hand-over to answer per site (the dashboard's latency, Prometheus histograms). */
  private readonly requestSeconds: Histogram;
  /** Counters of listeners closed by a reload, so totals never go backwards. */
  private retired: ListenerStats = {};
  /** Sinks of older generations still draining, then their final counters by server name. */
  private draining = new Set<TrackingSink>();
  private retiredSites = new Map<string, Record<string, number>>();
  /** Counters of in-process requests (`inject`), reported like a listener's (listener `inject`). */
  private injected: ListenerStats = { received: 0, processed: 0, replied: 0, no_reply: 0 };
  private apps: RunningApp[] = [];
  /** When the server started: monotonic (uptime) and wall (ISO, for health). */
  private readonly startedMono: number;
  private readonly startedAt: string;
  /** Generations replaced by a reload whose requests are still draining (detached when done). */
  private retiring = new Set<{ sinks: Map<string, TrackingSink>; done: Promise<void> }>();
  /** What apps see of the server (stable across reloads). */
  private readonly host: AppHost = ((srv: Server): AppHost => ({
    get generation() { return srv.gen?.number ?? 0; },
    uptime: () => srv.uptime(),
    health: () => srv.health(),
    inject: (site, request) => srv.inject(site, request),
    injectWith: (site, request, done) => srv.injectWith(site, request, done),
    get dict() { return srv.gen?.dict; },
    get metrics() { return srv.services.metrics; },
    get dac() { return srv.services.dac; },
    get clusterMetrics() { return srv.opts.clusterMetrics; },
    reload: () => srv.reload(),
    clients: () => srv.clientSummaries(),
    sessionApps: () => srv.apps.flatMap((a) => (a.instance?.sessions ? [{ kind: a.spec.kind, name: a.spec.name, sessions: a.instance.sessions }] : [])),
  }))(this);
  /** What `auto` learned (clients that sent Message-Authenticator); see core/listen/client-state.ts. */
  private maState: MaSeenState | undefined;
  private readonly clientState: ClientStateSink = {
    messageAuthenticatorSeen: (client, note) => this.learnedHere(client, note),
  };

  constructor(readonly opts: ServerOptions) {
    this.services = processServices(opts.services);
    const m = this.services.metrics;
    const reloads = m.counter({ name: SERVER_METRICS.reloads, help: 'Configuration reloads, by result.', labelNames: ['result'] });
    this.reloadsOk = reloads.labels('ok');
    this.requestSeconds = m.histogram({
      name: 'tsradius_request_duration_seconds', help: 'Time from a request reaching its site to its answer (or end without one), by server.',
      labelNames: ['server'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    this.reloadsFailed = reloads.labels('failed');
    this.startedMono = this.services.clock.now();
    const startedWall = this.services.clock.wall(this.startedMono);
    this.startedAt = new Date(startedWall).toISOString();
    m.gauge({ name: SERVER_METRICS.started, help: 'When the server started, in seconds since the epoch.', merge: 'min' }).labels()
      .set(startedWall / 1000);
    m.collect((out) => this.collect(out));
  }

  /** Emits the listener, site and client counters into a metrics snapshot. */
  private collect(out: Collect): void {
    out.gauge({ name: SERVER_METRICS.generation, help: 'Configuration generation serving.', merge: 'max' }, [], this.gen?.number ?? 0);
    for (const b of this.bound.values()) emitListenerStats(out, b.spec.name, b.listener.stats());
    emitListenerStats(out, CLOSED_LISTENERS, this.retired);
    if (this.injected.received) emitListenerStats(out, INJECT_LISTENER, this.injected);
    for (const a of this.appHealth()) out.gauge(APP_UP, [a.kind, a.name], a.health.status === 'ok' ? 1 : 0);
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

  private uptime(): number {
    return Math.floor((this.services.clock.now() - this.startedMono) / 1000);
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
      const worker = this.opts.shareLearned !== undefined;
      this.maState = new MaSeenState(gen.paths.maStateFile, this.opts.log, !worker);
      this.maState.load(worker);
      this.maState.mark(clientTables(gen));
      if (!worker && this.maState.size > 0) {
        this.opts.log.info(`${this.maState.size} client(s) known to send Message-Authenticator (${gen.paths.maStateFile})`);
      }
      const sinks = this.makeSinks(gen);
      const specs = this.opts.offline ? [] : this.applyOverride(gen.listeners, gen.sites);
      for (const spec of specs) {
        const listener = this.newListener(spec, gen, sinks);
        await listener.start();
        this.bound.set(socketKey(spec), { spec, listener });
      }
      this.gen = gen;
      this.sinks = sinks;
      this.services.dac.setGeneration(gen.dict, clientTables(gen), this.opts.log);
      this.apps = this.opts.offline ? [] : await this.startApps(gen.apps, gen.number);
    } catch (e) {
      for (const b of this.bound.values()) await b.listener.stop().catch(() => undefined);
      this.bound.clear();
      this.gen = undefined;
      await gen.modules.detachAll();
      throw e;
    }
    this.logListening();
    if (this.opts.triggers !== false && !this.opts.offline) {
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
    const specs = this.applyOverride(gen.listeners, gen.sites);
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
    // Apps that are new in this configuration start before the swap: a failure keeps the old generation.
    const running = new Map(this.apps.map((a) => [appKey(a.spec), a]));
    let started: RunningApp[];
    try {
      started = await this.startApps(gen.apps.filter((a) => !running.has(appKey(a))), gen.number);
    } catch (e) {
      for (const b of fresh.values()) await b.listener.stop().catch(() => undefined);
      await gen.modules.detachAll();
      this.reloadsFailed.inc();
      log.error(`reload: still serving generation ${old.number}: ${(e as Error).message}`);
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
    this.applyClientState(gen);
    this.gen = gen;
    this.sinks = sinks;
    this.services.dac.setGeneration(gen.dict, clientTables(gen), this.opts.log);
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
    await this.swapApps(gen, running, started);
    this.reloadsOk.inc();
    log.info(`reload: generation ${gen.number} is serving (${gen.sites.size} server(s), ${this.bound.size} listener(s))`);
    this.opts.onReload?.(true);
    this.triggers?.configure(gen.paths.flagFile, gen.settings.reload.check_interval, gen.settings.reload.interval);
    // In-flight requests finish on the old generation; then its modules are detached.
    const entry = { sinks: oldSinks, done: Promise.resolve() };
    entry.done = this.retireGeneration(old, oldSinks).finally(() => this.retiring.delete(entry));
    this.retiring.add(entry);
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

  /**
   * Stops the triggers, apps and listeners, waits (bounded: `max_request_time`, at most 5 s)
   * for in-flight requests, cancels those still running, and detaches the modules (also those
   * of generations a reload replaced that were still draining).
   *
   * While it runs, a timer holds the event loop open: a request may wait on a promise that holds
   * no handle of its own (the listeners are closed by then, and the drain timers are unref'd),
   * and Node would otherwise exit in the middle of the shutdown, without detaching anything.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const keepAlive = setInterval(() => undefined, 1 << 30);
    try {
      await this.stopInner();
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async stopInner(): Promise<void> {
    const log = this.opts.log;
    this.triggers?.stop();
    if (this.reloading) await this.reloading.catch(() => undefined);
    const apps = this.apps;
    this.apps = [];
    await this.stopApps(apps);
    await this.services.dac.close();
    // Access-Rejects held by reject_delay go out now, before the sockets close.
    for (const s of this.sinks.values()) s.close();
    await new Promise((r) => setImmediate(r)); // dgram sends complete a tick later
    for (const b of this.bound.values()) {
      this.retire(b.listener.stats());
      await b.listener.stop().catch(() => undefined);
    }
    this.bound.clear();
    const gen = this.gen;
    const sinks = [...this.sinks.values(), ...[...this.retiring].flatMap((r) => [...r.sinks.values()])];
    const limit = shutdownDrainMs(gen?.settings.max_request_time);
    const drained = await Promise.all(sinks.map((s) => s.drain(limit)));
    if (drained.some((ok) => !ok)) {
      const n = sinks.reduce((a, s) => a + s.cancelAll(), 0);
      log.warn(`shutdown: ${n} request(s) still in progress after ${limit / 1000}s; cancelled (no reply)`);
      // Cancelled requests unwind at once unless a module ignores its abort signal; bounded anyway.
      await Promise.all(sinks.map((s) => s.drain(1000)));
    }
    await Promise.all([...this.retiring].map((r) => r.done));
    if (gen) await gen.modules.detachAll();
  }

  /** Counter snapshot (see docs/configuration.md, "Counters"): a view of the metrics registry. */
  stats(): ServerStats {
    const apps: Record<string, Health & { kind: string }> = {};
    for (const a of this.appHealth()) apps[a.name] = { kind: a.kind, ...a.health };
    return { ...serverStatsView(this.services.metrics.snapshot()), apps };
  }

  /**
   * Health report: generation, uptime, module states (and a module's own `health()` when it has
   * one), listener status, app health. `down` when not serving; `degraded` when a listener is not
   * listening, a module is not instantiated or reports anything but ok, or an app is not ok.
   */
  health(): ServerHealth {
    const gen = this.gen;
    const modules: ServerHealth['modules'] = [];
    for (const m of gen?.modules.list() ?? []) {
      const own = (m.instance as { health?: () => Health }).health;
      let health: Health | undefined;
      if (typeof own === 'function') {
        try {
          health = own.call(m.instance);
        } catch (e) {
          health = { status: 'down', detail: { error: (e as Error).message } };
        }
      }
      modules.push({ name: m.name, module: m.definition.name, state: m.state, ...(health ? { health } : {}) });
    }
    const listeners: ServerHealth['listeners'] = [];
    for (const b of this.bound.values()) {
      const a = b.listener.address();
      listeners.push({ name: b.spec.name, transport: b.spec.transport, address: a?.address ?? b.spec.ipaddr, port: a?.port ?? b.spec.port, listening: a !== undefined });
    }
    const apps = this.appHealth();
    const degraded = listeners.some((l) => !l.listening)
      || modules.some((m) => m.state !== 'instantiated' || (m.health !== undefined && m.health.status !== 'ok'))
      || apps.some((a) => a.health.status !== 'ok');
    return {
      status: !gen || this.stopped ? 'down' : degraded ? 'degraded' : 'ok',
      generation: gen?.number ?? 0,
      started: this.startedAt,
      uptime: this.uptime(),
      reloads: { ok: this.reloadsOk.value, failed: this.reloadsFailed.value },
      modules,
      listeners,
      apps,
    };
  }

  /** Each app's health (`down` with the reason when it is not running or its check throws). */
  private appHealth(): ServerHealth['apps'] {
    return this.apps.map((a) => {
      let health: Health;
      if (!a.instance) health = { status: 'down', detail: { error: a.error ?? 'not running' } };
      else {
        try {
          health = a.instance.health?.() ?? { status: 'ok' };
        } catch (e) {
          health = { status: 'down', detail: { error: (e as Error).message } };
        }
      }
      return { kind: a.spec.kind, name: a.spec.name, generation: a.generation, health };
    });
  }

  /**
   * Runs a request through site `site` of the current generation, in-process: the same sections
   * and decisions as a packet, without encoding or decoding. The request is tracked like a
   * packet (a reload waits for it before detaching its generation's modules), `max_request_time`
   * applies, and it is counted under the pseudo-listener `inject`. Resolves with the reply
   * (`code` null = no reply). Rejects when the server is not running, the site does not exist,
   * or the request cannot be built (unknown packet name, bad pair text).
   */
  inject(site: string, request: InjectRequest): Promise<InjectReply> {
    return new Promise<InjectReply>((resolve, reject) => {
      this.injectWith(site, request, (err, reply) => (err ? reject(err) : resolve(reply!)));
    });
  }

  /**
   * {@link inject} with a callback instead of a Promise: `done` runs exactly once, with the error
   * (`inject` rejects with it) or the reply. A site that finishes synchronously calls `done`
   * before `injectWith` returns (no Promise, no microtask): the path for callers that answer
   * many requests per turn (the pppoe_dpdk control plane).
   */
  injectWith(site: string, request: InjectRequest, done: (err: Error | undefined, reply?: InjectReply) => void): void {
    const gen = this.gen;
    if (!gen || this.stopped) return done(new Error('inject: the server is not running'));
    const build = gen.sites.get(site);
    const sink = this.sinks.get(site);
    if (!build || !sink) return done(new Error(`inject: no server "${site}" (have ${[...gen.sites.keys()].join(', ')})`));
    let code: number | undefined;
    let pairs: Pair[];
    let control: Pair[] | undefined;
    try {
      const types = build.namespace.requestTypes;
      code = typeof request.code === 'number' ? request.code
        : types[request.code] ?? Object.entries(types).find(([k]) => k.toLowerCase() === String(request.code).toLowerCase())?.[1];
      if (code === undefined) throw new Error(`unknown request type "${request.code}" (one of ${Object.keys(types).join(', ')})`);
      pairs = request.pairs === undefined ? [] : typeof request.pairs === 'string' ? parsePairList(request.pairs, gen.dict) : [...request.pairs];
      control = request.control === undefined ? undefined : typeof request.control === 'string' ? parsePairList(request.control, gen.dict) : [...request.control];
    } catch (e) {
      return done(new Error(`inject: server ${site}: ${(e as Error).message}`));
    }
    const signal = request.signal;
    if (signal?.aborted) return done(new Error('inject: aborted'));
    const c = this.injected;
    c.received++;
    c.processed++;
    let handle: InFlight | undefined;
    let replied = false;
    const onAbort = signal ? () => handle?.signal('cancel') : undefined;
    try {
      handle = sink.inject({ code, pairs, control, src: request.src, client: request.client, received: this.services.clock.now(), via: request.via }, (reply) => {
        if (onAbort) signal!.removeEventListener('abort', onAbort);
        if (reply.code === null) c.no_reply++;
        else c.replied++;
        replied = true;
        done(undefined, reply);
      });
    } catch (e) {
      if (replied) throw e;
      c.no_reply++;
      return done(new Error(`inject: server ${site}: ${(e as Error).message}`));
    }
    if (handle && onAbort) signal!.addEventListener('abort', onAbort, { once: true });
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
      namespaces: this.opts.namespaces, apps: this.opts.apps, modules: this.opts.modules, variables: this.opts.variables,
      xlats: this.opts.xlats,
    });
  }

  private makeSinks(gen: Generation): Map<string, TrackingSink> {
    const sinks = new Map<string, TrackingSink>();
    const opts = { log: this.opts.log, debug: this.opts.debug, requestLogSink: this.opts.requestLogSink, clock: this.services.clock };
    for (const [name, build] of gen.sites) {
      const inner = this.opts.createProcess ? this.opts.createProcess(build.site, opts) : build.namespace.createProcess(build.site, opts);
      sinks.set(name, new TrackingSink(inner, name, this.requestSeconds.labels(name)));
    }
    return sinks;
  }

  private newListener(spec: ListenSpec, gen: Generation, sinks: Map<string, TrackingSink>): Listener {
    const deps = {
      sink: sinks.get(spec.server)!, clients: gen.clients.get(spec.server)!, log: this.opts.log, dict: gen.dict,
      clientState: this.clientState, clock: this.services.clock, share: this.share,
    };
    if (this.share > 1) (deps.clients as { setShare?: (n: number) => void }).setShare?.(this.share);
    const shared = spec.transport === 'tcp' ? tcpShare(spec, this.share) : spec;
    if (this.opts.createListener) return this.opts.createListener(shared, deps as ListenerDeps);
    const listen = gen.sites.get(spec.server)!.namespace.listen!;
    return listen.create(shared, deps);
  }

  private applyOverride(specs: readonly ListenSpec[], sites: Generation['sites']): ListenSpec[] {
    const o = this.opts.override;
    if (!o || (o.ipaddr === undefined && o.port === undefined)) return [...specs];
    const first = specs[0]?.server;
    return specs.map((s) => {
      let port = s.port;
      if (o.port !== undefined && s.server === first) {
        const ns = sites.get(s.server)?.namespace;
        port = ns?.listen?.overridePort?.(s.types, o.port) ?? port;
      }
      return { ...s, ipaddr: o.ipaddr ?? s.ipaddr, port };
    });
  }

  // ------------------------------------------------------------------ apps

  /** Creates and starts apps in order; on a failure stops those already started and throws a located error. */
  private async startApps(specs: readonly AppSpec[], generation: number): Promise<RunningApp[]> {
    const out: RunningApp[] = [];
    for (const spec of specs) {
      try {
        out.push({ spec, instance: await this.startApp(spec), generation });
      } catch (e) {
        await this.stopApps(out);
        throw new Error(`${spec.loc.file}[${spec.loc.line}]: ${appLabel(spec)}: cannot start: ${(e as Error).message}`, { cause: e });
      }
    }
    return out;
  }

  private async startApp(spec: AppSpec): Promise<AppInstance> {
    const log = this.opts.log.child(appLabel(spec));
    const instance = spec.definition.create(spec.config as never, { kind: spec.kind, name: spec.name, log, host: this.host });
    try {
      await instance.start();
    } catch (e) {
      await Promise.resolve().then(() => instance.stop()).catch(() => undefined);
      throw e;
    }
    return instance;
  }

  /** Stops apps in reverse order; never throws (errors are logged). */
  private async stopApps(apps: readonly RunningApp[]): Promise<void> {
    for (const a of [...apps].reverse()) {
      if (!a.instance) continue;
      try {
        await a.instance.stop();
      } catch (e) {
        this.opts.log.error(`${appLabel(a.spec)}: stop: ${(e as Error).message}`);
      }
    }
  }

  /**
   * After the swap: apps in both configurations take the new config in place when they can
   * (`reload` → true), else are replaced (old stopped, new started; a failure is logged and the
   * app reported down); apps no longer configured stop.
   */
  private async swapApps(gen: Generation, running: Map<string, RunningApp>, started: RunningApp[]): Promise<void> {
    const startedByKey = new Map(started.map((a) => [appKey(a.spec), a]));
    const next: RunningApp[] = [];
    const keep = new Set<string>();
    for (const spec of gen.apps) {
      const key = appKey(spec);
      const fresh = startedByKey.get(key);
      if (fresh) {
        next.push(fresh);
        continue;
      }
      const cur = running.get(key)!;
      keep.add(key);
      let inPlace = false;
      if (cur.instance?.reload) {
        try {
          inPlace = await cur.instance.reload(spec.config);
        } catch (e) {
          this.opts.log.error(`${appLabel(spec)}: reload: ${(e as Error).message}`);
        }
      }
      if (inPlace) {
        next.push({ spec, instance: cur.instance, generation: gen.number });
        continue;
      }
      await this.stopApps([cur]);
      try {
        next.push({ spec, instance: await this.startApp(spec), generation: gen.number });
      } catch (e) {
        const error = (e as Error).message;
        this.opts.log.error(`${spec.loc.file}[${spec.loc.line}]: ${appLabel(spec)}: cannot start: ${error}`);
        next.push({ spec, instance: undefined, generation: gen.number, error });
      }
    }
    const vanished = [...running.entries()].filter(([k]) => !keep.has(k)).map(([, a]) => a);
    this.apps = next;
    await this.stopApps(vanished);
  }

  /** A new generation's client tables: mark what was learned, set the rate share. */
  private applyClientState(gen: Generation): void {
    this.maState?.mark(clientTables(gen));
    if (this.share > 1) {
      for (const table of gen.clients.values()) (table as { setShare?: (n: number) => void }).setShare?.(this.share);
    }
  }

  /** The current generation's clients for apps (no secrets). */
  clientSummaries(): ClientSummary[] {
    const gen = this.gen;
    if (!gen) return [];
    const out: ClientSummary[] = [];
    const seen = new Set<unknown>();
    const add = (server: string, table: ClientTable) => {
      for (const c of table.clients) {
        if (server !== '*' && seen.has(c)) continue;
        seen.add(c);
        const coa = c.coaServer;
        out.push({ server, name: c.name, shortname: c.shortname, network: c.network, nasType: c.nasType,
          coaServer: coa && { ipaddr: coa.ipaddr, port: coa.port, ownSecret: coa.secret !== undefined } });
      }
    };
    add('*', gen.globalClients);
    for (const [name, table] of gen.clients) add(name, table);
    return out;
  }

  /** A listener saw a client's first Message-Authenticator. */
  private learnedHere(client: RadiusClient, note: string): void {
    const state = this.maState;
    if (!state) return;
    const key = clientKey(client);
    const fresh = state.add(key);
    // The same client may appear in several tables (global clients are copied into server-local ones).
    if (this.gen) state.mark(clientTables(this.gen));
    if (this.opts.shareLearned) {
      this.opts.shareLearned(key, note);
    } else if (fresh) {
      state.save();
      this.opts.log.info(note);
    }
  }

  /** Learned keys from elsewhere (the cluster primary): remembered and applied to the current tables. */
  applyLearned(keys: readonly string[]): void {
    const state = this.maState;
    if (!state) return;
    for (const k of keys) state.add(k);
    if (this.gen) state.mark(clientTables(this.gen));
  }

  private retire(s: ListenerStats): void {
    for (const [k, v] of Object.entries(s)) this.retired[k] = (this.retired[k] ?? 0) + v;
  }

  private logListening(): void {
    for (const a of this.addresses()) {
      const any = a.address === '0.0.0.0' || a.address === '::';
      this.opts.log.info(`listening on ${a.transport} ${any ? '*' : a.address} port ${a.port} (${a.name})`
        + (any && a.transport === 'udp' ? ': every address; the trace shows "to *" (Node does not report the destination address of a UDP packet)' : ''));
    }
  }
}

/** The process counters behind a tracking sink (a `RadiusProcess`), if it has them. */
function siteCounters(s: TrackingSink): (ProcessStats & Record<string, number>) | undefined {
  return (s.inner as { counters?: ProcessStats & Record<string, number> }).counters;
}

/**
 * How long a shutdown waits for in-flight requests before it cancels them: `max_request_time`,
 * at most 5 s (a cluster primary gives its workers this plus time to detach).
 */
export function shutdownDrainMs(maxRequestTime: number | undefined): number {
  return Math.min(5, maxRequestTime || 5) * 1000;
}

/** Every client table of a generation. */
function clientTables(gen: Generation): ClientTable[] {
  return [gen.globalClients, ...gen.clients.values()];
}

/** Creates run_dir (flag file, pid file, stats) and logdir when they are missing. */
function ensureDirs(gen: Generation): void {
  for (const dir of [gen.paths.runDir, gen.paths.logdir]) {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch { /* reported when something is written there */ }
  }
}

/**
 * Under cluster the primary hands each TCP connection to one of `share` workers, and every worker
 * counts its own connections: each gets its share of the connection limits (at least 1).
 */
export function tcpShare(spec: ListenSpec, share: number): ListenSpec {
  if (share <= 1) return spec;
  const part = (v: number | undefined, dflt: number) => {
    const n = v ?? dflt;
    return n > 0 ? Math.max(1, Math.floor(n / share)) : 0;
  };
  return {
    ...spec,
    maxConnections: part(spec.maxConnections, TCP_LIMIT_DEFAULTS.maxConnections),
    maxConnectionsPerClient: part(spec.maxConnectionsPerClient, TCP_LIMIT_DEFAULTS.maxConnectionsPerClient),
  };
}

function sameListener(a: ListenSpec, b: ListenSpec): boolean {
  return a.transport === b.transport && a.ipaddr === b.ipaddr && a.port === b.port && a.server === b.server
    && a.types.join(',') === b.types.join(',') && a.cleanupDelay === b.cleanupDelay && a.maxPacketSize === b.maxPacketSize
    && a.recvBuff === b.recvBuff && a.sendBuff === b.sendBuff && a.idleTimeout === b.idleTimeout && a.maxConnections === b.maxConnections
    && a.maxConnectionsPerClient === b.maxConnectionsPerClient && a.readTimeout === b.readTimeout;
}
