// Problems with a request that never reaches an operation: Node's HTTP parser refusing it
// (an unknown method, headers over its limit, a request too slow), fastify's router refusing
// its path (a broken percent-encoding, a path parameter over 100 characters), and the
// appliance shutting down. They too are answered as problem documents with an LB_ code,
// never as fastify's or Node's own plain answers.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ApplianceError } from '../errors.js';
import { problemOf } from './respond.js';

/** A connection is given this long to take its answer before it is closed regardless (ms). */
const LINGER_MS = 2000;

/** The error of a request Node's HTTP parser refused, by the parser's code. */
export function parserError(code: string | undefined): ApplianceError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ApplianceError('LB_HEADERS_TOO_LARGE', 'the request headers are over 16 KiB together');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApplianceError('LB_REQUEST_TIMEOUT', 'the request did not arrive in time');
    default:
      return new ApplianceError('LB_MALFORMED_REQUEST', `the request is not well-formed HTTP (${code ?? 'unknown parser error'})`);
  }
}

/**
 * The server's `clientError` handler: answers what the HTTP parser refused with a problem
 * document and closes the connection (its framing is lost, nothing more can be read).
 */
export function clientErrorHandler(logger: Logger): (err: Error & { code?: string }, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const problem = problemOf(parserError(err.code), undefined);
    logger.debug({ err, code: problem.body.code }, 'client error');
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify(problem.body);
    const head = [`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}`, ...Object.entries(problem.headers).map(([k, v]) => `${k}: ${v}`), `content-length: ${Buffer.byteLength(body)}`, 'connection: close'];
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
    // A client still sending (a huge header) must not hold the connection open.
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
}

/** fastify's `frameworkErrors`: the router's refusals of a path, as problems. */
export function frameworkErrorHandler(err: Error & { code?: string }, _req: FastifyRequest, reply: FastifyReply): void {
  const e =
    err.code === 'FST_ERR_BAD_URL'
      ? new ApplianceError('LB_MALFORMED_REQUEST', 'the request path has a broken percent-encoding')
      : err;
  // The path is what could not be read, so it is not echoed back as the instance.
  const problem = problemOf(e, undefined);
  void reply.code(problem.status).headers(problem.headers).send(JSON.stringify(problem.body));
}

/** The problem a request gets while the appliance stops. */
export function shuttingDown(): ApplianceError {
  return new ApplianceError('LB_SHUTTING_DOWN', 'the appliance is stopping; send the request again to it after its restart or to its HA peer', { headers: { connection: 'close' } });
}
