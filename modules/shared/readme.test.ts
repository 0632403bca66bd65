/**
 * The README of every built-in module (the list in modules/index.ts) is checked and its
 * examples are executed: every fenced block that starts with `modules {` is parsed as
 * configuration, and each module section in it is parsed against the schema of the module
 * it names (`detail reply_log { … }` → detail).
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigString } from '../../core';
import { parseSection } from '../../core';
import type { ConfSection } from '../../core';
import type { ModuleDefinition } from '../../core';
import { BUILTIN_MODULES } from '../index';

/** Every built-in module (the list in modules/index.ts). */
const DEFS: readonly ModuleDefinition<any, any>[] = BUILTIN_MODULES;
const byName = new Map(DEFS.map((d) => [d.name, d]));

describe('module READMEs', () => {
  for (const def of DEFS) {
    it(`${def.name}: has the required sections and its config examples parse`, () => {
      const file = path.join(__dirname, '..', def.name, 'README.md');
      const text = fs.readFileSync(file, 'utf8');
      expect(text.startsWith(`# ${def.name}\n`)).toBe(true);
      for (const h of ['## Config', '## Methods', '## xlats', '## Examples']) expect(text).toContain(`\n${h}\n`);
      // Every schema item is documented in the config table.
      for (const key of Object.keys(def.config.fields)) expect(text).toContain(`| \`${key}`);
      const blocks = [...text.matchAll(/```\n(modules \{[\s\S]*?)```/g)].map((m) => m[1]);
      expect(blocks.length).toBeGreaterThan(0);
      for (const block of blocks) {
        const root = parseConfigString(block, `${def.name}/README.md`, { variables: { confdir: '/etc/raddb' } });
        const mods = root.children.find((c) => c.kind === 'section' && c.name1 === 'modules') as ConfSection;
        for (const m of mods.children) {
          if (m.kind !== 'section') continue;
          const mdef = byName.get(m.name1);
          expect(mdef, `module ${m.name1}`).toBeDefined();
          parseSection(mdef!.config, m);
        }
      }
    });
  }
});
