// The composition root: builds one appliance (stores, engine, HA, API) from its options,
// starts it, and stops it gracefully.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Authenticator, type AuthOptions } from './api/auth.js';
import { ContractValidator } from './api/contract-validator.js';
import { createApiServer } from './api/server.js';
import { overview } from './api/handlers/system.js';
import { registerOverviewGauges } from './api/overview-metrics.js';
import { loadTlsIdentity } from './api/tls-identity.js';
import type { ApiContext } from './api/api-context.js';
import { AuditLog } from './audit/audit-log.js';
import { ConfigStore } from './config/store.js';
import { createEngine } from './engine/factory.js';
import { EventWatch } from './events/event-watch.js';
import { OperationalEvents } from './events/operational-events.js';
import { closeIntegrations, startIntegrations } from './integrations/registry.js';
import { setCheckScriptsDir } from './config/check-scripts.js';
import type { Engine, EngineKind } from './engine/types.js';
import { HaNode } from './ha/ha-node.js';
import type { HaController } from './ha/controller.js';
import { createMetrics, registerStateGauges } from './metrics.js';
import { UserStore } from './users/user-store.js';
import { VERSION } from './version.js';

/** How to run one appliance. */
export interface ApplianceOptions {
  dataDir: string;
  apiHost: string;
  apiPort: number;
  engine: EngineKind;
  /** The embedded engine's data-plane processes (default one per core; 0 or 1: in process). */
  engineWorkers?: number;
  logger: Logger;
  /** The administrator's password at first start (ignored afterwards). */
  initialPassword: () => string;
  tls?: { certFile: string; keyFile: string };
  nodeName?: string;
  auth?: AuthOptions;
  /** `--vip-interface`: the interface the active node of an HA pair adds the VIP addresses to (root). */
  vipInterface?: string;
  /** `--check-scripts-dir`: the only directory `script` checks run programs from. */
  checkScriptsDir?: string;
}

/** A running appliance. */
export interface RunningAppliance {
  /** The API's base URL. */
  endpoint: string;
  /** SHA-256 fingerprint of the API certificate. */
  fingerprintSha256: string;
  /** Whether the administrator was created at this start. */
  adminCreated: boolean;
  store: ConfigStore;
  engine: Engine;
  /** Stops the API and the engine; established data-plane connections get `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Builds and starts an appliance. */
export async function startAppliance(options: ApplianceOptions): Promise<RunningAppliance> {
  const { logger } = options;
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  if (options.checkScriptsDir !== undefined) setCheckScriptsDir(resolve(options.checkScriptsDir));
  const metrics = createMetrics();
  const users = new UserStore(options.dataDir);
  const { created } = await users.open(options.initialPassword);
  const audit = new AuditLog(options.dataDir);
  await audit.open();
  const engine = await createEngine(options.engine, { logger: logger.child({ component: 'engine' }), registry: metrics.registry, dataDir: options.dataDir, workers: options.engineWorkers });
  await engine.start();
  const apiListener = { address: options.apiHost, port: options.apiPort, what: 'management API' };
  const store = new ConfigStore({ dataDir: options.dataDir, engine, logger: logger.child({ component: 'config' }), rules: { reserved: [apiListener] } });
  const haNode = new HaNode({ dataDir: options.dataDir, store, users, engine, logger: logger.child({ component: 'ha' }), registry: metrics.registry, vipInterface: options.vipInterface });
  // A node of a pair comes back passive: it must not bind the VIPs before it knows who holds them.
  await haNode.load();
  await store.open();
  let ha: HaController = haNode;
  registerStateGauges(metrics.registry, store, engine, () => ha);
  const tls = await loadTlsIdentity(options.dataDir, options.apiHost, options.tls);
  const api: ApiContext = {
    store,
    users,
    audit,
    engine,
    validator: new ContractValidator(),
    get ha() {
      return ha;
    },
    set ha(next: HaController) {
      ha = next;
    },
    metrics: metrics.registry,
    version: VERSION,
    nodeName: options.nodeName ?? hostname(),
  };
  registerOverviewGauges(metrics.registry, () => overview(api));
  const app = createApiServer({ api, auth: new Authenticator(users, options.auth), tls, logger: logger.child({ component: 'api' }), metrics });
  await app.listen({ host: options.apiHost, port: options.apiPort });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.apiPort;
  apiListener.port = port;
  const endpoint = `https://${urlHost(options.apiHost === '0.0.0.0' ? '127.0.0.1' : options.apiHost === '::' ? '::1' : options.apiHost)}:${port}`;
  await haNode.start({ tls, apiHost: options.apiHost, apiPort: port });
  // The operations' event stream and the integrations that forward it (syslog, SNMP, mail).
  const events = new OperationalEvents(logger.child({ component: 'events' }));
  audit.onRecord((entry) =>
    events.publish({ kind: 'audit', at: entry.at, severity: entry.status < 400 ? 'info' : 'notice', message: `${entry.user} ${entry.operation} ${entry.status}`, entry }),
  );
  const watch = new EventWatch({ events, store, engine, haStatus: () => ha.status() });
  watch.start();
  const integrations = await startIntegrations({ events, store, engine, haStatus: () => ha.status(), logger: logger.child({ component: 'integrations' }), registry: metrics.registry, dataDir: options.dataDir, nodeName: api.nodeName });
  logger.info({ endpoint, listen: `${options.apiHost}:${port}`, fingerprintSha256: tls.fingerprintSha256, engine: engine.kind, version: VERSION }, 'api listening');

  let closing: Promise<void> | null = null;
  return {
    endpoint,
    fingerprintSha256: tls.fingerprintSha256,
    adminCreated: created,
    store,
    engine,
    close(graceMs = 5000) {
      closing ??= (async () => {
        watch.stop();
        await haNode.close();
        await app.close();
        await closeIntegrations(integrations, logger);
        await store.close();
        await engine.stop(graceMs);
        await haNode.releaseAddresses();
        await audit.close();
        logger.info('stopped');
      })();
      return closing;
    },
  };
}
