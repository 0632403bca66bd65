/** docs/writing-a-module.md §14 shows the kvlookup example verbatim; this keeps it that way. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSchema } from '../../core';
import { KvlookupConfig } from './config';

const guide = fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'writing-a-module.md'), 'utf8');

describe('docs/writing-a-module.md §14', () => {
  for (const f of ['config.ts', 'kvlookup.ts', 'index.ts']) {
    it(`shows examples/kvlookup/${f} as it is`, () => {
      const src = fs.readFileSync(path.join(__dirname, f), 'utf8');
      expect(guide.includes(`### \`examples/kvlookup/${f}\`\n\n\`\`\`ts\n${src}\`\`\``), `${f} differs from the guide; update §14`).toBe(true);
    });
  }

  it('shows the generated config table', () => {
    expect(guide).toContain(describeSchema(KvlookupConfig));
  });
});
