import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSchema } from '../core';
import { BUILTIN_MODULES } from './index';
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

  it('lists every module folder that has an index.ts', () => {
    const folders = fs.readdirSync(path.join(repo, 'modules'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && fs.existsSync(path.join(repo, 'modules', d.name, 'index.ts')))
      .map((d) => d.name)
      .sort();
    expect(BUILTIN_MODULES.map((d) => d.name).sort()).toEqual(folders);
  });
});
