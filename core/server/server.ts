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
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log/logger';
import { totalDrops } from '../listen/ingest';
import { TCP_LIMIT_DEFAULTS } from '../listen/tcp';
import type { InFlight, Listener, ListenerConfig, ListenerDeps, ListenerStats, PacketSink, RadiusClient } from '../listen/types';
import { clientKey, MaSeenState, type ClientStateSink } from '../listen/client-state';
import type { ClientTable } from '../listen/clients';
import type { CompiledSite, ProcessOptions } from '../process/radius/types';
import type { Pair } from '../pair/pair';
import { parsePairList } from '../pair/text';
import type { AppHost, AppInstance, AppRegistry, AppSpec, Health, InjectRequest, ServerHealth } from './app';
import { loadGeneration, type Generation } from './generation';
import { socketKey, type ListenSpec } from './listen-config';
import type { InjectReply, NamespaceRegistry, SiteProcess } from './namespace';
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
  /** Called after every reload attempt (tests, logging). */
  readonly onReload?: (ok: boolean, error?: Error) => void;
  /** Where per-request log lines (the `-X` trace) go. */
  readonly requestLogSink?: import('../request/request-log').LogSink;
  /** Number of processes sharing the sockets (cluster); used for rate shares. */
  readonly share?: number;
  /** Extra `${name}` variables for the configuration (lowest priority), as in `loadGeneration`. */
  readonly variables?: Record<string, string>;
  /**
   * Cluster worker: report learned client state (Message-Authenticator seen) to the primary,
   * which writes the state file, logs once and broadcasts (`workerLearn`). Without it this
   * process writes `${run_dir}/${name}.ma-seen` and logs itself.
   */
  readonly shareLearned?: (key: string, note: string) => void;
}

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
  private reloadsOk = 0;
  private reloadsFailed = 0;
  private readonly startedAt = new Date().toISOString();
  /** Counters of listeners closed by a reload, so totals never go backwards. */
  private retired: ListenerStats = {};
  /** Counters of in-process requests (`inject`), reported like a listener's. */
  private injected: ListenerStats = { received: 0, processed: 0, replied: 0, no_reply: 0 };
  private apps: RunningApp[] = [];
  /** What apps see of the server (stable across reloads). */
  private readonly host: AppHost = ((srv: Server): AppHost => ({
    get generation() { return srv.gen?.number ?? 0; },
    uptime: () => srv.uptime(),
    health: () => srv.health(),
    inject: (site, request) => srv.inject(site, request),
  }))(this);
  /** What `auto` learned (clients that sent Message-Authenticator); see core/listen/client-state.ts. */
  private maState: MaSeenState | undefined;
  private readonly clientState: ClientStateSink = {
    messageAuthenticatorSeen: (client, note) => this.learnedHere(client, note),
  };

  constructor(readonly opts: ServerOptions) {}

  private uptime(): number {
    return Math.floor((Date.now() - Date.parse(this.startedAt)) / 1000);
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
      const specs = this.applyOverride(gen.listeners, gen.sites);
      for (const spec of specs) {
        const listener = this.newListener(spec, gen, sinks);
        await listener.start();
        this.bound.set(socketKey(spec), { spec, listener });
      }
      this.gen = gen;
      this.sinks = sinks;
      this.apps = await this.startApps(gen.apps, gen.number);
    } catch (e) {
      for (const b of this.bound.values()) await b.listener.stop().catch(() => undefined);
      this.bound.clear();
      this.gen = undefined;
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
      this.reloadsFailed++;
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
      this.reloadsFailed++;
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
      this.reloadsFailed++;
      log.error(`reload: still serving generation ${old.number}: ${(e as Error).message}`);
      this.opts.onReload?.(false, e as Error);
      return false;
    }
    // The swap: synchronous from here until the listeners point at the new generation.
    const oldSinks = this.sinks;
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
    this.reloadsOk++;
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
    await old.modules.detachAll();
    this.opts.log.debug(`reload: generation ${old.number} detached`);
  }

  /** Stops the triggers and listeners, waits (bounded) for in-flight requests, detaches modules. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.triggers?.stop();
    if (this.reloading) await this.reloading.catch(() => undefined);
    const apps = this.apps;
    this.apps = [];
    await this.stopApps(apps);
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

  /** Counter snapshot (see docs/configuration.md, "Counters"). */
  stats(): ServerStats {
    const listeners: Record<string, ListenerStats> = {};
    const total: ListenerStats = { ...this.retired };
    for (const b of this.bound.values()) {
      const s = b.listener.stats();
      listeners[b.spec.name] = s;
      for (const [k, v] of Object.entries(s)) total[k] = (total[k] ?? 0) + v;
    }
    if (this.injected.received) {
      listeners.inject = { ...this.injected };
      for (const [k, v] of Object.entries(this.injected)) total[k] = (total[k] ?? 0) + v;
    }
    total.drop_total = totalDrops(total);
    const apps: Record<string, Health & { kind: string }> = {};
    for (const a of this.health().apps) apps[a.name] = { kind: a.kind, ...a.health };
    return {
      generation: this.gen?.number ?? 0,
      started: this.startedAt,
      reloads: { ok: this.reloadsOk, failed: this.reloadsFailed },
      total,
      listeners,
      apps,
    };
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
    const apps: ServerHealth['apps'] = this.apps.map((a) => {
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
    const degraded = listeners.some((l) => !l.listening)
      || modules.some((m) => m.state !== 'instantiated' || (m.health !== undefined && m.health.status !== 'ok'))
      || apps.some((a) => a.health.status !== 'ok');
    return {
      status: !gen || this.stopped ? 'down' : degraded ? 'degraded' : 'ok',
      generation: gen?.number ?? 0,
      started: this.startedAt,
      uptime: this.uptime(),
      reloads: { ok: this.reloadsOk, failed: this.reloadsFailed },
      modules,
      listeners,
      apps,
    };
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
    const gen = this.gen;
    if (!gen || this.stopped) return Promise.reject(new Error('inject: the server is not running'));
    const build = gen.sites.get(site);
    const sink = this.sinks.get(site);
    if (!build || !sink) return Promise.reject(new Error(`inject: no server "${site}" (have ${[...gen.sites.keys()].join(', ')})`));
    let code: number | undefined;
    let pairs: Pair[];
    try {
      const types = build.namespace.requestTypes;
      code = typeof request.code === 'number' ? request.code
        : types[request.code] ?? Object.entries(types).find(([k]) => k.toLowerCase() === String(request.code).toLowerCase())?.[1];
      if (code === undefined) throw new Error(`unknown request type "${request.code}" (one of ${Object.keys(types).join(', ')})`);
      pairs = request.pairs === undefined ? [] : typeof request.pairs === 'string' ? parsePairList(request.pairs, gen.dict) : [...request.pairs];
    } catch (e) {
      return Promise.reject(new Error(`inject: server ${site}: ${(e as Error).message}`));
    }
    if (request.signal?.aborted) return Promise.reject(new Error('inject: aborted'));
    const c = this.injected;
    c.received++;
    c.processed++;
    return new Promise<InjectReply>((resolve, reject) => {
      let handle: InFlight | undefined;
      const onAbort = () => handle?.signal('cancel');
      try {
        handle = sink.inject({ code: code!, pairs, src: request.src, client: request.client, received: performance.now(), via: request.via }, (reply) => {
          request.signal?.removeEventListener('abort', onAbort);
          if (reply.code === null) c.no_reply++;
          else c.replied++;
          resolve(reply);
        });
      } catch (e) {
        c.no_reply++;
        reject(new Error(`inject: server ${site}: ${(e as Error).message}`));
        return;
      }
      if (handle) request.signal?.addEventListener('abort', onAbort, { once: true });
    });
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

  private async load(): Promise<Generation> {
    const number = this.nextNumber++;
    return loadGeneration({
      file: this.opts.file, log: this.opts.log, number, counter: (name) => this.stats().total[name] ?? 0,
      namespaces: this.opts.namespaces, apps: this.opts.apps, variables: this.opts.variables,
    });
  }

  private makeSinks(gen: Generation): Map<string, TrackingSink> {
    const sinks = new Map<string, TrackingSink>();
    const opts = { log: this.opts.log, debug: this.opts.debug, requestLogSink: this.opts.requestLogSink };
    for (const [name, build] of gen.sites) {
      const inner = this.opts.createProcess ? this.opts.createProcess(build.site, opts) : build.namespace.createProcess(build.site, opts);
      sinks.set(name, new TrackingSink(inner));
    }
    return sinks;
  }

  private newListener(spec: ListenSpec, gen: Generation, sinks: Map<string, TrackingSink>): Listener {
    const deps = {
      sink: sinks.get(spec.server)!, clients: gen.clients.get(spec.server)!, log: this.opts.log, dict: gen.dict, clientState: this.clientState,
    };
    if (this.opts.share && this.opts.share > 1) (deps.clients as { setShare?: (n: number) => void }).setShare?.(this.opts.share);
    const shared = spec.transport === 'tcp' ? tcpShare(spec, this.opts.share ?? 1) : spec;
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
    if (this.opts.share && this.opts.share > 1) {
      for (const table of gen.clients.values()) (table as { setShare?: (n: number) => void }).setShare?.(this.opts.share);
    }
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
      this.opts.log.info(`listening on ${a.transport} ${a.address} port ${a.port} (${a.name})`);
    }
  }
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
