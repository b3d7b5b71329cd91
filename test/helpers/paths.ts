// Paths of the project, for tests (and for the benchmark, which runs compiled from dist/).
import { fileURLToPath } from 'node:url';

const up2 = fileURLToPath(new URL('../..', import.meta.url));

/** The repository root. */
export const ROOT = /[\\/]dist[\\/]$/.test(up2) ? fileURLToPath(new URL('../../..', import.meta.url)) : up2;
/** The lbappliance executable. */
export const LBAPPLIANCE_BIN = `${ROOT}bin/lbappliance`;
