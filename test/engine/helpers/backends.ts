// Real servers for engine tests: HTTP(S) and TCP servers on their own loopback addresses,
// in the test process, that record what reached them, so a test can prove at the backend
// what was (or was not) forwarded. kill() drops every connection at once, as a crash does.
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';

/** Listens on `host:port` (0: any free port) and answers the port it got. */
function listenOn(server: Server | NetServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as { port: number }).port));
  });
}

/** A request as the backend saw it. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  bodyBytes: number;
}

/** A running HTTP backend. */
export interface HttpBackend {
  name: string;
  host: string;
  port: number;
  seen: SeenRequest[];
  /** Connections accepted so far. */
  accepted: number;
  /** Requests being answered now. */
  inFlight: number;
  /** Connections open now. */
  readonly open: number;
  /** Ends every held (/hold) response. */
  releaseHolds(): void;
  /** Closes the listener and every connection at once (a crash); resolves with how many connections it dropped. */
  kill(): Promise<number>;
  /** Listens again on the same address and port. */
  revive(): Promise<void>;
  close(): Promise<void>;
}

/** Options of an HTTP backend. */
export interface HttpBackendOptions {
  name: string;
  host: string;
  port?: number;
  tls?: { cert: string; key: string };
}

// Routes: /echo (body back), /bytes?n=N (N bytes), /slow?ms=N, /hold (until released by the test),
// /status?code=N; anything else answers the backend's name.
function handler(b: HttpBackend, holds: Set<ServerResponse>) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const record: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, bodyBytes: 0 };
    b.seen.push(record);
    b.inFlight++;
    res.once('close', () => b.inFlight--);
    const chunks: Buffer[] = [];
    const echo = url.pathname === '/echo';
    req.on('data', (c: Buffer) => {
      record.bodyBytes += c.length;
      if (echo) chunks.push(c);
    });
    req.on('end', () => {
      res.setHeader('x-backend', b.name);
      if (echo) {
        const body = Buffer.concat(chunks);
        res.setHeader('x-body-sha256', createHash('sha256').update(body).digest('hex'));
        res.end(body);
      } else if (url.pathname === '/bytes') {
        const n = Number(url.searchParams.get('n') ?? '0');
        const block = Buffer.alloc(Math.min(n, 1 << 20), 0x61);
        res.setHeader('content-length', n);
        let left = n;
        const pump = () => {
          while (left > 0) {
            const take = Math.min(left, block.length);
            left -= take;
            if (!res.write(take === block.length ? block : block.subarray(0, take))) return res.once('drain', pump);
          }
          res.end();
        };
        pump();
      } else if (url.pathname === '/slow') {
        setTimeout(() => res.end(b.name), Number(url.searchParams.get('ms') ?? '100'));
      } else if (url.pathname === '/hold') {
        holds.add(res);
        res.flushHeaders();
      } else if (url.pathname === '/status') {
        res.statusCode = Number(url.searchParams.get('code') ?? '200');
        res.end(b.name);
      } else res.end(b.name);
    });
  };
}

