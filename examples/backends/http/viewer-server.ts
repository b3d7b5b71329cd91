// An imaging viewer's web endpoint, reduced to what proves a load balancer works: every
// response says who answered (server name, address:port, protocol, TLS or not) and what
// arrived (headers, X-Forwarded-For/Proto, cookies, which keep-alive connection carried it),
// plus a health path and large bodies both ways.
//
// Routes (any method unless said):
//   GET /health            200 "ok <name>"
//   GET /health/<port>     200 when this server's service on <port> runs, 503 when stopped,
//                          404 when there is none (how a TCP service gets an HTTP(S) check)
//   GET /bytes/<n>         n bytes of patternBytes() (a download of known content)
//   POST|PUT /echo         the request body back, byte for byte
//   POST|PUT /upload       JSON { bytes, sha256 } of the request body
//   GET /status/<code>     answers that status code, with the usual JSON body
//   GET /delay/<ms>        answers after ms milliseconds (at most 120 000)
//   anything else          200 with the JSON description of the request (ViewerAnswer)
// Every response carries X-Backend-Server (the name) and X-Backend-Address (address:port).
//
// With TLS it is an HTTP/2 server that also speaks HTTP/1.1 (ALPN picks), so it answers
// whatever the appliance re-encrypts with; without TLS it is HTTP/1.1 with keep-alive.
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { pipeline } from 'node:stream/promises';
import type { TLSSocket } from 'node:tls';
import { ListeningService, hostPort, type ServiceIdentity } from '../service.js';
import type { ServerCertificate } from './certificate.js';
import { patternStream } from './pattern.js';

/** How to run one viewer endpoint. */
export interface ViewerServerOptions extends ServiceIdentity {
  /** Serve HTTPS with this certificate (HTTP/2 and HTTP/1.1); plain HTTP/1.1 when absent. */
  tls?: ServerCertificate;
  /** Shown as the service kind: 'health' for a server's dedicated health page (default http/https). */
  role?: 'viewer' | 'health';
  /** Whether this server's service on a port runs (true), is stopped (false) or does not exist (undefined). */
  serviceState?: (port: number) => boolean | undefined;
}

/** The JSON a viewer answers with: who answered, and what it saw. */
export interface ViewerAnswer {
  server: string;
  host: string;
  address: string;
  port: number;
  /** 'http/1.1' or 'h2' */
  protocol: string;
  tls: boolean;
  /** TLS version, e.g. TLSv1.3 */
  tlsVersion?: string;
  /** Server name the client sent (SNI). */
  sni?: string;
  method: string;
  url: string;
  remoteAddress: string;
  remotePort: number;
  /** Which connection carried the request (1, 2, ... per server) and its request count on it. */
  connection: { id: number; request: number };
  headers: Record<string, string | string[]>;
  forwardedFor?: string;
  forwardedProto?: string;
  cookies: Record<string, string>;
}

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

const MAX_DOWNLOAD = 4 * 1024 ** 3;

/** Parses a Cookie header into name/value pairs. */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** An HTTP or HTTPS endpoint that names itself in every answer. */
export class ViewerServer extends ListeningService {
  readonly kind: 'http' | 'https' | 'health';
  /** The certificate served, when TLS. */
  readonly certificate?: ServerCertificate;
  /** Requests answered since construction. */
  requests = 0;
  readonly #serviceState?: (port: number) => boolean | undefined;
  readonly #connections = new WeakMap<object, { id: number; request: number }>();
  #nextConnection = 1;

  constructor(options: ViewerServerOptions) {
    super(options, options.tls ? createSecureServer({ key: options.tls.keyPem, cert: options.tls.certPem, allowHTTP1: true }) : createHttpServer({ keepAliveTimeout: 30_000 }));
    this.certificate = options.tls;
    this.kind = options.role === 'health' ? 'health' : options.tls ? 'https' : 'http';
    this.#serviceState = options.serviceState;
    this.listener.server.on('request', (req: Request, res: Response) => {
      this.#handle(req, res).catch(() => res.destroy());
    });
  }

  #connectionOf(req: Request): { id: number; request: number } {
    // HTTP/2 multiplexes requests on a session; HTTP/1.1 reuses the socket.
    const key: object = 'stream' in req && req.stream ? req.stream.session ?? req.socket : req.socket;
    let c = this.#connections.get(key);
    if (!c) {
      c = { id: this.#nextConnection++, request: 0 };
      this.#connections.set(key, c);
    }
    c.request++;
    return { ...c };
  }

  #describe(req: Request): ViewerAnswer {
    const socket = req.socket as Partial<TLSSocket> & { remoteAddress?: string; remotePort?: number };
    const tls = this.certificate !== undefined;
    const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(', ') : v);
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !k.startsWith(':')) headers[k] = v;
    const answer: ViewerAnswer = {
      server: this.identity.name,
      host: this.identity.host,
      address: this.identity.address,
      port: this.identity.port,
      protocol: req.httpVersionMajor === 2 ? 'h2' : `http/${req.httpVersion}`,
      tls,
      method: req.method ?? '',
      url: req.url ?? '',
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      connection: this.#connectionOf(req),
      headers,
      forwardedFor: first(req.headers['x-forwarded-for']),
      forwardedProto: first(req.headers['x-forwarded-proto']),
      cookies: parseCookies(first(req.headers.cookie)),
    };
    if (tls) {
      answer.tlsVersion = socket.getProtocol?.() ?? undefined;
      const sni = socket.servername;
      if (typeof sni === 'string') answer.sni = sni;
    }
    return answer;
  }

  async #handle(req: Request, res: Response): Promise<void> {
    this.requests++;
    res.setHeader('x-backend-server', this.identity.name);
    res.setHeader('x-backend-address', hostPort(this.identity.address, this.identity.port));
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    const json = (status: number, body: unknown) => {
      const text = `${JSON.stringify(body, null, 2)}\n`;
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      if (method === 'HEAD') res.end();
      else res.end(text);
    };
    let m: RegExpMatchArray | null;
    if (path === '/health') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`ok ${this.identity.name}\n`);
    } else if ((m = /^\/health\/(\d{1,5})$/.exec(path))) {
      const state = this.#serviceState?.(Number(m[1]));
      const status = state === undefined ? 404 : state ? 200 : 503;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(`${state === undefined ? 'no such service' : state ? 'ok' : 'stopped'}: ${this.identity.name} port ${m[1]}\n`);
    } else if ((m = /^\/bytes\/(\d{1,10})$/.exec(path)) && Number(m[1]) <= MAX_DOWNLOAD) {
      const n = Number(m[1]);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
      if (method === 'HEAD') res.end();
      else await pipeline(patternStream(n), res as NodeJS.WritableStream);
    } else if (path === '/echo' && (method === 'POST' || method === 'PUT')) {
      const length = req.headers['content-length'];
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream', ...(length ? { 'content-length': length } : {}) });
      await pipeline(req as NodeJS.ReadableStream, res as NodeJS.WritableStream);
    } else if (path === '/upload' && (method === 'POST' || method === 'PUT')) {
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        hash.update(chunk);
      }
      json(200, { server: this.identity.name, bytes, sha256: hash.digest('hex') });
    } else if ((m = /^\/status\/(\d{3})$/.exec(path)) && Number(m[1]) >= 200) {
      json(Number(m[1]), this.#describe(req));
    } else if ((m = /^\/delay\/(\d{1,6})$/.exec(path))) {
      await new Promise((r) => setTimeout(r, Math.min(Number(m![1]), 120_000)));
      json(200, this.#describe(req));
    } else {
      json(200, this.#describe(req));
    }
  }
}
