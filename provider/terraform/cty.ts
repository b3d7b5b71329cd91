// Terraform's type system (cty) for our attributes: the type JSON a schema carries, and
// whether an object attribute is a nested attribute (protocol 6 nested_type) or a plain
// cty object. Objects with anything the user may set must be nested attributes, because a
// cty object type cannot have optional members without an optional-attributes list, which
// CDKTF's generator does not read.
import type { Attribute, Attributes, ValueType } from '../resources/types.js';

/** cty type JSON: "string", ["list","number"], ["object",{...}]. */
export type CtyType = string | [string, CtyType | Record<string, CtyType>];

/** Whether an object-typed attribute is declared as a nested attribute (nested_type). */
export function isNestedAttribute(attr: Attribute): boolean {
  return attr.type.kind === 'object' && Object.values(attr.type.attributes).some((a) => a.required || a.optional);
}

/** The cty type of a value type. */
export function ctyType(type: ValueType): CtyType {
  switch (type.kind) {
    case 'string':
      return 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'bool':
      return 'bool';
    case 'list':
    case 'set':
      return [type.kind, ctyType(type.element)];
    case 'map':
      return ['map', ctyType(type.element)];
    case 'object':
      return ['object', ctyObjectAttributes(type.attributes)];
  }
}

function ctyObjectAttributes(attributes: Attributes): Record<string, CtyType> {
  const out: Record<string, CtyType> = {};
  for (const [name, attr] of Object.entries(attributes)) out[name] = ctyType(attr.type);
  return out;
}
