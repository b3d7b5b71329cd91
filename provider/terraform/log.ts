// The plugin's log: JSON lines on stderr with `@level`, `@message`, `@timestamp` and
// `@module`, the form terraform re-logs at the line's own level (shown with TF_LOG or
// TF_LOG_PROVIDER). Stdout carries the handshake line and nothing else.
import type { Logger } from '../resources/types.js';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

/** A JSON-lines logger on stderr. */
export class StderrLogger implements Logger {
  readonly #min: number;

  constructor(level: string | undefined = process.env.TF_LOG_PROVIDER ?? process.env.TF_LOG) {
    const l = (level ?? 'debug').toLowerCase();
    this.#min = ORDER[(l in ORDER ? l : 'trace') as Level];
  }

  /** Writes one line at a level. */
  write(level: Level, message: string, fields: Record<string, unknown> = {}): void {
    if (ORDER[level] < this.#min) return;
    process.stderr.write(`${JSON.stringify({ '@level': level, '@message': message, '@module': 'provider.lbappliance', '@timestamp': new Date().toISOString(), ...fields })}\n`);
  }

  trace(message: string, fields?: Record<string, unknown>): void {
    this.write('trace', message, fields);
  }
  debug(message: string, fields?: Record<string, unknown>): void {
    this.write('debug', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.write('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('warn', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.write('error', message, fields);
  }
}
