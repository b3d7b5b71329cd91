// Serves pulumirpc.ResourceProvider on 127.0.0.1 and prints the port as the first line of
// stdout, which is all the engine reads there (anything before it breaks the handshake).
//
// The service definition and message classes are the stubs that ship in @pulumi/pulumi; the
// server is @grpc/grpc-js, the pure-JavaScript gRPC those stubs are written for (no native
// addon, the same on Node 20, 22 and 24). The SDK's ready-made `provider.main` server is not
// used: it ignores provider configuration, never takes part in preview and drops detailed
// diffs (see docs/pulumi.md).
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { createLogger, type PluginLogger } from './log.js';
import { PluginError } from './errors.js';
import { providerGrpc } from './proto.js';
import { ResourceProviderService } from './provider-service.js';

/** Schemas and large state travel in single messages: well above grpc-js' 4 MiB default. */
const MAX_MESSAGE = 256 * 1024 * 1024;

type Handler = (req: never) => Promise<unknown>;

function unary(log: PluginLogger, name: string, fn: Handler) {
  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
    const started = performance.now();
    Promise.resolve()
      .then(() => fn(call.request as never))
      .then(
        (res) => {
          log.debug('rpc', { rpc: name, ms: Math.round(performance.now() - started) });
          callback(null, res);
        },
        (err: unknown) => {
          const known = err instanceof PluginError;
          // Known failures carry a message fit for the user; anything else is a bug, logged whole.
          if (!known) log.error('rpc failed', { rpc: name, error: (err as Error)?.stack ?? String(err) });
          callback({ code: known ? err.grpcStatus : status.INTERNAL, details: (err as Error)?.message ?? String(err) });
        },
      );
  };
}

/** A running plugin server. */
export interface PluginServer {
  port: number;
  /** Stops serving and closes the appliance client. */
  stop(): Promise<void>;
}

/** Starts the server; `engineAddress` (the engine passes it as the first argument) routes logs to the engine. */
export async function startPluginServer(engineAddress: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<PluginServer> {
  const log = createLogger(engineAddress, env);
  const provider = new ResourceProviderService(log, env);
  const server = new Server({ 'grpc.max_receive_message_length': MAX_MESSAGE, 'grpc.max_send_message_length': MAX_MESSAGE });
  const impl: UntypedServiceImplementation = {};
  for (const [name, fn] of Object.entries(provider.handlers())) impl[name] = unary(log, name, fn as Handler);
  // Methods left out (Invoke, Call, Construct, ...) answer UNIMPLEMENTED, which the engine expects.
  server.addService(providerGrpc.ResourceProviderService, impl);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    port,
    async stop() {
      await provider.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      log.close();
    },
  };
}
