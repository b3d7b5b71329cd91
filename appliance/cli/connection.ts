// How the operator commands reach an appliance: the shared flags and environment variables
// (the same names as the Terraform and Pulumi providers' settings), an SDK client built from
// them, and the one mapping from SDK errors to one-line CLI errors with distinct exit codes.
import { readFile } from 'node:fs/promises';
import { ApplianceClient, ApplianceConnectionError, ApplianceProblemError, ApplianceSdkError, ApplianceTrustError, DEFAULT_USERNAME } from '../../openapi/sdk/index.js';
import { CliError } from './cli-error.js';

/** The flags every operator command takes (node:util parseArgs options). */
export const CONNECTION_OPTIONS = {
  endpoint: { type: 'string' },
  username: { type: 'string' },
  insecure: { type: 'boolean' },
  'ca-file': { type: 'string' },
} as const;

/** Values of the connection flags as parseArgs returns them. */
export interface ConnectionFlags {
  endpoint?: string;
  username?: string;
  insecure?: boolean;
  'ca-file'?: string;
}

/** Where and as whom a command connects. */
export interface Connection {
  client: ApplianceClient;
  endpoint: string;
  username: string;
}

const TRUE = new Set(['1', 'true', 'yes']);

/** Builds the SDK client from the flags and the environment. */
export async function connect(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const endpoint = (flags.endpoint ?? env.LBAPPLIANCE_ENDPOINT ?? 'https://127.0.0.1:9443').replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new CliError(`--endpoint takes an https URL such as https://10.0.0.5:9443, not "${endpoint}"`);
  }
  if (url.protocol !== 'https:') throw new CliError(`the appliance API is HTTPS only: --endpoint ${endpoint} must start with https://`);
  const username = flags.username ?? env.LBAPPLIANCE_USERNAME ?? DEFAULT_USERNAME;
  const password = env.LBAPPLIANCE_PASSWORD;
  if (password === undefined || password === '') throw new CliError(`set LBAPPLIANCE_PASSWORD to the password of user ${username}`);
  const insecure = flags.insecure === true || TRUE.has((env.LBAPPLIANCE_INSECURE ?? '').toLowerCase());
  const caFile = flags['ca-file'] ?? env.LBAPPLIANCE_CA_FILE;
  let caPem = env.LBAPPLIANCE_CA_PEM || undefined;
  if (caFile !== undefined) {
    caPem = await readFile(caFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read --ca-file ${caFile}: ${err.code ?? err.message}`);
    });
  }
  const client = new ApplianceClient({ endpoint, username, password, insecure, caPem, timeoutMs: 30_000 });
  return { client, endpoint, username };
}

function causeCode(err: unknown): string {
  let cur = err as { code?: string; cause?: unknown } | undefined;
  for (let depth = 0; cur && depth < 5; depth++) {
    if (cur.code && !cur.code.startsWith('LB_SDK_')) return cur.code;
    cur = cur.cause as typeof cur;
  }
  return 'unknown error';
}

/** Turns any error of an SDK call into a one-line CliError with its exit code. */
export function cliErrorOf(err: unknown, conn: Pick<Connection, 'endpoint' | 'username'>, doing: string): CliError {
  if (err instanceof CliError) return err;
  const mapped = mapError(err, conn, doing);
  return new CliError(mapped.message.replace(/\s*\n\s*/g, ' '), mapped.code);
}

function mapError(err: unknown, conn: Pick<Connection, 'endpoint' | 'username'>, doing: string): CliError {
  if (err instanceof ApplianceConnectionError) {
    const code = causeCode(err);
    if (err instanceof ApplianceTrustError) {
      return new CliError(`the appliance at ${conn.endpoint} presented a certificate this machine does not trust (${code}): pass --ca-file with its certificate (tls/api.crt in its data dir) or --insecure`, 'LB_CLI_UNTRUSTED');
    }
    return new CliError(`cannot reach the appliance at ${conn.endpoint} (${code})`, 'LB_CLI_UNREACHABLE');
  }
  if (err instanceof ApplianceProblemError) {
    const p = err.problem;
    const detail = `${p.code}: ${p.detail ?? p.title}${p.field ? ` (field ${p.field})` : ''}`;
    switch (err.status) {
      case 401:
        return new CliError(`wrong user name or password for ${conn.username} at ${conn.endpoint}`, 'LB_CLI_UNAUTHORIZED');
      case 429:
        return new CliError(`${conn.endpoint} refuses logins from this address for now (${p.detail ?? p.title})`, 'LB_CLI_UNAUTHORIZED');
      case 403:
        return new CliError(`user ${conn.username} may not ${doing}: ${detail}`, 'LB_CLI_FORBIDDEN');
      case 503:
        if (p.code === 'LB_DIRECTORY_UNAVAILABLE') {
          // A directory user: the appliance is up, its directory is not; local users still log in.
          return new CliError(`${conn.endpoint} cannot check ${conn.username} against its directory now (${p.detail ?? p.title})`, 'LB_CLI_UNREACHABLE');
        }
        return new CliError(`cannot ${doing}: ${detail}`, 'LB_CLI_FAILED');
      case 404:
        return new CliError(`cannot ${doing}: ${detail}`, 'LB_CLI_NOT_FOUND');
      default: {
        const where = typeof p.primaryEndpoint === 'string' ? `; send it to the primary at ${p.primaryEndpoint}` : '';
        return new CliError(`cannot ${doing}: ${detail}${where}`, err.status < 500 ? 'LB_CLI_REFUSED' : 'LB_CLI_FAILED');
      }
    }
  }
  if (err instanceof ApplianceSdkError) return new CliError(`cannot ${doing}: ${err.message}`, 'LB_CLI_FAILED');
  return new CliError(`cannot ${doing}: ${(err as Error).message ?? String(err)}`, 'LB_CLI_FAILED');
}

/** Runs a command's work with a client, mapping every error and closing the client. */
export async function withAppliance<T>(flags: ConnectionFlags, doing: string, work: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await connect(flags);
  try {
    return await work(conn);
  } catch (err) {
    throw cliErrorOf(err, conn, doing);
  } finally {
    await conn.client.close().catch(() => undefined);
  }
}
