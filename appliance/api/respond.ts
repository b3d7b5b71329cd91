// The one funnel from errors to RFC 9457 problem documents: typed ApplianceErrors keep their
// code and field; fastify's own request errors (bad JSON, body too large, media type) map to
// catalogue codes; anything else is an internal error whose details go to the log only.
import { ApplianceError, errorCatalogue, type ErrorCode } from '../errors.js';

/** A problem response ready to send. */
export interface ProblemResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'LB_MALFORMED_BODY',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'LB_MALFORMED_BODY',
  FST_ERR_CTP_BODY_TOO_LARGE: 'LB_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'LB_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'LB_VALIDATION',
  FST_ERR_CTP_INVALID_TYPE: 'LB_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_BAD_URL: 'LB_MALFORMED_REQUEST',
};

/** Converts any error into an ApplianceError (unknown errors become LB_INTERNAL). */
export function toApplianceError(err: unknown): ApplianceError {
  if (err instanceof ApplianceError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string; name?: string };
  const mapped = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) return new ApplianceError(mapped, e.message ?? errorCatalogue[mapped].title, { cause: err });
  if (e.name === 'SyntaxError' && e.statusCode === 400) return new ApplianceError('LB_MALFORMED_BODY', e.message ?? 'invalid JSON', { cause: err });
  if (typeof e.statusCode === 'number' && e.statusCode === 413) return new ApplianceError('LB_PAYLOAD_TOO_LARGE', e.message ?? 'too large', { cause: err });
  if (typeof e.statusCode === 'number' && e.statusCode === 415) return new ApplianceError('LB_UNSUPPORTED_MEDIA_TYPE', e.message ?? 'unsupported', { cause: err });
  if (typeof e.statusCode === 'number' && e.statusCode === 400) return new ApplianceError('LB_VALIDATION', e.message ?? 'bad request', { cause: err });
  return new ApplianceError('LB_INTERNAL', 'an unexpected error occurred; the configuration is unchanged', { cause: err });
}

/** The problem response of an error, for a request path (none when the path could not be read). */
export function problemOf(err: unknown, instance: string | undefined): ProblemResponse {
  const e = toApplianceError(err);
  const body: Record<string, unknown> = {
    type: `urn:lbappliance:problem:${e.code}`,
    title: errorCatalogue[e.code].title,
    status: e.status,
    detail: e.message,
    ...(instance === undefined ? {} : { instance }),
    code: e.code,
  };
  if (e.field !== undefined) body.field = e.field;
  if (e.errors !== undefined && e.errors.length > 0) body.errors = e.errors;
  if (e.extra) Object.assign(body, e.extra);
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', ...(e.headers ?? {}) };
  return { status: e.status, headers, body };
}
