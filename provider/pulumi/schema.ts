// The Pulumi package schema of `lbappliance`, built from the shared resource definitions:
// every resource with its input and output properties, their descriptions (the contract's,
// through the definitions), secrets, replace-on-change flags, enums and nested object
// types, and the provider's configuration. GetSchema serves it; `npm run generate` writes
// it to provider/pulumi/schema.json and generates the TypeScript SDK from that file.
import { providerAttributes } from '../resources/provider-config.js';
import { PROVIDER_NAME, resources } from '../resources/registry.js';
import type { Attribute, Attributes, ResourceDefinition, ValueType } from '../resources/types.js';
import { camelCase } from '../resources/values.js';
import { isInput, propertyName, RESERVED } from './properties.js';
import { PLUGIN_VERSION } from './version.js';

/** A property in the schema (the subset of Pulumi's PropertySpec used here). */
export interface PropertySpec {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';
  $ref?: string;
  items?: PropertySpec;
  additionalProperties?: PropertySpec;
  description?: string;
  secret?: boolean;
  willReplaceOnChanges?: boolean;
  default?: string | number | boolean;
}

/** A named type: an object or a string/integer enum. */
export interface TypeSpec {
  type: 'object' | 'string' | 'integer';
  description?: string;
  properties?: Record<string, PropertySpec>;
  required?: string[];
  enum?: { value: string | number; name?: string }[];
}

/** A resource in the schema. */
export interface ResourceSpec {
  description: string;
  properties: Record<string, PropertySpec>;
  required: string[];
  inputProperties: Record<string, PropertySpec>;
  requiredInputs: string[];
}

/** The package schema (the subset of Pulumi's PackageSpec used here). */
export interface PackageSchema {
  name: string;
  displayName: string;
  version: string;
  description: string;
  keywords: string[];
  license: string;
  meta: { moduleFormat: string };
  config: { variables: Record<string, PropertySpec> };
  provider: { description: string; properties: Record<string, PropertySpec>; inputProperties: Record<string, PropertySpec> };
  types: Record<string, TypeSpec>;
  resources: Record<string, ResourceSpec>;
  language: Record<string, unknown>;
}

/** The token of a resource or type: `lbappliance:index:VirtualService`. */
export function token(typeName: string): string {
  return `${PROVIDER_NAME}:index:${typeName}`;
}

const pascal = (name: string) => camelCase(name).replace(/^./, (c) => c.toUpperCase());

/**
 * What the definitions say of write-only values holds for Terraform, which never stores
 * them; Pulumi has no write-only values and keeps every input in its state, secrets
 * encrypted. These phrases are said again as they are true for Pulumi.
 */
const WRITE_ONLY_PHRASES: readonly [RegExp, string][] = [
  [/The private key is write-only and never stored in the Terraform state/g, 'The private key is a secret: the appliance never returns it, and Pulumi keeps it in the state only encrypted'],
  [/Write-only: sent to the appliance, never stored in the state\./g, 'A secret: sent to the appliance, never returned by it, and kept in the Pulumi state only encrypted.'],
  [/Write-only: never stored in the state/g, 'A secret, kept in the Pulumi state only encrypted'],
  [/Write-only values are not compared between runs/g, 'Key material is not compared between runs (the appliance cannot return it)'],
  [/Write-only\./g, 'A secret.'],
];

/**
 * Descriptions are written for Terraform (snake_case names, `lbappliance_x` types, "state");
 * Pulumi users read camelCase names and `lbappliance.X` classes.
 */
export function pulumiText(text: string): string {
  const typeNames = new Map(resources.map((r) => [`${PROVIDER_NAME}_${r.name}`, `${PROVIDER_NAME}.${r.typeName}`]));
  const said = WRITE_ONLY_PHRASES.reduce((t, [re, replacement]) => t.replace(re, replacement), text);
  return said
    .replace(/`(lbappliance_[a-z_]+)`/g, (m, name: string) => (typeNames.has(name) ? `\`${typeNames.get(name)}\`` : m))
    .replace(/`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`/g, (_m, name: string) => `\`${camelCase(name)}\``)
    .replace(/\bTerraform state\b/g, 'Pulumi state');
}

function enumName(value: string | number): string | undefined {
  if (typeof value === 'number') return `Code${value}`;
  const name = value.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : '')).replace(/^./, (c) => c.toUpperCase());
  return /^[A-Za-z]/.test(name) ? name : `Value${name}`;
}

class SchemaBuilder {
  readonly types: Record<string, TypeSpec> = {};

