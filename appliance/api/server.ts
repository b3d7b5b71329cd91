// The management API server: fastify over HTTPS, with routes from the contract.
import fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ApiContext } from './api-context.js';
import type { Authenticator } from './auth.js';
import type { Handlers } from './handler-types.js';
import { checkedJsonParser } from './json-body.js';
import { peerAuthenticator, peerWriteHeaders } from './peer-auth.js';
import { registerSpecRoutes, type WriteGuard } from './spec-router.js';
import type { TlsIdentity } from './tls-identity.js';
import { problemOf } from './respond.js';
import { clientErrorHandler, frameworkErrorHandler, shuttingDown } from './transport-errors.js';
import { certificateHandlers } from './handlers/certificates.js';
import { configHandlers } from './handlers/config.js';
import { directoryHandlers } from './handlers/directory.js';
import { haHandlers } from './handlers/ha.js';
import { integrationHandlers } from './handlers/integrations.js';
import { realServerHandlers } from './handlers/real-servers.js';
import { snmpHandlers } from './handlers/snmp.js';
import { systemHandlers } from './handlers/system.js';
import { userHandlers } from './handlers/users.js';
import { virtualServiceHandlers } from './handlers/virtual-services.js';
import { persistenceEntryHandlers } from './handlers/persistence-entries.js';
import { webHandlers } from './handlers/web.js';
import type { ControlPlaneMetrics } from '../metrics.js';

/** Request bodies above this are refused with 413. */
export const BODY_LIMIT = 1024 * 1024;

/** Every handler of the contract. */
export function allHandlers(api: ApiContext): Handlers {
  return {
    ...systemHandlers(api),
    ...virtualServiceHandlers(api),
    ...realServerHandlers(api),
    ...persistenceEntryHandlers(api),
    ...certificateHandlers(api),
    ...configHandlers(api),
    ...haHandlers(api),
    ...integrationHandlers(api),
    ...userHandlers(api),
    ...snmpHandlers(api),
    ...directoryHandlers(api),
    ...webHandlers(),
  };
}

/** What the API server is built from. */
export interface ApiServerOptions {
  api: ApiContext;
  auth: Authenticator;
  tls: TlsIdentity;
  logger: Logger;
  metrics: ControlPlaneMetrics;
  /** Extra write guards (the HA controller's is always applied). */
  guards?: WriteGuard[];
  /** Extra routes outside the contract's /api/v1 (e.g. the HA peer endpoints). */
  extend?: (app: FastifyInstance) => void;
}

/** Builds the fastify instance of the management API (not yet listening). */
export function createApiServer(options: ApiServerOptions): FastifyInstance {
  // fastify's instance type is parameterised by the server and logger; the router and the
  // extensions take the default instance type.
  const { api, logger } = options;
  const app = fastify({
    https: { key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2' },
    loggerInstance: logger as unknown as FastifyBaseLogger,
    // One line per request is logged by the spec router (with the operationId and the user).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    // No router limit of its own on an id's length (fastify's 100 would answer an undeclared
    // 414): a long id is judged like any other malformed one, by the contract. Node's 16 KiB
    // request head bounds it.
    maxParamLength: 16 * 1024,
    // fastify's own answers (503 while closing, bad URL, long parameter, parser errors) are
    // plain JSON; these give problem documents instead.
    return503OnClosing: false,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler: clientErrorHandler(logger),
    forceCloseConnections: 'idle',
  });
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (req, reply) => {
    if (!closing) return undefined;
    const problem = problemOf(shuttingDown(), req.url);
    void reply.code(problem.status).headers(problem.headers).send(JSON.stringify(problem.body));
    return reply;
  });
  const instance = app as unknown as FastifyInstance;
  // JSON bodies: fastify's parser, then the nesting depth and Unicode check (./json-body.ts).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(['application/json', 'application/merge-patch+json'], { parseAs: 'string', bodyLimit: BODY_LIMIT }, checkedJsonParser(instance));
  registerSpecRoutes(instance, {
    handlers: allHandlers(api),
    validator: api.validator,
    auth: options.auth,
    audit: api.audit,
    logger,
    guards: [(id, op, principal) => api.ha.guard(id, op, principal), ...(options.guards ?? [])],
    peerAuth: peerAuthenticator(api.ha),
    writeHeaders: peerWriteHeaders(api.ha),
    onResponse: (operation, status, seconds) => {
      options.metrics.apiRequests.inc({ operation, status: String(status) });
      options.metrics.apiDuration.observe({ operation }, seconds);
    },
  });
  options.extend?.(instance);
  return instance;
}
