import { defineConfig } from 'vitest/config';

// Tests run against real processes and sockets; the machine has 2 cores, so at most two
// files run at once. The JSON report is what .ci/run counts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', ['json', { outputFile: 'test/results/vitest.json' }]],
  },
});
