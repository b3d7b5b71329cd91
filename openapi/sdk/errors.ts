// The SDK's typed errors. Every failed call throws an ApplianceSdkError: a problem the
// appliance answered (ApplianceProblemError and its per-status subclasses, carrying the
// RFC 9457 body), a connection that could not be made (ApplianceConnectionError), or an
// answer outside the contract (ApplianceResponseError).
import type { components } from '../generated/types.js';

/** The appliance's RFC 9457 problem document. */
export type Problem = components['schemas']['Problem'];

/** Base class of every SDK error; `code` is stable. */
export class ApplianceSdkError extends Error {
  override name = 'ApplianceSdkError';
  /** A stable code: the problem's `LB_*` code, or an `LB_SDK_*` code for client-side failures. */
  readonly code: string;
  /** The operation that failed. */
  readonly operationId: string;

  constructor(code: string, operationId: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.operationId = operationId;
  }
}

/** The appliance answered with a problem document. */
export class ApplianceProblemError extends ApplianceSdkError {
  override name = 'ApplianceProblemError';
  /** HTTP status. */
  readonly status: number;
  /** The whole problem document. */
  readonly problem: Problem;
  /** The offending field (JSON Pointer into the request body, or a parameter name). */
  readonly field: string | undefined;

  constructor(operationId: string, status: number, problem: Problem) {
    super(problem.code, operationId, `${operationId}: ${problem.status} ${problem.code}: ${problem.detail ?? problem.title}${problem.field ? ` (field ${problem.field})` : ''}`);
    this.status = status;
    this.problem = problem;
    this.field = problem.field;
  }
}

/** 400: the request does not match the contract. */
export class ValidationError extends ApplianceProblemError {
  override name = 'ValidationError';
}
/** 401: missing or wrong credentials. */
export class UnauthorizedError extends ApplianceProblemError {
  override name = 'UnauthorizedError';
}
/** 403: the user may not do this. */
export class ForbiddenError extends ApplianceProblemError {
  override name = 'ForbiddenError';
}
/** 404: no such object. */
export class NotFoundError extends ApplianceProblemError {
  override name = 'NotFoundError';
}
/** 409: the write clashes with the configuration or the HA role. */
export class ConflictError extends ApplianceProblemError {
  override name = 'ConflictError';
}
/** 412: If-Match did not match. */
export class PreconditionFailedError extends ApplianceProblemError {
  override name = 'PreconditionFailedError';
}
/** 422: refused by a rule. */
export class UnprocessableError extends ApplianceProblemError {
  override name = 'UnprocessableError';
}
/** 429: too many failed logins. */
export class TooManyRequestsError extends ApplianceProblemError {
  override name = 'TooManyRequestsError';
}

/** The appliance could not be reached (after retries, for idempotent calls). */
export class ApplianceConnectionError extends ApplianceSdkError {
  override name = 'ApplianceConnectionError';
  constructor(operationId: string, endpoint: string, cause: unknown, code = 'LB_SDK_CONNECTION', message?: string) {
    const c = cause as { code?: string; message?: string };
    super(code, operationId, message ?? `${operationId}: cannot reach the appliance at ${endpoint}: ${c.code ?? ''} ${c.message ?? String(cause)}`.replace(/\s+/g, ' ').trim(), { cause });
  }
}

/** Node's codes for a certificate the client does not trust (or that names another host). */
export const UNTRUSTED_CERTIFICATE_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The first TLS verification code in an error's cause chain, if any. */
export function untrustedCertificateCode(err: unknown): string | undefined {
  let cur = err as { code?: string; cause?: unknown } | undefined;
  for (let depth = 0; cur && depth < 6; depth++) {
    if (cur.code && UNTRUSTED_CERTIFICATE_CODES.has(cur.code)) return cur.code;
    cur = cur.cause as typeof cur;
  }
  return undefined;
}

/**
 * The appliance answered TLS with a certificate this client does not trust: it is reachable,
 * and `caPem` (its certificate, `tls/api.crt` in its data dir) or `insecure` fixes it. Each
 * client names its own setting: the Terraform provider `ca_pem`/`insecure`, Pulumi
 * `lbappliance:caPem`/`lbappliance:insecure`, the CLI `--ca-file`/`--insecure`.
 */
export class ApplianceTrustError extends ApplianceConnectionError {
  override name = 'ApplianceTrustError';
  /** Node's verification code, e.g. DEPTH_ZERO_SELF_SIGNED_CERT. */
  readonly tlsCode: string;
  constructor(operationId: string, endpoint: string, cause: unknown, tlsCode: string) {
    super(
      operationId,
      endpoint,
      cause,
      'LB_SDK_UNTRUSTED_CERTIFICATE',
      `${operationId}: the appliance at ${endpoint} presented a certificate this client does not trust (${tlsCode}): pass its certificate as caPem (tls/api.crt in its data dir) or set insecure`,
    );
    this.tlsCode = tlsCode;
  }
}

/** The appliance answered something the contract does not describe. */
export class ApplianceResponseError extends ApplianceSdkError {
  override name = 'ApplianceResponseError';
  readonly status: number;
  constructor(operationId: string, status: number, message: string) {
    super('LB_SDK_BAD_RESPONSE', operationId, `${operationId}: ${message}`);
    this.status = status;
  }
}

const BY_STATUS: Record<number, typeof ApplianceProblemError> = {
  400: ValidationError,
  401: UnauthorizedError,
  403: ForbiddenError,
  404: NotFoundError,
  409: ConflictError,
  412: PreconditionFailedError,
  422: UnprocessableError,
  429: TooManyRequestsError,
};

/** The typed error for a problem response. */
export function problemError(operationId: string, status: number, problem: Problem): ApplianceProblemError {
  const Cls = BY_STATUS[status] ?? ApplianceProblemError;
  return new Cls(operationId, status, problem);
}
