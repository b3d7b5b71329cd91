// The tfplugin6 schemas of the provider, its resources and data sources, from the shared
// definitions, and the same schemas as `terraform providers schema -json` prints them (the
// input of the CDKTF binding generator and of the docs).
import type { Attribute, Attributes } from '../resources/types.js';
import { ctyType, isNestedAttribute, type CtyType } from './cty.js';

/** A tfplugin6 Schema.Attribute, as protobufjs takes it. */
export interface SchemaAttributeMessage {
  name: string;
  type?: Uint8Array;
  nested_type?: { attributes: SchemaAttributeMessage[]; nesting: 'SINGLE' };
  description: string;
  description_kind: 'MARKDOWN';
  required: boolean;
  optional: boolean;
  computed: boolean;
  sensitive: boolean;
  write_only: boolean;
}

/** A tfplugin6 Schema, as protobufjs takes it. */
export interface SchemaMessage {
  version: number;
  block: { version: number; attributes: SchemaAttributeMessage[]; block_types: never[]; description: string; description_kind: 'MARKDOWN' };
}

function attributeMessage(name: string, attr: Attribute): SchemaAttributeMessage {
  const msg: SchemaAttributeMessage = {
    name,
    description: attr.description,
    description_kind: 'MARKDOWN',
    required: !!attr.required,
    optional: !!attr.optional,
    computed: !!attr.computed,
    sensitive: !!attr.sensitive,
    write_only: !!attr.writeOnly,
  };
  if (isNestedAttribute(attr) && attr.type.kind === 'object') {
    msg.nested_type = { attributes: attributeMessages(attr.type.attributes), nesting: 'SINGLE' };
  } else msg.type = Buffer.from(JSON.stringify(ctyType(attr.type)));
  return msg;
}

function attributeMessages(attributes: Attributes): SchemaAttributeMessage[] {
  return Object.entries(attributes).map(([name, attr]) => attributeMessage(name, attr));
}

/** The tfplugin6 schema of a set of attributes. */
export function schemaMessage(attributes: Attributes, description: string): SchemaMessage {
  return { version: 0, block: { version: 0, attributes: attributeMessages(attributes), block_types: [], description, description_kind: 'MARKDOWN' } };
}

/** One attribute as `terraform providers schema -json` prints it. */
export interface JsonSchemaAttribute {
  type?: CtyType;
  nested_type?: { attributes: Record<string, JsonSchemaAttribute>; nesting_mode: 'single' };
  description: string;
  description_kind: 'markdown';
  required?: true;
  optional?: true;
  computed?: true;
  sensitive?: true;
  write_only?: true;
}

/** A block as `terraform providers schema -json` prints it. */
export interface JsonSchema {
  version: number;
  block: { attributes: Record<string, JsonSchemaAttribute>; description: string; description_kind: 'markdown' };
}

function jsonAttributes(attributes: Attributes): Record<string, JsonSchemaAttribute> {
  const out: Record<string, JsonSchemaAttribute> = {};
  for (const name of Object.keys(attributes).sort()) {
    const attr = attributes[name]!;
    const j: JsonSchemaAttribute = { description: attr.description, description_kind: 'markdown' };
    if (isNestedAttribute(attr) && attr.type.kind === 'object') j.nested_type = { attributes: jsonAttributes(attr.type.attributes), nesting_mode: 'single' };
    else j.type = ctyType(attr.type);
    if (attr.required) j.required = true;
    if (attr.optional) j.optional = true;
    if (attr.computed) j.computed = true;
    if (attr.sensitive) j.sensitive = true;
    if (attr.writeOnly) j.write_only = true;
    out[name] = { ...(j.type !== undefined ? { type: j.type } : {}), ...j };
  }
  return out;
}

/** A block in the JSON form of `terraform providers schema -json`. */
export function jsonSchema(attributes: Attributes, description: string): JsonSchema {
  return { version: 0, block: { attributes: jsonAttributes(attributes), description, description_kind: 'markdown' } };
}
