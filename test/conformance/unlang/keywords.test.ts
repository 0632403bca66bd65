import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runKeywordDir } from './runner';

// Our own keyword tests (subrequest, detach, call, caller, map), in the FreeRADIUS keyword-test
// format, run with the upstream harness files kept in ../shared.
const HARNESS = resolve(__dirname, '..', '..', '..', '..', 'shared', 'conformance', 'keywords', '_harness');
const TESTS = resolve(__dirname, 'keywords');

describe('unlang keyword tests of this repository', () => {
  it('all pass', async () => {
    expect(existsSync(HARNESS), `missing ${HARNESS}: the ../shared checkout is required`).toBe(true);
    const results = await runKeywordDir(TESTS, { harness: HARNESS });
    expect(results.length).toBeGreaterThanOrEqual(8);
    const failed = results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.reason}`);
    expect(failed, failed.join('\n')).toEqual([]);
  });
});
