// The plugin's gRPC transport (provider/terraform/grpc-unary-server.ts) against two
// independent clients: @grpc/grpc-js (a complete gRPC implementation, as Go's client is)
// for calls, statuses and mutual TLS, and raw node:http2 for the frames a gRPC client would
// not send (compressed, truncated, two messages, not gRPC at all).
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { credentials, makeGenericClientConstructor, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { serviceDefinition } from '../../provider/terraform/grpc-services.js';
import { GrpcError, GrpcStatus, UnaryGrpcServer, type UnaryHandler } from '../../provider/terraform/grpc-unary-server.js';
import { createTlsIdentity, type TlsIdentity } from '../../provider/terraform/tls-identity.js';

const HEALTH = 'grpc.health.v1.Health';
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function serve(check: UnaryHandler, opts: { maxMessage?: number; tls?: boolean } = {}) {
  const server = new UnaryGrpcServer({ maxMessage: opts.maxMessage ?? 1024 * 1024 });
  server.addService(serviceDefinition(HEALTH), { Check: check });
  const plugin = createTlsIdentity();
  const host = createTlsIdentity();
  const tls = opts.tls === false ? null : { key: plugin.keyPem, cert: plugin.certPem, clientCa: host.certPem };
  const port = await server.listen('127.0.0.1', tls);
  open.push(server);
  return { server, port, plugin, host };
}

function grpcClient(service: string, port: number, plugin: TlsIdentity, host: TlsIdentity | null): Client {
  const Ctor = makeGenericClientConstructor(serviceDefinition(service), service);
  const creds = host ? credentials.createSsl(Buffer.from(plugin.certPem), Buffer.from(host.keyPem), Buffer.from(host.certPem)) : credentials.createSsl(Buffer.from(plugin.certPem));
  const c = new Ctor(`127.0.0.1:${port}`, creds, { 'grpc.ssl_target_name_override': 'localhost' }) as Client;
  open.push(c);
  return c;
}

function call<T>(c: Client, method: string, req: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => (c as unknown as Record<string, (r: unknown, cb: (e: Error | null, v: T) => void) => void>)[method]!(req, (e, v) => (e ? reject(e) : resolve(v))));
}

async function failure(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('the call succeeded');
}

/** One raw HTTP/2 request: its response headers, body and trailers. */
function raw(session: ClientHttp2Session, headers: Record<string, string>, body: Buffer): Promise<{ headers: Record<string, unknown>; body: Buffer; trailers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': `/${HEALTH}/Check`, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    let head: Record<string, unknown> = {};
    let trailers: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (head = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ headers: head, body: Buffer.concat(chunks), trailers }));
    req.on('error', reject);
    req.end(body);
  });
}

function frame(message: Buffer, compressed = 0, length = message.length): Buffer {
  const f = Buffer.alloc(5);
  f[0] = compressed;
  f.writeUInt32BE(length, 1);
  return Buffer.concat([f, message]);
}

/** `Check { service: "x" }` in protobuf: field 1, length-delimited. */
const CHECK_X = Buffer.from([0x0a, 0x01, 0x78]);

