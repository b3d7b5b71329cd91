// `lbappliance serve`: runs an appliance until SIGTERM or SIGINT.
import { access, constants, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { startAppliance } from '../appliance.js';
import { AVAILABLE_ENGINES, DEFAULT_ENGINE, defaultEngineWorkers, parseEngineWorkers } from '../engine/factory.js';
import { haproxyBinary } from '../engine/haproxy/haproxy-engine.js';
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

/**
 * Says at start-up which engine carries the traffic and on how many processes; with the
 * embedded engine, where Debian's haproxy is installed, that `--engine haproxy` is there
 * for the highest throughput (the embedded engine is the default, not the fastest).
 */
async function announceEngine(logger: Logger, engine: EngineKind, workers: number): Promise<void> {
  if (engine !== 'embedded') {
    logger.info({ engine }, `engine ${engine}`);
    return;
  }
  const processes = Math.max(1, workers);
  const how = processes === 1 ? 'in this process (--engine-workers 1)' : `on ${processes} worker processes${workers === availableParallelism() ? ' (one per core)' : ''}`;
  const binary = haproxyBinary();
  const haproxy = await access(binary, constants.X_OK).then(
    () => binary,
    () => null,
  );
  const hint = haproxy ? `; HAProxy is installed (${haproxy}): --engine haproxy for the highest throughput` : '';
  logger.info({ engine, workers: processes, haproxy }, `engine embedded ${how}${hint}`);
}

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
      'engine-workers': { type: 'string' },
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
  const workersFlag = values['engine-workers'];
  const workers = workersFlag === undefined ? defaultEngineWorkers() : parseEngineWorkers(workersFlag);
  if (workers === null) throw new CliError(`--engine-workers takes a number of processes from 0 to 256 (0 or 1: in the engine's own process), not "${workersFlag}"`);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new CliError('--tls-cert and --tls-key go together');
  const filePassword = values['password-file'] ? (await readFile(values['password-file'], 'utf8')).replace(/\r?\n$/, '') : undefined;
  const given = filePassword ?? process.env.LBAPPLIANCE_PASSWORD;
  if (given !== undefined && given.length < MIN_PASSWORD) throw new CliError(`the password must have at least ${MIN_PASSWORD} characters`);
  const logger = createLogger(values['log-level']);
  await announceEngine(logger, engine, workers);
  let generated: string | null = null;
  // The signals are taken from the start: one that arrives while the appliance is still
  // starting (its API may already answer) stops it as soon as it has started, instead of
  // killing the process mid-start by the default action (exit 143, files half written). A
  // second one while starting gives up at once.
  let appliance: Awaited<ReturnType<typeof startAppliance>> | null = null;
  let pending: string | null = null;
  let stopping = false;
  const stop = (signal: string) => {
    if (!appliance) {
      if (pending) process.exit(1);
      pending = signal;
      return;
    }
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
  appliance = await startAppliance({
    dataDir,
    apiHost: listen.host,
    apiPort: listen.port,
    engine,
    engineWorkers: workers,
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
  if (pending) stop(pending);
}
