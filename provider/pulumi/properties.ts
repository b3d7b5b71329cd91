// Moves values between Pulumi property bags (camelCase names, absent means unset) and the
// shared definitions' object values (snake_case names, every attribute present, null when
// unset), recursively through nested objects and lists of objects.
import type { Attribute, Attributes, ObjectValue, PathStep, Value } from '../resources/types.js';
import { UNKNOWN } from '../resources/types.js';
import { camelCase } from '../resources/values.js';

/** The Pulumi property name of an attribute: `health_check` -> `healthCheck`. */
export function propertyName(attribute: string): string {
  return camelCase(attribute);
}

/** Attributes the Pulumi adapter leaves out of property bags: the engine carries the id itself. */
export const RESERVED = new Set(['id']);

function isObject(v: Value | undefined): v is ObjectValue {
  return v !== null && v !== undefined && v !== UNKNOWN && typeof v === 'object' && !Array.isArray(v);
}

function toValue(attr: Attribute, v: Value | undefined, path: PathStep[], extra: PathStep[][]): Value {
  if (v === undefined || v === null) return null;
  if (attr.type.kind === 'object' && isObject(v)) return toObject(attr.type.attributes, v, path, extra);
  if ((attr.type.kind === 'list' || attr.type.kind === 'set') && attr.type.element.kind === 'object' && Array.isArray(v)) {
    const el = attr.type.element.attributes;
    return v.map((item, i) => (isObject(item) ? toObject(el, item, [...path, i], extra) : item));
  }
  return v;
}

function toObject(attributes: Attributes, bag: ObjectValue, path: PathStep[], extra: PathStep[][]): ObjectValue {
  const out: ObjectValue = {};
  const known = new Set<string>();
  for (const [name, attr] of Object.entries(attributes)) {
    const prop = propertyName(name);
    known.add(prop);
    out[name] = toValue(attr, bag[prop], [...path, name], extra);
  }
  for (const k of Object.keys(bag)) if (!known.has(k)) extra.push([...path, k]);
  return out;
}

/**
 * A definition value from a property bag. Properties no attribute knows are left out and
 * their paths (attribute names, then the unknown property name) added to `unknownPaths`.
 */
export function toDefinitionValues(attributes: Attributes, bag: ObjectValue, unknownPaths: PathStep[][] = []): ObjectValue {
  return toObject(attributes, bag, [], unknownPaths);
}

function fromValue(attr: Attribute, v: Value): Value {
  if (attr.type.kind === 'object' && isObject(v)) return fromObject(attr.type.attributes, v, () => true);
  if ((attr.type.kind === 'list' || attr.type.kind === 'set') && attr.type.element.kind === 'object' && Array.isArray(v)) {
    const el = attr.type.element.attributes;
    return v.map((item) => (isObject(item) ? fromObject(el, item, () => true) : item));
  }
  return v;
}

function fromObject(attributes: Attributes, values: ObjectValue, keep: (name: string, attr: Attribute) => boolean): ObjectValue {
  const out: ObjectValue = {};
  for (const [name, attr] of Object.entries(attributes)) {
    const v = values[name];
    if (v === undefined || v === null || !keep(name, attr)) continue;
    out[propertyName(name)] = fromValue(attr, v);
  }
  return out;
}

/** A property bag from a definition value: camelCase names, nulls left out, `keep` choosing top-level attributes. */
export function toPropertyBag(attributes: Attributes, values: ObjectValue, keep: (name: string, attr: Attribute) => boolean = () => true): ObjectValue {
  return fromObject(attributes, values, (name, attr) => !RESERVED.has(name) && keep(name, attr));
}

/** Whether an attribute is set by the user (an input in Pulumi's terms). */
export function isInput(attr: Attribute): boolean {
  return !!(attr.required || attr.optional);
}

/** A path in Pulumi's property path syntax: `healthCheck.port`, `ports[0]`. */
export function propertyPath(path: readonly PathStep[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : `${i === 0 ? '' : '.'}${propertyName(s)}`)).join('');
}