describe('the plugin gRPC transport', () => {
  it('answers many calls in parallel on one connection, each with its own response', async () => {
    const { port, plugin, host } = await serve(async (req) => {
      await new Promise((r) => setTimeout(r, Math.random() * 5));
      return { status: req.service === 'down' ? 'NOT_SERVING' : 'SERVING' };
    });
    const c = grpcClient(HEALTH, port, plugin, host);
    const asks = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? 'down' : `s${i}`));
    const answers = await Promise.all(asks.map((service) => call<{ status: string }>(c, 'Check', { service })));
    expect(answers.map((a) => a.status)).toEqual(asks.map((s) => (s === 'down' ? 'NOT_SERVING' : 'SERVING')));
  });

  it('answers a method it does not serve with UNIMPLEMENTED, a failed handler with INTERNAL and its message, a GrpcError with its code', async () => {
    const { port, plugin, host } = await serve(async (req) => {
      if (req.service === 'boom') throw new Error('naïve 100% failure\nsecond line');
      if (req.service === 'bad') throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, 'no such service');
      return { status: 'SERVING' };
    });
    const health = grpcClient(HEALTH, port, plugin, host);
    const boom = await failure(call(health, 'Check', { service: 'boom' }));
    expect(boom.code).toBe(status.INTERNAL);
    expect(boom.details).toBe('naïve 100% failure\nsecond line');
    expect((await failure(call(health, 'Check', { service: 'bad' }))).code).toBe(status.INVALID_ARGUMENT);
    const provider = grpcClient('tfplugin6.Provider', port, plugin, host);
    const unknown = await failure(call(provider, 'GetProviderSchema', {}));
    expect(unknown.code).toBe(status.UNIMPLEMENTED);
    expect(unknown.details).toMatch(/GetProviderSchema/);
    // And it still serves.
    expect(await call(health, 'Check', { service: 'ok' })).toEqual({ status: 'SERVING' });
  });

  it('refuses a request above the message limit with RESOURCE_EXHAUSTED and goes on serving', async () => {
    const { port, plugin, host } = await serve(async () => ({ status: 'SERVING' }), { maxMessage: 1000 });
    const c = grpcClient(HEALTH, port, plugin, host);
    const big = await failure(call(c, 'Check', { service: 'x'.repeat(200_000) }));
    expect(big.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(await call(c, 'Check', { service: 'x'.repeat(900) })).toEqual({ status: 'SERVING' });
  });

  it('serves only the client certificate it was given', async () => {
    const { port, plugin, host } = await serve(async () => ({ status: 'SERVING' }));
    expect(await call(grpcClient(HEALTH, port, plugin, host), 'Check', {})).toEqual({ status: 'SERVING' });
    await expect(call(grpcClient(HEALTH, port, plugin, createTlsIdentity()), 'Check', {})).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(call(grpcClient(HEALTH, port, plugin, null), 'Check', {})).rejects.toMatchObject({ code: status.UNAVAILABLE });
  });

  it('refuses frames a unary call cannot carry, each with its status, and leaves the connection serving', async () => {
    let handled = 0;
    const { port } = await serve(
      async () => {
        handled++;
        return { status: 'SERVING' };
      },
      { tls: false },
    );
    const session = connect(`http://127.0.0.1:${port}`);
    open.push(session);
    const cases: [string, Record<string, string>, Buffer, number][] = [
      ['compressed', {}, frame(CHECK_X, 1), GrpcStatus.UNIMPLEMENTED],
      ['truncated', {}, frame(CHECK_X, 0, 10), GrpcStatus.INVALID_ARGUMENT],
      ['two messages', {}, Buffer.concat([frame(CHECK_X), frame(CHECK_X)]), GrpcStatus.INVALID_ARGUMENT],
      ['no message', {}, Buffer.alloc(0), GrpcStatus.INVALID_ARGUMENT],
      ['not protobuf', {}, frame(Buffer.from([0x0a, 0x50, 0x01])), GrpcStatus.INVALID_ARGUMENT],
    ];
    for (const [name, headers, body, code] of cases) {
      const r = await raw(session, headers, body);
      const grpcStatus = r.trailers['grpc-status'] ?? r.headers['grpc-status'];
      expect({ name, status: r.headers[':status'], grpcStatus: Number(grpcStatus) }).toEqual({ name, status: 200, grpcStatus: code });
      expect(r.body.length).toBe(0);
    }
    expect(handled).toBe(0);
    const notGrpc = await raw(session, { 'content-type': 'application/json' }, Buffer.from('{}'));
    expect(notGrpc.headers[':status']).toBe(415);
    const ok = await raw(session, {}, frame(CHECK_X));
    expect({ status: ok.headers[':status'], contentType: ok.headers['content-type'], grpcStatus: ok.trailers['grpc-status'] }).toEqual({ status: 200, contentType: 'application/grpc', grpcStatus: '0' });
    // SERVING is enum value 1: field 1, varint 1.
    expect(ok.body).toEqual(frame(Buffer.from([0x08, 0x01])));
    expect(handled).toBe(1);
  });

  it('close lets a call in flight finish, then every connection is gone', async () => {
    let release!: () => void;
    const { server, port, plugin, host } = await serve(async () => {
      await new Promise<void>((r) => (release = r));
      return { status: 'SERVING' };
    });
    const c = grpcClient(HEALTH, port, plugin, host);
    const inFlight = call(c, 'Check', {});
    await expect.poll(() => release).toBeTypeOf('function');
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(false);
    release();
    expect(await inFlight).toEqual({ status: 'SERVING' });
    await closing;
    expect(closed).toBe(true);
    await expect(call(grpcClient(HEALTH, port, plugin, host), 'Check', {})).rejects.toMatchObject({ code: status.UNAVAILABLE });
  });
});
