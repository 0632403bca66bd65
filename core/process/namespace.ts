/**
 * Namespaces: what `server NAME { namespace = X … }` means.
 *
 * A namespace (FreeRADIUS v4 `namespace = radius | dhcpv4 | …`) brings three things:
 * - its **sections**: which `name1 name2 { … }` processing sections a server may hold, and which
 *   `name2` values each accepts (`recv Access-Request`, `accounting Start`, …);
 * - its **listeners** (optional): the packet types a `listen { type = … }` names, their default
 *   ports, and the factory that opens the socket;
 * - its **state machine**: `createProcess(site)` turns a compiled site into a {@link SiteProcess},
 *   which takes packets from the namespace's listeners and in-process requests (`inject`).
 *
 * This is the contract between core/server (which drives namespaces) and the state machines of
 * core/process (which implement it). It lives here, beside its implementations, and imports
 * nothing from core/server, so the server depends on the process layer and never the reverse.
 * core/server knows namespaces only through a {@link NamespaceRegistry}. The built-in one
 * (`defaultNamespaces()`, ./default.ts) holds `radius` (./radius/namespace.ts); another namespace
 * registers itself in a registry handed to `Server` / `loadGeneration` (option `namespaces`)
 * without any edit to core/server.
 */
import type { Clock } from '../clock/clock';
import type { ConfSection } from '../config/ast';
import type { Dictionary } from '../dict/dictionary';
import type { Logger } from '../log/logger';
import type { Rcode } from '../request/rcode';
import type { Pair } from '../pair/pair';
import type { Request } from '../request/request';
import type { LogSink } from '../request/request-log';
import type { ClientLookup, Endpoint, InFlight, Listener, ListenerConfig, PacketSink } from '../listen/types';
import type { ClientStateSink } from '../listen/client-state';
import type { CompiledSection } from '../unlang/compile/types';

/**
 * Key of a processing section: `name1 name2` with one space, e.g.
 * `recv Access-Request`, `authenticate pap`, `accounting Start`,
 * `send Access-Accept`, `send Do-Not-Respond`.
 */
export type SectionKey = string;

/** Per-site processing settings. */
export interface SiteConfig {
  /** Seconds to delay Access-Reject replies (default 1; 0 disables). Other requests are not blocked. */
  rejectDelay: number;
  /** Seconds after which a request is cancelled and gets no reply (default 30; 0 disables). */
  maxRequestTime: number;
}

/** Default {@link SiteConfig}. */
export const DEFAULT_SITE_CONFIG: Readonly<SiteConfig> = Object.freeze({ rejectDelay: 1, maxRequestTime: 30 });

/**
 * A compiled virtual server (`server NAME { … }`, compiled by core/server/site.ts), the input of
 * a namespace's state machine ({@link Namespace.createProcess}).
 */
export interface CompiledSite {
  /** Server name (`default`). */
  readonly name: string;
  /** Compiled processing sections by {@link SectionKey}. A missing section runs as `noop` (see README). */
  readonly sections: ReadonlyMap<SectionKey, CompiledSection>;
  readonly config: SiteConfig;
  /** The protocol dictionary. */
  readonly dict: Dictionary;
}

/**
 * The `name2` values a processing section accepts: a fixed list (matched case-insensitively,
 * stored under the listed spelling), a function of the dictionary (e.g. the Acct-Status-Type
 * value names; `undefined` from it means "any"), or `'any'` (e.g. `authenticate <Auth-Type>`).
 */
export type SectionNames = readonly string[] | ((dict: Dictionary) => readonly string[] | undefined) | 'any';

/** A request run in-process through a site (`Server.inject`), already resolved against the dictionary. */
export interface InjectInput {
  /** Request packet code (e.g. 1 = Access-Request). */
  readonly code: number;
  /** The request list. The state machine owns it from now on. */
  readonly pairs: Pair[];
  /** The control list the request starts with (e.g. set by a policy test). Owned from now on. */
  readonly control?: Pair[];
  /** Where the request "came from" (sets Packet-Src-* / Client-IP-Address when given). */
  readonly src?: Endpoint;
  /** Client short name (sets Client-Shortname when given). */
  readonly client?: string;
  /** Start time in the server clock's monotonic milliseconds (`Clock.now()`; max_request_time counts from here). */
  readonly received: number;
  /** Who injects (for the debug trace), e.g. `inject` or `pppoe`. */
  readonly via?: string;
  /**
   * An existing request to run instead of a new one (`call <server>` from another site): its
   * lists are used and edited in place, no Packet-* / Net attributes are added, and the site's
   * max_request_time does not apply (the caller's does; cancel through the returned handle).
   * `code` and `pairs` should be the request's own.
   */
  readonly request?: Request;
}

