// A gRPC server for unary calls only, straight on node:http2: what a Terraform provider
// plugin serves. Every tfplugin6 RPC, go-plugin's controller and the health check are
// unary, and terraform calls them over one HTTP/2 connection, hundreds per command. A call
// is a POST whose body is one length-prefixed protobuf message (1 byte compression flag, 4
// bytes big-endian length); the answer is the same framing followed by `grpc-status`
// trailers (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md).
//
// Why not @grpc/grpc-js here: under terraform, its per-call machinery (metadata,
// interceptors, call state, deadline and compression filters) was more than a quarter of the plugin's
// busy time. A no-op plan of 400 resources: the plan process busy 1.07 s with grpc-js,
// 0.78 s with this module (`--cpu-prof` of the plugin), and it no longer loads grpc-js at
// start-up, which terraform does three times per command. This module does only what a
// unary call needs. It does not enforce `grpc-timeout` (a caller's deadline still ends
// its own wait). The Pulumi plugin keeps grpc-js: it is also a gRPC client of the engine.
import { createSecureServer, createServer, constants, type Http2Server, type Http2Session, type IncomingHttpHeaders, type SecureServerOptions, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';

/** A unary method: how its request is decoded and its response encoded. */
export interface UnaryMethodCodec {
  path: string;
  requestDeserialize(bytes: Buffer): unknown;
  responseSerialize(value: unknown): Buffer;
}

export type UnaryHandler = (request: Record<string, unknown>) => Promise<Record<string, unknown>>;

/** gRPC status codes this server answers with. */
export const GrpcStatus = { OK: 0, INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14 } as const;

/** An error a handler throws to answer with its own gRPC status instead of INTERNAL. */
export class GrpcError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** TLS for the listener: our identity, and the only client certificate accepted (mutual TLS). */
export interface MutualTls {
  key: string | Buffer;
  cert: string | Buffer;
  clientCa: string | Buffer;
}

interface Route {
  codec: UnaryMethodCodec;
  handle: UnaryHandler;
}

/** grpc-message is percent-encoded (every byte outside printable ASCII, and `%`). */
function grpcMessage(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

export class UnaryGrpcServer {
  readonly #routes = new Map<string, Route>();
  readonly #sessions = new Set<Http2Session>();
  readonly #maxMessage: number;
  readonly #onError: (path: string, err: unknown) => void;
  #server: Http2Server | undefined;

  constructor(options: { maxMessage: number; onError?: (path: string, err: unknown) => void }) {
    this.#maxMessage = options.maxMessage;
    this.#onError = options.onError ?? (() => {});
  }

  /** Serves `handlers` (by method name) for the methods of `service` (by method name). */
  addService(service: Record<string, UnaryMethodCodec>, handlers: Record<string, UnaryHandler>): void {
    for (const [name, codec] of Object.entries(service)) {
      const handle = handlers[name];
      if (handle) this.#routes.set(codec.path, { codec, handle });
    }
  }

  /** Listens on `host` (port chosen by the system) and resolves with the port. */
  async listen(host: string, tls: MutualTls | null): Promise<number> {
    const options: SecureServerOptions = { maxSessionMemory: 64, settings: { maxConcurrentStreams: 1000 } };
    const server = tls
      ? createSecureServer({ ...options, key: tls.key, cert: tls.cert, ca: tls.clientCa, requestCert: true, rejectUnauthorized: true, allowHTTP1: false, minVersion: 'TLSv1.2' })
      : createServer(options);
    this.#server = server;
    server.on('session', (session: Http2Session) => {
      this.#sessions.add(session);
      session.on('close', () => this.#sessions.delete(session));
      session.on('error', () => {});
    });
    server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => this.#call(stream, headers));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  /** Stops accepting, lets calls in flight finish, and resolves when every connection is closed. */
  close(): Promise<void> {
    const server = this.#server;
    if (!server) return Promise.resolve();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const session of this.#sessions) session.close();
    return closed;
  }

  #call(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => {});
    const path = String(headers[constants.HTTP2_HEADER_PATH] ?? '');
    const contentType = String(headers[constants.HTTP2_HEADER_CONTENT_TYPE] ?? '');
    if (headers[constants.HTTP2_HEADER_METHOD] !== 'POST' || !contentType.startsWith('application/grpc')) {
      stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    const route = this.#routes.get(path);
    if (!route) {
      stream.resume();
      this.#trailersOnly(stream, GrpcStatus.UNIMPLEMENTED, `unknown method ${path}`);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    stream.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > this.#maxMessage + 5) {
        refused = true;
        this.#trailersOnly(stream, GrpcStatus.RESOURCE_EXHAUSTED, `request larger than ${this.#maxMessage} bytes`);
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => {
      if (refused) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      if (body.length < 5) return this.#trailersOnly(stream, GrpcStatus.INVALID_ARGUMENT, 'a unary call carries exactly one message');
      if (body[0] !== 0) return this.#trailersOnly(stream, GrpcStatus.UNIMPLEMENTED, 'compressed messages are not accepted (no grpc-accept-encoding was offered)');
      const length = body.readUInt32BE(1);
      if (length !== body.length - 5) return this.#trailersOnly(stream, GrpcStatus.INVALID_ARGUMENT, 'a unary call carries exactly one message');
      let request: Record<string, unknown>;
      try {
        request = route.codec.requestDeserialize(body.subarray(5)) as Record<string, unknown>;
      } catch (err) {
        return this.#trailersOnly(stream, GrpcStatus.INVALID_ARGUMENT, `cannot decode the request: ${(err as Error).message}`);
      }
      route.handle(request).then(
        (response) => this.#answer(stream, route.codec.responseSerialize(response)),
        (err: unknown) => {
          this.#onError(path, err);
          const code = err instanceof GrpcError ? err.code : GrpcStatus.INTERNAL;
          this.#trailersOnly(stream, code, (err as Error)?.message ?? String(err));
        },
      );
    });
  }

  #answer(stream: ServerHttp2Stream, message: Buffer): void {
    if (stream.destroyed || stream.closed) return;
    const frame = Buffer.allocUnsafe(5 + message.length);
    frame[0] = 0;
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(frame);
  }

  #trailersOnly(stream: ServerHttp2Stream, code: number, message: string): void {
    if (stream.destroyed || stream.closed || stream.headersSent) return;
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': grpcMessage(message) }, { endStream: true });
  }
}
