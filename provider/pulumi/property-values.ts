// Pulumi's property values on the wire, as google.protobuf.Struct: secrets, unknowns,
// resource references and output values are objects or strings carrying special
// signatures. Decoding turns them into plain values (UNKNOWN for unknowns) and remembers
// which top-level properties held a secret; encoding wraps those properties again, so a
// secret that came in goes out as a secret and never reaches the state in plain text.
import { UNKNOWN, type ObjectValue, type Value } from '../resources/types.js';
import { structPb, type Struct } from './proto.js';

/** The key that marks an object as a special value. */
export const SIG_KEY = '4dabf18193072939515e22adb298388d';
/** The signature of a secret: `{[SIG_KEY]: SECRET_SIG, value}`. */
export const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';
/** The signature of a resource reference: `{[SIG_KEY]: RESOURCE_SIG, urn, id?, packageVersion}`. */
export const RESOURCE_SIG = '5cf8f73096256a8f31e491e813e4eb8e';
/** The signature of an output value: `{[SIG_KEY]: OUTPUT_SIG, value?, secret?, dependencies?}`. */
export const OUTPUT_SIG = 'd0e6a833031e9bbcd3f4e8bde6ca49a4';
/** The string that stands for a value not known until the update runs. */
export const UNKNOWN_STRING = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A property bag with its special values decoded: camelCase names, as the engine sends them. */
export interface DecodedProperties {
  /** The values, secrets unwrapped, unknowns as UNKNOWN. */
  values: ObjectValue;
  /** Top-level property names that held a secret anywhere inside. */
  secrets: Set<string>;
}

function decodeValue(v: Json, secret: { found: boolean }): Value {
  if (v === UNKNOWN_STRING) return UNKNOWN;
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => decodeValue(x, secret));
  const sig = v[SIG_KEY];
  if (sig === SECRET_SIG) {
    secret.found = true;
    return decodeValue(v.value ?? null, secret);
  }
  if (sig === OUTPUT_SIG) {
    if (v.secret === true) secret.found = true;
    return 'value' in v ? decodeValue(v.value ?? null, secret) : UNKNOWN;
  }
  // A reference stands for its id here: that is all a custom resource's input can use.
  if (sig === RESOURCE_SIG) return typeof v.id === 'string' && v.id !== '' ? decodeValue(v.id, secret) : UNKNOWN;
  const out: ObjectValue = {};
  for (const [k, x] of Object.entries(v)) out[k] = decodeValue(x, secret);
  return out;
}

/** Decodes a Struct (absent: an empty bag). */
export function decodeStruct(struct: Struct | undefined): DecodedProperties {
  const raw = (struct?.toJavaScript() ?? {}) as Record<string, Json>;
  return decodeObject(raw);
}

/** Decodes a property bag already turned into JavaScript. */
export function decodeObject(raw: Record<string, Json>): DecodedProperties {
  const values: ObjectValue = {};
  const secrets = new Set<string>();
  for (const [k, v] of Object.entries(raw)) {
    const secret = { found: false };
    values[k] = decodeValue(v, secret);
    if (secret.found) secrets.add(k);
  }
  return { values, secrets };
}

function encodeValue(v: Value): Json {
  if (v === UNKNOWN) return UNKNOWN_STRING;
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(encodeValue);
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) out[k] = encodeValue(x);
  return out;
}

/** Wraps a value as a secret (an unknown stays unknown inside the wrapper, as the engine expects). */
export function secretOf(v: Json): Json {
  return { [SIG_KEY]: SECRET_SIG, value: v };
}

/** Encodes a bag to wire JavaScript, wrapping the named top-level properties as secrets. */
export function encodeObject(values: ObjectValue, secrets: ReadonlySet<string>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(values)) {
    const encoded = encodeValue(v);
    out[k] = secrets.has(k) && v !== null ? secretOf(encoded) : encoded;
  }
  return out;
}

/** Encodes a bag to a Struct (see {@link encodeObject}). */
export function encodeStruct(values: ObjectValue, secrets: ReadonlySet<string>): Struct {
  return structPb.Struct.fromJavaScript(encodeObject(values, secrets) as Parameters<typeof structPb.Struct.fromJavaScript>[0]);
}
