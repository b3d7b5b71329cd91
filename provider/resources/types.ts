// The resource-definition interface shared by every infrastructure-as-code adapter
// (the Terraform provider in provider/terraform/, the Pulumi provider of issue 6).
//
// A definition knows the appliance (through the SDK) and nothing of Terraform or Pulumi:
// - its attributes, each with a snake_case name, a value type, presence (required /
//   optional / computed), the contract's default, sensitivity, write-only-ness,
//   replace-on-change and the contract's description;
// - plan-time validation that names the attribute (`Issue.path`);
// - create / read / update / delete / import over the SDK, in terms of plain values.
//
// Values are plain JSON-like data keyed by attribute name (snake_case). Every attribute
// is present in an object value (null when absent). `UNKNOWN` stands for a value that is
// not known until apply (Terraform's unknown, Pulumi's computed output). Validation may see
// unknowns anywhere; lifecycle methods get every configured value known, and UNKNOWN only
// where the appliance is to choose the value (computed attributes, before create).
import type { ApplianceClient } from '../../openapi/sdk/client.js';

/** The marker of a value not known until apply. */
export const UNKNOWN: unique symbol = Symbol.for('lbappliance.unknown');
/** The type of {@link UNKNOWN}. */
export type Unknown = typeof UNKNOWN;

/** A value of an attribute: scalars, lists, objects, null, or unknown. */
export type Value = null | Unknown | string | number | boolean | Value[] | ObjectValue;
/** An object value: every attribute of its type present, keyed by snake_case name. */
export interface ObjectValue {
  [name: string]: Value;
}

/** Scalar value types; `integer` is a number that must be whole (Terraform `number`). */
export type ScalarKind = 'string' | 'integer' | 'number' | 'bool';

