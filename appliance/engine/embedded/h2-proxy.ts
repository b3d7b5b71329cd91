// The HTTP/2 proxy: one client stream (through node's http2 compatibility API) becomes one
// HTTP/1.1 (or re-encrypted HTTP/1.1) request to a real server over node's keep-alive
// agent. HTTP/2 framing is node's (nghttp2); the start of every body is read before a
// server is chosen, so a request whose connect failed can go to another server.
import { request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { clientAddress, clientResponseHeaders, cookieValue, upstreamRequestHeaders } from './header-rules.js';
import { MAX_HEADER_COUNT } from './h1-head.js';
import type { UpstreamServer } from './upstream-server.js';
import type { VipRuntime } from './vip-runtime.js';

/** A client request: HTTP/1.1 or HTTP/2. */
export type ClientRequestLike = IncomingMessage | Http2ServerRequest;
/** A client response: HTTP/1.1 or HTTP/2. */
export type ClientResponseLike = ServerResponse | Http2ServerResponse;

/** Body bytes read before a server is chosen. */
const BODY_PREFIX = 64 * 1024;
/** Attempts per request (a failed connect or a stale pooled connection moves on). */
const MAX_ATTEMPTS = 3;

const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'LB_CONNECT_TIMEOUT', 'EADDRNOTAVAIL']);
const STALE_POOL = new Set(['ECONNRESET', 'EPIPE']);
const REPLAYABLE = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** Sends a response made by the appliance itself. */
export function sendLocal(vip: VipRuntime, res: ClientResponseLike, status: number, body: string, headers: OutgoingHttpHeaders = {}): void {
  vip.counters.responses[Math.floor(status / 100)]?.inc();
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = Buffer.from(body);
  (res as ServerResponse).writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': payload.length, ...headers });
  res.end(payload);
}

interface Exchange {
  vip: VipRuntime;
  req: ClientRequestLike;
  res: ClientResponseLike;
  client: string;
  tls: boolean;
  localPort: number;
  headers: OutgoingHttpHeaders;
  body: Buffer[];
  bodyEnded: boolean;
  tried: Set<UpstreamServer>;
  attempts: number;
  setCookie: boolean;
}

function readBodyPrefix(req: ClientRequestLike, done: (chunks: Buffer[], ended: boolean) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= BODY_PREFIX) {
      req.pause();
      cleanup();
      done(chunks, false);
    }
  };
  const onEnd = () => {
    cleanup();
    done(chunks, true);
  };
  // A client that breaks its framing or leaves is answered by the server's clientError (or nobody).
  const onGone = () => cleanup();
  const cleanup = () => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onGone);
    req.off('aborted', onGone);
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onGone);
  req.on('aborted', onGone);
}

function hasNoBody(req: ClientRequestLike): boolean {
  if (req.httpVersionMajor === 2) return (req as Http2ServerRequest).stream.endAfterHeaders;
  const h = req.headers;
  return h['transfer-encoding'] === undefined && (h['content-length'] === undefined || h['content-length'] === '0');
}

/** Handles one HTTP/2 client request on a VIP. */
export function handleH2Request(vip: VipRuntime, req: ClientRequestLike, res: ClientResponseLike): void {
  const socket = req.socket as Socket & { encrypted?: boolean };
  const tls = socket.encrypted === true;
  if (req.rawHeaders.length > MAX_HEADER_COUNT * 2) {
    req.resume();
    return sendLocal(vip, res, 431, 'Request Header Fields Too Large\n', { connection: 'close' });
  }
  const client = clientAddress(socket.remoteAddress);
  const choice = vip.choose(client, vip.cookieName === null ? undefined : cookieValue(req.headers.cookie, vip.cookieName));
  if (!choice) {
    req.resume();
    return sendLocal(vip, res, 503, 'Service Unavailable: no real server can take this request\n');
  }
  const x: Exchange = {
    vip,
    req,
    res,
    client,
    tls,
    localPort: socket.localPort ?? 0,
    headers: upstreamRequestHeaders(req.headers, { forwardedFor: vip.spec.forwardedFor, client, tls, cookieName: vip.cookieName }),
    body: [],
    bodyEnded: true,
    tried: new Set(),
    attempts: 0,
    setCookie: choice.setCookie,
  };
  if (hasNoBody(req)) return forward(x, choice.server);
  readBodyPrefix(req, (chunks, ended) => {
    x.body = chunks;
    x.bodyEnded = ended;
    forward(x, choice.server);
  });
}

