// The raw-socket HTTP/1.1 proxy: one client connection, its requests one after another
// (pipelined ones wait their turn), each forwarded to a real server over a pooled raw
// connection. Heads are parsed strictly and rewritten; bodies pass through as framed,
// after the framing was checked. The start of every body is read before a server is chosen,
// so a request refused for its framing never reaches one, and a request whose connect
// failed can go to another server. node's http module costs about four times as much per
// request on this path; HTTP/2 stays on node's http2 (see http-proxy.ts).
import type { Socket } from 'node:net';
import { ChunkError, ChunkScanner } from './chunked-scanner.js';
import { HeadError, MAX_HEAD_BYTES, parseRequestHead, type RequestHead, type ResponseHead } from './h1-head.js';
import { clientResponseHead, upgradeResponseHead, upstreamRequestHead } from './h1-rewrite.js';
import { clientOf, cookieValue, persistenceSetCookie } from './header-rules.js';
import { headerFor } from './proxy-protocol.js';
import { MAINTENANCE_PAGE, MAINTENANCE_PAGE_TYPE } from '../maintenance-page.js';
import { httpsLocation } from './redirect.js';
import { retryTarget } from './retry-policy.js';
import type { ResponseSink, UpstreamConn } from './upstream-conn.js';
import type { UpstreamServer } from './upstream-server.js';
import type { VipRuntime } from './vip-runtime.js';

