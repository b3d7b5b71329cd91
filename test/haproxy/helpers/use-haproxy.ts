// Imported first by the test/haproxy files that re-run a test/engine suite: ESM evaluates
// imports in order, so the suite reads this engine choice when it loads.
import { needProgram } from '../../helpers/programs.js';

needProgram(process.env.LBAPPLIANCE_HAPROXY_BIN ?? 'haproxy');
process.env.LBAPPLIANCE_TEST_ENGINE = 'haproxy';

/** The engine the re-run suites use. */
export const ENGINE_UNDER_TEST = 'haproxy';
