/**
 * Section → method binding (aesthetics.md §4.2). A definition's `methods` table maps keys
 * (`recv Access-Request`, `recv *`, `* *`, or a bare `name1` for sections without a second
 * name) to method names of the instance. A call from section `name1 name2` resolves to:
 *
 * 1. the exact key `name1 name2` (or `name1` when the section has no `name2`),
 * 2. `name1 *`,
 * 3. `* *`.
 *
 * An explicit `instance.method` call looks up `named[method]` (default: every method name
 * that appears in `methods`), then treats `method` as a section `name1` (`pap.authenticate`
 * → the `authenticate …` binding for the current `name2`, then `authenticate *`).
 *
 * Keys compare case-insensitively. Methods are bound to the instance once, at load time;
 * the interpreter gets plain functions.
 */
import type { Request } from '../request/request';
import type { RequestLog } from '../request/request-log';
import type { CallContext, CallSignal, ModuleHandle, ModuleMapMethod, ModuleMethod, SectionName } from '../unlang/module-call';
import type { ValueEscape } from '../unlang/xlat/box';
import type { ModuleInstance } from './define';
import type { AnyModuleDefinition } from './registry';

/** Normalised table key for a section name (`recv access-request`, `recv *`, `authenticate`). */
export function bindingKey(name1: string, name2?: string): string {
  return name2 === undefined ? name1.toLowerCase() : `${name1.toLowerCase()} ${name2.toLowerCase()}`;
}

function parseKey(key: string): string {
  const parts = key.trim().split(/\s+/);
  if (parts.length < 1 || parts.length > 2 || parts[0] === '') throw new Error(`bad method key "${key}" (expected "name1 name2", "name1 *" or "* *")`);
  if (parts[0] === '*' && parts.length === 2 && parts[1] !== '*') throw new Error(`bad method key "${key}" ("* name2" is not a binding; use "* *")`);
  return bindingKey(parts[0], parts[1]);
}

/** The `ctx.env` of one call. */
export type EnvValues = Readonly<Record<string, unknown>>;

/**
 * What an env expander returns for one call: the arguments, or a Promise when an xlat yields.
 * It reads `ctx.signal` only for templates that can yield (the signal costs an AbortController).
 */
export type EnvExpander = (request: Request, ctx: CallContext) => EnvValues | Promise<EnvValues>;

/** A call context that carries `env` and forwards everything else to the interpreter's context. */
class EnvCallContext implements CallContext<EnvValues> {
  constructor(private readonly inner: CallContext, readonly env: EnvValues) {}
  get instance(): string { return this.inner.instance; }
  get method(): string | undefined { return this.inner.method; }
  get section(): SectionName { return this.inner.section; }
  get signal(): AbortSignal { return this.inner.signal; }
  get log(): RequestLog { return this.inner.log; }
  onSignal(fn: (s: CallSignal) => void): void { this.inner.onSignal(fn); }
}

/** The bound method tables of one instance; implements {@link ModuleHandle}. */
export class BoundModule implements ModuleHandle {
  /** Section key → method name. */
  private readonly bySection = new Map<string, string>();
  /** Lower-case alias → method name. */
  private readonly byName = new Map<string, string>();
  /** The definition's `map` method bound to the instance (`map <instance> … { }`), if any. */
  readonly map?: ModuleMapMethod;
  /** The definition's `mapEscape` bound to the instance, if any. */
  readonly mapEscape?: ValueEscape;
  /** Method name → the function handed to the interpreter. */
  private readonly fns = new Map<string, ModuleMethod>();
  /** Table keys as written, for listings and docs. */
  readonly sectionKeys: readonly string[];
  /** Names callable as `instance.method`. */
  readonly methodNames: readonly string[];

