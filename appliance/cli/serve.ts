// `lbappliance serve`: runs an appliance until SIGTERM or SIGINT.
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { startAppliance } from '../appliance.js';
import { AVAILABLE_ENGINES, DEFAULT_ENGINE } from '../engine/factory.js';
import { DEFAULT_CHECK_SCRIPTS_DIR } from '../config/check-scripts.js';
import type { EngineKind } from '../engine/types.js';
import { createLogger } from '../logging.js';
import { CliError } from './cli-error.js';

/** Parses HOST:PORT (IPv6 in brackets). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new CliError(`--api-listen takes HOST:PORT (IPv6 as [::1]:9443), not "${text}"`);
  return { host: (m[1] ?? m[2]) as string, port };
}

const MIN_PASSWORD = 12;

/** Runs `serve`. */
export async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      'api-listen': { type: 'string', default: '0.0.0.0:9443' },
      'password-file': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      engine: { type: 'string', default: process.env.LBAPPLIANCE_ENGINE ?? DEFAULT_ENGINE },
      'node-name': { type: 'string' },
      'log-level': { type: 'string' },
      'vip-interface': { type: 'string', default: process.env.LBAPPLIANCE_VIP_INTERFACE },
      'check-scripts-dir': { type: 'string', default: process.env.LBAPPLIANCE_CHECK_SCRIPTS_DIR || DEFAULT_CHECK_SCRIPTS_DIR },
    },
    strict: true,
  });
  const dataDir = values['data-dir'] ?? process.env.LBAPPLIANCE_DATA_DIR;
  if (!dataDir) throw new CliError('serve needs --data-dir DIR (or LBAPPLIANCE_DATA_DIR)');
  const listen = parseListen(values['api-listen']);
  const engine = values.engine as EngineKind;
  if (!(AVAILABLE_ENGINES as readonly string[]).includes(engine)) throw new CliError(`--engine takes ${AVAILABLE_ENGINES.join(' or ')}, not "${engine}"`);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new CliError('--tls-cert and --tls-key go together');
  const filePassword = values['password-file'] ? (await readFile(values['password-file'], 'utf8')).replace(/\r?\n$/, '') : undefined;
  const given = filePassword ?? process.env.LBAPPLIANCE_PASSWORD;
  if (given !== undefined && given.length < MIN_PASSWORD) throw new CliError(`the password must have at least ${MIN_PASSWORD} characters`);
  const logger = createLogger(values['log-level']);
  let generated: string | null = null;
  const appliance = await startAppliance({
    dataDir,
    apiHost: listen.host,
    apiPort: listen.port,
    engine,
    logger,
    nodeName: values['node-name'],
    vipInterface: values['vip-interface'],
    checkScriptsDir: values['check-scripts-dir'],
    tls: values['tls-cert'] && values['tls-key'] ? { certFile: values['tls-cert'], keyFile: values['tls-key'] } : undefined,
    initialPassword: () => {
      if (given !== undefined) return given;
      generated = randomBytes(18).toString('base64url');
      return generated;
    },
  });
  if (generated) {
    // Printed once, to the terminal only: never through the logger, never stored in clear.
    process.stderr.write(`\nlbappliance: generated the password of user "loadbalancer" (shown only this once):\n\n    ${generated}\n\n`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    appliance.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
