/**
 * Apps: long-lived services that are not packet listeners (an HTTP endpoint, a detail-file
 * reader, a PPPoE data plane, a load generator).
 *
 * ```
 * app health {                 # app <kind> [<name>] { … }   (top level of radiusd.conf)
 *     port = 9100
 * }
 * ```
 *
 * An app is a value made with {@link defineApp}: a name (the `<kind>`), a config schema
 * (core/config schema DSL, located errors) and `create(config, ctx)`, which builds the instance
 * without I/O. The instance has four hooks:
 *
 * - `start()`: open sockets, files, timers. Called after the generation's modules are
 *   instantiated and its sites compiled. A throw fails start-up (or the reload).
 * - `stop()`: release everything; must tolerate a partial `start`.
 * - `reload(config)`: optional. On a reload, an app whose `<kind> <name>` is in both the old and
 *   the new configuration is asked to take the new config in place (e.g. keep its socket when
 *   the address did not change). `true` means it did, and the running instance carries over into
 *   the new generation; `false` (or no hook) means the old instance is stopped and the new one
 *   started.
 * - `health()`: optional; `{ status: 'ok' | 'degraded' | 'down', detail? }`, reported in the
 *   stats file (SIGUSR1) and by the `health` app.
 *
 * Apps see the running server through an {@link AppHost} (stable across reloads): the current
 * generation number, uptime, counters, health, and `inject` (run a request through a site).
 * `radiusd -C` parses the `app` sections but starts nothing.
 */
import type { ConfSection } from '../config/ast';
import { ConfError } from '../config/errors';
import { parseSection, suggest, type Fields, type Infer, type SectionSchema } from '../config/schema';
import type { Dictionary } from '../dict/dictionary';
import type { Logger } from '../log/logger';
import type { MetricsRegistry } from '../metrics/registry';
import type { InjectReply } from '../process/namespace';
import type { DacService } from '../dac/service';

/** Health of one component. */
export interface Health {
  readonly status: 'ok' | 'degraded' | 'down';
  /** Anything worth showing (JSON-serialisable). */
  readonly detail?: Record<string, unknown>;
}

/** A request for {@link AppHost.inject} (see `Server.inject`). */
export interface InjectRequest {
  /** Request packet name (`Access-Request`) or code. */
  readonly code: string | number;
  /** The request list: pairs, or text (`User-Name = "bob", User-Password = "hello"`). */
  readonly pairs?: import('../pair/pair').Pair[] | string;
  /** The control list the request starts with: pairs, or text (`Password.Cleartext = "hello"`). */
  readonly control?: import('../pair/pair').Pair[] | string;
  /** Source address and port (Packet-Src-*, Client-IP-Address). */
  readonly src?: { address: string; port: number };
  /** Client short name (Client-Shortname). */
  readonly client?: string;
  /** Aborting cancels the request; it then resolves with no reply. */
  readonly signal?: AbortSignal;
  /** Who injects, for the debug trace (`pppoe`, `coa`); default `inject`. */
  readonly via?: string;
}

/** What a running app can see of the server. Stable across reloads. */
export interface AppHost {
  /** The generation currently serving. */
  readonly generation: number;
  /** Seconds since the server started. */
  uptime(): number;
  /** The server's health report (generation, modules, listeners, apps). */
  health(): ServerHealth;
  /** Runs a request through a site of the current generation (see `Server.inject`). */
  inject(site: string, request: InjectRequest): Promise<InjectReply>;
  /**
   * `inject` with a callback (`Server.injectWith`): `done` runs once, with the error or the reply, synchronously
   * when the site finishes without yielding. For apps that answer many requests per turn.
   */
  injectWith(site: string, request: InjectRequest, done: (err: Error | undefined, reply?: InjectReply) => void): void;
  /** The current generation's dictionary (to build `Pair[]` for `inject`); undefined before start. */
  readonly dict: Dictionary | undefined;
  /** The process's metrics registry (survives reloads): an app registers on start, removes on stop. */
  readonly metrics: MetricsRegistry;
  /** The CoA/Disconnect originator and the sessions it knows (core/dac; survives reloads). */
  readonly dac: DacService;
  /** Under cluster: every worker's metrics merged (undefined in a single process: use `metrics`). */
  readonly clusterMetrics?: () => Promise<import('../metrics/snapshot').MetricsSnapshot>;
  /** Runs a reload now (as SIGHUP does); true when the new configuration is serving. */
  reload(): Promise<boolean>;
  /** The current generation's clients (no secrets): global ones as server `*`, then each server's own. */
  clients(): ClientSummary[];
  /** Running apps that hold sessions of their own ({@link AppInstance.sessions}; a NAS such as a PPPoE concentrator). */
  sessionApps(): { readonly kind: string; readonly name: string; readonly sessions: AppSessions }[];
}

/** One session as an app shows it to operators: `id` names it for `get`/`terminate`; never a credential. */
export type AppSessionInfo = { readonly id: string } & Readonly<Record<string, unknown>>;

/**
 * Sessions an app holds itself, for operators (the admin API's `/api/apps/<name>/sessions`, and the app's own
 * tools). `terminate` ends a session the way the app ends one (a concentrator: PADT and an accounting Stop);
 * false when there is no such session.
 */
export interface AppSessions {
  list(filter: { readonly user?: string; readonly limit: number }): Promise<AppSessionInfo[]>;
  get(id: string): Promise<AppSessionInfo | undefined>;
  terminate(id: string): Promise<boolean>;
}

