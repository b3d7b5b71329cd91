// The HTTP/2 proxy: each client stream (node's http2 core API, nghttp2 framing) becomes one
// HTTP/1.1 request on the same raw, pooled server connections as the HTTP/1.1 proxy. The
// request head is built from the pseudo-headers; a body without a length goes chunked.
// The start of every body is read before a server is chosen, so a request whose connect
// failed can go to another server.
import type { Socket } from 'node:net';
import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { ChunkScanner } from './chunked-scanner.js';
import { HOP_BY_HOP, responseHasNoBody, type ResponseHead } from './h1-head.js';
import { cookieValue, ForwardedFields, persistenceSetCookie } from './header-rules.js';
import { headerFor } from './proxy-protocol.js';
import { MAINTENANCE_PAGE, MAINTENANCE_PAGE_TYPE } from '../maintenance-page.js';
import { retryTarget } from './retry-policy.js';
import type { ResponseSink, UpstreamConn } from './upstream-conn.js';
import type { UpstreamServer } from './upstream-server.js';
import type { VipRuntime } from './vip-runtime.js';

/** Body bytes read before a server is chosen. */
const BODY_PREFIX = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');
// What may go into the HTTP/1.1 request line and fields (nghttp2 checks too; this proxy
// writes them into another protocol's framing, so it checks again).
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const LENGTH = /^\d{1,15}$/;
// Never sent to the server: pseudo-headers are rebuilt, the rest are per hop or set here.
const SKIP = new Set([...HOP_BY_HOP, 'host', 'expect']);

/** What every stream of one HTTP/2 connection shares, read once per connection (h2-front.ts). */
export interface H2Peer {
  /** The client's address (the PROXY header's, when there was one). */
  client: string;
  localPort: number;
  socket: Socket;
}

/** Handles one HTTP/2 client stream on a VIP. */
export function handleH2Stream(vip: VipRuntime, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, peer: H2Peer): void {
  new H2Exchange(vip, stream, headers, peer).start();
}

class H2Exchange implements ResponseSink {
  readonly #vip: VipRuntime;
  readonly #stream: ServerHttp2Stream;
  readonly #headers: IncomingHttpHeaders;
  readonly #client: string;
  readonly #localPort: number;
  readonly #socket: Socket;
  readonly #method: string;
  #server: UpstreamServer | null = null;
  #setCookie = false;
  #conn: UpstreamConn | null = null;
  #requestHead = '';
  #chunkedBody = false;
  #prefix: Buffer[] = [];
  #prefixLen = 0;
  #bodyDone = false;
  #streamed = false;
  #attempts = 0;
  #tried = new Set<UpstreamServer>();
  #responded = false;
  /** The declared Content-Length, or -1; the body must match it exactly. */
  #declared = -1;
  #received = 0;
  #decoder: ChunkScanner | null = null;
  #done = false;
  /** Leaves the VIP's queue while the request waits for a server. */
  #cancelWait: (() => void) | null = null;

  constructor(vip: VipRuntime, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, peer: H2Peer) {
    this.#vip = vip;
    this.#stream = stream;
    this.#headers = headers;
    // Per connection, not per stream: session.socket is a Proxy, slow on the hot path.
    this.#client = peer.client;
    this.#localPort = peer.localPort;
    this.#socket = peer.socket;
    this.#method = String(headers[':method'] ?? 'GET');
  }

