// Routes come from the contract: every operation in openapi/appliance.yaml becomes a fastify
// route whose requests are authenticated and authorised (before their body is read), then
// validated, whose handler is the one named by its operationId, and whose response is
// validated before it is sent. A path or method not in the contract does not exist (404 /
// 405 problems).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { operationTable, type OperationId } from '../../openapi/generated/operations.js';
import { ApplianceError } from '../errors.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Authenticator, Principal } from './auth.js';
import type { Operation, WriteGuard } from '../write-guard.js';
import type { ContractValidator } from './contract-validator.js';
import type { Handlers, RequestContext } from './handler-types.js';
import { problemOf } from './respond.js';
import { roleAtLeast } from '../users/roles.js';

/** A check run before a write's handler (e.g. the HA secondary refusing writes). */
export type { WriteGuard } from '../write-guard.js';

/** What the router needs. */
export interface SpecRouterOptions {
  handlers: Handlers;
  validator: ContractValidator;
  auth: Authenticator;
  audit: AuditLog;
  logger: Logger;
  guards?: WriteGuard[];
  /** Authenticates the internal HA peer operations (`haPeerToken` in the contract). */
  peerAuth?: (authorization: string | undefined) => Principal;
  /** Headers added to every successful write's response (the HA primary's `X-Lbappliance-Peer`). */
  writeHeaders?: (operationId: OperationId, revision: number | null) => Record<string, string>;
  /** Observes every answered request (metrics). */
  onResponse?: (operationId: OperationId, status: number, seconds: number) => void;
}

