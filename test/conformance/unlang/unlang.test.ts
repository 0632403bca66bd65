import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultUnlangExpectations, loadUnlangExpectations, runKeywordDir } from './runner';

// The keyword tests live beside the repository in ../shared (see DEVELOPERS.md).
const KEYWORDS = resolve(__dirname, '..', '..', '..', '..', 'shared', 'conformance', 'keywords');

describe('unlang conformance (FreeRADIUS keyword tests)', () => {
  it('has no failures beyond the expectations file, and ≥ 90% pass', async () => {
    expect(existsSync(KEYWORDS), `missing ${KEYWORDS}: the ../shared checkout is required`).toBe(true);
    const results = await runKeywordDir(KEYWORDS);
    const expected = loadUnlangExpectations(defaultUnlangExpectations());
    const unexpected = results.filter((r) => !r.pass && !expected.has(r.name)).map((r) => `${r.name}: ${r.reason}`);
    expect(unexpected, unexpected.join('\n')).toEqual([]);
    const passed = results.filter((r) => r.pass).length;
    expect(results.length).toBeGreaterThanOrEqual(131);
    expect(passed / results.length).toBeGreaterThanOrEqual(0.9);
  });
});
