import { defineConfig } from 'vitest/config';

// Two tiers: `unit` (pure code: no engine, no root, no network; `npm run test:unit`) and `engine`
// (a real Docker Engine, started by the global setup if none answers). `npm test` runs both.
export default defineConfig({
  test: {
    // Forks, not threads: the libseccomp FFI (koffi) and process-level state (signals, raw mode) stay out of worker threads.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'test/policy/**/*.test.ts', 'test/diagnose/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'engine',
          include: ['test/engine/**/*.test.ts', 'test/seccomp/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
    ],
  },
});