/** A client as {@link AppHost.clients} shows it. */
export interface ClientSummary {
  /** `*` for top-level clients, else the server whose table holds it. */
  readonly server: string;
  readonly name: string;
  readonly shortname: string;
  readonly network: string;
  readonly nasType: string;
  /** Where CoA/Disconnect for its sessions go (undefined: port 3799 of the NAS, the client's secret). */
  readonly coaServer?: { ipaddr?: string; port: number; ownSecret: boolean };
}

/** The server's health report (`Server.health()`). */
export interface ServerHealth {
  readonly status: 'ok' | 'degraded' | 'down';
  readonly generation: number;
  readonly started: string;
  readonly uptime: number;
  readonly reloads: { ok: number; failed: number };
  readonly modules: { name: string; module: string; state: string; health?: Health }[];
  readonly listeners: { name: string; transport: string; address: string; port: number; listening: boolean }[];
  readonly apps: { kind: string; name: string; generation: number; health: Health }[];
}

/** What `create` gets besides the config. */
export interface AppContext {
  /** `<kind>` (the definition's name). */
  readonly kind: string;
  /** `<name>` (defaults to the kind). */
  readonly name: string;
  /** Server log child prefixed `app <name>: `. */
  readonly log: Logger;
  readonly host: AppHost;
}

/** A running app (see the file comment). */
export interface AppInstance {
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
  reload?(config: unknown): boolean | Promise<boolean>;
  health?(): Health;
  /** Optional: the app's own sessions, for operators (see {@link AppSessions}). */
  readonly sessions?: AppSessions;
}

/** An app definition: `app <name> [<instance>] { … }`. */
export interface AppDefinition<F extends Fields = Fields> {
  /** The `<kind>` word in `app <kind> { … }`. */
  readonly name: string;
  readonly config: SectionSchema<F>;
  /** Builds the instance; no I/O here (that is `start`). */
  create(config: Infer<SectionSchema<F>>, ctx: AppContext): AppInstance;
  /**
   * Optional checks across fields, run when the section is parsed (so `radiusd -C` fails exactly
   * when start-up would): a message becomes a `file[line]` error at the section. `ctx` says what
   * else the configuration holds (e.g. the virtual servers an app may send requests to).
   */
  validate?(config: Infer<SectionSchema<F>>, ctx: AppValidateContext): string | undefined;
}

/** What {@link AppDefinition.validate} may check against. */
export interface AppValidateContext {
  /** Names of the configuration's virtual servers (`server NAME { … }`); undefined when not known. */
  readonly sites?: ReadonlySet<string>;
}

/** Declares an app (identity; for type checking). */
export function defineApp<F extends Fields>(def: AppDefinition<F>): AppDefinition<F> {
  return def;
}

/** App definitions by name. */
export class AppRegistry {
  private readonly byName = new Map<string, AppDefinition>();

  constructor(defs: Iterable<AppDefinition> = []) {
    for (const d of defs) this.register(d);
  }

  register(def: AppDefinition): this {
    if (this.byName.has(def.name)) throw new Error(`app "${def.name}" is already registered`);
    this.byName.set(def.name, def);
    return this;
  }

  get(name: string): AppDefinition | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}

/** A parsed `app` section. */
export interface AppSpec {
  readonly kind: string;
  readonly name: string;
  readonly definition: AppDefinition;
  readonly config: unknown;
  readonly loc: { file: string; line: number };
}

/** Parses the top-level `app <kind> [<name>] { … }` sections. Throws located `ConfError`s. */
export function parseApps(sections: readonly ConfSection[], registry: AppRegistry, ctx: AppValidateContext = {}): AppSpec[] {
  const out: AppSpec[] = [];
  const seen = new Map<string, AppSpec>();
  for (const cs of sections) {
    const words = (cs.headerText ?? cs.name2 ?? '').trim().split(/\s+/).filter(Boolean);
    const kind = words[0];
    if (!kind) throw new ConfError('ERR_CONF_MISSING', cs.loc, `app: needs a kind, e.g. "app health { … }" (one of ${registry.names().join(', ') || 'none'})`);
    if (words.length > 2) throw new ConfError('ERR_CONF_VALUE', cs.loc, `app ${kind}: expected "app <kind> [<name>] { … }"`);
    const def = registry.get(kind);
    if (!def) {
      const hint = suggest(kind, registry.names());
      throw new ConfError('ERR_CONF_VALUE', cs.loc,
        `app ${kind}: unknown app kind "${kind}"${hint ? `; did you mean "${hint}"?` : ''} (one of ${registry.names().join(', ') || 'none'})`);
    }
    const name = words[1] ?? kind;
    const prev = seen.get(name);
    if (prev) throw new ConfError('ERR_CONF_DUPLICATE', cs.loc, `app ${kind} ${name}: the name "${name}" is already used at ${prev.loc.file}[${prev.loc.line}]`);
    const label = `app ${kind}${name !== kind ? ' ' + name : ''}`;
    const config = parseSection(def.config, cs, label);
    const problem = def.validate?.(config as never, ctx);
    if (problem) throw new ConfError('ERR_CONF_VALUE', cs.loc, `${label}: ${problem}`);
    const spec: AppSpec = { kind, name, definition: def, config, loc: cs.loc };
    seen.set(name, spec);
    out.push(spec);
  }
  return out;
}
