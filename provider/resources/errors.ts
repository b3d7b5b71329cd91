// Errors of the resource layer and their mapping to issues. Appliance refusals keep the
// appliance's stable code and detail; their `field` (a JSON Pointer into the request body)
// becomes the path of the attribute that carried it.
import { ApplianceProblemError, ApplianceSdkError, ApplianceTrustError, NotFoundError } from '../../openapi/sdk/errors.js';
import { RULE_TITLES, type RuleProblem } from '../../openapi/sdk/rules.js';
import type { ProviderErrorCode } from './error-codes.js';
import type { Attribute, Attributes, Issue, PathStep } from './types.js';
import { camelCase } from './values.js';
import { pathText } from './validate.js';

/** Stable codes of errors raised by the resource layer itself. */
export const ResourceErrorCode = {
  /** An import id that does not have the documented form. */
  BadImportId: 'LBP_BAD_IMPORT_ID',
  /** A lookup (data source) that found nothing. */
  NotFound: 'LBP_NOT_FOUND',
  /** An input the operation needs is missing (e.g. a write-only key when rotating). */
  MissingInput: 'LBP_MISSING_INPUT',
  /** The provider is not configured well enough to reach the appliance. */
  Configuration: 'LBP_CONFIGURATION',
  /** A wait (drain) ran out of time. */
  Timeout: 'LBP_TIMEOUT',
  /** A warning: a virtual service the appliance stored does not listen. */
  VipNotListening: 'LBP_VIP_NOT_LISTENING',
} as const satisfies Record<string, ProviderErrorCode>;

/** An error of the resource layer, pointing at an attribute when it can. */
export class ResourceError extends Error {
  override name = 'ResourceError';
  /** One of {@link ResourceErrorCode}. */
  readonly code: string;
  /** The attribute concerned (empty: the whole object). */
  readonly path: PathStep[];

  constructor(code: string, message: string, path: PathStep[] = []) {
    super(message);
    this.code = code;
    this.path = path;
  }
}

/**
 * The attribute path that a problem's `field` pointer names: each segment is matched
 * against the attributes' contract names (camelCase of the snake_case name, or `apiField`),
 * array indexes stay indexes. Returns [] when the pointer names no attribute.
 */
export function pathFromPointer(attributes: Attributes, pointer: string | undefined): PathStep[] {
  if (!pointer || !pointer.startsWith('/')) return [];
  const segments = pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const path: PathStep[] = [];
  let scope: Attributes | undefined = attributes;
  let inList = false;
  for (const seg of segments) {
    if (inList && /^\d+$/.test(seg)) {
      path.push(Number(seg));
      inList = false;
      continue;
    }
    if (!scope) break;
    const entry: [string, Attribute] | undefined = Object.entries(scope).find(([name, attr]) => (attr.apiField ? attr.apiField === `/${seg}` : camelCase(name) === seg));
    if (!entry) break;
    const [name, attr]: [string, Attribute] = entry;
    path.push(name);
    inList = attr.type.kind === 'list' || attr.type.kind === 'set';
    // A list of objects (tls.sni_certificates): after the index, the element's attributes.
    const element = attr.type.kind === 'list' || attr.type.kind === 'set' ? attr.type.element : null;
    scope = attr.type.kind === 'object' ? attr.type.attributes : element?.kind === 'object' ? element.attributes : undefined;
  }
  return path;
}

/** The appliance's rule problems (openapi/sdk/rules.ts) as plan-time issues on the attributes their fields name. */
export function ruleIssues(attributes: Attributes, problems: readonly RuleProblem[]): Issue[] {
  return problems.map((p) => ({ path: pathFromPointer(attributes, p.field), summary: RULE_TITLES[p.code], detail: `${p.message} [${p.code}]`, code: p.code }));
}

/** How an adapter names the provider settings that make the appliance's certificate trusted. */
export interface TrustSettingNames {
  /** e.g. `ca_pem` (Terraform) or `lbappliance:caPem` (Pulumi). */
  caPem: string;
  insecure: string;
}

/** Terraform's names; Pulumi passes its own. */
export const TERRAFORM_TRUST_SETTINGS: TrustSettingNames = { caPem: 'ca_pem (or LBAPPLIANCE_CA_PEM)', insecure: 'insecure = true (or LBAPPLIANCE_INSECURE=true)' };

/** The issues an error becomes: appliance problems with their detail and attribute, others as they are. */
export function issuesFromError(attributes: Attributes, err: unknown, action: string, trust: TrustSettingNames = TERRAFORM_TRUST_SETTINGS): Issue[] {
  if (err instanceof ApplianceTrustError) {
    const detail = `the appliance presented a certificate the provider does not trust (${err.tlsCode}): set ${trust.caPem} to its certificate (tls/api.crt in its data dir), or ${trust.insecure} to skip verification [${err.code}]`;
    return [{ path: [], summary: `${action}: untrusted appliance certificate`, detail, code: err.code }];
  }
  if (err instanceof ApplianceProblemError) {
    const p = err.problem;
    const many = (p.errors ?? []).filter((e) => e.field !== p.field);
    const first: Issue = {
      path: pathFromPointer(attributes, p.field),
      summary: `${action}: ${p.title}`,
      detail: `${p.detail ?? p.title} [${p.code}]`,
      code: p.code,
    };
    return [
      first,
      ...many.map((e) => ({ path: pathFromPointer(attributes, e.field), summary: `${action}: ${p.title}`, detail: `${e.message} [${p.code}]`, code: p.code })),
    ];
  }
  if (err instanceof ResourceError) return [{ path: err.path, summary: `${action}: ${err.message}`, detail: `${err.message}${err.path.length ? ` (${pathText(err.path)})` : ''} [${err.code}]`, code: err.code }];
  if (err instanceof ApplianceSdkError) return [{ path: [], summary: `${action}: ${err.message}`, detail: `${err.message} [${err.code}]`, code: err.code }];
  const e = err as Error;
  return [{ path: [], summary: `${action}: unexpected error`, detail: e?.stack ?? String(err), code: 'LBP_INTERNAL' }];
}

/** The call's result, or null when the appliance answers that the object does not exist. */
export async function unlessGone<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}
