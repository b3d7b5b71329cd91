// Raw HTTP/1.1 connections to real servers for the raw-socket proxy, and their keep-alive
// pool. A connection reads one response at a time: it parses the head, then finds the end
// of the body by its framing (length, chunks, or the server closing) and hands the bytes
// through untouched. A connection is pooled again only when the response ended cleanly
// where its framing said.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ChunkError, ChunkScanner } from './chunked-scanner.js';
import { HeadError, MAX_HEAD_BYTES, parseResponseHead, responseHasNoBody, type ResponseHead } from './h1-head.js';
import type { UpstreamServer } from './upstream-server.js';

const CRLFCRLF = Buffer.from('\r\n\r\n');
/** How long an idle pooled connection is kept when the server gives no Keep-Alive hint. */
const DEFAULT_IDLE_MS = 10_000;

/** Where a connection delivers one response. */
export interface ResponseSink {
  /** The final response head (interim 1xx other than 101 are dropped). */
  onHead(head: ResponseHead): void;
  /** Body bytes as framed on the wire; returns false to ask for a pause. */
  onBody(buf: Buffer, from: number, to: number): boolean;
  /** The response ended; `reusable` when the connection may serve another request. */
  onEnd(reusable: boolean): void;
  /** A 101 response: the connection becomes a tunnel; `rest` holds bytes already read past the head. */
  onUpgrade(rest: Buffer): void;
  /** The connection failed; `responded` tells whether any response byte had arrived. */
  onError(code: string, responded: boolean): void;
  /** Everything read in one go has been handed over (a good moment to write). */
  onChunkEnd(): void;
}

const enum R {
  Idle,
  Head,
  Length,
  Chunked,
  UntilClose,
  Tunnel,
}

/** One raw connection to a real server. */
export class UpstreamConn {
  readonly socket: Socket;
  readonly server: UpstreamServer;
  readonly port: number;
  connected = false;
  /** Whether this connection served a request before the current one. */
  reused = false;
  /** The pool it belongs to (a server that moved gets a new pool; old connections die with the old one). */
  home: UpstreamConnPool | null = null;
  #sink: ResponseSink | null = null;
  #state = R.Idle;
  #method = 'GET';
  #pending: Buffer | null = null;
  #remaining = 0;
  #scanner: ChunkScanner | null = null;
  #responded = false;
  #head: ResponseHead | null = null;
  #idleMs = DEFAULT_IDLE_MS;
  #connectTimer: NodeJS.Timeout | null = null;
  #serverTimeoutMs = -1;
  /** When the connection went back to the pool (ms, performance clock). */
  idleSince = 0;

  /** Whether it opened with a PROXY protocol header (one client's: never pooled for another). */
  readonly proxied: boolean;

