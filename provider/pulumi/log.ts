// Where the plugin logs. Under the engine (started with its address), through the engine's
// Log service: debug lines appear with `pulumi up --debug`, warnings always, and each is
// tied to the resource it concerns. The engine shows whatever a plugin writes to stderr as
// the user's output, so nothing goes there while an engine listens. Started without one (a
// test, or by hand), JSON lines on stderr from the level in LBAPPLIANCE_PULUMI_LOG (default
// warn). Callers log names, ids and codes, never property values: secrets stay out of logs.
import { credentials } from '@grpc/grpc-js';
import type { Logger } from '../resources/types.js';
import { engineGrpc, enginePb } from './proto.js';

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A logger that can tie lines to a resource. */
export interface PluginLogger extends Logger {
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines concern one resource. */
  forResource(urn: string): PluginLogger;
  /** Stops sending to the engine. */
  close(): void;
}

function line(message: string, fields: Record<string, unknown> | undefined): string {
  return fields && Object.keys(fields).length > 0 ? `${message} ${JSON.stringify(fields)}` : message;
}

/** Logs through the engine's Log RPC. */
class EngineLogger implements PluginLogger {
  readonly #client: InstanceType<typeof engineGrpc.EngineClient>;
  readonly #urn: string;

  constructor(client: InstanceType<typeof engineGrpc.EngineClient>, urn = '') {
    this.#client = client;
    this.#urn = urn;
  }

  #send(severity: number, message: string, fields?: Record<string, unknown>): void {
    const req = new enginePb.LogRequest();
    req.setSeverity(severity as never);
    req.setMessage(line(`lbappliance: ${message}`, fields));
    req.setUrn(this.#urn);
    // A lost log line must never fail an operation.
    this.#client.log(req, () => undefined);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.#send(enginePb.LogSeverity.DEBUG, message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.#send(enginePb.LogSeverity.INFO, message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.#send(enginePb.LogSeverity.WARNING, message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.#send(enginePb.LogSeverity.ERROR, message, fields);
  }
  forResource(urn: string): PluginLogger {
    return new EngineLogger(this.#client, urn);
  }
  close(): void {
    this.#client.close();
  }
}

/** Logs JSON lines on stderr. */
class StderrLogger implements PluginLogger {
  readonly #min: Level;
  readonly #urn: string | undefined;

  constructor(min: Level, urn?: string) {
    this.#min = min;
    this.#urn = urn;
  }

  #write(level: Level, message: string, fields?: Record<string, unknown>): void {
    if (ORDER[level] < ORDER[this.#min]) return;
    process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...(this.#urn ? { urn: this.#urn } : {}), ...fields })}\n`);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.#write('debug', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.#write('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.#write('warn', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.#write('error', message, fields);
  }
  forResource(urn: string): PluginLogger {
    return new StderrLogger(this.#min, urn);
  }
  close(): void {}
}

/** The plugin's logger: through the engine when its address is known, else stderr. */
export function createLogger(engineAddress: string | undefined, env: NodeJS.ProcessEnv = process.env): PluginLogger {
  if (engineAddress) return new EngineLogger(new engineGrpc.EngineClient(engineAddress, credentials.createInsecure()));
  const level = (env.LBAPPLIANCE_PULUMI_LOG ?? 'warn').toLowerCase();
  return new StderrLogger(level in ORDER ? (level as Level) : 'warn');
}
