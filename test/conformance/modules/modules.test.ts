import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultModuleExpectations, loadModuleExpectations, runModuleTests, tally } from './runner';

// FreeRADIUS's module tests live beside the repository in ../shared (see DEVELOPERS.md).
const CORPUS = resolve(__dirname, '..', '..', '..', '..', 'shared', 'conformance', 'modules');

/** Modules we ship whose upstream tests must pass. */
const SHIPPED = ['always', 'attr_filter', 'chap', 'detail', 'files', 'linelog', 'pap'];

/** Modules added this wave whose tests run (their servers started by the runner): at least 80 % must pass. */
const ADDED = ['sql_sqlite', 'sql_postgresql', 'sqlippool', 'sqlcounter', 'redis_ippool', 'ldap', 'client'];

describe('modules conformance (FreeRADIUS module tests over the real loader and Server.inject)', () => {
  it('has no failures beyond the expectations file; modules we do not build are skipped, not failed', async () => {
    expect(existsSync(CORPUS), `missing ${CORPUS}: the ../shared checkout is required`).toBe(true);
    const results = await runModuleTests(CORPUS, { log: () => undefined });
    const t = tally(results, loadModuleExpectations(defaultModuleExpectations()));
    const unexpected = t.unexpected.map((r) => `${r.name}: ${r.reason}`);
    expect(unexpected, unexpected.join('\n')).toEqual([]);
    expect(t.fixed, 'listed failures that pass now').toEqual([]);
    for (const m of SHIPPED) {
      const c = t.perDir.get(m);
      expect(c, m).toBeDefined();
      expect(c!.skipped, `${m} is skipped`).toBe(0);
    }
    for (const m of ADDED) {
      const c = t.perDir.get(m);
      expect(c, m).toBeDefined();
      expect(c!.passed / (c!.passed + c!.failed + c!.skipped), `${m}: ${c!.passed} passed, ${c!.failed} failed, ${c!.skipped} skipped`).toBeGreaterThanOrEqual(0.8);
    }
    const notBuilt = results.filter((r) => r.status === 'skip').map((r) => r.reason);
    for (const why of notBuilt) expect(why).toMatch(/module not built|no all\.mk/);
  }, 600_000);
});