/** Starts an HTTP (or HTTPS) backend. */
export async function startHttpBackend(options: HttpBackendOptions): Promise<HttpBackend> {
  const holds = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  let server: Server;
  const b: HttpBackend = {
    name: options.name,
    host: options.host,
    port: options.port ?? 0,
    seen: [],
    accepted: 0,
    inFlight: 0,
    get open() {
      return sockets.size;
    },
    releaseHolds() {
      for (const res of holds) res.end(b.name);
      holds.clear();
    },
    async kill() {
      server.close();
      const dropped = sockets.size;
      for (const s of sockets) s.destroy();
      holds.clear();
      await new Promise((r) => setImmediate(r));
      return dropped;
    },
    async revive() {
      await listen();
    },
    async close() {
      await b.kill();
    },
  };
  const make = () => {
    const h = handler(b, holds);
    server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, h) : createHttpServer(h);
    server.keepAliveTimeout = 30_000;
    // An Upgrade (WebSocket-style) request becomes an echo tunnel.
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      b.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, bodyBytes: 0 });
      // A WebSocket handshake is answered with its accept key (RFC 6455 4.2.2; HAProxy checks it).
      const key = req.headers['sec-websocket-key'];
      const accept = typeof key === 'string' ? `Sec-WebSocket-Accept: ${createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')}\r\n` : '';
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\n${accept}\r\n`);
      socket.pipe(socket);
    });
    server.on(options.tls ? 'secureConnection' : 'connection', (s: Socket) => {
      b.accepted++;
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
  };
  const listen = async () => {
    make();
    b.port = await listenOn(server, b.port, options.host);
  };
  await listen();
  return b;
}

/** A running TCP backend. */
export interface TcpBackend {
  name: string;
  host: string;
  port: number;
  accepted: number;
  /** Open connections now. */
  open: number;
  kill(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a TCP backend. `echo` sends every byte back; `hash` reads to the end and answers
 * the SHA-256 of what it read and the byte count; `name` writes its name and keeps reading.
 */
export async function startTcpBackend(options: { name: string; host: string; port?: number; mode: 'echo' | 'hash' | 'name' }): Promise<TcpBackend> {
  const sockets = new Set<Socket>();
  const b: TcpBackend = {
    name: options.name,
    host: options.host,
    port: options.port ?? 0,
    accepted: 0,
    open: 0,
    async kill() {
      server.close();
      for (const s of sockets) s.destroy();
    },
    async close() {
      await b.kill();
    },
  };
  const server: NetServer = createNetServer({ allowHalfOpen: true }, (s: Socket) => {
    b.accepted++;
    b.open++;
    sockets.add(s);
    s.once('close', () => {
      b.open--;
      sockets.delete(s);
    });
    s.on('error', () => s.destroy());
    if (options.mode === 'echo') s.pipe(s);
    else if (options.mode === 'name') {
      s.write(`${options.name}\n`);
      s.resume();
      s.on('end', () => s.end());
    } else {
      const hash = createHash('sha256');
      let n = 0;
      s.on('data', (c: Buffer) => {
        hash.update(c);
        n += c.length;
      });
      s.on('end', () => s.end(`${hash.digest('hex')} ${n}\n`));
    }
  });
  b.port = await listenOn(server, b.port, options.host);
  return b;
}

/** HTTP backends on one test file's loopback subnet, closed together. */
export function backendFleet(subnet: string): { start(name: string, last: number): Promise<HttpBackend>; closeAll(): Promise<void> } {
  const started: HttpBackend[] = [];
  return {
    async start(name, last) {
      const b = await startHttpBackend({ name, host: `${subnet}.${last}` });
      started.push(b);
      return b;
    },
    async closeAll() {
      await Promise.all(started.map((b) => b.close()));
    },
  };
}

/** A request as it reached a raw backend: its head byte for byte, and its body's length. */
export interface RawRequest {
  /** The head up to and without its final CRLFCRLF, as latin1 text (every byte kept). */
  head: string;
  /** Body bytes as framed on the wire (chunk lines included). */
  bodyBytes: number;
  /** The body as framed on the wire, as latin1 text. */
  body: string;
}

/** A backend that records the bytes it receives, before any HTTP parser could refuse or clean them. */
export interface RawHttpBackend {
  name: string;
  host: string;
  port: number;
  /** Every request head it read, in order. */
  requests: RawRequest[];
  /** Bytes received so far, on every connection. */
  received: number;
  close(): Promise<void>;
}

const FRAMING_LENGTH = /^content-length[ \t]*:[ \t]*(\d+)[ \t]*$/im;
const FRAMING_CHUNKED = /^transfer-encoding[ \t]*:.*chunked[ \t]*$/im;

/**
 * Starts a raw HTTP/1.1 backend: a TCP server that splits requests with the least parsing it
 * can (CRLFCRLF ends a head; Content-Length or a `0` chunk ends a body), records each head
 * exactly as it came and answers 200 with its name. node's own HTTP server refuses a NUL or a
 * control character itself, so it cannot show what a proxy forwarded; this one can.
 */
export async function startRawHttpBackend(options: { name: string; host: string; port?: number }): Promise<RawHttpBackend> {
  const sockets = new Set<Socket>();
  const b: RawHttpBackend = {
    name: options.name,
    host: options.host,
    port: options.port ?? 0,
    requests: [],
    received: 0,
    async close() {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
  const answer = `HTTP/1.1 200 OK\r\nX-Backend: ${options.name}\r\nContent-Length: ${options.name.length}\r\n\r\n${options.name}`;
  const server: NetServer = createNetServer((s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    let buf = '';
    s.on('data', (c: Buffer) => {
      b.received += c.length;
      buf += c.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end);
        let bodyEnd = end + 4;
        const length = FRAMING_LENGTH.exec(head);
        if (FRAMING_CHUNKED.test(head)) {
          const last = buf.indexOf('\r\n0\r\n\r\n', end + 2);
          if (last < 0) return;
          bodyEnd = last + 7;
        } else if (length) bodyEnd += Number(length[1]);
        if (buf.length < bodyEnd) return;
        b.requests.push({ head, bodyBytes: bodyEnd - end - 4, body: buf.slice(end + 4, bodyEnd) });
        buf = buf.slice(bodyEnd);
        s.write(answer);
      }
    });
  });
  b.port = await listenOn(server, b.port, options.host);
  return b;
}
