import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSchema } from '../core';
import { BUILTIN_MODULES, MODULE_APPS } from './index';
import { definitionProblem, ModuleRegistry } from '../core';

const repo = path.resolve(__dirname, '..');

describe('modules/index.ts', () => {
  it('lists valid, uniquely named definitions', () => {
    expect(() => new ModuleRegistry(BUILTIN_MODULES)).not.toThrow();
    for (const def of BUILTIN_MODULES) expect(definitionProblem(def), def?.name).toBeUndefined();
  });

  it('names every module after its folder, and every bound method exists', () => {
    for (const def of BUILTIN_MODULES) {
      expect(fs.existsSync(path.join(repo, 'modules', def.name, 'index.ts')), def.name).toBe(true);
      const proto = def.impl.prototype as Record<string, unknown>;
      for (const m of [...Object.values(def.methods), ...Object.values(def.named ?? {})]) {
        expect(typeof proto[m as string], `${def.name}.${String(m)}`).toBe('function');
      }
      expect(describeSchema(def.config)).toMatch(/^\| Item \|/);
    }
  });

  it('every impl constructor parameter has an explicit @inject token (no type-based resolution)', () => {
    for (const def of BUILTIN_MODULES) {
      const tokens = (Reflect.getOwnMetadata('injectionTokens', def.impl) ?? {}) as Record<number, unknown>;
      for (let i = 0; i < def.impl.length; i++) {
        expect(tokens[i], `${def.name}: ${def.impl.name} constructor parameter ${i + 1}`).toBeDefined();
      }
    }
  });

  it('lists every module folder that has an index.ts (app folders are listed in MODULE_APPS)', () => {
    const apps = new Set(MODULE_APPS.map((a) => a.name));
    const folders = fs.readdirSync(path.join(repo, 'modules'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && !apps.has(d.name) && fs.existsSync(path.join(repo, 'modules', d.name, 'index.ts')))
      .map((d) => d.name)
      .sort();
    expect(BUILTIN_MODULES.map((d) => d.name).sort()).toEqual(folders);
  });
});

/**
 * Per-call expansions come through `env` (module contract v2): a built-in module never compiles a
 * config template itself. Two guards: its source does not call the template compiler, and every
 * template item (`conf.tmpl()`) of its schema is named by its `env`.
 */
describe('built-in modules take their templates from env', () => {
  /** Built-ins still being converted to `env` (none left). */
  const CONVERTING = new Set<string>();
  /**
   * Files that may compile templates, and why: they compile text that is data, not config items.
   * The users-file format's values are templates written in that file (check and reply items);
   * ldap's profile conditions (`check_attribute`) are text read from the directory at run time.
   */
  const SHARED_PARSERS = new Set(['modules/shared/users-file.ts', 'modules/ldap/ldap.ts']);
  const COMPILERS = /\b(compileTemplate|bareAttrTemplate|compileXlat|parseTemplate)\b/;

  const sources = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts') && !d.name.endsWith('.test.ts'))
    .map((d) => path.join(d.parentPath, d.name));

  it('no module source outside the allowlists uses the template compiler', () => {
    const offenders: string[] = [];
    for (const file of sources(path.join(repo, 'modules'))) {
      const rel = path.relative(repo, file).split(path.sep).join('/');
      const folder = rel.split('/')[1];
      if (CONVERTING.has(folder) || SHARED_PARSERS.has(rel)) continue;
      fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        if (COMPILERS.test(line) && !/^\s*(\/\/|\*|\/\*)/.test(line)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });

  it('the allowlists name what exists (a stale entry fails)', () => {
    for (const rel of SHARED_PARSERS) expect(fs.existsSync(path.join(repo, rel)), rel).toBe(true);
    for (const name of CONVERTING) expect(BUILTIN_MODULES.some((d) => d.name === name), name).toBe(true);
  });

  it('every template item of a built-in schema is an env argument', () => {
    type Field = { kind: string; typeName?: string; schema?: { fields: Record<string, Field> } };
    const tmplItems = (fields: Record<string, Field>, prefix = ''): string[] => Object.entries(fields).flatMap(([name, f]) =>
      f.kind === 'scalar' && f.typeName === 'template' ? [prefix + name]
        : f.kind === 'subsection' && f.schema ? tmplItems(f.schema.fields, `${prefix}${name}.`) : []);
    const missing: string[] = [];
    for (const def of BUILTIN_MODULES) {
      if (CONVERTING.has(def.name)) continue;
      const named = new Set<string>();
      for (const args of Object.values((def.env ?? {}) as Record<string, Record<string, unknown>>)) {
        for (const a of Object.values(args)) {
          if (typeof a === 'string') named.add(a);
          else if (a && typeof a === 'object' && 'item' in a) named.add(String((a as { item: string }).item));
        }
      }
      for (const item of tmplItems((def.config as unknown as { fields: Record<string, Field> }).fields)) {
        if (!named.has(item)) missing.push(`${def.name}: ${item}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
