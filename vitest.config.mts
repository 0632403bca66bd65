import { defineConfig } from 'vitest/config';

// Tests run from TypeScript sources through vite 8 (oxc), which keeps decorator
// metadata; integration tests that spawn the daemon use the tsc build in dist/.
export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'modules/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
