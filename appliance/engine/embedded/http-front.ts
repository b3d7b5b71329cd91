// The HTTP side of one VIP: a node http.Server (HTTP/1.1) and, for http2 VIPs, an
// http2 server, both fed connections by the VIP's listeners (plain sockets, or TLS sockets
// routed by their ALPN protocol). The servers never listen themselves, so one pair serves
// every port of the VIP and limits and timeouts live in one place.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createH2Server, type Http2Server, type Http2Session, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { handleHttpRequest, MAX_HEADER_COUNT } from './http-proxy.js';
import type { VipRuntime } from './vip-runtime.js';

/** Largest request head, in bytes (HAProxy's default buffer is 16 KiB as well). */
export const MAX_HEADER_BYTES = 16 * 1024;

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** The HTTP servers of one VIP. */
export class HttpFront {
  readonly #h1: HttpServer;
  readonly #h2: Http2Server | null;
  readonly #sessions = new Set<Http2Session>();
  readonly #vip: VipRuntime;

  constructor(vip: VipRuntime, http2: boolean) {
    this.#vip = vip;
    this.#h1 = createHttpServer(
      {
        maxHeaderSize: MAX_HEADER_BYTES,
        // No platform default may cut a long upload: only idle time and header time count.
        requestTimeout: 0,
        headersTimeout: vip.spec.timeouts.httpRequest * 1000,
        keepAliveTimeout: vip.clientTimeoutMs,
        connectionsCheckingInterval: 500,
        requireHostHeader: true,
      },
      (req: IncomingMessage, res: ServerResponse) => handleHttpRequest(this.#vip, req, res),
    );
    // One more than the limit, so a request over it is seen (node drops fields past the count).
    this.#h1.maxHeadersCount = MAX_HEADER_COUNT + 1;
    this.#h1.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.#clientError(err, socket));
    // The tracking of headersTimeout starts when a server listens; this one is fed sockets instead.
    this.#h1.emit('listening');
    this.#h2 = http2
      ? createH2Server(
          { maxSessionMemory: 64, maxHeaderListPairs: MAX_HEADER_COUNT + 4, settings: { maxHeaderListSize: MAX_HEADER_BYTES } },
          (req: Http2ServerRequest, res: Http2ServerResponse) => handleHttpRequest(this.#vip, req, res),
        )
      : null;
    this.#h2?.on('session', (session: Http2Session) => {
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
    });
    this.configure();
  }

  /** Follows the VIP's timeouts (new values apply to new requests; nothing is re-bound). */
  configure(): void {
    const vip = this.#vip;
    this.#h1.headersTimeout = vip.spec.timeouts.httpRequest * 1000;
    this.#h1.keepAliveTimeout = vip.clientTimeoutMs;
    this.#h1.timeout = vip.clientTimeoutMs;
    this.#h2?.setTimeout(vip.clientTimeoutMs);
  }

  /** Serves a plain connection. */
  accept(socket: Socket): void {
    this.#h1.emit('connection', socket);
  }

  /** Serves a TLS connection, by its negotiated protocol. */
  acceptTls(socket: TLSSocket): void {
    if (this.#h2 && socket.alpnProtocol === 'h2') this.#h2.emit('connection', socket);
    else this.#h1.emit('connection', socket);
  }

  /** Closes idle keep-alive connections and asks HTTP/2 clients to go (in-flight requests finish). */
  closeIdle(): void {
    this.#h1.closeIdleConnections();
    for (const s of this.#sessions) s.close();
  }

  /** Stops the servers' housekeeping. */
  dispose(): void {
    this.closeIdle();
    this.#h1.emit('close');
  }

  #clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    // A request whose response already started cannot be answered again.
    const busy = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (busy?.headersSent) {
      socket.destroy();
      return;
    }
    this.#vip.counters.responses[4]?.inc();
    const body = `${REASONS[status]}\n`;
    socket.end(`HTTP/1.1 ${status} ${REASONS[status]}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
  }
}
