import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REQUIRED_TOOLS } from './harness';

describe('real peers used by the interop tests', () => {
  for (const tool of REQUIRED_TOOLS) {
    it(`${tool} is installed`, () => {
      expect(fs.existsSync(tool), `${tool} is missing: run scripts/setup.sh as root (npm test does) to install freeradius and freeradius-utils`).toBe(true);
    });
  }
});
