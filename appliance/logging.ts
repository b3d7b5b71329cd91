// Structured JSON logs (pino) on stdout.
import { pino, type Logger } from 'pino';

/** The appliance logger at a level (LBAPPLIANCE_LOG_LEVEL or `info`). */
export function createLogger(level = process.env.LBAPPLIANCE_LOG_LEVEL ?? 'info', name = 'lbappliance'): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', '*.password', '*.peerPassword', '*.passphrase', '*.pem', '*.pfx', '*.keyPem'], censor: '(redacted)' },
  });
}