  start(): void {
    const stream = this.#stream;
    stream.on('error', () => this.#abort());
    stream.once('close', () => {
      if (!this.#done) this.#abort();
    });
    if (this.#method === 'CONNECT') return this.#local(501, 'CONNECT is not proxied\n');
    const invalid = this.#prepare();
    if (invalid) return this.#local(400, `Bad Request: ${invalid}\n`);
    this.#begin();
  }

  /** Chooses the server and starts the exchange; again after a wait in the VIP's queue. */
  #begin(): void {
    const vip = this.#vip;
    const stream = this.#stream;
    if (this.#done) return;
    const cookie = vip.cookieName === null ? undefined : cookieValue(this.#headers.cookie as string | undefined, vip.cookieName);
    const choice = vip.choose(this.#client, cookie);
    if (choice === 'queue') {
      // Every server is at its maxConnections: the body waits in the stream (flow control).
      this.#cancelWait = vip.wait(
        () => {
          this.#cancelWait = null;
          this.#begin();
        },
        () => {
          this.#cancelWait = null;
          this.#local(503, 'Service Unavailable: every real server is at its connection limit\n');
        },
      );
      return;
    }
    if (!choice) {
      if (vip.fallbackPage) return this.#local(503, MAINTENANCE_PAGE, MAINTENANCE_PAGE_TYPE);
      return this.#local(503, 'Service Unavailable: no real server can take this request\n');
    }
    this.#server = choice.server;
    this.#setCookie = choice.setCookie;
    if (stream.endAfterHeaders) {
      this.#bodyDone = true;
      return this.#dispatch(choice.server);
    }
    const onData = (chunk: Buffer) => {
      if (this.#done) return;
      this.#received += chunk.length;
      // More than the declared length would reach the server as the start of another request.
      if (this.#declared >= 0 && this.#received > this.#declared) return this.#refuseBody();
      if (this.#conn === null) {
        this.#prefix.push(this.#frame(chunk));
        this.#prefixLen += chunk.length;
        if (this.#prefixLen >= BODY_PREFIX) {
          stream.pause();
          this.#dispatch(this.#server as UpstreamServer);
        }
        return;
      }
      this.#streamed = true;
      if (!this.#conn.socket.write(this.#frame(chunk))) {
        stream.pause();
        this.#conn.socket.once('drain', () => stream.resume());
      }
    };
    stream.on('data', onData);
    stream.once('end', () => {
      if (this.#done) return;
      if (this.#declared >= 0 && this.#received !== this.#declared) return this.#refuseBody();
      this.#bodyDone = true;
      if (this.#conn === null) {
        if (this.#chunkedBody) this.#prefix.push(LAST_CHUNK);
        this.#dispatch(this.#server as UpstreamServer);
      } else if (this.#chunkedBody) this.#conn.socket.write(LAST_CHUNK);
    });
  }

  /**
   * Checks the request and builds its HTTP/1.1 head in one pass over the fields (the profile
   * of TLS + h2 showed the two passes it took before); the error, or null.
   */
  #prepare(): string | null {
    const vip = this.#vip;
    const h = this.#headers;
    if (!METHOD.test(this.#method)) return 'invalid :method';
    const path = String(h[':path'] ?? '/');
    if (!TARGET.test(path)) return 'invalid :path';
    const authority = h[':authority'] ?? h.host;
    if (authority !== undefined && !TARGET.test(String(authority))) return 'invalid :authority';
    let out = `${this.#method} ${path} HTTP/1.1\r\nHost: ${authority ?? vip.spec.ipAddress}\r\n`;
    const fields = new ForwardedFields({ forwardedFor: vip.spec.forwardedFor, cookieName: vip.cookieName });
    for (const name of Object.keys(h)) {
      const value = h[name];
      if (value === undefined) continue;
      // Every field is checked, the ones not forwarded too.
      const sent = name.charCodeAt(0) !== 0x3a && !SKIP.has(name);
      if (Array.isArray(value)) {
        for (const one of value) {
          if (!VALUE.test(one)) return `invalid value of ${name}`;
          const kept = sent ? fields.value(name, one) : null;
          if (kept !== null) out += `${name}: ${kept}\r\n`;
        }
      } else {
        const one = String(value);
        if (!VALUE.test(one)) return `invalid value of ${name}`;
        const kept = sent ? fields.value(name, one) : null;
        if (kept !== null) out += `${name}: ${kept}\r\n`;
      }
    }
    // Read as framing by servers that map names to CGI-style variables (h1-head.ts).
    if (h.content_length !== undefined || h.transfer_encoding !== undefined) return 'framing field name with an underscore';
    const length = h['content-length'];
    if (length !== undefined) {
      if (typeof length !== 'string' || !LENGTH.test(length)) return 'invalid content-length';
      this.#declared = Number(length);
    }
    if (!this.#stream.endAfterHeaders) {
      if (length !== undefined) out += `content-length: ${length}\r\n`;
      else {
        this.#chunkedBody = true;
        out += 'transfer-encoding: chunked\r\n';
      }
    }
    out += fields.added(this.#client, 'https', { xff: 'x-forwarded-for', proto: 'x-forwarded-proto' });
    this.#requestHead = `${out}\r\n`;
    return null;
  }

  /** A body that does not match its declared length: refused before (or instead of) the rest reaching the server. */
  #refuseBody(): void {
    if (this.#conn === null && !this.#done) {
      this.#stream.pause();
      return this.#local(400, 'Bad Request: body length differs from content-length\n');
    }
    this.#abort();
  }

  #frame(chunk: Buffer): Buffer {
    if (!this.#chunkedBody || chunk.length === 0) return chunk;
    return Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), chunk, CRLF]);
  }

  #dispatch(server: UpstreamServer): void {
    const vip = this.#vip;
    this.#attempts++;
    this.#server = server;
    server.active++;
    server.counters.requests.inc();
    const conn = server.rawPool.acquire(server, server.port ?? this.#localPort, vip.connectTimeoutMs, headerFor(vip.spec.sendProxy, this.#socket));
    this.#conn = conn;
    conn.begin(this, this.#method, vip.serverTimeoutMs);
    conn.socket.cork();
    conn.socket.write(this.#requestHead, 'latin1');
    for (const part of this.#prefix) conn.socket.write(part);
    conn.socket.uncork();
    if (!this.#bodyDone) {
      // The rest of the body waits until the server is reached, so a failed connect loses nothing.
      if (conn.connected) this.#stream.resume();
      else conn.socket.once(server.reEncrypt ? 'secureConnect' : 'connect', () => this.#conn === conn && this.#stream.resume());
    }
  }

  onHead(res: ResponseHead): void {
    const vip = this.#vip;
    vip.counters.responses[Math.floor(res.status / 100)]?.inc();
    this.#server?.counters.responses[Math.floor(res.status / 100)]?.inc();
    this.#responded = true;
    if (this.#stream.destroyed) return;
    const out: OutgoingHttpHeaders = { ':status': res.status };
    for (let i = 0; i < res.lower.length; i++) {
      const name = res.lower[i] as string;
      if (HOP_BY_HOP.has(name) || res.connection.has(name)) continue;
      const prior = out[name];
      const value = res.values[i] as string;
      out[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [String(prior), value];
    }
    if (res.contentLength >= 0) out['content-length'] = res.contentLength;
    if (vip.hsts !== null) out['strict-transport-security'] = vip.hsts;
    if (this.#setCookie && vip.cookieName !== null) {
      const cookie = persistenceSetCookie(vip.cookieName, this.#server?.cookieValue ?? '', vip.cookieMaxAge, true);
      const prior = out['set-cookie'];
      out['set-cookie'] = prior === undefined ? [cookie] : [...(Array.isArray(prior) ? prior : [String(prior)]), cookie];
    }
    if (res.chunked) this.#decoder = new ChunkScanner();
    const noBody = responseHasNoBody(this.#method, res.status) || res.contentLength === 0;
    try {
      this.#stream.respond(out, { endStream: noBody });
    } catch {
      // A head HTTP/2 cannot carry (node validates it): the client gets a reset, not a crash.
      this.#abort();
    }
  }

  onBody(buf: Buffer, from: number, to: number): boolean {
    const stream = this.#stream;
    if (from === to || stream.destroyed || stream.writableEnded) return true;
    let ok = true;
    if (this.#decoder) this.#decoder.scan(buf, from, to, (b, s, e) => (ok = stream.write(b.subarray(s, e)) && ok));
    else ok = stream.write(buf.subarray(from, to));
    if (!ok) stream.once('drain', () => this.#conn?.resume());
    return ok;
  }

  onChunkEnd(): void {}

  onEnd(reusable: boolean): void {
    const conn = this.#conn as UpstreamConn;
    const server = this.#server as UpstreamServer;
    this.#conn = null;
    this.#done = true;
    server.active--;
    if (reusable && this.#bodyDone) (conn.home ?? server.rawPool).release(conn);
    else conn.destroy();
    if (!this.#stream.destroyed && !this.#stream.writableEnded) this.#stream.end();
  }

  onUpgrade(): void {
    this.onError('LB_BAD_RESPONSE', true);
  }

  onError(code: string, responded: boolean): void {
    const server = this.#server as UpstreamServer;
    const conn = this.#conn;
    this.#conn = null;
    server.active--;
    if (this.#done) return;
    if (this.#responded) return this.#abort();
    const next = retryTarget(this.#vip, this.#client, server, this.#tried, {
      code,
      responded,
      connected: conn?.connected ?? false,
      reused: conn?.reused ?? false,
      streamed: this.#streamed,
      bodyComplete: this.#bodyDone,
      method: this.#method,
      attempts: this.#attempts,
    });
    if (next) {
      if (next.server !== server) this.#setCookie = next.setCookie;
      return this.#dispatch(next.server);
    }
    if (code === 'LB_SERVER_TIMEOUT') this.#local(504, 'Gateway Timeout\n');
    else this.#local(502, `Bad Gateway: ${code}\n`);
  }

  #local(status: number, body: string, type = 'text/plain; charset=utf-8'): void {
    this.#vip.counters.responses[Math.floor(status / 100)]?.inc();
    this.#done = true;
    const stream = this.#stream;
    if (stream.destroyed || stream.headersSent) {
      stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    stream.respond({ ':status': status, 'content-type': type, 'content-length': Buffer.byteLength(body) });
    stream.end(body);
  }

  #abort(): void {
    this.#cancelWait?.();
    this.#cancelWait = null;
    if (this.#done && this.#conn === null) return;
    this.#done = true;
    const conn = this.#conn;
    this.#conn = null;
    if (conn) {
      (this.#server as UpstreamServer).active--;
      conn.destroy();
    }
    if (!this.#stream.destroyed) this.#stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }
}