/** The outcome of an in-process request. */
export interface InjectReply {
  /** Reply packet code, or null for "no reply" (Do-Not-Respond, max_request_time, cancel, error). */
  readonly code: number | null;
  /** Reply packet name (`Access-Accept`), or `Do-Not-Respond` when `code` is null. */
  readonly name: string;
  /** The reply list as it would be encoded (internal attributes such as Packet-Type left out). */
  readonly pairs: Pair[];
  /** The finished request (control, session-state, …) for callers that need more than the reply. */
  readonly request: Request;
  /** The rcode of the last section that ran (`call <server>` returns it), when the namespace tracks one. */
  readonly rcode?: Rcode;
}

/** The state machine of one compiled site, as the server drives it. */
export interface SiteProcess extends PacketSink {
  /**
   * Runs an in-process request; MUST call `done` exactly once and never throw. Returns a handle
   * for `cancel`, or undefined when it finished synchronously.
   */
  inject(input: InjectInput, done: (reply: InjectReply) => void): InFlight | undefined;
  /** Releases replies held back (reject_delay) now: shutdown, or the old generation after a reload. */
  close?(): void;
}

/** Options the server gives `createProcess`. */
export interface NamespaceProcessOptions {
  log?: Logger;
  debug?: boolean;
  requestLogSink?: LogSink;
  /** The server clock (`CLOCK`): receive times, reject_delay, max_request_time; default: the system clock. */
  clock?: Clock;
}

/** What a namespace's listener factory gets. */
export interface NamespaceListenerDeps {
  /** The site's state machine (wrapped for in-flight tracking). */
  sink: SiteProcess;
  clients: ClientLookup;
  dict: Dictionary;
  log?: Logger;
  /** Where listeners report what they learn about clients (BlastRADIUS `auto`); see core/listen/client-state.ts. */
  clientState?: ClientStateSink;
  /** The server clock (`CLOCK`): receive times and `max_pps` buckets; default: the system clock. */
  clock?: Clock;
}

/** The listeners of a namespace. */
export interface NamespaceListen {
  /** Request packet names a `listen { type = … }` may name, and their codes. */
  readonly types: Readonly<Record<string, number>>;
  /** Default port for a listener whose first type is `code`. */
  defaultPort(code: number): number;
  /** Opens a listener (not yet started). */
  create(config: ListenerConfig, deps: NamespaceListenerDeps): Listener;
  /**
   * `radiusd -p PORT`: the port for a listener of the first server accepting `types`, or
   * undefined to keep the configured one.
   */
  overridePort?(types: readonly number[], port: number): number | undefined;
}

/** A namespace definition (see the file comment). */
export interface Namespace {
  /** `namespace = <name>` (lower case). */
  readonly name: string;
  /** Processing sections: name1 → accepted name2 values. */
  readonly sections: Readonly<Record<string, SectionNames>>;
  /** Request packet names → codes, for `Server.inject` by name. */
  readonly requestTypes: Readonly<Record<string, number>>;
  /** Reply code → name (`Access-Accept`), for logs and {@link InjectReply.name}. */
  replyName(code: number): string;
  /** `name1`s of {@link sections} that may also stand without a name2 (radius: `finally { … }`, keyed `finally`). */
  readonly bareSections?: readonly string[];
  /**
   * Runs on each `server { }` of this namespace before any of its sections compiles; may extend
   * the dictionary (radius: each `authenticate <name>` defines the Auth-Type value `<name>`).
   * Throws a located `ConfError`.
   */
  prepare?(server: ConfSection, dict: Dictionary): void;
  /** Sub-sections of the server accepted and left to the namespace (`radius { … }`). */
  readonly settingsSections?: readonly string[];
  /** Listeners; a namespace without them is served in-process only (`inject`). */
  readonly listen?: NamespaceListen;
  /** The state machine for a compiled site. */
  createProcess(site: CompiledSite, opts: NamespaceProcessOptions): SiteProcess;
}

/** Declares a namespace (identity; for type checking). */
export function defineNamespace(ns: Namespace): Namespace {
  return ns;
}

/** Namespaces by name. */
export class NamespaceRegistry {
  private readonly byName = new Map<string, Namespace>();

  constructor(namespaces: Iterable<Namespace> = []) {
    for (const ns of namespaces) this.register(ns);
  }

  /** Adds a namespace; a second one with the same name is an error. */
  register(ns: Namespace): this {
    const key = ns.name.toLowerCase();
    if (this.byName.has(key)) throw new Error(`namespace "${ns.name}" is already registered`);
    this.byName.set(key, ns);
    return this;
  }

  get(name: string): Namespace | undefined {
    return this.byName.get(name.toLowerCase());
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
