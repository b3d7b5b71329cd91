// Check's defaults: the contract's defaults filled into the program's inputs, nested
// objects too, so leaving a property out means what leaving it out of the API means, and
// the checked inputs the engine stores (and later diffs) say so. Unlike the shared planner
// (provider/resources/plan.ts, used for previews and applies), nothing becomes unknown here:
// what the appliance chooses is left unset.
import type { Attribute, Attributes, ObjectValue, Value } from '../resources/types.js';
import { UNKNOWN } from '../resources/types.js';
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
