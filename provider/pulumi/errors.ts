// Errors of the Pulumi adapter and how every failure becomes a gRPC status the engine shows
// to the user: the message names the operation, the property when the appliance named one,
// and ends with the stable code (`[LB_LABEL_IN_USE]`, `[LBP_CONFIGURATION]`).
import { status } from '@grpc/grpc-js';
import { ApplianceConnectionError, ApplianceProblemError } from '../../openapi/sdk/index.js';
import { issuesFromError, ResourceError, type TrustSettingNames } from '../resources/errors.js';

/** Pulumi's names of the settings that make the appliance's certificate trusted. */
const PULUMI_TRUST_SETTINGS: TrustSettingNames = { caPem: 'lbappliance:caPem (or LBAPPLIANCE_CA_PEM, or caPem on the Provider)', insecure: 'lbappliance:insecure true' };
import type { ProviderErrorCode } from '../resources/error-codes.js';
import type { Attributes } from '../resources/types.js';
import { propertyPath } from './properties.js';

/** Stable codes of the Pulumi adapter's own errors. */
export const PulumiErrorCode = {
  /** A type token this provider does not have. */
  UnknownType: 'LBP_UNKNOWN_TYPE',
  /** A resource call before a successful Configure. */
  NotConfigured: 'LBP_NOT_CONFIGURED',
  /** A property the resource does not have. */
  UnknownProperty: 'LBP_UNKNOWN_PROPERTY',
  /** An operation the engine asked for that the provider does not offer. */
  Unsupported: 'LBP_UNSUPPORTED',
} as const satisfies Record<string, ProviderErrorCode>;

/** An error answered to the engine with a gRPC status. */
export class PluginError extends Error {
  override name = 'PluginError';
  /** A stable code (`LBP_*` or the appliance's `LB_*`). */
  readonly code: string;
  /** The gRPC status code. */
  readonly grpcStatus: status;

  constructor(code: string, message: string, grpcStatus: status = status.FAILED_PRECONDITION) {
    super(message);
    this.code = code;
    this.grpcStatus = grpcStatus;
  }
}

function grpcStatusOf(err: unknown): status {
  if (err instanceof ApplianceProblemError) {
    if (err.status === 400 || err.status === 422) return status.INVALID_ARGUMENT;
    if (err.status === 401) return status.UNAUTHENTICATED;
    if (err.status === 403) return status.PERMISSION_DENIED;
    if (err.status === 404) return status.NOT_FOUND;
    if (err.status === 409 || err.status === 412) return status.FAILED_PRECONDITION;
    if (err.status === 429) return status.RESOURCE_EXHAUSTED;
    return status.UNKNOWN;
  }
  if (err instanceof ApplianceConnectionError) return status.UNAVAILABLE;
  if (err instanceof ResourceError) return err.code === 'LBP_BAD_IMPORT_ID' ? status.INVALID_ARGUMENT : status.FAILED_PRECONDITION;
  if (err instanceof PluginError) return err.grpcStatus;
  return status.INTERNAL;
}

/** A failure of `action` on a resource with these attributes, as a PluginError with every issue in its message. */
export function pluginErrorFrom(attributes: Attributes, err: unknown, action: string): PluginError {
  if (err instanceof PluginError) return err;
  const issues = issuesFromError(attributes, err, action, PULUMI_TRUST_SETTINGS);
  const lines = issues.map((i) => `${i.path.length ? `${propertyPath(i.path)}: ` : ''}${i.detail}`);
  const first = issues[0];
  return new PluginError(first?.code ?? 'LBP_INTERNAL', `${action}: ${lines.join('; ')}`, grpcStatusOf(err));
}
