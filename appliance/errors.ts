// The appliance's error catalogue: every error the API can answer with, by stable code.
// One funnel (api/respond.ts) turns an ApplianceError into an RFC 9457 problem document;
// tests assert on these codes, and docs/errors.md documents each one (a test checks that).

/** Every error code the appliance answers with, its HTTP status and its title. */
export const errorCatalogue = {
  LB_VALIDATION: { status: 400, title: 'The request does not match the contract' },
  LB_MALFORMED_BODY: { status: 400, title: 'The request body is not valid JSON' },
  LB_MALFORMED_REQUEST: { status: 400, title: 'The HTTP request cannot be parsed' },
  LB_UNAUTHORIZED: { status: 401, title: 'Authentication required' },
  LB_FORBIDDEN: { status: 403, title: 'Not allowed for this user' },
  LB_NOT_FOUND: { status: 404, title: 'No such object' },
  LB_NO_SUCH_OPERATION: { status: 404, title: 'No such operation' },
  LB_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed on this path' },
  LB_ADDRESS_IN_USE: { status: 409, title: 'Address and port already in use' },
  LB_LABEL_IN_USE: { status: 409, title: 'Label already in use' },
  LB_CERTIFICATE_IN_USE: { status: 409, title: 'Certificate in use' },
  LB_USER_EXISTS: { status: 409, title: 'User already exists' },
  LB_BUILTIN_USER: { status: 409, title: 'The built-in administrator cannot be changed this way' },
  LB_HA_NOT_PRIMARY: { status: 409, title: 'This node is the secondary of an HA pair' },
  LB_HA_STATE: { status: 409, title: 'Not possible in the current HA state' },
  LB_REQUEST_TIMEOUT: { status: 408, title: 'The request did not arrive in time' },
  LB_PRECONDITION_FAILED: { status: 412, title: 'If-Match does not match the current ETag' },
  LB_PAYLOAD_TOO_LARGE: { status: 413, title: 'Request body too large' },
  LB_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  LB_UNKNOWN_REFERENCE: { status: 422, title: 'Reference to an object that does not exist' },
  LB_CERTIFICATE_REQUIRED: { status: 422, title: 'A certificate is required' },
  LB_CERTIFICATE_INVALID: { status: 422, title: 'The certificate material cannot be used' },
  LB_CERTIFICATE_KEY_MISMATCH: { status: 422, title: 'The private key does not match the certificate' },
  LB_INVALID_COMBINATION: { status: 422, title: 'Settings that cannot be combined' },
  LB_UNSAFE_PATTERN: { status: 422, title: 'A regular expression that cannot run in linear time' },
  LB_UNSUPPORTED_VALUE: { status: 422, title: 'A value the appliance cannot use' },
  LB_ENGINE_REFUSED: { status: 422, title: 'The data plane engine cannot carry this configuration' },
  LB_HEADERS_TOO_LARGE: { status: 431, title: 'Request headers too large' },
  LB_TOO_MANY_REQUESTS: { status: 429, title: 'Too many failed authentication attempts' },
  LB_INTERNAL: { status: 500, title: 'Internal error' },
  LB_RESPONSE_INVALID: { status: 500, title: 'The appliance produced a response outside its contract' },
  LB_PEER_UNREACHABLE: { status: 502, title: 'The HA peer could not be reached' },
  LB_HA_PEER_REFUSED: { status: 502, title: 'The HA peer refused the request' },
  LB_HA_PEER_FINGERPRINT: { status: 502, title: 'The HA peer\'s certificate is not the pinned one' },
  LB_SHUTTING_DOWN: { status: 503, title: 'The appliance is shutting down' },
  LB_DIRECTORY_UNAVAILABLE: { status: 503, title: 'The directory cannot be reached' },
} as const;

/** A stable error code from the catalogue. */
export type ErrorCode = keyof typeof errorCatalogue;

/** One violation inside a problem (a field and what is wrong with it). */
export interface FieldError {
  field: string;
  message: string;
}

/** Options of an ApplianceError beyond its code and detail. */
export interface ApplianceErrorOptions {
  /** JSON Pointer into the request body, or a parameter name. */
  field?: string;
  /** Every violation, when there are several. */
  errors?: FieldError[];
  /** Extra members of the problem document (e.g. primaryEndpoint). */
  extra?: Record<string, unknown>;
  /** Extra response headers (e.g. Retry-After). */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** A typed error carrying a stable code and the offending field. */
export class ApplianceError extends Error {
  override readonly name = 'ApplianceError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly field: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly extra: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, detail: string, options: ApplianceErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.field = options.field;
    this.errors = options.errors;
    this.extra = options.extra;
    this.headers = options.headers;
  }

  /** The same error with its field re-rooted under a JSON Pointer prefix. */
  withFieldPrefix(prefix: string): ApplianceError {
    if (!prefix) return this;
    return new ApplianceError(this.code, this.message, {
      field: this.field === undefined ? prefix : prefix + this.field,
      errors: this.errors?.map((e) => ({ ...e, field: prefix + e.field })),
      extra: this.extra,
      headers: this.headers,
      cause: this.cause,
    });
  }
}

/** Whether a value is an ApplianceError (optionally of one code). */
export function isApplianceError(err: unknown, code?: ErrorCode): err is ApplianceError {
  return err instanceof ApplianceError && (code === undefined || err.code === code);
}