function retryOrFail(x: Exchange, server: UpstreamServer, err: NodeJS.ErrnoException, connected: boolean, reused: boolean, bodyStarted: boolean): void {
  const code = err.code ?? '';
  if (!connected && CONNECT_FAILURES.has(code)) x.vip.connectFailed(server, code);
  const canReplay = !bodyStarted && x.attempts < MAX_ATTEMPTS && !x.res.headersSent;
  if (canReplay && !connected && CONNECT_FAILURES.has(code)) {
    x.tried.add(server);
    const next = x.vip.chooseAgain(x.client, x.tried);
    if (next) {
      x.setCookie = next.setCookie;
      return forward(x, next.server);
    }
  } else if (canReplay && reused && STALE_POOL.has(code) && x.bodyEnded && REPLAYABLE.has(x.req.method ?? '')) {
    // The server closed a pooled connection as we reused it: the request never reached it.
    return forward(x, server);
  }
  if (code === 'LB_SERVER_TIMEOUT') return sendLocal(x.vip, x.res, 504, 'Gateway Timeout\n');
  sendLocal(x.vip, x.res, 502, `Bad Gateway: ${code || 'upstream error'}\n`);
}

function forward(x: Exchange, server: UpstreamServer): void {
  x.attempts++;
  const { vip, req, res } = x;
  server.active++;
  server.counters.requests.inc();
  const send = server.reEncrypt ? httpsRequest : httpRequest;
  const up: ClientRequest = send({
    agent: server.pool,
    host: server.address,
    port: server.portFor(x.localPort),
    method: req.method,
    path: req.url,
    headers: x.headers,
    setHost: false,
  });
  let connected = false;
  let reused = false;
  let bodyStarted = false;
  let finished = false;
  let connectTimer: NodeJS.Timeout | null = null;
  const release = () => {
    if (finished) return;
    finished = true;
    server.active--;
    if (connectTimer) clearTimeout(connectTimer);
  };
  const sendRest = () => {
    bodyStarted = true;
    if (x.bodyEnded) return;
    req.pipe(up);
    req.resume();
  };
  up.on('socket', (s: Socket) => {
    reused = up.reusedSocket;
    if (!s.connecting) {
      connected = true;
      sendRest();
      return;
    }
    connectTimer = setTimeout(() => up.destroy(Object.assign(new Error('connect timeout'), { code: 'LB_CONNECT_TIMEOUT' })), vip.connectTimeoutMs);
    s.once('connect', () => {
      connected = true;
      if (connectTimer) clearTimeout(connectTimer);
      connectTimer = null;
      sendRest();
    });
  });
  up.setTimeout(vip.serverTimeoutMs, () => up.destroy(Object.assign(new Error('server timeout'), { code: 'LB_SERVER_TIMEOUT' })));
  up.on('error', (err: NodeJS.ErrnoException) => {
    release();
    if (res.headersSent) {
      res.destroy();
      return;
    }
    retryOrFail(x, server, err, connected, reused, bodyStarted && !x.bodyEnded);
  });
  up.on('response', (upRes: IncomingMessage) => {
    const status = upRes.statusCode ?? 502;
    let setCookie: string | null = null;
    if (x.setCookie && vip.cookieName !== null) {
      setCookie = `${vip.cookieName}=${server.cookieValue}; Path=/; Max-Age=${vip.cookieMaxAge}; HttpOnly${x.tls ? '; Secure' : ''}`;
    }
    vip.counters.responses[Math.floor(status / 100)]?.inc();
    if (res.destroyed) {
      up.destroy();
      return;
    }
    (res as ServerResponse).writeHead(status, clientResponseHeaders(upRes.headers, setCookie));
    upRes.pipe(res as ServerResponse);
    upRes.once('end', release);
    upRes.once('error', () => res.destroy());
    upRes.once('aborted', () => res.destroy());
  });
  up.once('close', release);
  // A client that leaves before its response ends takes the server request with it.
  res.once('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  for (const chunk of x.body) up.write(chunk);
  if (x.bodyEnded) up.end();
}
