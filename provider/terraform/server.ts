// Serves the provider as a go-plugin gRPC plugin: tfplugin6.Provider, go-plugin's
// controller (Shutdown) and the health service, on 127.0.0.1 over mutual TLS (AutoMTLS)
// when terraform passes its client certificate, then prints the handshake line.
//
// The transport is grpc-unary-server.ts on node:http2 (ALPN h2, as Go's gRPC client
// expects): every call terraform makes is unary, and grpc-js' per-call machinery cost as
// much CPU as the rest of a call (see that module).
import { serviceDefinition } from './grpc-services.js';
import { GrpcError, GrpcStatus, UnaryGrpcServer, type UnaryHandler } from './grpc-unary-server.js';
import { handshakeLine, negotiate } from './handshake.js';
import { StderrLogger } from './log.js';
import type { ProviderService } from './provider-service.js';
import { createTlsIdentity } from './tls-identity.js';

/** Large plans carry big DynamicValues: well above gRPC's usual 4 MiB limit. */
const MAX_MESSAGE = 256 * 1024 * 1024;

/** Logs each call's time at trace level. */
function traced(log: StderrLogger, name: string, fn: UnaryHandler): UnaryHandler {
  return async (req) => {
    const started = performance.now();
    const res = await fn(req);
    log.trace('rpc', { rpc: name, type: req.type_name, ms: Math.round(performance.now() - started) });
    return res;
  };
}

/** What serves tfplugin6.Provider's calls (provider-service.ts; the scale bench serves a stand-in). */
export interface PluginService {
  handlers(): ReturnType<ProviderService['handlers']>;
  close(): Promise<void>;
}

/** Makes the service once the handshake is out; `onStop` ends the process. */
export type ServiceFactory = (log: StderrLogger, onStop: () => void) => Promise<PluginService>;

const providerServiceFactory: ServiceFactory = async (log, onStop) => new (await import('./provider-service.js')).ProviderService(log, onStop);

/** Starts the plugin: never returns until the process exits. */
export async function servePlugin(makeService: ServiceFactory = providerServiceFactory): Promise<void> {
  const version = negotiate(process.env);
  const log = new StderrLogger();
  // terraform handles Ctrl-C itself and asks us to stop with StopProvider.
  process.on('SIGINT', () => log.debug('SIGINT ignored: terraform sends StopProvider'));

  const server = new UnaryGrpcServer({
    maxMessage: MAX_MESSAGE,
    onError: (path, err) => log.error('rpc failed', { rpc: path, error: (err as Error)?.stack ?? String(err) }),
  });
  let exiting = false;
  const exit = (why: string) => {
    if (exiting) return;
    exiting = true;
    log.debug('exiting', { why });
    void (loaded ?? Promise.resolve(undefined)).then((p) => p?.close()).finally(() => {
      void server.close().then(() => process.exit(0));
      setTimeout(() => process.exit(0), 1000).unref();
    });
  };
  // The resource definitions load once the handshake line is out, while terraform connects
  // and checks our health: the first Provider call waits for them, the handshake does not.
  let loaded: Promise<PluginService> | undefined;
  const load = (): Promise<PluginService> =>
    (loaded ??= makeService(log, () => exit('StopProvider')).then((service) => {
      handlers = service.handlers();
      return service;
    }));
  let handlers: ReturnType<ProviderService['handlers']> = {};

  const providerService = serviceDefinition('tfplugin6.Provider');
  const impl: Record<string, UnaryHandler> = {};
  for (const name of Object.keys(providerService)) {
    impl[name] = traced(log, name, async (req) => {
      const handler = handlers[name] ?? (await load(), handlers[name]);
      if (!handler) throw new GrpcError(GrpcStatus.UNIMPLEMENTED, `no handler for ${name}`);
      return handler(req);
    });
  }
  server.addService(providerService, impl);
  server.addService(serviceDefinition('plugin.GRPCController'), {
    Shutdown: async () => {
      setImmediate(() => exit('GRPCController.Shutdown'));
      return {};
    },
  });
  server.addService(serviceDefinition('grpc.health.v1.Health'), {
    Check: async (req) => ({ status: req.service === '' || req.service === 'plugin' ? 'SERVING' : 'SERVICE_UNKNOWN' }),
  });

  const clientCert = process.env.PLUGIN_CLIENT_CERT;
  const identity = clientCert ? createTlsIdentity() : null;
  const port = await server.listen('127.0.0.1', identity ? { key: identity.keyPem, cert: identity.certPem, clientCa: clientCert! } : null);

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
