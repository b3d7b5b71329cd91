// A client of HAProxy's runtime API (the worker's `stats socket`) and of the master CLI:
// one unix-socket connection per command, in HAProxy's non-interactive mode (the server
// answers and closes). Commands with a payload (`set ssl cert`) use the `<<` form.
import { connect } from 'node:net';

/** A command HAProxy answered with an error, or a socket that could not be reached. */
export class RuntimeApiError extends Error {
  override readonly name = 'RuntimeApiError';
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(`${command}: ${message}`);
  }
}

/** Sends one command and resolves with the whole answer. */
export function runtimeCommand(socketPath: string, command: string, payload?: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new RuntimeApiError(command, `no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => {
      // A payload follows `<<` on the command line and ends with an empty line.
      socket.end(payload === undefined ? `${command}\n` : `${command} <<\n${payload.replace(/\n+$/, '')}\n\n`);
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new RuntimeApiError(command, err.code ?? err.message));
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

// Answers of state-changing commands that mean it worked; anything else is HAProxy's refusal.
const OK_ANSWERS = [/^$/, /^New server registered\.$/, /^Server deleted\.$/, /^Transaction created for certificate /, /^Committing /, /^Success!$/];

/** The worker's runtime API. */
export class RuntimeApi {
  constructor(readonly socketPath: string) {}

  /** Sends a command and returns its answer as text. */
  query(command: string): Promise<string> {
    return runtimeCommand(this.socketPath, command);
  }

  /** Sends a command that changes state; throws RuntimeApiError unless HAProxy reports success. */
  async change(command: string, payload?: string): Promise<string> {
    const answer = (await runtimeCommand(this.socketPath, command, payload)).trim();
    const lines = answer.split('\n').map((l) => l.trim());
    if (!lines.every((line) => OK_ANSWERS.some((re) => re.test(line)))) throw new RuntimeApiError(command, answer);
    return answer;
  }

  /** `show stat` as rows keyed by column name. */
  async stats(): Promise<Record<string, string>[]> {
    return parseCsv(await this.query('show stat'));
  }

  /** The worker's process id (to tell a new worker from an old one). */
  async pid(): Promise<number> {
    const info = await this.query('show info');
    const m = /^Pid: (\d+)$/m.exec(info);
    if (!m) throw new RuntimeApiError('show info', 'no Pid in the answer');
    return Number(m[1]);
  }
}

/**
 * Parses HAProxy's `show stat` CSV (a `# ` header line, then one line per proxy or server).
 * An empty cell is left out of its row (read it as `row.x ?? ''`): most of a row's hundred
 * columns are empty, and with a thousand VIPs the engine reads three thousand rows four times
 * a second.
 */
export function parseCsv(text: string): Record<string, string>[] {
  const lines = text.split('\n');
  const header = lines[0];
  if (!header?.startsWith('# ')) return [];
  const names = header.slice(2).split(',');
  const rows: Record<string, string>[] = [];
  for (let l = 1; l < lines.length; l++) {
    const line = lines[l] as string;
    if (line.length === 0) continue;
    const cells = line.split(',');
    const row: Record<string, string> = {};
    for (let i = 0; i < names.length && i < cells.length; i++) {
      const name = names[i] as string;
      const cell = cells[i] as string;
      if (name && cell) row[name] = cell;
    }
    rows.push(row);
  }
  return rows;
}