  constructor(server: UpstreamServer, port: number, connectTimeoutMs: number, proxyHeader: Buffer | null = null) {
    this.server = server;
    this.port = port;
    this.proxied = proxyHeader !== null;
    const options = { host: server.address, port, noDelay: true };
    if (proxyHeader === null) this.socket = server.reEncrypt ? tlsConnect({ ...options, rejectUnauthorized: false }) : netConnect(options);
    else {
      // The header goes first on the TCP connection, before any TLS handshake.
      const raw = netConnect(options);
      raw.write(proxyHeader);
      if (server.reEncrypt) {
        const secure = tlsConnect({ socket: raw, rejectUnauthorized: false });
        raw.on('error', (err) => secure.destroy(err));
        this.socket = secure;
      } else this.socket = raw;
    }
    this.#connectTimer = setTimeout(() => this.#fail('LB_CONNECT_TIMEOUT'), connectTimeoutMs);
    this.socket.once(server.reEncrypt ? 'secureConnect' : 'connect', () => {
      this.connected = true;
      if (this.#connectTimer) clearTimeout(this.#connectTimer);
      this.#connectTimer = null;
      server.trackSocket(this.socket);
    });
    this.socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.socket.on('end', () => this.#onEnd());
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.#fail(err.code ?? 'EIO'));
    this.socket.on('close', () => this.#fail('ECONNRESET'));
    this.socket.on('timeout', () => this.#fail(this.#state === R.Idle ? 'LB_IDLE' : 'LB_SERVER_TIMEOUT'));
  }

  /** Starts an exchange: the response to `method` goes to `sink`. */
  begin(sink: ResponseSink, method: string, serverTimeoutMs: number): void {
    this.#sink = sink;
    this.#method = method;
    this.#state = R.Head;
    this.#responded = false;
    // Re-arming a socket timeout allocates a timer: only when the VIP's value changed.
    if (this.#serverTimeoutMs !== serverTimeoutMs) {
      this.#serverTimeoutMs = serverTimeoutMs;
      this.socket.setTimeout(serverTimeoutMs);
    }
  }

  /** Pauses reading the response (the client is slow). */
  pause(): void {
    this.socket.pause();
  }

  /** Resumes reading the response. */
  resume(): void {
    if (this.socket.isPaused()) this.socket.resume();
  }

  /** Abandons the connection. */
  destroy(): void {
    this.#sink = null;
    this.socket.destroy();
  }

  /** The idle time to keep this connection pooled. */
  get idleMs(): number {
    return this.#idleMs;
  }

  #onData(chunk: Buffer): void {
    const sink = this.#sink;
    if (!sink || this.#state === R.Idle) {
      // Bytes nobody asked for: the connection cannot be trusted any more.
      this.destroy();
      return;
    }
    if (this.#state === R.Tunnel) return;
    this.#responded = true;
    let buf = chunk;
    if (this.#pending) {
      buf = Buffer.concat([this.#pending, chunk]);
      this.#pending = null;
    }
    let i = 0;
    try {
      while (i < buf.length && this.#sink === sink) {
        if (this.#state === R.Head) {
          const end = buf.indexOf(CRLFCRLF, i);
          if (end < 0) {
            if (buf.length - i > MAX_HEAD_BYTES) throw new HeadError(502, 'response head too large');
            this.#pending = buf.subarray(i);
            return;
          }
          const head = parseResponseHead(buf.toString('latin1', i, end));
          i = end + 4;
          if (head.status < 200 && head.status !== 101) continue;
          this.#head = head;
          this.#readKeepAliveHint(head);
          sink.onHead(head);
          if (head.status === 101) {
            this.#state = R.Tunnel;
            this.socket.removeAllListeners('data');
            this.socket.setTimeout(0);
            this.#serverTimeoutMs = 0;
            sink.onUpgrade(buf.subarray(i));
            return;
          }
          if (responseHasNoBody(this.#method, head.status)) this.#finish(i === buf.length);
          else if (head.chunked) {
            this.#state = R.Chunked;
            this.#scanner = new ChunkScanner();
          } else if (head.contentLength >= 0) {
            this.#state = R.Length;
            this.#remaining = head.contentLength;
            if (this.#remaining === 0) this.#finish(i === buf.length);
          } else this.#state = R.UntilClose;
        } else if (this.#state === R.Length) {
          const take = Math.min(this.#remaining, buf.length - i);
          const more = sink.onBody(buf, i, i + take);
          i += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#finish(i === buf.length);
          else if (!more) this.socket.pause();
        } else if (this.#state === R.Chunked) {
          const scanner = this.#scanner as ChunkScanner;
          const stop = scanner.scan(buf, i, buf.length);
          const more = sink.onBody(buf, i, stop);
          i = stop;
          if (scanner.done) this.#finish(i === buf.length);
          else if (!more) this.socket.pause();
        } else if (this.#state === R.UntilClose) {
          if (!sink.onBody(buf, i, buf.length)) this.socket.pause();
          i = buf.length;
        } else {
          // Bytes after a complete response: not a connection to reuse.
          this.destroy();
          return;
        }
      }
      if (this.#sink === sink) sink.onChunkEnd();
    } catch (err) {
      if (err instanceof HeadError || err instanceof ChunkError) this.#fail('LB_BAD_RESPONSE');
      else throw err;
    }
  }

  #readKeepAliveHint(head: ResponseHead): void {
    const at = head.lower.indexOf('keep-alive');
    const m = at >= 0 ? /timeout=(\d+)/.exec(head.values[at] as string) : null;
    // Leave a second of margin before the server's own idle timeout, as node's agent does.
    this.#idleMs = m ? Math.max(0, Number(m[1]) * 1000 - 1000) : DEFAULT_IDLE_MS;
  }

  #finish(clean: boolean): void {
    const sink = this.#sink;
    const head = this.#head;
    this.#state = R.Idle;
    this.#sink = null;
    this.#scanner = null;
    if (this.socket.isPaused()) this.socket.resume();
    const reusable = clean && head !== null && !head.close && this.#idleMs > 0 && !this.server.removed;
    sink?.onEnd(reusable);
  }

  #onEnd(): void {
    if (this.#state === R.UntilClose && this.#sink) {
      this.#finish(false);
      this.socket.destroy();
      return;
    }
    this.#fail('ECONNRESET');
  }

  #fail(code: string): void {
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
    const sink = this.#sink;
    this.#sink = null;
    this.#state = R.Idle;
    if (!this.socket.destroyed) this.socket.destroy();
    sink?.onError(code, this.#responded);
  }
}

/** The idle raw connections to one real server, by port. */
export class UpstreamConnPool {
  readonly #idle = new Map<number, UpstreamConn[]>();
  #closed = false;

  /** A pooled connection to `port`, or a new one. */
  acquire(server: UpstreamServer, port: number, connectTimeoutMs: number, proxyHeader: Buffer | null = null): UpstreamConn {
    if (proxyHeader !== null) {
      // A connection that named one client to the server serves that request only.
      const conn = new UpstreamConn(server, port, connectTimeoutMs, proxyHeader);
      conn.home = this;
      return conn;
    }
    const list = this.#idle.get(port);
    const now = performance.now();
    while (list && list.length > 0) {
      const conn = list.pop() as UpstreamConn;
      if (conn.socket.destroyed || conn.socket.readyState !== 'open') continue;
      // Past the server's keep-alive time the server may be closing it: don't race it.
      if (now - conn.idleSince > conn.idleMs) {
        conn.destroy();
        continue;
      }
      conn.reused = true;
      return conn;
    }
    const conn = new UpstreamConn(server, port, connectTimeoutMs);
    conn.home = this;
    return conn;
  }

  /** Keeps a connection for the next request, or closes it. */
  release(conn: UpstreamConn): void {
    if (this.#closed || conn.socket.destroyed || conn.proxied) {
      conn.destroy();
      return;
    }
    let list = this.#idle.get(conn.port);
    if (!list) {
      list = [];
      this.#idle.set(conn.port, list);
    }
    conn.idleSince = performance.now();
    list.push(conn);
  }

  /** Closes idle connections; connections in use close when their exchange ends. */
  close(): void {
    this.#closed = true;
    for (const list of this.#idle.values()) for (const c of list) c.destroy();
    this.#idle.clear();
  }
}