  /**
   * Binds `def.methods` / `def.named` to `instance`. Throws a plain `Error` (the loader adds
   * the location) when a key is malformed or names a method the instance lacks.
   */
  constructor(readonly name: string, def: AnyModuleDefinition, private readonly instance: ModuleInstance) {
    const keys: string[] = [];
    for (const [key, methodName] of Object.entries(def.methods as Record<string, string>)) {
      this.bind(methodName, `methods["${key}"]`);
      this.bySection.set(parseKey(key), methodName);
      keys.push(key);
    }
    const named: Record<string, string> = (def.named as Record<string, string> | undefined)
      ?? Object.fromEntries(Object.values(def.methods as Record<string, string>).map((m) => [m, m]));
    for (const [alias, methodName] of Object.entries(named)) {
      this.bind(methodName, `named["${alias}"]`);
      this.byName.set(alias.toLowerCase(), methodName);
    }
    for (const methodName of Object.keys((def.env ?? {}) as Record<string, unknown>)) this.bind(methodName, `env["${methodName}"]`);
    if (def.map !== undefined) {
      const fn = (instance as unknown as Record<string, unknown>)[def.map];
      if (typeof fn !== 'function') throw new Error(`map names method "${def.map}", which the instance does not have`);
      this.map = (fn as ModuleMapMethod).bind(instance);
    }
    if (def.mapEscape !== undefined) {
      const fn = (instance as unknown as Record<string, unknown>)[def.mapEscape];
      if (typeof fn !== 'function') throw new Error(`mapEscape names method "${def.mapEscape}", which the instance does not have`);
      this.mapEscape = (fn as ValueEscape).bind(instance);
    }
    this.sectionKeys = keys;
    this.methodNames = Object.keys(named);
  }

  private bind(methodName: string, where: string): void {
    if (this.fns.has(methodName)) return;
    const fn = (this.instance as unknown as Record<string, unknown>)[methodName];
    if (typeof fn !== 'function') throw new Error(`${where} names method "${methodName}", which the instance does not have`);
    this.fns.set(methodName, (fn as ModuleMethod).bind(this.instance));
  }

  /**
   * Makes every call of `methodName` expand its arguments first (the loader does this for
   * `def.env` after `bootstrap`). The method then sees them as `ctx.env`.
   */
  setEnv(methodName: string, expand: EnvExpander): void {
    const inner = this.fns.get(methodName);
    if (!inner) throw new Error(`env names method "${methodName}", which is not bound`);
    this.fns.set(methodName, (request, ctx) => {
      const env = expand(request, ctx);
      if (env instanceof Promise) return env.then((e) => inner(request, new EnvCallContext(ctx, e)));
      return inner(request, new EnvCallContext(ctx, env));
    });
  }

  /** Why calls fail at once (set while `instantiate` is still running after its timeout, or after it failed late). */
  private held: string | undefined;

  /**
   * Makes every method return `fail` at once until `ready` resolves (the loader does this when
   * `instantiate` outlives `instantiate_timeout`). When `ready` rejects, calls keep failing.
   * Instances never held pay nothing: the gate is installed only here.
   */
  hold(ready: Promise<unknown>, why: string, onSettled?: (err?: unknown) => void): void {
    this.held = why;
    for (const [m, fn] of this.fns) {
      this.fns.set(m, (request, ctx) => {
        if (this.held === undefined) return fn(request, ctx);
        ctx.log.warn(`${this.name}: ${this.held}; failing the call`);
        return 'fail';
      });
    }
    ready.then(() => {
      this.held = undefined;
      onSettled?.();
    }, (err: unknown) => {
      this.held = `instantiate failed: ${err instanceof Error ? err.message : String(err)}`;
      onSettled?.(err);
    });
  }

  /** True while calls fail at once (see {@link hold}). */
  get isHeld(): boolean {
    return this.held !== undefined;
  }

  /** The function the interpreter gets for method `methodName` (with `env` and any hold applied), or undefined. */
  bound(methodName: string): ModuleMethod | undefined {
    return this.fns.get(methodName);
  }

  /** The method name a call resolves to (see the file comment), or undefined. */
  resolve(section: SectionName, method?: string): string | undefined {
    if (method !== undefined) {
      // v4's `inst.send.access-accept` / `inst.accounting.start`: the binding of that section.
      const dot = method.indexOf('.');
      const sub = dot > 0 ? [bindingKey(method.slice(0, dot), method.slice(dot + 1)), bindingKey(method.slice(0, dot), '*')] : [];
      return this.byName.get(method.toLowerCase())
        ?? (section.name2 !== undefined ? this.bySection.get(bindingKey(method, section.name2)) : undefined)
        ?? this.bySection.get(bindingKey(method))
        ?? this.bySection.get(bindingKey(method, '*'))
        ?? (sub.length ? this.bySection.get(sub[0]) ?? this.bySection.get(sub[1]) : undefined);
    }
    return this.bySection.get(bindingKey(section.name1, section.name2))
      ?? this.bySection.get(bindingKey(section.name1, '*'))
      ?? this.bySection.get('* *');
  }

  /** See the file comment for the resolution order. */
  method(section: SectionName, method?: string): ModuleMethod | undefined {
    const m = this.resolve(section, method);
    return m === undefined ? undefined : this.fns.get(m);
  }
}
