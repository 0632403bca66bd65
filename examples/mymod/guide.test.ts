/** docs/writing-a-module.md shows the example's code verbatim; this keeps it that way. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSchema } from '../../core';
import { MymodConfig } from './config';

const guide = fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'writing-a-module.md'), 'utf8');

describe('docs/writing-a-module.md', () => {
  for (const f of ['config.ts', 'mymod.ts', 'index.ts']) {
    it(`shows examples/mymod/${f} as it is`, () => {
      const src = fs.readFileSync(path.join(__dirname, f), 'utf8');
      expect(guide.includes(`### \`examples/mymod/${f}\`\n\n\`\`\`ts\n${src}\`\`\``), `${f} differs from the guide; update §13`).toBe(true);
    });
  }

  it('shows the generated config table', () => {
    expect(guide).toContain(describeSchema(MymodConfig));
  });

  it('links to files that exist', () => {
    for (const m of guide.matchAll(/\]\((\.\.\/[^)#]+)\)/g)) {
      expect(fs.existsSync(path.resolve(__dirname, '..', '..', 'docs', m[1])), m[1]).toBe(true);
    }
  });
});
