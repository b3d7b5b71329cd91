// Paths of the project, for tests.
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The lbappliance executable. */
export const LBAPPLIANCE_BIN = `${ROOT}bin/lbappliance`;
