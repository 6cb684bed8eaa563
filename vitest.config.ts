import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Child processes, not threads: the Temporal worker's native runtime and signal handling
    // belong in a process of their own.
    pool: 'forks',
    // Integration tests run real workflows against the shared Temporal dev server and versitygw
    // that the global setup starts once per run.
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
