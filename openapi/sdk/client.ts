// The typed client of the appliance API, on undici. One method per operation is generated
// from the contract (GeneratedOperations); this class supplies the transport: TLS trust,
// Basic auth, JSON bodies, typed errors, and retries of idempotent calls on connection errors.
import { Agent, type Dispatcher } from 'undici';
import { setTimeout as sleep } from 'node:timers/promises';
import { GeneratedOperations, operationTable, type CallOptions, type InvokeArgs, type OperationId, type SuccessBody } from '../generated/operations.js';
import { DEFAULT_USERNAME } from './defaults.js';
import { ApplianceConnectionError, ApplianceResponseError, ApplianceSdkError, ApplianceTrustError, problemError, untrustedCertificateCode, type Problem } from './errors.js';

export { DEFAULT_USERNAME };

/** How to reach and authenticate to an appliance. */
export interface ApplianceClientOptions {
  /** Base URL of the API, e.g. https://10.0.0.5:9443. */
  endpoint: string;
  /** Default `loadbalancer` (the administrator) when a password is given. */
  username?: string;
  password?: string;
  /** Skip verification of the appliance's certificate (its default certificate is self-signed). */
  insecure?: boolean;
  /** PEM of the CA (or the self-signed certificate) to trust for the appliance. */
  caPem?: string;
  /** Per-request timeout in milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Attempts of idempotent calls on connection errors (default 3). */
  retries?: number;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
}

/** A raw response: status, headers, parsed body. */
export interface RawResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  body: T;
  /** The ETag header, if any. */
  etag: string | undefined;
}

/**
 * Path parameter names before the contract named them all after their object (issue 16):
 * `request()` still takes these, so code written against the old names keeps working.
 */
const FORMER_PATH_NAMES: Readonly<Record<string, string>> = { virtualServiceId: 'id', realServerId: 'rsId', certificateId: 'certId' };

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED']);

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
}

/** The lbappliance API client. */
export class ApplianceClient extends GeneratedOperations {
  readonly endpoint: string;
  readonly #origin: string;
  readonly #basePath: string;
  readonly #auth: string | undefined;
  readonly #agent: Agent;
  readonly #timeout: number;
  readonly #retries: number;
  readonly #headers: Record<string, string>;

  constructor(options: ApplianceClientOptions) {
    super();
    const url = new URL(options.endpoint);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ApplianceSdkError('LB_SDK_CONFIG', 'constructor', `endpoint must be an https URL, not ${options.endpoint}`);
    this.endpoint = options.endpoint;
    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/$/, '');
    this.#auth =
      options.username !== undefined || options.password !== undefined
        ? `Basic ${Buffer.from(`${options.username ?? DEFAULT_USERNAME}:${options.password ?? ''}`).toString('base64')}`
        : undefined;
    this.#timeout = options.timeoutMs ?? 30_000;
    this.#retries = Math.max(1, options.retries ?? 3);
    this.#headers = options.headers ?? {};
    this.#agent = new Agent({
      connect: { rejectUnauthorized: !options.insecure, ...(options.caPem ? { ca: options.caPem } : {}) },
      keepAliveTimeout: 10_000,
      connections: 8,
    });
  }

  /** Closes the client's connections. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  /** Calls an operation and returns the parsed success body. */
  protected override async invoke<K extends OperationId>(operationId: K, args: InvokeArgs, options?: CallOptions): Promise<SuccessBody<K>> {
    return (await this.request(operationId, args, options)).body as SuccessBody<K>;
  }

  /** Calls an operation and returns status, headers (ETag) and body; throws typed errors. */
  async request<K extends OperationId>(operationId: K, args: InvokeArgs = {}, options: CallOptions = {}): Promise<RawResponse<SuccessBody<K>>> {
    const op = operationTable[operationId];
    let path = op.path as string;
    for (const name of op.pathParams as readonly string[]) {
      const former = FORMER_PATH_NAMES[name];
      const value = args.path?.[name] ?? (former === undefined ? undefined : args.path?.[former]);
      if (value === undefined) throw new ApplianceSdkError('LB_SDK_ARGUMENT', operationId, `${operationId} needs path parameter ${name}`);
      path = path.replace(`{${name}}`, encodeURIComponent(value));
    }
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(args.query ?? {})) if (v !== undefined && v !== null) query.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json, */*', ...this.#headers };
    if (op.auth && this.#auth) headers.authorization = this.#auth;
    if (options.ifMatch) headers['if-match'] = options.ifMatch;
    let body: string | undefined;
    if (args.body !== undefined) {
      headers['content-type'] = (op.bodyContentTypes as readonly string[]).includes('application/merge-patch+json') ? 'application/merge-patch+json' : 'application/json';
      body = JSON.stringify(args.body);
    }
    const request: Dispatcher.RequestOptions = {
      origin: this.#origin,
      path: `${this.#basePath}${path}${query.size > 0 ? `?${query}` : ''}`,
      method: op.method as Dispatcher.HttpMethod,
      headers,
      body,
      headersTimeout: this.#timeout,
      bodyTimeout: this.#timeout,
      signal: options.signal,
    };
    const attempts = IDEMPOTENT.has(op.method) ? this.#retries : 1;
    for (let attempt = 1; ; attempt++) {
      let res: Dispatcher.ResponseData;
      try {
        res = await this.#agent.request(request);
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (attempt < attempts && RETRYABLE.has(code) && !options.signal?.aborted) {
          await sleep(100 * 3 ** (attempt - 1));
          continue;
        }
        const tlsCode = untrustedCertificateCode(err);
        if (tlsCode) throw new ApplianceTrustError(operationId, this.endpoint, err, tlsCode);
        throw new ApplianceConnectionError(operationId, this.endpoint, err);
      }
      return this.#read(operationId, res);
    }
  }

  async #read<K extends OperationId>(operationId: K, res: Dispatcher.ResponseData): Promise<RawResponse<SuccessBody<K>>> {
    const headers = flatten(res.headers);
    const type = (headers['content-type'] ?? '').split(';')[0]?.trim();
    const text = await res.body.text();
    if (res.statusCode >= 400) {
      let problem: Problem | undefined;
      try {
        problem = JSON.parse(text) as Problem;
      } catch {
        // not JSON: reported below
      }
      if (problem && typeof problem.code === 'string') throw problemError(operationId, res.statusCode, problem);
      throw new ApplianceResponseError(operationId, res.statusCode, `HTTP ${res.statusCode} without a problem document: ${text.slice(0, 200)}`);
    }
    let body: unknown;
    if (text.length === 0) body = undefined;
    else if (type === 'application/json' || type === 'application/problem+json') {
      try {
        body = JSON.parse(text);
      } catch (err) {
        throw new ApplianceResponseError(operationId, res.statusCode, `invalid JSON: ${(err as Error).message}`);
      }
    } else body = text;
    return { status: res.statusCode, headers, body: body as SuccessBody<K>, etag: headers.etag };
  }
}
