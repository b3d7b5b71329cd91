// Serves the provider as a go-plugin gRPC plugin: tfplugin6.Provider, go-plugin's
// controller (Shutdown) and the health service, on 127.0.0.1 over mutual TLS (AutoMTLS)
// when terraform passes its client certificate, then prints the handshake line.
//
// @grpc/grpc-js was chosen because it is the maintained pure-JavaScript gRPC (no native
// addon to build, works on Node 20, 22 and 24) and speaks HTTP/2 with ALPN h2 as Go's gRPC
// client expects.
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { serviceDefinition } from './grpc-services.js';
import { handshakeLine, negotiate } from './handshake.js';
import { StderrLogger } from './log.js';
import type { ProviderService } from './provider-service.js';
import { createTlsIdentity } from './tls-identity.js';

/** Large plans carry big DynamicValues: well above grpc-js' 4 MiB default. */
const MAX_MESSAGE = 256 * 1024 * 1024;

type Handler = (req: Record<string, unknown>) => Promise<Record<string, unknown>>;

function unary(log: StderrLogger, name: string, fn: Handler) {
  return (call: ServerUnaryCall<Record<string, unknown>, Record<string, unknown>>, callback: sendUnaryData<Record<string, unknown>>) => {
    const started = performance.now();
    fn(call.request).then(
      (res) => {
        log.trace('rpc', { rpc: name, type: call.request.type_name, ms: Math.round(performance.now() - started) });
        callback(null, res);
      },
      (err: unknown) => {
        log.error('rpc failed', { rpc: name, error: (err as Error)?.stack ?? String(err) });
        callback({ code: status.INTERNAL, details: (err as Error)?.message ?? String(err) });
      },
    );
  };
}

/** Starts the plugin: never returns until the process exits. */
export async function servePlugin(): Promise<void> {
  const version = negotiate(process.env);
  const log = new StderrLogger();
  // terraform handles Ctrl-C itself and asks us to stop with StopProvider.
  process.on('SIGINT', () => log.debug('SIGINT ignored: terraform sends StopProvider'));

  const server = new Server({ 'grpc.max_receive_message_length': MAX_MESSAGE, 'grpc.max_send_message_length': MAX_MESSAGE });
  let exiting = false;
  const exit = (why: string) => {
    if (exiting) return;
    exiting = true;
    log.debug('exiting', { why });
    void (loaded ?? Promise.resolve(undefined)).then((p) => p?.close()).finally(() => {
      server.tryShutdown(() => process.exit(0));
      setTimeout(() => process.exit(0), 1000).unref();
    });
  };
  // The resource definitions load once the handshake line is out, while terraform connects
  // and checks our health: the first Provider call waits for them, the handshake does not.
  let loaded: Promise<ProviderService> | undefined;
  const load = (): Promise<ProviderService> =>
    (loaded ??= import('./provider-service.js').then(({ ProviderService }) => {
      const service = new ProviderService(log, () => exit('StopProvider'));
      handlers = service.handlers();
      return service;
    }));
  let handlers: ReturnType<ProviderService['handlers']> = {};

  const providerService = serviceDefinition('tfplugin6.Provider');
  const impl: UntypedServiceImplementation = {};
  for (const name of Object.keys(providerService)) {
    impl[name] = unary(log, name, async (req) => {
      await load();
      const handler = handlers[name];
      if (!handler) throw new Error(`no handler for ${name}`);
      return handler(req);
    });
  }
  server.addService(providerService, impl);
  server.addService(serviceDefinition('plugin.GRPCController'), {
    Shutdown: unary(log, 'Shutdown', async () => {
      setImmediate(() => exit('GRPCController.Shutdown'));
      return {};
    }),
  });
  server.addService(serviceDefinition('grpc.health.v1.Health'), {
    Check: unary(log, 'Check', async (req) => ({ status: req.service === '' || req.service === 'plugin' ? 'SERVING' : 'SERVICE_UNKNOWN' })),
  });

  const clientCert = process.env.PLUGIN_CLIENT_CERT;
  const identity = clientCert ? createTlsIdentity() : null;
  const credentials = identity
    ? ServerCredentials.createSsl(Buffer.from(clientCert!), [{ private_key: Buffer.from(identity.keyPem), cert_chain: Buffer.from(identity.certPem) }], true)
    : ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))));

  // The host may die without telling us (kill -9): then our parent changes, and we go too.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) exit('terraform is gone');
  }, 1000).unref();

  process.stdout.write(handshakeLine(version, `127.0.0.1:${port}`, identity?.certDer ?? null));
  const cpu = process.cpuUsage();
  log.debug('serving', { port, tls: !!identity, startup_ms: Math.round(performance.now()), startup_cpu_ms: Math.round((cpu.user + cpu.system) / 1000) });
  setImmediate(() => void load());
}
