// Helpers over attribute values: unknowns, equality, names. Shared by every adapter.
import { UNKNOWN, type ObjectValue, type Value } from './types.js';

/** Whether a value is the unknown marker. */
export function isUnknown(value: Value | undefined): value is typeof UNKNOWN {
  return value === UNKNOWN;
}

/** Whether a value holds no unknown anywhere. */
export function isWhollyKnown(value: Value): boolean {
  if (value === UNKNOWN) return false;
  if (Array.isArray(value)) return value.every(isWhollyKnown);
  if (value !== null && typeof value === 'object') return Object.values(value).every(isWhollyKnown);
  return true;
}

/** Structural equality of two values (unknown equals only unknown). */
export function valuesEqual(a: Value | undefined, b: Value | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null || a === UNKNOWN || b === UNKNOWN) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => valuesEqual(x, b[i]));
  }
  if (typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!valuesEqual(a[k] ?? null, b[k] ?? null)) return false;
    return true;
  }
  return false;
}

/** `health_check` -> `healthCheck`: how attribute names become the contract's property names. */
export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `healthCheck` -> `health_check`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** A string attribute of a known object value (throws when it is not one: a bug in the caller). */
export function str(values: ObjectValue, name: string): string {
  const v = values[name];
  if (typeof v !== 'string') throw new TypeError(`attribute ${name} is not a known string`);
  return v;
}

/** A string attribute that may be null. */
export function strOrNull(values: ObjectValue, name: string): string | null {
  const v = values[name];
  return typeof v === 'string' ? v : null;
}

/** A number attribute that may be null. */
export function numOrNull(values: ObjectValue, name: string): number | null {
  const v = values[name];
  return typeof v === 'number' ? v : null;
}