  /** The property spec of a value type; nested objects and enums become named types. */
  property(attr: Attribute, typeName: string): PropertySpec {
    const spec: PropertySpec = this.#type(attr.type, typeName, attr.description);
    if (attr.description) spec.description = pulumiText(attr.description);
    if (attr.sensitive) spec.secret = true;
    if (attr.replaceOnChange) spec.willReplaceOnChanges = true;
    if (attr.default !== undefined && attr.default !== null && typeof attr.default !== 'object' && typeof attr.default !== 'symbol') spec.default = attr.default;
    return spec;
  }

  #type(type: ValueType, typeName: string, description: string): PropertySpec {
    switch (type.kind) {
      case 'string':
      case 'integer':
        if (type.enum && type.enum.length > 0) {
          this.types[token(typeName)] = {
            type: type.kind,
            description: pulumiText(description),
            enum: type.enum.map((value) => ({ value, ...(enumName(value) ? { name: enumName(value) } : {}) })),
          };
          return { $ref: `#/types/${token(typeName)}` };
        }
        return { type: type.kind };
      case 'number':
        return { type: 'number' };
      case 'bool':
        return { type: 'boolean' };
      case 'list':
      case 'set':
        return { type: 'array', items: this.#type(type.element, `${typeName}Item`, description) };
      case 'map':
        return { type: 'object', additionalProperties: this.#type(type.element, `${typeName}Value`, description) };
      case 'object': {
        const properties: Record<string, PropertySpec> = {};
        const required: string[] = [];
        for (const [name, sub] of Object.entries(type.attributes)) {
          properties[propertyName(name)] = this.property(sub, `${typeName}${pascal(name)}`);
          if (sub.required) required.push(propertyName(name));
        }
        this.types[token(typeName)] = { type: 'object', description: pulumiText(description), properties, ...(required.length ? { required } : {}) };
        return { $ref: `#/types/${token(typeName)}` };
      }
    }
  }

  /** Input and output properties of a set of attributes. */
  properties(attributes: Attributes, typeName: string): Pick<ResourceSpec, 'properties' | 'required' | 'inputProperties' | 'requiredInputs'> {
    const out: ResourceSpec['properties'] = {};
    const inputs: ResourceSpec['inputProperties'] = {};
    const required: string[] = [];
    const requiredInputs: string[] = [];
    for (const [name, attr] of Object.entries(attributes)) {
      if (RESERVED.has(name)) continue;
      const prop = propertyName(name);
      const spec = this.property(attr, `${typeName}${pascal(name)}`);
      out[prop] = spec;
      if (isInput(attr)) inputs[prop] = spec;
      if (attr.required) requiredInputs.push(prop);
      // Outputs always hold required values and values with a default.
      if (attr.required || (attr.default !== undefined && attr.default !== null)) required.push(prop);
    }
    return { properties: out, required, inputProperties: inputs, requiredInputs };
  }
}

function importSection(def: ResourceDefinition): string {
  return `\n\n## Import\n\nThe id is \`${def.importId.format}\`:\n\n\`\`\`sh\n$ pulumi import ${token(def.typeName)} my${def.typeName} ${def.importId.example}\n\`\`\`\n`;
}

/** The package schema. */
export function buildSchema(): PackageSchema {
  const b = new SchemaBuilder();
  const res: Record<string, ResourceSpec> = {};
  for (const def of resources) {
    res[token(def.typeName)] = { description: `${pulumiText(def.description)}${importSection(def)}`, ...b.properties(def.attributes, def.typeName) };
  }
  const config: Record<string, PropertySpec> = {};
  for (const [name, attr] of Object.entries(providerAttributes)) config[propertyName(name)] = b.property(attr, `Provider${pascal(name)}`);
  return {
    name: PROVIDER_NAME,
    displayName: 'lbappliance',
    version: PLUGIN_VERSION,
    description: 'Manages an lbappliance load balancer for hospital imaging systems (virtual services, real servers, certificates and the HA pair) through its REST API.',
    keywords: ['pulumi', PROVIDER_NAME, 'load-balancer', 'dicom', 'hl7', 'category/network'],
    license: 'MIT',
    meta: { moduleFormat: '(.*)' },
    config: { variables: config },
    provider: {
      description: 'The provider type for the lbappliance package. By default it takes its settings from the stack\'s `lbappliance:*` configuration, then from the `LBAPPLIANCE_*` environment variables.',
      properties: config,
      inputProperties: config,
    },
    types: Object.fromEntries(Object.entries(b.types).sort(([a], [c]) => a.localeCompare(c))),
    resources: res,
    language: { nodejs: { packageName: PROVIDER_NAME, packageDescription: 'The lbappliance Pulumi SDK (exported as lbappliance/pulumi).' } },
  };
}
