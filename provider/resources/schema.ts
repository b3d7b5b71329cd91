// Builds attributes from the contract's schemas (provider/resources/generated/contract.ts),
// so every description, bound and default comes from openapi/appliance.yaml.
import type { ContractSchema } from './generated/contract.js';
import type { Attribute, Attributes, ScalarConstraints, Value, ValueType } from './types.js';
import { snakeCase } from './values.js';

/** Per-attribute adjustments on top of what the contract says. */
export type AttributeOverride = Partial<Attribute> & { format?: ScalarConstraints['format'] };

/** The value type of a contract schema. */
export function typeFromContract(schema: ContractSchema, format?: ScalarConstraints['format']): ValueType {
  const scalar: ScalarConstraints = {};
  if (schema.enum) scalar.enum = schema.enum;
  if (schema.minimum !== undefined) scalar.minimum = schema.minimum;
  if (schema.maximum !== undefined) scalar.maximum = schema.maximum;
  if (schema.minLength !== undefined) scalar.minLength = schema.minLength;
  if (schema.maxLength !== undefined) scalar.maxLength = schema.maxLength;
  if (schema.pattern !== undefined) scalar.pattern = schema.pattern;
  if (format) scalar.format = format;
  switch (schema.type) {
    case 'string':
      return { kind: 'string', ...scalar };
    case 'integer':
      return { kind: 'integer', ...scalar };
    case 'number':
      return { kind: 'number', ...scalar };
    case 'boolean':
      return { kind: 'bool' };
    case 'array': {
      if (!schema.items) throw new Error('contract array without items');
      const list: ValueType = { kind: 'list', element: typeFromContract(schema.items) };
      if (schema.minItems !== undefined) list.minItems = schema.minItems;
      if (schema.maxItems !== undefined) list.maxItems = schema.maxItems;
      if (schema.uniqueItems) list.uniqueItems = true;
      return list;
    }
    case 'object':
      return { kind: 'object', attributes: attributesFromContract(schema) };
    default:
      throw new Error(`contract schema without a usable type: ${JSON.stringify(schema).slice(0, 120)}`);
  }
}

/** The default of an object attribute: each of its attributes' defaults. */
function objectDefault(attributes: Attributes): Value {
  const out: Record<string, Value> = {};
  for (const [name, attr] of Object.entries(attributes)) out[name] = attr.default ?? null;
  return out;
}

/**
 * One attribute from a contract property. Presence follows the contract: required when the
 * contract requires it; optional+computed with the contract's default when it has a non-null
 * default; plain optional (null means "not set", as in the API) otherwise.
 */
export function attributeFromContract(schema: ContractSchema, required: boolean, override: AttributeOverride = {}): Attribute {
  const { format, ...rest } = override;
  const type = typeFromContract(schema, format);
  const attr: Attribute = { type, description: schema.description ?? '' };
  if (required) attr.required = true;
  else if (schema.default !== undefined && schema.default !== null) {
    attr.optional = true;
    attr.computed = true;
    attr.default = type.kind === 'object' ? objectDefault(type.attributes) : (schema.default as Value);
  } else attr.optional = true;
  if (schema.writeOnly) attr.sensitive = true;
  return { ...attr, ...rest };
}

/** Every property of a contract object schema as attributes (snake_case names). */
export function attributesFromContract(schema: ContractSchema, overrides: Record<string, AttributeOverride> = {}, only?: readonly string[]): Record<string, Attribute> {
  const out: Record<string, Attribute> = {};
  const required = new Set(schema.required ?? []);
  for (const [prop, sub] of Object.entries(schema.properties ?? {})) {
    const name = snakeCase(prop);
    if (only && !only.includes(name)) continue;
    out[name] = attributeFromContract(sub, required.has(prop), overrides[name] ?? {});
  }
  return out;
}

/** A read-only copy of an attribute: computed, no default, no write-only, nested ones too. */
export function asComputed(attr: Attribute): Attribute {
  const type: ValueType = attr.type.kind === 'object' ? { kind: 'object', attributes: allComputed(attr.type.attributes) } : attr.type;
  const out: Attribute = { type, description: attr.description, computed: true };
  if (attr.sensitive) out.sensitive = true;
  return out;
}

/** Every attribute made read-only (for data sources). */
export function allComputed(attributes: Attributes, except: readonly string[] = []): Record<string, Attribute> {
  const out: Record<string, Attribute> = {};
  for (const [name, attr] of Object.entries(attributes)) if (!attr.writeOnly && !except.includes(name)) out[name] = asComputed(attr);
  return out;
}

/** Computed attributes from a contract schema's properties (what the appliance reports). */
export function computedFromContract(schema: ContractSchema, names: readonly string[], overrides: Record<string, AttributeOverride> = {}): Record<string, Attribute> {
  const out: Record<string, Attribute> = {};
  for (const [prop, sub] of Object.entries(schema.properties ?? {})) {
    const name = snakeCase(prop);
    if (!names.includes(name)) continue;
    out[name] = { ...asComputed(attributeFromContract(sub, false)), ...(overrides[name] ?? {}) };
  }
  for (const n of names) if (!out[n]) throw new Error(`contract has no property for attribute ${n}`);
  return out;
}

/** The `id` attribute every resource has. */
export function idAttribute(description: string): Attribute {
  return { type: { kind: 'string' }, description, computed: true };
}
