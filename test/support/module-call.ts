/**
 * Test helpers for module unit tests: parse a module config from text, build requests
 * from pair text, and make a call context. Not used at run time.
 */

import { parseConfigString } from '../../core/config/parser';
import { parseSection, type Fields, type Infer, type SectionSchema } from '../../core/config/schema';
import type { ConfSection } from '../../core/config/ast';
import { loadDefaultDictionary } from '../../core/dict/default';
import type { Dictionary } from '../../core/dict/dictionary';
import type { Logger } from '../../core/log/logger';
import type { CallContext, CallSignal, SectionName } from '../../core/unlang/module-call';
import type { InstantiateContext, ModuleDefinition, ModuleInstance } from '../../core/module/define';
import { createRootContainer } from '../../core/module/container';
import { loadModules, type ModuleSet } from '../../core/module/loader';
import { parsePairList } from '../../core/pair/text';
import { Request } from '../../core/request/request';
import type { WorkerPools } from '../../core/workers/pool';
import type { MetricsRegistry } from '../../core/metrics/registry';

let dict: Dictionary | undefined;

/** The default RADIUS dictionary, loaded once per test file. */
export function testDict(): Dictionary {
  return (dict ??= loadDefaultDictionary());
}

/** Parses `body` as the inside of `name { … }` against `schema`. */
export function parseModuleConfig<F extends Fields>(schema: SectionSchema<F>, body: string, name = 'mod', file = 'test.conf'): Infer<SectionSchema<F>> {
  const root = parseConfigString(`${name} {\n${body}\n}\n`, file);
  const cs = root.children[0] as ConfSection;
  return parseSection(schema, cs);
}

/** A logger that keeps its lines in `lines`. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const make = (prefix: string): Logger & { lines: string[] } => ({
    lines,
    debugEnabled: false,
    debug: (m) => lines.push(`debug: ${prefix}${m}`),
    info: (m) => lines.push(`info: ${prefix}${m}`),
    warn: (m) => lines.push(`warn: ${prefix}${m}`),
    error: (m) => lines.push(`error: ${prefix}${m}`),
    child: (p) => make(`${prefix}${p}: `),
  });
  return make('');
}

/** A request with `request` pairs parsed from text (and optionally control pairs). */
export function makeRequest(requestText: string, opts: { control?: string; code?: number; reply?: string } = {}): Request {
  const d = testDict();
  const r = new Request({ code: opts.code ?? 1, dict: d });
  if (requestText) r.request.push(...parsePairList(requestText, d));
  if (opts.control) r.control.push(...parsePairList(opts.control, d));
  if (opts.reply) r.reply.push(...parsePairList(opts.reply, d));
  return r;
}

/** A call context for `section`; `signals` receives registered handlers. */
export function callCtx<Env = undefined>(
  request: Request,
  section: SectionName = { name1: 'recv', name2: 'Access-Request' },
  opts: { signal?: AbortSignal; env?: Env; instance?: string } = {},
): CallContext<Env> & { fire(s: CallSignal): void } {
  const handlers: ((s: CallSignal) => void)[] = [];
  return {
    instance: opts.instance ?? 'mod',
    section,
    env: opts.env as Env,
    signal: opts.signal ?? new AbortController().signal,
    log: request.log.child(opts.instance ?? 'mod'),
    onSignal: (fn) => { handlers.push(fn); },
    fire: (s) => { for (const h of handlers) h(s); },
  };
}

/** An `InstantiateContext` for a module built by hand (no `env`; a signal nobody aborts). */
export function instantiateCtx(name: string, log: Logger = memoryLogger()): InstantiateContext {
  return { name, dict: testDict(), log, env: {}, signal: new AbortController().signal };
}

/** What {@link loadTestModule} returns: the instance, whose method properties are the loader's bound methods. */
export type TestModule<I> = I & {
  /** The module set (call `detachAll()` when done; `detach()` on the result does the same). */
  readonly $set: ModuleSet;
  /** The logger every line of the set went to. */
  readonly $log: Logger & { lines: string[] };
};

/**
 * Loads `def` from `name { body }` through the real loader (schema, `validate`, `dict`, `env`,
 * `bootstrap`, `instantiate`) and returns its instance. Reading a bound method (`m.authorize`)
 * gives the function the interpreter would call, with `ctx.env` expanded from the config, so a
 * test can call `m.authorize(request, callCtx(request))` as policy would. `detach()` detaches the
 * whole set. `workers` and `metrics` are the root's `WORKER_POOLS` and `METRICS` (default: fresh ones).
 */
export async function loadTestModule<I extends ModuleInstance>(
  def: ModuleDefinition<any, I>, body: string, opts: { name?: string; file?: string; extra?: readonly ModuleDefinition<any, any>[]; before?: string; workers?: WorkerPools; metrics?: MetricsRegistry } = {},
): Promise<TestModule<I>> {
  const header = opts.name && opts.name !== def.name ? `${def.name} ${opts.name}` : def.name;
  const tree = parseConfigString(`modules { ${opts.before ?? ''}${header} {\n${body}\n}\n}\n`, opts.file ?? 'test.conf');
  const log = memoryLogger();
  const root = createRootContainer({ dict: testDict(), log, workers: opts.workers, metrics: opts.metrics });
  const set = await loadModules({ section: tree.children[0] as ConfSection, root, registry: [def, ...(opts.extra ?? [])] });
  const loaded = set.get(opts.name ?? def.name)!;
  const instance = loaded.instance as I & Record<string | symbol, unknown>;
  return new Proxy(instance, {
    get(target, prop, receiver) {
      if (prop === '$set') return set;
      if (prop === '$log') return log;
      if (prop === 'detach') return () => set.detachAll();
      if (typeof prop === 'string' && typeof target[prop] === 'function') {
        const bound = loaded.handle.bound(prop);
        if (bound) return bound;
      }
      return Reflect.get(target, prop, receiver);
    },
  }) as unknown as TestModule<I>;
}