function toRoute(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

function pathRegex(path: string): RegExp {
  const segments = path.split('/').map((seg) => (/^\{[^}]+\}$/.test(seg) ? '[^/]+' : seg.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&')));
  return new RegExp(`^${segments.join('/')}$`);
}

function mediaType(header: string | undefined): string | undefined {
  return header?.split(';')[0]?.trim().toLowerCase();
}

/** One request on its way through an operation: its context, and what is recorded of it. */
interface Exchange {
  id: OperationId;
  op: Operation;
  ctx: RequestContext<OperationId>;
  started: number;
  status: number;
  /** Whether the audit entry is written (a write is in the audit log before its answer leaves). */
  audited: boolean;
}

/**
 * Registers every operation of the contract on a fastify instance, its request pipeline as
 * fastify hooks, one stage each:
 * - onRequest (before fastify reads a byte of the body): the exchange is opened, then
 *   authentication, authorisation (the caller's role against the operation's) and the write
 *   guards, so a request without credentials, a read-only user's write or an HA secondary's refused write is answered without its
 *   body ever being read or parsed;
 * - preValidation (the body parsed): parameters, the body's presence and media type, the
 *   body against its schema;
 * - the handler: the operation, its answer checked against the contract and audited;
 * - onResponse: metrics, the request log line, and the audit of a write no stage recorded.
 */
export function registerSpecRoutes(app: FastifyInstance, options: SpecRouterOptions): void {
  const { handlers, validator, auth, audit, logger } = options;
  const guards = options.guards ?? [];
  const exchanges = new WeakMap<FastifyRequest, Exchange>();

  // A client that saw the answer can read the entry at once, and a crash after the answer cannot lose it.
  const recordAudit = async (ex: Exchange, req: FastifyRequest) => {
    if (!ex.op.write || ex.audited) return;
    ex.audited = true;
    await audit
      .record({
        at: new Date().toISOString(),
        user: ex.ctx.principal?.username ?? '-',
        address: req.ip,
        method: ex.op.method,
        path: req.url,
        operation: ex.id,
        status: ex.status,
        revision: ex.status < 400 ? (ex.ctx.audit.revision ?? null) : null,
        changes: ex.status < 400 ? ((ex.ctx.audit.changes as never) ?? null) : null,
      })
      .catch((err: unknown) => logger.error({ err }, 'audit log write failed'));
  };

  /** Answers a request of an operation with the problem of an error, audited first. */
  const fail = async (ex: Exchange, req: FastifyRequest, reply: FastifyReply, err: unknown) => {
    const problem = problemOf(err, req.url);
    ex.status = problem.status;
    if (problem.status >= 500) logger.error({ err, operationId: ex.id }, 'request failed');
    await recordAudit(ex, req);
    return reply.code(problem.status).headers(problem.headers).send(JSON.stringify(problem.body));
  };

  /**
   * One stage of the pipeline as a fastify hook: a stage that throws answers the request with
   * the problem (audited first), and fastify runs no later stage and no handler.
   */
  const stage =
    (run: (ex: Exchange, req: FastifyRequest, reply: FastifyReply) => Promise<void> | void) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
      const ex = exchanges.get(req) as Exchange;
      try {
        await run(ex, req, reply);
      } catch (err) {
        await fail(ex, req, reply, err);
        return reply;
      }
      return undefined;
    };

  // ---- onRequest: who is asking, settled from the headers alone (no body is read yet).

  /** Authentication: the user's Basic credentials, or the HA peer's token. */
  const authenticate = stage(async ({ id, op, ctx }, req) => {
    if (op.auth) ctx.principal = await auth.authenticate(req.headers.authorization, req.ip);
    else if (op.peerAuth) {
      if (!options.peerAuth) throw new ApplianceError('LB_UNAUTHORIZED', `${id} is an HA peer operation and this node takes none`);
      ctx.principal = options.peerAuth(req.headers.authorization);
    }
  });

  /** Authorisation, the one place roles are enforced: the caller's role against the operation's (`x-lbappliance-role`). */
  const authorise = stage(({ id, op, ctx }) => {
    if (!op.auth && !op.peerAuth) return;
    if (!roleAtLeast(ctx.principal?.role, op.role)) {
      throw new ApplianceError('LB_FORBIDDEN', `user ${ctx.principal?.username ?? '-'} (${ctx.principal?.role ?? 'no role'}) cannot call ${id}, which needs the ${op.role} role`);
    }
  });

  /** Write guards of the layers below (the HA secondary refuses configuration writes). */
  const guard = stage(({ id, op, ctx }) => {
    if (op.write) for (const g of guards) g(id, op, ctx.principal);
  });

  // ---- preValidation: the request against the contract, once fastify has parsed the body.

  /** Path, query and header parameters. */
  const checkParams = stage(({ id, ctx }, req) => {
    validator.params(id, { path: ctx.params as Record<string, unknown>, query: ctx.query as Record<string, unknown>, header: req.headers as Record<string, unknown> });
  });

  /** The body: present when required, of a media type the operation takes, absent when it takes none. */
  const checkBodyShape = stage(({ id, op, ctx }, req) => {
    ctx.body = req.body as never;
    if (op.bodyContentTypes.length > 0) {
      const type = mediaType(req.headers['content-type']);
      if (req.body === undefined || req.body === null) {
        if (op.bodyRequired) throw new ApplianceError('LB_VALIDATION', `${id} needs a request body (${op.bodyContentTypes.join(' or ')})`, { field: '' });
      } else if (!type || !(op.bodyContentTypes as readonly string[]).includes(type)) {
        throw new ApplianceError('LB_UNSUPPORTED_MEDIA_TYPE', `${id} takes ${op.bodyContentTypes.join(' or ')}, not ${type ?? 'a body without Content-Type'}`);
      }
    } else if (req.body !== undefined && req.body !== null && String(req.headers['content-length'] ?? '0') !== '0') {
      throw new ApplianceError('LB_VALIDATION', `${id} takes no request body`, { field: '' });
    }
  });

  /** The body against the operation's schema (defaults filled in). */
  const checkBody = stage(({ id, op, ctx }, req) => {
    if (op.bodyContentTypes.length > 0 && ctx.body !== undefined && ctx.body !== null) validator.body(id, mediaType(req.headers['content-type']) as string, ctx.body);
  });

  // ---- onResponse: every answer of the operation, whichever stage gave it.

  /** Metrics. */
  const measure = async (req: FastifyRequest, reply: FastifyReply) => {
    const ex = exchanges.get(req);
    if (!ex) return;
    ex.status = reply.statusCode;
    options.onResponse?.(ex.id, ex.status, (performance.now() - ex.started) / 1000);
  };

  /** The request log line (writes and failures at info, the rest at debug). */
  const logLine = async (req: FastifyRequest, reply: FastifyReply) => {
    const ex = exchanges.get(req);
    if (!ex) return;
    const line = { operationId: ex.id, method: ex.op.method, path: req.url, status: reply.statusCode, ms: Math.round((performance.now() - ex.started) * 10) / 10, user: ex.ctx.principal?.username, address: req.ip };
    if (ex.op.write || reply.statusCode >= 400) logger.info(line, 'request');
    else logger.debug(line, 'request');
  };

  /** The audit entry of a write no stage recorded (every path above records before answering). */
  const auditLeftover = async (req: FastifyRequest) => {
    const ex = exchanges.get(req);
    if (ex) void recordAudit(ex, req);
  };

  for (const [id, op] of Object.entries(operationTable) as [OperationId, Operation][]) {
    const handler = handlers[id] as (ctx: RequestContext<OperationId>) => Promise<{ status: number; body: unknown; headers?: Record<string, string> }>;
    /** The exchange of a request: its context and what is recorded of it. */
    const open = async (req: FastifyRequest) => {
      exchanges.set(req, {
        id,
        op,
        started: performance.now(),
        status: 500,
        audited: false,
        ctx: {
          operationId: id,
          params: { ...(req.params as object) } as never,
          query: { ...(req.query as object) } as never,
          body: undefined as never,
          ifMatch: typeof req.headers['if-match'] === 'string' ? req.headers['if-match'] : undefined,
          principal: null,
          address: req.ip,
          path: req.url,
          audit: {},
        },
      });
    };
    app.route({
      method: op.method,
      url: toRoute(op.path),
      onRequest: [open, authenticate, authorise, guard],
      preValidation: [checkParams, checkBodyShape, checkBody],
      // The operation itself, its answer checked against the contract and audited before it leaves.
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const ex = exchanges.get(req) as Exchange;
        try {
          const result = await handler(ex.ctx);
          const success = op.success.find((s) => s.status === result.status);
          const contentType = success?.contentType ?? null;
          const errors = validator.responseErrors(id, result.status, contentType ?? 'application/json', contentType ? result.body : undefined);
          if (errors) {
            logger.error({ operationId: id, status: result.status, errors }, 'response outside the contract');
            throw new ApplianceError('LB_RESPONSE_INVALID', `the ${id} response did not match the contract (${errors.map((e) => `${e.field} ${e.message}`).join('; ')})`);
          }
          ex.status = result.status;
          await recordAudit(ex, req);
          reply.code(result.status).headers(result.headers ?? {});
          if (op.write && options.writeHeaders) reply.headers(options.writeHeaders(id, ex.ctx.audit.revision ?? null));
          if (!contentType) return reply.send();
          reply.header('content-type', contentType === 'application/json' ? 'application/json; charset=utf-8' : contentType);
          return reply.send(typeof result.body === 'string' ? result.body : JSON.stringify(result.body));
        } catch (err) {
          return fail(ex, req, reply, err);
        }
      },
      onResponse: [measure, logLine, auditLeftover],
    });
  }

  const known = Object.values(operationTable).map((op) => ({ re: pathRegex(op.path), method: op.method }));
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const allowed = known.filter((k) => k.re.test(path)).map((k) => k.method);
    const err =
      allowed.length > 0
        ? new ApplianceError('LB_METHOD_NOT_ALLOWED', `${req.method} is not an operation of ${path}; allowed: ${allowed.join(', ')}`, { headers: { allow: allowed.join(', ') } })
        : new ApplianceError('LB_NO_SUCH_OPERATION', `${req.method} ${path} is not an operation of the lbappliance API`);
    const problem = problemOf(err, req.url);
    return reply.code(problem.status).headers(problem.headers).send(JSON.stringify(problem.body));
  });

  app.setErrorHandler(async (err, req, reply) => {
    // The body parser's errors (malformed JSON, too large) come here, after the request was admitted.
    const ex = exchanges.get(req);
    if (ex) return fail(ex, req, reply, err);
    const problem = problemOf(err, req.url);
    if (problem.status >= 500) logger.error({ err }, 'request failed before its handler');
    return reply.code(problem.status).headers(problem.headers).send(JSON.stringify(problem.body));
  });
}
