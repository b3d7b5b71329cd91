// Imported first by the test/haproxy files that re-run a test/engine suite: ESM evaluates
// imports in order, so the suite reads this engine choice when it loads.
process.env.LBAPPLIANCE_TEST_ENGINE = 'haproxy';

/** The engine the re-run suites use. */
export const ENGINE_UNDER_TEST = 'haproxy';
