// Plan-time validation of a configuration against its attributes: types, bounds, enums,
// patterns and formats from the contract, each problem tied to the attribute's path.
// Unknown values are skipped: they are checked again when they are known.
import { isIP } from 'node:net';
import { isHostName } from '../../openapi/sdk/rules.js';
import type { Attribute, Attributes, Issue, ObjectValue, PathStep, Value, ValueType } from './types.js';
import { UNKNOWN } from './types.js';


/** Renders a path the way HCL users write it: `health_check.port`, `ports[0]`. */
export function pathText(path: readonly PathStep[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function issue(path: PathStep[], detail: string): Issue {
  return { path, summary: `Invalid value for ${pathText(path)}`, detail, code: 'LBP_INVALID_VALUE' };
}

function checkValue(type: ValueType, value: Value, path: PathStep[], out: Issue[]): void {
  if (value === UNKNOWN || value === null) return;
  switch (type.kind) {
    case 'string': {
      if (typeof value !== 'string') return void out.push(issue(path, 'must be a string'));
      if (type.enum && !type.enum.includes(value)) return void out.push(issue(path, `must be one of ${type.enum.map((e) => JSON.stringify(e)).join(', ')}; got ${JSON.stringify(value)}`));
      if (type.minLength !== undefined && value.length < type.minLength) out.push(issue(path, `must be at least ${type.minLength} characters long`));
      if (type.maxLength !== undefined && value.length > type.maxLength) out.push(issue(path, `must be at most ${type.maxLength} characters long`));
      if (type.pattern !== undefined && !new RegExp(type.pattern, 'u').test(value)) out.push(issue(path, `${JSON.stringify(value)} does not match ${type.pattern}`));
      if (type.format === 'ip' && isIP(value) === 0) out.push(issue(path, `${JSON.stringify(value)} is not an IPv4 or IPv6 address`));
      if (type.format === 'host' && isIP(value) === 0 && !isHostName(value)) out.push(issue(path, `${JSON.stringify(value)} is neither an IP address nor a host name`));
      if (type.format === 'https-url' && !/^https:\/\/[^\s/]+/.test(value)) out.push(issue(path, `${JSON.stringify(value)} is not an https:// URL`));
      return;
    }
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || Number.isNaN(value)) return void out.push(issue(path, 'must be a number'));
      if (type.kind === 'integer' && !Number.isInteger(value)) return void out.push(issue(path, `must be a whole number; got ${value}`));
      if (type.enum && !type.enum.includes(value)) return void out.push(issue(path, `must be one of ${type.enum.join(', ')}; got ${value}`));
      if (type.minimum !== undefined && value < type.minimum) out.push(issue(path, `must be at least ${type.minimum}; got ${value}`));
      if (type.maximum !== undefined && value > type.maximum) out.push(issue(path, `must be at most ${type.maximum}; got ${value}`));
      return;
    }
    case 'bool':
      if (typeof value !== 'boolean') out.push(issue(path, 'must be true or false'));
      return;
    case 'list':
    case 'set': {
      if (!Array.isArray(value)) return void out.push(issue(path, 'must be a list'));
      if (type.minItems !== undefined && value.length < type.minItems) out.push(issue(path, `must have at least ${type.minItems} element${type.minItems === 1 ? '' : 's'}`));
      if (type.maxItems !== undefined && value.length > type.maxItems) out.push(issue(path, `must have at most ${type.maxItems} elements`));
      value.forEach((el, i) => checkValue(type.element, el, [...path, i], out));
      if (type.uniqueItems) {
        const seen = new Map<string, number>();
        value.forEach((el, i) => {
          if (el === UNKNOWN) return;
          const key = JSON.stringify(el);
          const first = seen.get(key);
          if (first !== undefined) out.push(issue([...path, i], `duplicates element ${first} (${key})`));
          else seen.set(key, i);
        });
      }
      return;
    }
    case 'map':
      if (typeof value !== 'object' || Array.isArray(value)) return void out.push(issue(path, 'must be a map'));
      for (const [k, v] of Object.entries(value)) checkValue(type.element, v, [...path, k], out);
      return;
    case 'object':
      if (typeof value !== 'object' || Array.isArray(value)) return void out.push(issue(path, 'must be an object'));
      checkAttributes(type.attributes, value, path, out);
      return;
  }
}

function checkAttributes(attributes: Attributes, values: ObjectValue, path: PathStep[], out: Issue[]): void {
  for (const [name, attr] of Object.entries(attributes) as [string, Attribute][]) {
    const value = values[name] ?? null;
    const at = [...path, name];
    if (value === null) {
      if (attr.required) out.push({ path: at, summary: `Missing required attribute ${pathText(at)}`, detail: `${pathText(at)} must be set.`, code: 'LBP_MISSING_VALUE' });
      continue;
    }
    if (attr.computed && !attr.optional) {
      if (value !== UNKNOWN) out.push({ path: at, summary: `${pathText(at)} is read-only`, detail: `${pathText(at)} is set by the appliance and cannot be configured.`, code: 'LBP_READ_ONLY' });
      continue;
    }
    checkValue(attr.type, value, at, out);
  }
}

/** Every problem of a configuration against its attributes (types, bounds, formats, presence). */
export function validateConfig(attributes: Attributes, config: ObjectValue): Issue[] {
  const out: Issue[] = [];
  checkAttributes(attributes, config, [], out);
  return out;
}

/** A definition's whole validation: the schema's checks, then its own cross-attribute rules. */
export function validateAll(definition: { attributes: Attributes; validate?(config: ObjectValue, prior?: ObjectValue | null): Issue[] }, config: ObjectValue, prior?: ObjectValue | null): Issue[] {
  const issues = validateConfig(definition.attributes, config);
  if (issues.length === 0 && definition.validate) issues.push(...definition.validate(config, prior));
  return issues;
}
