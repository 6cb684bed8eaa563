import { defineConfig } from 'vitest/config';

/**
 * Two lanes, every test file in exactly one:
 * - `unit` (`npm run test:unit`): test/unit and test/replay. No servers: pure code, the HTTP
 *   client against the in-process emulator or undici `MockAgent`, committed histories replayed.
 * - `integration`: test/integration and test/e2e, against the real Temporal dev server and
 *   versitygw that the global setup starts once per run.
 * `npm test` runs both projects.
 */
export default defineConfig({
  test: {
    // Child processes, not threads: the Temporal worker's native runtime and signal handling
    // belong in a process of their own.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'test/replay/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          // Integration tests run real workflows against the shared Temporal dev server and
          // versitygw that the global setup starts once per run.
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
    ],
  },
});
