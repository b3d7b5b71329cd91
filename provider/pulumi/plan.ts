// What a resource will look like: the contract's defaults filled into checked inputs (so
// leaving a property out means what leaving it out of the API means), and the values to
// create or update with, or to answer a preview with, from the checked inputs and the prior
// state. Mirrors the Terraform adapter's planning rules; nothing here touches the appliance.
import type { Attribute, Attributes, ObjectValue, Value } from '../resources/types.js';
import { UNKNOWN } from '../resources/types.js';
import { valuesEqual } from '../resources/values.js';
import { isInput } from './properties.js';

function asObject(v: Value | undefined): ObjectValue | null {
  return v !== null && v !== undefined && v !== UNKNOWN && typeof v === 'object' && !Array.isArray(v) ? v : null;
}

function defaultOf(attr: Attribute): Value {
  if (attr.type.kind === 'object') return withDefaults(attr.type.attributes, {});
  return attr.default ?? null;
}

/**
 * The inputs with the contract's defaults filled in, nested objects too. Only input
 * attributes are kept (computed-only ones are null); unknowns stay unknown.
 */
export function withDefaults(attributes: Attributes, values: ObjectValue): ObjectValue {
  const out: ObjectValue = {};
  for (const [name, attr] of Object.entries(attributes)) {
    if (!isInput(attr)) {
      out[name] = null;
      continue;
    }
    const v = values[name] ?? null;
    const obj = asObject(v);
    if (attr.type.kind === 'object' && obj) out[name] = withDefaults(attr.type.attributes, obj);
    else if (v === null && attr.default !== undefined) out[name] = defaultOf(attr);
    else out[name] = v;
  }
  return out;
}

/** How a value the appliance will choose is planned: unknown in a preview, null when calling the definition. */
export type Unset = typeof UNKNOWN | null;

function mergeObject(attributes: Attributes, inputs: ObjectValue, prior: ObjectValue | null, unset: Unset): ObjectValue {
  const out: ObjectValue = {};
  for (const [name, attr] of Object.entries(attributes)) {
    if (!isInput(attr)) continue;
    const v = inputs[name] ?? null;
    const obj = asObject(v);
    if (attr.type.kind === 'object' && obj) out[name] = mergeObject(attr.type.attributes, obj, asObject(prior?.[name]), unset);
    else if (v === null && attr.computed) out[name] = prior ? (prior[name] ?? null) : unset;
    else out[name] = v;
  }
  return out;
}

/**
 * The planned object: inputs as checked, optional values the appliance chooses kept from the
 * prior state (or `unset` on create), read-only values kept unless the object is new or a
 * volatile value may change with the inputs (then `unset`).
 */
export function planObject(attributes: Attributes, inputs: ObjectValue, prior: ObjectValue | null, unset: Unset): ObjectValue {
  const planned = mergeObject(attributes, inputs, prior, unset);
  const changed = !prior || Object.entries(attributes).some(([name, attr]) => isInput(attr) && !attr.writeOnly && !valuesEqual(planned[name] ?? null, prior[name] ?? null));
  for (const [name, attr] of Object.entries(attributes)) {
    if (isInput(attr)) continue;
    if (!prior) planned[name] = unset;
    else if (attr.volatile && changed) planned[name] = unset;
    else planned[name] = prior[name] ?? null;
  }
  return planned;
}
