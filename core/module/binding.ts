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
import type { ModuleHandle, ModuleMethod, SectionName } from './api';
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

function bind(instance: ModuleInstance, methodName: string, where: string): ModuleMethod {
  const fn = (instance as unknown as Record<string, unknown>)[methodName];
  if (typeof fn !== 'function') throw new Error(`${where} names method "${methodName}", which the instance does not have`);
  return (fn as ModuleMethod).bind(instance);
}

/** The bound method tables of one instance; implements {@link ModuleHandle}. */
export class BoundModule implements ModuleHandle {
  private readonly bySection = new Map<string, ModuleMethod>();
  private readonly byName = new Map<string, ModuleMethod>();
  /** Table keys as written, for `list()` and docs. */
  readonly sectionKeys: readonly string[];
  readonly methodNames: readonly string[];

  /**
   * Binds `def.methods` / `def.named` to `instance`. Throws a plain `Error` (the loader adds
   * the location) when a key is malformed or names a method the instance lacks.
   */
  constructor(readonly name: string, def: AnyModuleDefinition, instance: ModuleInstance) {
    const keys: string[] = [];
    for (const [key, methodName] of Object.entries(def.methods as Record<string, string>)) {
      this.bySection.set(parseKey(key), bind(instance, methodName, `methods["${key}"]`));
      keys.push(key);
    }
    const named: Record<string, string> = (def.named as Record<string, string> | undefined)
      ?? Object.fromEntries(Object.values(def.methods as Record<string, string>).map((m) => [m, m]));
    for (const [alias, methodName] of Object.entries(named)) {
      this.byName.set(alias.toLowerCase(), bind(instance, methodName, `named["${alias}"]`));
    }
    this.sectionKeys = keys;
    this.methodNames = Object.keys(named);
  }

  /** See the file comment for the resolution order. */
  method(section: SectionName, method?: string): ModuleMethod | undefined {
    if (method !== undefined) {
      return this.byName.get(method.toLowerCase())
        ?? (section.name2 !== undefined ? this.bySection.get(bindingKey(method, section.name2)) : undefined)
        ?? this.bySection.get(bindingKey(method))
        ?? this.bySection.get(bindingKey(method, '*'));
    }
    return this.bySection.get(bindingKey(section.name1, section.name2))
      ?? this.bySection.get(bindingKey(section.name1, '*'))
      ?? this.bySection.get('* *');
  }
}
