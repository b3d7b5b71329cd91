// The software version, read once from package.json.
import { readFileSync } from 'node:fs';

/** The appliance software version (package.json `version`). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
