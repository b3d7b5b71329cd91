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
  writeHeaders?: (operationId: OperationId) => Record<string, string>;
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
 * Registers every operation of the contract on a fastify instance.
 *
 * Who is asking is settled in the route's onRequest hook, before fastify reads the body:
 * without credentials, with a read-only user's on a write, or on an HA secondary's refused
 * write, the request is answered without its body ever being read or parsed. Only then
 * are the body parsed, the parameters and body validated and the handler run.
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

  /** Authenticates and authorises a request from its headers alone. */
  const admit = async (ex: Exchange, req: FastifyRequest) => {
    const { id, op, ctx } = ex;
    if (op.auth) ctx.principal = await auth.authenticate(req.headers.authorization, req.ip);
    else if (op.peerAuth) {
      if (!options.peerAuth) throw new ApplianceError('LB_UNAUTHORIZED', `${id} is an HA peer operation and this node takes none`);
      ctx.principal = options.peerAuth(req.headers.authorization);
    }
    if (op.write && ctx.principal?.role !== 'admin') {
      throw new ApplianceError('LB_FORBIDDEN', `user ${ctx.principal?.username ?? '-'} is read-only and cannot call ${id}`);
    }
    if (op.write) for (const guard of guards) guard(id, op, ctx.principal);
  };

  for (const [id, op] of Object.entries(operationTable) as [OperationId, Operation][]) {
    const handler = handlers[id] as (ctx: RequestContext<OperationId>) => Promise<{ status: number; body: unknown; headers?: Record<string, string> }>;
    app.route({
      method: op.method,
      url: toRoute(op.path),
      onRequest: async (req: FastifyRequest, reply: FastifyReply) => {
        const ex: Exchange = {
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
        };
        exchanges.set(req, ex);
        try {
          await admit(ex, req);
        } catch (err) {
          await fail(ex, req, reply, err);
          return reply;
        }
        return undefined;
      },
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const ex = exchanges.get(req) as Exchange;
        const { ctx } = ex;
        ctx.body = req.body as never;
        try {
          validator.params(id, { path: ctx.params as Record<string, unknown>, query: ctx.query as Record<string, unknown>, header: req.headers as Record<string, unknown> });
          if (op.bodyContentTypes.length > 0) {
            const type = mediaType(req.headers['content-type']);
            if (req.body === undefined || req.body === null) {
              if (op.bodyRequired) throw new ApplianceError('LB_VALIDATION', `${id} needs a request body (${op.bodyContentTypes.join(' or ')})`, { field: '' });
            } else if (!type || !(op.bodyContentTypes as readonly string[]).includes(type)) {
              throw new ApplianceError('LB_UNSUPPORTED_MEDIA_TYPE', `${id} takes ${op.bodyContentTypes.join(' or ')}, not ${type ?? 'a body without Content-Type'}`);
            } else {
              validator.body(id, type, ctx.body);
            }
          } else if (req.body !== undefined && req.body !== null && String(req.headers['content-length'] ?? '0') !== '0') {
            throw new ApplianceError('LB_VALIDATION', `${id} takes no request body`, { field: '' });
          }
          const result = await handler(ctx);
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
          if (op.write && options.writeHeaders) reply.headers(options.writeHeaders(id));
          if (!contentType) return reply.send();
          reply.header('content-type', contentType === 'application/json' ? 'application/json; charset=utf-8' : contentType);
          return reply.send(typeof result.body === 'string' ? result.body : JSON.stringify(result.body));
        } catch (err) {
          return fail(ex, req, reply, err);
        }
      },
      // Every answer of the operation, whichever step gave it (the hook, the body parser, the handler).
      onResponse: async (req: FastifyRequest, reply: FastifyReply) => {
        const ex = exchanges.get(req);
        if (!ex) return;
        ex.status = reply.statusCode;
        const seconds = (performance.now() - ex.started) / 1000;
        options.onResponse?.(id, ex.status, seconds);
        const line = { operationId: id, method: op.method, path: req.url, status: ex.status, ms: Math.round(seconds * 10000) / 10, user: ex.ctx.principal?.username, address: req.ip };
        if (op.write || ex.status >= 400) logger.info(line, 'request');
        else logger.debug(line, 'request');
        // Every path above records before answering; this only catches one that did not.
        void recordAudit(ex, req);
      },
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
