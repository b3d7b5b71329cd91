// The client one node of a pair uses to call the other's API: the contract's generated
// operations over undici, with the peer's certificate pinned by its SHA-256 fingerprint
// (the appliances' certificates are self-signed, so no CA can vouch for them) and the pair's
// bearer token, or the peer's administrator password for the one join call. Failures become
// ApplianceErrors: LB_PEER_UNREACHABLE, LB_HA_PEER_FINGERPRINT, LB_HA_PEER_REFUSED.
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { GeneratedOperations, operationTable, type CallOptions, type InvokeArgs, type OperationId, type SuccessBody } from '../../openapi/generated/operations.js';
import { ApplianceError } from '../errors.js';

/** How to reach the peer. */
export interface PeerClientOptions {
  endpoint: string;
  /** The peer certificate's SHA-256 fingerprint (upper-case hex pairs with colons). */
  fingerprintSha256: string;
  /** The Authorization header (Bearer token, or Basic for joining). */
  authorization: string;
  /** Per-call time limit in milliseconds. */
  timeoutMs: number;
  /** The source address of the connections (this node's pair address, so firewalls can tell the peer's calls apart). */
  localAddress?: string;
}

class FingerprintMismatch extends Error {
  readonly seen: string;
  constructor(seen: string, expected: string) {
    super(`the peer presented a certificate with fingerprint ${seen}, not the pinned ${expected}`);
    this.seen = seen;
  }
}

/** What a TLS connection to an endpoint showed. */
export interface PeerCertificateProbe {
  fingerprintSha256: string;
  /** This node's address on that connection (the address the peer sees). */
  localAddress: string;
  /** The peer's address. */
  remoteAddress: string;
}

/** Connects once to read the peer's certificate fingerprint (trust on first use at pairing). */
export function probePeerCertificate(endpoint: string, timeoutMs: number): Promise<PeerCertificateProbe> {
  const url = new URL(endpoint);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = tlsConnect({ host, port: Number(url.port || 443), rejectUnauthorized: false, servername: /^[\d.:]+$/.test(host) ? undefined : host });
    const timer = setTimeout(() => socket.destroy(new Error(`no TLS answer from ${endpoint} within ${timeoutMs} ms`)), timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate();
      const result = { fingerprintSha256: cert.fingerprint256, localAddress: socket.localAddress ?? '', remoteAddress: socket.remoteAddress ?? host };
      socket.end();
      resolve(result);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new ApplianceError('LB_PEER_UNREACHABLE', `the peer ${endpoint} could not be reached: ${err.message}`, { cause: err }));
    });
  });
}

/** The peer's API, typed by the contract. */
export class PeerClient extends GeneratedOperations {
  readonly endpoint: string;
  readonly #origin: string;
  readonly #agent: Agent;
  readonly #o: PeerClientOptions;

  constructor(options: PeerClientOptions) {
    super();
    this.#o = options;
    this.endpoint = options.endpoint;
    this.#origin = new URL(options.endpoint).origin;
    // No TLS session resumption: a resumed session shows no peer certificate to check.
    const base = buildConnector({ rejectUnauthorized: false, timeout: options.timeoutMs, maxCachedSessions: 0 });
    this.#agent = new Agent({
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      keepAliveTimeout: 10_000,
      connections: 4,
      connect: (opts, callback) =>
        base(opts, (err, socket) => {
          if (err || !socket) return callback(err ?? new Error('no socket'), null);
          const seen = (socket as TLSSocket).getPeerCertificate?.().fingerprint256;
          if (seen !== options.fingerprintSha256) {
            socket.destroy();
            return callback(new FingerprintMismatch(String(seen), options.fingerprintSha256), null);
          }
          callback(null, socket);
        }),
    });
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await this.#agent.close().catch(() => undefined);
  }

  /** Calls an operation of the peer. */
  protected override async invoke<K extends OperationId>(operationId: K, args: InvokeArgs, options: CallOptions = {}): Promise<SuccessBody<K>> {
    const op = operationTable[operationId];
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json', authorization: this.#o.authorization };
    let body: string | undefined;
    if (args.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(args.body);
    }
    const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(this.#o.timeoutMs)]) : AbortSignal.timeout(this.#o.timeoutMs);
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#agent.request({ origin: this.#origin, path: op.path, method: op.method as Dispatcher.HttpMethod, headers, body, signal, headersTimeout: this.#o.timeoutMs, bodyTimeout: this.#o.timeoutMs });
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause ?? err;
      if (err instanceof FingerprintMismatch || cause instanceof FingerprintMismatch) {
        throw new ApplianceError('LB_HA_PEER_FINGERPRINT', (cause as Error).message, { cause });
      }
      throw new ApplianceError('LB_PEER_UNREACHABLE', `the peer ${this.endpoint} did not answer ${operationId}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.body.text().catch(() => '');
    if (res.statusCode >= 400) {
      let code = `HTTP ${res.statusCode}`;
      let detail = '';
      try {
        const problem = JSON.parse(text) as { code?: string; detail?: string };
        code = problem.code ?? code;
        detail = problem.detail ?? '';
      } catch {
        // not a problem document: the status says enough
      }
      throw new ApplianceError('LB_HA_PEER_REFUSED', `the peer ${this.endpoint} refused ${operationId}: ${code}${detail ? `: ${detail}` : ''}`, { cause: { peerCode: code } });
    }
    return (text.length > 0 ? JSON.parse(text) : undefined) as SuccessBody<K>;
  }
}

/** The peer code of an LB_HA_PEER_REFUSED error (e.g. LB_UNAUTHORIZED), if it is one. */
export function peerCodeOf(err: unknown): string | undefined {
  return err instanceof ApplianceError && err.code === 'LB_HA_PEER_REFUSED' ? (err.cause as { peerCode?: string } | undefined)?.peerCode : undefined;
}
