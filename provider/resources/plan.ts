// Planning, for any definition and any adapter (Terraform's PlanResourceChange, Pulumi's
// Check/Diff): configured values are planned as given;
// unset optional+computed attributes get the contract's default (so removing an attribute
// returns it to the default, as in the API) or, without a default, keep their prior value
// (unknown on create); computed-only values keep their prior value unless they are volatile
// and an input changed; write-only values are never planned; a change of a
// replace-on-change attribute asks for replacement.
import type { Attribute, Attributes, ObjectValue, PathStep, Value } from './types.js';
import { UNKNOWN } from './types.js';
import { valuesEqual } from './values.js';

function asObject(v: Value | undefined): ObjectValue | null {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v) ? (v as ObjectValue) : null;
}

function isInput(attr: Attribute): boolean {
  return !!(attr.required || attr.optional);
}

function planAttribute(attr: Attribute, config: Value, prior: Value | undefined, create: boolean): Value {
  if (attr.writeOnly) return null;
  if (config === UNKNOWN) return UNKNOWN;
  if (config !== null) {
    if (attr.type.kind === 'object') return planObject(attr.type.attributes, asObject(config) ?? {}, asObject(prior), create);
    return config;
  }
  if (!attr.computed) return null;
  if (attr.default !== undefined) {
    if (attr.type.kind === 'object') return planObject(attr.type.attributes, {}, asObject(prior), create);
    return attr.default;
  }
  return create || prior === undefined ? UNKNOWN : prior;
}

/** Plans an object: inputs first, then computed-only values (which depend on whether inputs changed). */
export function planObject(attributes: Attributes, config: ObjectValue, prior: ObjectValue | null, create: boolean): ObjectValue {
  const planned: ObjectValue = {};
  let inputsChanged = create;
  for (const [name, attr] of Object.entries(attributes)) {
    if (!isInput(attr)) continue;
    planned[name] = planAttribute(attr, config[name] ?? null, prior?.[name], create);
    if (!attr.writeOnly && !valuesEqual(planned[name], prior?.[name] ?? null)) inputsChanged = true;
  }
  for (const [name, attr] of Object.entries(attributes)) {
    if (isInput(attr)) continue;
    if (create || !prior) planned[name] = UNKNOWN;
    else if (attr.volatile && inputsChanged) planned[name] = UNKNOWN;
    else planned[name] = prior[name] ?? null;
  }
  return planned;
}

/** The attributes whose planned change forces a replacement. */
export function requiresReplace(attributes: Attributes, planned: ObjectValue, prior: ObjectValue): PathStep[][] {
  const out: PathStep[][] = [];
  for (const [name, attr] of Object.entries(attributes)) {
    if (attr.replaceOnChange && !valuesEqual(planned[name], prior[name] ?? null)) out.push([name]);
  }
  return out;
}

/** The values to create or update with: the plan, write-only values taken from the configuration. */
export function inputsFor(attributes: Attributes, planned: ObjectValue, config: ObjectValue | null): ObjectValue {
  const inputs: ObjectValue = { ...planned };
  for (const [name, attr] of Object.entries(attributes)) if (attr.writeOnly) inputs[name] = config?.[name] ?? null;
  return inputs;
}

/** The state to store: every attribute, write-only ones null. */
export function stateOf(attributes: Attributes, values: ObjectValue): ObjectValue {
  const out: ObjectValue = {};
  for (const [name, attr] of Object.entries(attributes)) out[name] = attr.writeOnly ? null : (values[name] ?? null);
  return out;
}