const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');
/** Body bytes read before a server is chosen. */
const BODY_PREFIX = 64 * 1024;
/** Largest body part sent in the same write as the response head. */
const MERGE_LIMIT = 16 * 1024;
const REASONS: Record<number, string> = {
  301: 'Moved Permanently',
  302: 'Found',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const enum St {
  Head,
  Body,
  Waiting,
  Tunnel,
  Closed,
}

/** Serves HTTP/1.1 on a client connection (plain or TLS) of a VIP. */
export function serveHttp1(vip: VipRuntime, socket: Socket, tls: boolean): Http1Session {
  return new Http1Session(vip, socket, tls);
}

/** One client connection of the HTTP/1.1 proxy. */
export class Http1Session implements ResponseSink {
  readonly #vip: VipRuntime;
  readonly #socket: Socket;
  readonly #tls: boolean;
  readonly #client: string;
  #state = St.Head;
  #pending: Buffer | null = null;
  #headTimer: NodeJS.Timeout | null = null;
  // The current exchange.
  #head: RequestHead | null = null;
  #requestHead = '';
  #server: UpstreamServer | null = null;
  #setCookie = false;
  #conn: UpstreamConn | null = null;
  #prefix: Buffer[] = [];
  #prefixLen = 0;
  #dispatched = false;
  #streamed = false;
  #reqRemaining = 0;
  #reqScanner: ChunkScanner | null = null;
  #reqDone = false;
  #tried: Set<UpstreamServer> | null = null;
  #attempts = 0;
  #closeAfter = false;
  #decoder: ChunkScanner | null = null;
  #responseStarted = false;
  /** A response head waiting to leave with the first body bytes. */
  #headOut: string | null = null;
  #clientEnded = false;
  #draining = false;
  /** Leaves the VIP's queue while the request waits for a server. */
  #cancelWait: (() => void) | null = null;

  constructor(vip: VipRuntime, socket: Socket, tls: boolean) {
    this.#vip = vip;
    this.#socket = socket;
    this.#tls = tls;
    this.#client = clientOf(socket);
    socket.setNoDelay(true);
    socket.setTimeout(vip.clientTimeoutMs);
    socket.on('timeout', () => this.#abort());
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => this.#abort());
    socket.on('close', () => this.#abort());
    socket.on('end', () => {
      // A client that half-closes after its request still gets its response.
      this.#clientEnded = true;
      if (this.#state === St.Head) this.#socket.end();
    });
    socket.on('drain', () => this.#conn?.resume());
    socket.resume();
  }

  /**
   * Closes the connection now if idle, else after the exchange in hand (the listener is going).
   * With `lingerMs` (its VIP stays, this listener only stops taking connections), an idle
   * connection waits that long for one more request, answered with `Connection: close`: a
   * client that sent one as the connection closed would otherwise meet a reset.
   */
  drain(lingerMs = 0): void {
    this.#draining = true;
    this.#closeAfter = true;
    if (this.#state === St.Head && (this.#pending === null || this.#pending.length === 0)) {
      if (lingerMs > 0) {
        const timer = setTimeout(() => this.drain(), lingerMs);
        timer.unref();
        this.#socket.once('data', () => clearTimeout(timer));
        this.#socket.once('close', () => clearTimeout(timer));
        return;
      }
      this.#state = St.Closed;
      this.#socket.end();
    }
  }

  /** Runs `fn` when the client connection closes. */
  onClose(fn: () => void): void {
    this.#socket.once('close', fn);
  }

  #onData(chunk: Buffer): void {
    if (this.#state === St.Body) return this.#consumeBody(chunk, 0);
    if (this.#state === St.Closed || this.#state === St.Tunnel) return;
    this.#pending = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    if (this.#state === St.Waiting) {
      // Pipelined requests wait for the current response; don't buffer without bound.
      if (this.#pending.length > MAX_HEAD_BYTES * 4) this.#socket.pause();
      return;
    }
    this.#parse();
  }

  #parse(): void {
    const buf = this.#pending;
    if (!buf || buf.length === 0) return;
    const end = buf.indexOf(CRLFCRLF);
    if (end < 0) {
      if (buf.length > MAX_HEAD_BYTES) return this.#reject(431, 'request head too large');
      if (buf.indexOf(LFLF) >= 0) return this.#reject(400, 'bare LF');
      if (!this.#headTimer) this.#headTimer = setTimeout(() => this.#reject(408, 'request head not received in time'), this.#vip.spec.timeouts.httpRequest * 1000);
      return;
    }
    if (end > MAX_HEAD_BYTES) return this.#reject(431, 'request head too large');
    if (this.#headTimer) clearTimeout(this.#headTimer);
    this.#headTimer = null;
    let head: RequestHead;
    try {
      head = parseRequestHead(buf.toString('latin1', 0, end));
    } catch (err) {
      if (err instanceof HeadError) return this.#reject(err.status, err.message);
      throw err;
    }
    const rest = buf.subarray(end + 4);
    this.#pending = null;
    this.#start(head, rest);
  }

  #start(head: RequestHead, rest: Buffer): void {
    const vip = this.#vip;
    this.#head = head;
    this.#closeAfter = head.close || this.#draining;
    this.#prefix = [];
    this.#prefixLen = 0;
    this.#dispatched = false;
    this.#streamed = false;
    this.#reqDone = false;
    this.#tried = null;
    this.#attempts = 0;
    this.#responseStarted = false;
    this.#decoder = null;
    if (vip.spec.forceHttps) {
      const location = httpsLocation(head.host, vip.spec.ipAddress, head.target);
      if (location === null) return this.#reject(400, 'invalid Host');
      // A body we would have to skip is not worth reading: close after the redirect instead.
      if (head.chunked || head.contentLength > 0) this.#closeAfter = true;
      return this.#local(vip.spec.redirectCode, `Moved to ${location}\n`, `Location: ${location}\r\n`);
    }
    const choice = vip.choose(this.#client, vip.cookieName === null ? undefined : this.#cookie(head, vip.cookieName));
    if (choice === 'queue') return this.#queue(head, rest);
    if (!choice) {
      if (head.chunked || head.contentLength > 0) this.#closeAfter = true;
      if (vip.fallbackPage) return this.#local(503, MAINTENANCE_PAGE, '', MAINTENANCE_PAGE_TYPE);
      return this.#local(503, 'Service Unavailable: no real server can take this request\n');
    }
    this.#server = choice.server;
    this.#setCookie = choice.setCookie;
    this.#requestHead = upstreamRequestHead(head, { cookieName: vip.cookieName, forwardedFor: vip.spec.forwardedFor, client: this.#client, tls: this.#tls, vipAddress: vip.spec.ipAddress });
    if (head.expectContinue && (head.chunked || head.contentLength > 0)) this.#socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    if (head.chunked) {
      this.#reqScanner = new ChunkScanner();
      this.#state = St.Body;
      this.#consumeBody(rest, 0);
    } else if (head.contentLength > 0) {
      this.#reqScanner = null;
      this.#reqRemaining = head.contentLength;
      this.#state = St.Body;
      this.#consumeBody(rest, 0);
    } else {
      this.#reqDone = true;
      this.#state = St.Waiting;
      if (rest.length > 0) this.#pending = rest;
      this.#dispatch(choice.server);
    }
  }

  /**
   * Every server is at its maxConnections: the request waits (limits.queueTimeout) and starts
   * again when one has room. Bytes that arrive meanwhile wait in #pending, as pipelined ones do.
   */
  #queue(head: RequestHead, rest: Buffer): void {
    this.#state = St.Waiting;
    this.#cancelWait = this.#vip.wait(
      () => {
        this.#cancelWait = null;
        if (this.#state === St.Closed) return;
        const more = this.#pending;
        this.#pending = null;
        this.#start(head, more ? Buffer.concat([rest, more]) : rest);
      },
      () => {
        this.#cancelWait = null;
        this.#reqDone = !(head.chunked || head.contentLength > 0);
        this.#head = head;
        this.#local(503, 'Service Unavailable: every real server is at its connection limit\n');
      },
    );
  }

  #cookie(head: RequestHead, name: string): string | undefined {
    for (let i = 0; i < head.lower.length; i++) {
      if (head.lower[i] !== 'cookie') continue;
      const v = cookieValue(head.values[i], name);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  #consumeBody(buf: Buffer, start: number): void {
    let stop: number;
    if (this.#reqScanner) {
      try {
        stop = this.#reqScanner.scan(buf, start, buf.length);
      } catch (err) {
        if (!(err instanceof ChunkError)) throw err;
        if (this.#dispatched) return this.#abort();
        return this.#reject(400, err.message);
      }
      if (this.#reqScanner.done) this.#reqDone = true;
    } else {
      stop = Math.min(buf.length, start + this.#reqRemaining);
      this.#reqRemaining -= stop - start;
      if (this.#reqRemaining === 0) this.#reqDone = true;
    }
    const part = start === 0 && stop === buf.length ? buf : buf.subarray(start, stop);
    if (this.#reqDone) {
      this.#state = St.Waiting;
      if (stop < buf.length) this.#pending = buf.subarray(stop);
    }
    if (!this.#dispatched) {
      if (part.length > 0) {
        this.#prefix.push(part);
        this.#prefixLen += part.length;
      }
      if (this.#reqDone || this.#prefixLen >= BODY_PREFIX) this.#dispatch(this.#server as UpstreamServer);
      return;
    }
    if (part.length > 0) {
      this.#streamed = true;
      const conn = this.#conn;
      if (conn && !conn.socket.write(part)) {
        this.#socket.pause();
        conn.socket.once('drain', () => this.#socket.resume());
      }
    }
  }

  #dispatch(server: UpstreamServer): void {
    const vip = this.#vip;
    const head = this.#head as RequestHead;
    this.#dispatched = true;
    this.#attempts++;
    this.#server = server;
    server.active++;
    server.counters.requests.inc();
    const conn = server.rawPool.acquire(server, server.port ?? this.#socket.localPort ?? 0, vip.connectTimeoutMs, headerFor(vip.spec.sendProxy, this.#socket));
    this.#conn = conn;
    conn.begin(this, head.method, vip.serverTimeoutMs);
    const out = this.#prefix.length === 0 ? this.#requestHead : [this.#requestHead, ...this.#prefix];
    if (typeof out === 'string') conn.socket.write(out, 'latin1');
    else {
      conn.socket.cork();
      conn.socket.write(out[0] as string, 'latin1');
      for (let i = 1; i < out.length; i++) conn.socket.write(out[i] as Buffer);
      conn.socket.uncork();
    }
    if (!this.#reqDone) {
      // The rest of the body waits until the server is reached, so a failed connect loses nothing.
      if (conn.connected) return;
      this.#socket.pause();
      conn.socket.once(server.reEncrypt ? 'secureConnect' : 'connect', () => {
        if (this.#conn === conn) this.#socket.resume();
      });
    }
  }

  onHead(res: ResponseHead): void {
    const vip = this.#vip;
    vip.counters.responses[Math.floor(res.status / 100)]?.inc();
    this.#server?.counters.responses[Math.floor(res.status / 100)]?.inc();
    this.#responseStarted = true;
    if (res.status === 101) {
      this.#headOut = null;
      this.#socket.write(upgradeResponseHead(res), 'latin1');
      return;
    }
    const cookie = this.#setCookie && vip.cookieName !== null ? persistenceSetCookie(vip.cookieName, this.#server?.cookieValue ?? '', vip.cookieMaxAge, this.#tls) : null;
    // A client still sending a body we no longer read cannot keep the connection.
    const out = clientResponseHead(res, this.#head as RequestHead, this.#closeAfter || !this.#reqDone, cookie, this.#tls ? vip.hsts : null);
    this.#closeAfter = out.close;
    if (out.dechunk) this.#decoder = new ChunkScanner();
    // Held until the body bytes read with it are known, so both leave in one write.
    this.#headOut = out.head;
  }

  #flushHead(): void {
    const head = this.#headOut;
    if (head === null) return;
    this.#headOut = null;
    this.#socket.write(head, 'latin1');
  }

  onChunkEnd(): void {
    this.#flushHead();
  }

  onBody(buf: Buffer, from: number, to: number): boolean {
    if (from === to) return true;
    const head = this.#headOut;
    if (head !== null && !this.#decoder && to - from <= MERGE_LIMIT) {
      this.#headOut = null;
      const out = Buffer.allocUnsafe(head.length + (to - from));
      out.write(head, 0, 'latin1');
      buf.copy(out, head.length, from, to);
      return this.#socket.write(out);
    }
    this.#flushHead();
    if (this.#decoder) {
      let ok = true;
      this.#decoder.scan(buf, from, to, (b, s, e) => {
        ok = this.#socket.write(b.subarray(s, e)) && ok;
      });
      return ok;
    }
    return this.#socket.write(from === 0 && to === buf.length ? buf : buf.subarray(from, to));
  }

  onEnd(reusable: boolean): void {
    this.#flushHead();
    const conn = this.#conn as UpstreamConn;
    const server = this.#server as UpstreamServer;
    this.#conn = null;
    server.active--;
    // A server that answered before the whole request body was sent may still be reading it.
    if (reusable && this.#reqDone) (conn.home ?? server.rawPool).release(conn);
    else conn.destroy();
    this.#next();
  }

  onUpgrade(rest: Buffer): void {
    const conn = this.#conn as UpstreamConn;
    this.#state = St.Tunnel;
    this.#socket.setTimeout(this.#vip.clientTimeoutMs);
    if (rest.length > 0) this.#socket.write(rest);
    if (this.#pending) conn.socket.write(this.#pending);
    this.#pending = null;
    this.#socket.removeAllListeners('data');
    this.#socket.removeAllListeners('drain');
    this.#socket.pipe(conn.socket);
    conn.socket.pipe(this.#socket);
    conn.socket.once('close', () => this.#socket.destroy());
    this.#socket.once('close', () => conn.socket.destroy());
    this.#socket.resume();
  }

  onError(code: string, responded: boolean): void {
    const server = this.#server as UpstreamServer;
    const conn = this.#conn;
    this.#conn = null;
    server.active--;
    if (this.#state === St.Closed) return;
    if (this.#state === St.Tunnel || this.#responseStarted) return this.#abort();
    this.#tried ??= new Set();
    const next = retryTarget(this.#vip, this.#client, server, this.#tried, {
      code,
      responded,
      connected: conn?.connected ?? false,
      reused: conn?.reused ?? false,
      streamed: this.#streamed,
      bodyComplete: this.#reqDone,
      method: (this.#head as RequestHead).method,
      attempts: this.#attempts,
    });
    if (next) {
      if (next.server !== server) this.#setCookie = next.setCookie;
      return this.#dispatch(next.server);
    }
    this.#closeAfter = true;
    if (code === 'LB_SERVER_TIMEOUT') this.#local(504, 'Gateway Timeout\n');
    else this.#local(502, `Bad Gateway: ${code}\n`);
  }

  #next(): void {
    if (this.#state === St.Closed) return;
    if (this.#closeAfter || this.#clientEnded) {
      this.#state = St.Closed;
      this.#socket.end();
      return;
    }
    if (this.#state === St.Body) {
      // The response ended before the request body: nothing more can be framed on this connection.
      this.#state = St.Closed;
      this.#socket.end();
      return;
    }
    this.#state = St.Head;
    this.#head = null;
    if (this.#socket.isPaused()) this.#socket.resume();
    if (this.#pending) this.#parse();
  }

  /** Answers from the appliance itself. */
  #local(status: number, body: string, extra = '', type = 'text/plain; charset=utf-8'): void {
    this.#vip.counters.responses[Math.floor(status / 100)]?.inc();
    if (!this.#reqDone) this.#closeAfter = true;
    const closing = this.#closeAfter || (this.#head?.minor === 0 && !this.#head.connection.has('keep-alive'));
    this.#closeAfter = closing;
    this.#socket.write(
      `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}${closing ? 'Connection: close\r\n' : ''}\r\n${body}`,
      'latin1',
    );
    if (this.#state !== St.Body) this.#state = St.Waiting;
    this.#next();
  }

  /** Refuses a malformed request: answer, then close (its framing can no longer be trusted). */
  #reject(status: number, _reason: string): void {
    if (this.#headTimer) clearTimeout(this.#headTimer);
    this.#headTimer = null;
    this.#pending = null;
    this.#closeAfter = true;
    this.#reqDone = true;
    this.#local(status, `${REASONS[status] ?? 'Error'}\n`);
  }

  #abort(): void {
    this.#headOut = null;
    if (this.#state === St.Closed && this.#socket.destroyed) return;
    this.#state = St.Closed;
    this.#cancelWait?.();
    this.#cancelWait = null;
    if (this.#headTimer) clearTimeout(this.#headTimer);
    this.#headTimer = null;
    const conn = this.#conn;
    this.#conn = null;
    if (conn) {
      (this.#server as UpstreamServer).active--;
      conn.destroy();
    }
    this.#socket.destroy();
  }
}
