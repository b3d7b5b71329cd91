// DynamicValue <-> attribute values. Terraform sends msgpack (JSON only in odd corners);
// objects carry every attribute of their type, null as nil; an unknown value is a msgpack
// extension (canonically type 0 with one zero byte, refined unknowns as type 12): every
// extension decodes as unknown, and we answer the canonical one.
//
// @msgpack/msgpack was chosen over hand-written encoding: it is the maintained reference
// implementation for JavaScript, loads in ~6 ms, decodes 64-bit integers as BigInt and
// hands unregistered extensions back as ExtData.
import { Decoder, Encoder, ExtData } from '@msgpack/msgpack';
import type { Attributes, ObjectValue, Value, ValueType } from '../resources/types.js';
import { UNKNOWN } from '../resources/types.js';

const decoder = new Decoder({ useBigInt64: true });
const encoder = new Encoder({ useBigInt64: true, ignoreUndefined: false });
const UNKNOWN_EXT = new ExtData(0, new Uint8Array([0]));

/** A DynamicValue as protobufjs hands it over. */
export interface DynamicValueMessage {
  msgpack?: Uint8Array | null;
  json?: Uint8Array | null;
}

/** A cty number from msgpack or JSON: kept exact (decimal string) when a JS number would not be. */
export function numberValue(raw: unknown): Value {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'bigint') return Number.isSafeInteger(Number(raw)) ? Number(raw) : raw.toString();
  if (typeof raw === 'string') {
    const n = Number(raw);
    // Only exact conversions: "0.1" as a float64 would not be the number the user wrote.
    return Number.isFinite(n) && (Number.isSafeInteger(n) ? String(n) === raw.replace(/^\+/, '') : false) ? n : raw;
  }
  return raw as Value;
}

/** Converts a decoded msgpack/JSON value to a value of the given type. */
export function fromWire(type: ValueType, raw: unknown): Value {
  if (raw instanceof ExtData) return UNKNOWN;
  if (raw === null || raw === undefined) return null;
  switch (type.kind) {
    case 'string':
      return typeof raw === 'string' ? raw : String(raw);
    case 'integer':
    case 'number':
      return numberValue(raw);
    case 'bool':
      return typeof raw === 'boolean' ? raw : raw === 'true';
    case 'list':
    case 'set':
      return Array.isArray(raw) ? raw.map((el) => fromWire(type.element, el)) : null;
    case 'map': {
      const out: ObjectValue = {};
      for (const [k, v] of entries(raw)) out[k] = fromWire(type.element, v);
      return out;
    }
    case 'object':
      return objectFromWire(type.attributes, raw);
  }
}

function entries(raw: unknown): [string, unknown][] {
  if (raw instanceof Map) return [...raw.entries()].map(([k, v]) => [String(k), v]);
  if (raw && typeof raw === 'object') return Object.entries(raw);
  return [];
}

/** An object of the given attributes from a decoded value; missing attributes are null. */
export function objectFromWire(attributes: Attributes, raw: unknown): ObjectValue {
  const map = new Map(entries(raw));
  const out: ObjectValue = {};
  for (const [name, attr] of Object.entries(attributes)) out[name] = fromWire(attr.type, map.get(name));
  return out;
}

/** Prepares a value for msgpack: every attribute present, unknown as extension 0. */
export function toWire(type: ValueType, value: Value): unknown {
  if (value === UNKNOWN) return UNKNOWN_EXT;
  if (value === null) return null;
  switch (type.kind) {
    case 'integer':
    case 'number':
      // Decimal strings are numbers we could not hold exactly: terraform accepts them as they are.
      return value;
    case 'list':
    case 'set':
      return (value as Value[]).map((el) => toWire(type.element, el));
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as ObjectValue)) out[k] = toWire(type.element, v);
      return out;
    }
    case 'object':
      return objectToWire(type.attributes, value as ObjectValue);
    default:
      return value;
  }
}

/** An object with every attribute present, ready for msgpack. */
export function objectToWire(attributes: Attributes, value: ObjectValue): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, attr] of Object.entries(attributes)) out[name] = toWire(attr.type, value[name] ?? null);
  return out;
}

/** Decodes a DynamicValue of an object type; null when the value is null or absent. */
export function decodeObject(attributes: Attributes, dv: DynamicValueMessage | null | undefined): ObjectValue | null {
  let raw: unknown = null;
  if (dv?.msgpack && dv.msgpack.length > 0) raw = decoder.decode(dv.msgpack);
  else if (dv?.json && dv.json.length > 0) raw = JSON.parse(Buffer.from(dv.json).toString('utf8'));
  if (raw === null || raw === undefined) return null;
  if (raw instanceof ExtData) throw new Error('a wholly unknown object cannot be handled here');
  return objectFromWire(attributes, raw);
}

/** Encodes an object value (or null) as a msgpack DynamicValue. */
export function encodeObject(attributes: Attributes, value: ObjectValue | null): { msgpack: Uint8Array } {
  return { msgpack: encoder.encode(value === null ? null : objectToWire(attributes, value)) };
}
