// Entry point of terraform-provider-lbappliance: starts the plugin server, or explains
// that it is a plugin when run by hand.
import { HandshakeError } from './handshake.js';
import { servePlugin } from './server.js';

servePlugin().catch((err: unknown) => {
  if (err instanceof HandshakeError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`${JSON.stringify({ '@level': 'error', '@message': 'provider failed to start', error: (err as Error)?.stack ?? String(err) })}\n`);
  process.exit(1);
});
