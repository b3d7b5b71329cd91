import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests run against real processes and sockets; the machine has 2 cores, so at most two
// files run at once. The JSON report is what .ci/run counts.
export default defineConfig({
  // The examples import the package by its public names (lbappliance/sdk, ...), as users do:
  // the build resolves them to the sources (tsconfig paths), node to dist/ (the package's
  // exports), and the tests to the sources here.
  resolve: {
    alias: {
      'lbappliance/sdk': source('./openapi/sdk/index.ts'),
      'lbappliance/cdktf': source('./provider/cdktf/index.ts'),
      'lbappliance/pulumi': source('./provider/pulumi/sdk/index.ts'),
    },
  },
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
