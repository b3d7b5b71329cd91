// Moves values between attributes (snake_case) and the contract's JSON bodies (camelCase),
// recursively through nested objects, so each definition names only its exceptions.
import type { Attributes, ObjectValue, Value } from './types.js';
import { camelCase } from './values.js';

function apiName(name: string, apiField: string | undefined): string {
  return apiField ? apiField.slice(1) : camelCase(name);
}

/** The request body for the given attributes' values (nulls kept: the contract allows them where the schema does). */
export function toApiBody(attributes: Attributes, values: ObjectValue, skip: readonly string[] = []): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [name, attr] of Object.entries(attributes)) {
    if (skip.includes(name) || (attr.computed && !attr.optional)) continue;
    const v = values[name] ?? null;
    const type = attr.type;
    let out: unknown = v;
    if (type.kind === 'object' && v !== null && typeof v === 'object' && !Array.isArray(v)) out = toApiBody(type.attributes, v as ObjectValue);
    // A list of objects (tls.sni_certificates): each element mapped as an object.
    else if (type.kind === 'list' && type.element.kind === 'object' && Array.isArray(v)) {
      const el = type.element.attributes;
      out = v.map((item) => (item !== null && typeof item === 'object' && !Array.isArray(item) ? toApiBody(el, item as ObjectValue) : item));
    }
    body[apiName(name, attr.apiField)] = out;
  }
  return body;
}

/** Attribute values from an appliance body; absent properties become null. */
export function fromApiBody(attributes: Attributes, body: Record<string, unknown>, skip: readonly string[] = []): ObjectValue {
  const out: ObjectValue = {};
  for (const [name, attr] of Object.entries(attributes)) {
    if (skip.includes(name)) continue;
    const v = body[apiName(name, attr.apiField)];
    if (v === undefined || v === null) out[name] = null;
    else if (attr.type.kind === 'object' && typeof v === 'object' && !Array.isArray(v)) out[name] = fromApiBody(attr.type.attributes, v as Record<string, unknown>);
    else if (attr.type.kind === 'list' && attr.type.element.kind === 'object' && Array.isArray(v)) {
      const el = attr.type.element.attributes;
      out[name] = v.map((item) => fromApiBody(el, item as Record<string, unknown>));
    } else out[name] = v as Value;
  }
  return out;
}