/** Checks on a scalar value, taken from the contract. */
export interface ScalarConstraints {
  /** Allowed values. */
  enum?: readonly (string | number)[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  /** A regular expression (ECMAScript syntax) the whole string must match. */
  pattern?: string;
  /** A format checked locally: an IP address, or an IP address or host name. */
  format?: 'ip' | 'host' | 'https-url';
}

/** The type of an attribute's value. */
export type ValueType =
  | ({ kind: ScalarKind } & ScalarConstraints)
  | { kind: 'list' | 'set'; element: ValueType; minItems?: number; maxItems?: number; uniqueItems?: boolean }
  | { kind: 'map'; element: ValueType }
  | { kind: 'object'; attributes: Readonly<Record<string, Attribute>> };

/**
 * One attribute. Exactly one of `required`, `optional`, `computed` holds, or `optional`
 * and `computed` together: the user may set it, and when they do not, the value is
 * `default` (when given) or chosen by the appliance.
 */
export interface Attribute {
  type: ValueType;
  /** Markdown, from the contract where the attribute is the contract's. */
  description: string;
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
  /**
   * The value planned when the user leaves an optional+computed attribute unset: the
   * contract's default, so omitting an attribute means what omitting it in the API means.
   * For an object, the object of its attributes' defaults.
   */
  default?: Value;
  /** A secret: shown masked, stored encrypted where the tool can (Terraform: sensitive). */
  sensitive?: boolean;
  /**
   * Sent to the appliance but never stored: adapters pass it to create/update from the
   * configuration and store null (Terraform: write_only; Pulumi: a secret input).
   */
  writeOnly?: boolean;
  /** The appliance cannot change it in place: a change replaces the object. */
  replaceOnChange?: boolean;
  /** A computed value that may change whenever the object is updated (plan it unknown). */
  volatile?: boolean;
  /**
   * The contract property this attribute carries, as a JSON Pointer into the API's request
   * body (`/healthCheck`), when its name is not simply the camelCase of the snake_case name.
   * Used to point appliance problems (`field`) at the attribute.
   */
  apiField?: string;
}

/** A schema: attributes by snake_case name. */
export type Attributes = Readonly<Record<string, Attribute>>;

/** A step of a path into a value: an attribute name or a list index. */
export type PathStep = string | number;

/** A problem found in a configuration or reported by the appliance, tied to an attribute when possible. */
export interface Issue {
  /** Path of the offending attribute (empty: the whole object). */
  path: PathStep[];
  /** One line. */
  summary: string;
  /** The details (the appliance's problem detail for API errors). */
  detail: string;
  /** A stable code: `LB_...` from the appliance, `LBP_...` from the provider layer. */
  code: string;
  /** Warnings do not stop the run. */
  severity?: 'error' | 'warning';
}

/** Where a lifecycle method logs (JSON lines on stderr in the Terraform plugin). */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** What a lifecycle method works with. */
export interface ResourceContext {
  /** The configured SDK client. */
  client: ApplianceClient;
  log: Logger;
  /** Aborted when the tool asks the provider to stop (Terraform StopProvider, Pulumi Cancel). */
  signal: AbortSignal;
  /**
   * Tells the user something that does not fail the run but that a pipeline may want to fail
   * on (Terraform: a warning diagnostic of the apply; Pulumi: a warning on the resource).
   */
  warning(issue: Omit<Issue, 'severity'>): void;
}

/** How `terraform import` / `pulumi import` ids look for a resource. */
export interface ImportIdFormat {
  /** e.g. `vs-xxxxxxxxxxxx/rs-xxxxxxxxxxxx`. */
  format: string;
  /** A concrete example. */
  example: string;
}

/** What every definition has. */
interface DefinitionBase {
  /** snake_case type name without the provider prefix: `virtual_service` (Terraform `lbappliance_virtual_service`). */
  name: string;
  /** PascalCase name for tools that want one: `VirtualService` (Pulumi token `lbappliance:index:VirtualService`). */
  typeName: string;
  /** Markdown description of the resource (first sentence is its summary). */
  description: string;
  /** The attributes. Every resource has a computed `id`. */
  attributes: Attributes;
  /**
   * Cross-attribute checks beyond the schema (types and bounds are checked by `validateConfig`).
   * `prior`: the stored values when planning an update, null when planning a create, and
   * undefined when validating a configuration alone (checks that depend on it wait).
   */
  validate?(config: ObjectValue, prior?: ObjectValue | null): Issue[];
  /** An HCL example of the resource (documentation). */
  example: string;
}

/**
 * A managed resource: its whole life over the SDK.
 *
 * Rules every implementation keeps (adapters rely on them):
 * - results hold every attribute; write-only attributes are null; values read back from the
 *   appliance are canonical (defaults filled, lists in the order the user wrote them), so a
 *   second plan after apply shows no changes;
 * - inputs the appliance cannot return (e.g. `certificate_pem` text) are carried over from
 *   the state/inputs given, and replaced from the appliance only when it really changed;
 * - `read` and `import` return null when the object no longer exists;
 * - appliance refusals are thrown as SDK errors (`ApplianceProblemError`); adapters map them
 *   to diagnostics with `issueFromError` (errors.ts).
 */
export interface ResourceDefinition extends DefinitionBase {
  kind: 'resource';
  /** Import id syntax. */
  importId: ImportIdFormat;
  /** Creates the object. `inputs`: planned values, write-only values filled from the config. */
  create(ctx: ResourceContext, inputs: ObjectValue): Promise<ObjectValue>;
  /** Reads the object from the appliance (null: gone). `state`: the last stored values. */
  read(ctx: ResourceContext, state: ObjectValue): Promise<ObjectValue | null>;
  /** Changes the object in place (only attributes without `replaceOnChange` differ). */
  update(ctx: ResourceContext, prior: ObjectValue, inputs: ObjectValue): Promise<ObjectValue>;
  /** Deletes the object (already gone is fine). */
  delete(ctx: ResourceContext, state: ObjectValue): Promise<void>;
  /** Reads an existing object by import id (null: no such object). */
  import(ctx: ResourceContext, id: string): Promise<ObjectValue | null>;
}

/** A data source: a read by query attributes. */
export interface DataSourceDefinition extends DefinitionBase {
  kind: 'data-source';
  /** Reads the data; `config` holds the query attributes, the rest null. */
  read(ctx: ResourceContext, config: ObjectValue): Promise<ObjectValue>;
}

/** The provider's own settings (endpoint, credentials, TLS trust). */
export interface ProviderSettings {
  endpoint: string;
  username: string;
  password: string;
  insecure: boolean;
  caPem: string | null;
}
