/**
 * A table of module definitions by name. The built-in table is built from the one explicit
 * list in `modules/index.ts`; custom modules loaded by path are checked with
 * {@link definitionProblem} before use.
 */
import type { ModuleDefinition } from './define';

/** Any definition, whatever its config fields and instance type. */
export type AnyModuleDefinition = ModuleDefinition<any, any>;

const NAME_RE = /^[a-z][a-z0-9_]*$/;

/**
 * What is wrong with a value that should be a module definition, or undefined when it looks
 * right. Checks shape only (name, kind, config schema, impl, method table).
 */
export function definitionProblem(def: unknown): string | undefined {
  if (!def || typeof def !== 'object') return 'not an object';
  const d = def as Partial<AnyModuleDefinition>;
  if (typeof d.name !== 'string' || !NAME_RE.test(d.name)) return `bad name ${JSON.stringify(d.name)} (lower case, digits, underscores)`;
  if (d.kind !== 'rlm' && d.kind !== 'listen' && d.kind !== 'process') return `bad kind ${JSON.stringify(d.kind)}`;
  if (!d.config || typeof d.config !== 'object' || (d.config as { kind?: string }).kind !== 'section') return 'config is not a conf.section() schema';
  if (typeof d.impl !== 'function') return 'impl is not a class';
  if (!d.methods || typeof d.methods !== 'object') return 'methods is not a table';
  if (d.dict !== undefined && (typeof d.dict !== 'object' || d.dict === null)) return 'dict is not a list or table of attribute names';
  if (d.validate !== undefined && typeof d.validate !== 'function') return 'validate is not a function';
  if (d.probe !== undefined && typeof d.probe !== 'function') return 'probe is not a function';
  if (d.deps !== undefined && (typeof d.deps !== 'object' || d.deps === null)) return 'deps is not a table';
  if (d.env !== undefined && (typeof d.env !== 'object' || d.env === null)) return 'env is not a table';
  if (d.map !== undefined && typeof d.map !== 'string') return 'map is not a method name';
  return undefined;
}

/** True when `x` has the shape of a module definition. */
export function isModuleDefinition(x: unknown): x is AnyModuleDefinition {
  return definitionProblem(x) === undefined;
}

/** Module definitions by module name. */
export class ModuleRegistry {
  private readonly byName = new Map<string, AnyModuleDefinition>();

  /** A registry holding `defs` (throws on a malformed or duplicate definition). */
  constructor(defs: readonly AnyModuleDefinition[] = []) {
    for (const d of defs) this.add(d);
  }

  /** Adds a definition; throws when it is malformed or its name is taken. */
  add(def: AnyModuleDefinition): void {
    const problem = definitionProblem(def);
    if (problem) throw new Error(`module definition ${JSON.stringify((def as { name?: unknown })?.name)}: ${problem}`);
    if (this.byName.has(def.name)) throw new Error(`module "${def.name}" is defined twice`);
    this.byName.set(def.name, def);
  }

  /** The definition named `name`, or undefined. */
  get(name: string): AnyModuleDefinition | undefined {
    return this.byName.get(name);
  }

  /** All module names, sorted. */
  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** All definitions, in the order they were added. */
  list(): AnyModuleDefinition[] {
    return [...this.byName.values()];
  }
}
