import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: the whole system on a real Temporal cluster (the server built from
 * source on PostgreSQL, see scripts/cluster-tools.sh and test/helpers/temporal-cluster.ts). Not
 * part of `npm test`: it needs Go and PostgreSQL, builds the server once (minutes on a cold Go
 * cache), and starts a cluster of its own.
 */
export default defineConfig({
  test: {
    name: 'cluster',
    include: ['test/cluster/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 300_000,
    hookTimeout: 240_000,
    teardownTimeout: 60_000,
  },
});
