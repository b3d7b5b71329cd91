// fast-check arbitraries generated from the contract's JSON Schemas (the subset the contract
// uses: objects, arrays, strings with patterns/formats/enums, integers, booleans, nulls,
// unions and $refs), and an independent default-filler to predict canonical read-backs.
import fc from 'fast-check';
import { specDocument } from '../../openapi/generated/spec.js';

/** A JSON Schema node of the contract. */
export type Schema = Record<string, unknown>;

/** Resolves `$ref` chains into the contract. */
export function resolve(schema: Schema): Schema {
  let cur = schema;
  while (typeof cur.$ref === 'string') {
    const ref = cur.$ref;
    const target = ref
      .slice(2)
      .split('/')
      .reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], specDocument) as Schema;
    const { $ref: _r, ...siblings } = cur;
    cur = { ...target, ...siblings };
  }
  return cur;
}

/** A named component schema. */
export function component(name: string): Schema {
  return resolve({ $ref: `#/components/schemas/${name}` });
}

const ipv4 = fc.ipV4();
const ipv6 = fc.ipV6().filter((s) => !s.includes('%') && s.length <= 45);
const hostname = fc.domain().filter((d) => d.length <= 253);
/** Characters beyond printable ASCII: Latin-1, a titlecase letter, an emoji, C1 and C0 controls, line separators, any code point. */
const unusual = fc.oneof(fc.constantFrom('é', 'ǅ', '😀', '\u0085', '\u007f', '\u0001', '\u2028', '\u00ff', '\u0100'), fc.string({ unit: 'binary', minLength: 1, maxLength: 2 }));

/** How `valid` draws values beyond the schema's own constraints. */
export interface ValidOptions {
  /** Free text (a string schema without enum, format or pattern): an arbitrary for it, or undefined for the default. */
  text?: (schema: Schema) => fc.Arbitrary<string> | undefined;
  /** Every optional property present (default: some of them). */
  complete?: boolean;
}

function stringArb(s: Schema, options: ValidOptions): fc.Arbitrary<string> {
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as string[]));
  if (s.format === 'ipv4') return ipv4;
  if (s.format === 'ipv6') return ipv6;
  if (s.format === 'hostname') return hostname;
  if (s.format === 'date-time') return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString());
  if (s.format === 'uri') return fc.webUrl({ validSchemes: ['https'] }).filter((u) => u.length <= ((s.maxLength as number | undefined) ?? Infinity) && (typeof s.pattern !== 'string' || new RegExp(s.pattern).test(u)));
  const text = s.format === undefined && s.pattern === undefined ? options.text?.(s) : undefined;
  if (text) return text;
  const minLength = (s.minLength as number | undefined) ?? 0;
  const maxLength = Math.min((s.maxLength as number | undefined) ?? 40, 40);
  if (typeof s.pattern === 'string') {
    const ascii = fc.stringMatching(new RegExp(s.pattern));
    // fast-check fills a pattern with printable ASCII only; the contract's validator matches
    // with the unicode flag, so whatever else a pattern lets through is valid too (issue 19:
    // a check path of "/ǅ"). Some values get such characters inserted where the pattern allows.
    const unicodeValid = new RegExp(s.pattern, 'u');
    const mixed = typeof s.format === 'string' ? ascii : fc.oneof(ascii, fc.tuple(ascii, fc.nat(), unusual).map(([v, at, extra]) => {
      const pos = at % (v.length + 1);
      const w = v.slice(0, pos) + extra + v.slice(pos);
      return unicodeValid.test(w) ? w : v;
    }));
    return mixed.filter((v) => v.length >= minLength && v.length <= ((s.maxLength as number | undefined) ?? Infinity));
  }
  return fc.string({ minLength, maxLength: Math.max(minLength, maxLength) });
}

/** An arbitrary of values valid against a schema (required properties always, optional ones sometimes). */
export function valid(schemaIn: Schema, options: ValidOptions = {}): fc.Arbitrary<unknown> {
  const s = resolve(schemaIn);
  const sub = (schema: Schema) => valid(schema, options);
  if (Array.isArray(s.allOf)) {
    const parts = (s.allOf as Schema[]).map(resolve);
    return sub({ type: 'object', properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})), required: parts.flatMap((p) => (p.required as string[]) ?? []) });
  }
  const union = (s.oneOf ?? s.anyOf) as Schema[] | undefined;
  if (union) {
    const branches = union.map((b) => ({ ...s, oneOf: undefined, anyOf: undefined, ...resolve(b) }));
    return fc.oneof(...branches.map((b) => sub(b)));
  }
  const types = Array.isArray(s.type) ? (s.type as string[]) : s.type ? [s.type as string] : [];
  if (types.length > 1) return fc.oneof(...types.map((t) => sub({ ...s, type: t })));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as number[]));
      return fc.integer({ min: (s.minimum as number | undefined) ?? -1e6, max: (s.maximum as number | undefined) ?? 1e6 });
    case 'string':
      return stringArb(s, options);
    case 'array': {
      const items = sub(s.items as Schema);
      const opts = { minLength: (s.minItems as number | undefined) ?? 0, maxLength: Math.min((s.maxItems as number | undefined) ?? 5, 5) };
      return s.uniqueItems ? fc.uniqueArray(items, { ...opts, selector: (v) => JSON.stringify(v) }) : fc.array(items, opts);
    }
    case 'object':
    default: {
      if (!s.properties) return fc.constant({});
      const props = s.properties as Record<string, Schema>;
      const required = new Set((s.required as string[] | undefined) ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) {
        const r = resolve(v);
        if (r.writeOnly === true && !required.has(k)) continue;
        record[k] = sub(v);
      }
      return options.complete ? fc.record(record) : fc.record(record, { requiredKeys: [...required].filter((k) => k in record) });
    }
  }
}

/** The value a schema's defaults would make of an input (independent of the appliance's ajv). */
export function withDefaults(schemaIn: Schema, value: unknown): unknown {
  const s = resolve(schemaIn);
  if (Array.isArray(s.allOf)) return (s.allOf as Schema[]).reduce<unknown>((v, part) => withDefaults(part, v), value);
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !s.properties) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [k, propIn] of Object.entries(s.properties as Record<string, Schema>)) {
    const prop = resolve(propIn);
    if (!(k in out) && 'default' in prop) out[k] = structuredClone(prop.default);
    if (k in out && out[k] !== null && typeof out[k] === 'object' && !Array.isArray(out[k])) out[k] = withDefaults(prop, out[k]);
  }
  return out;
}

/** One way to break a valid object, and the field it breaks. */
export interface Breakage {
  body: Record<string, unknown>;
  field: string;
  how: string;
}

/** An arbitrary of schema violations of a valid object. */
export function breakages(schemaIn: Schema, validBody: Record<string, unknown>): fc.Arbitrary<Breakage> {
  const s = resolve(schemaIn);
  const props = (s.properties ?? Object.assign({}, ...((s.allOf as Schema[] | undefined) ?? []).map((p) => resolve(p).properties ?? {}))) as Record<string, Schema>;
  const required = (s.required ?? ((s.allOf as Schema[] | undefined) ?? []).flatMap((p) => (resolve(p).required as string[]) ?? [])) as string[];
  const options: fc.Arbitrary<Breakage>[] = [];
  const clone = () => structuredClone(validBody);
  for (const k of required) {
    options.push(
      fc.constant(null).map(() => {
        const body = clone();
        delete body[k];
        return { body, field: `/${k}`, how: `missing ${k}` };
      }),
    );
  }
  options.push(
    fc.stringMatching(/^[a-z]{3,10}$/).filter((k) => !(k in props)).map((k) => ({ body: { ...clone(), [k]: 1 }, field: `/${k}`, how: `unknown property ${k}` })),
  );
  for (const [k, propIn] of Object.entries(props)) {
    const p = resolve(propIn);
    if (p.type === 'integer' && typeof p.maximum === 'number') {
      options.push(fc.integer({ min: (p.maximum as number) + 1, max: (p.maximum as number) + 100000 }).map((v) => ({ body: { ...clone(), [k]: v }, field: `/${k}`, how: `${k} above maximum` })));
    }
    if (p.type === 'integer' || p.type === 'boolean' || (Array.isArray(p.type) && !p.type.includes('string'))) {
      options.push(fc.constant({ body: { ...clone(), [k]: 'text' }, field: `/${k}`, how: `${k} of the wrong type` }));
    }
    if (p.type === 'string' && Array.isArray(p.enum)) {
      options.push(fc.stringMatching(/^[a-z]{1,8}$/).filter((v) => !(p.enum as string[]).includes(v)).map((v) => ({ body: { ...clone(), [k]: v }, field: `/${k}`, how: `${k} outside its enum` })));
    }
    if (p.type === 'string' && typeof p.pattern === 'string') {
      options.push(fc.constantFrom(' leading space', 'semi;colon', '').map((v) => ({ body: { ...clone(), [k]: v }, field: `/${k}`, how: `${k} not matching its pattern` })));
    }
    if (p.type === 'array' && typeof p.minItems === 'number' && p.minItems > 0) {
      options.push(fc.constant({ body: { ...clone(), [k]: [] }, field: `/${k}`, how: `${k} empty` }));
    }
    if (p.type === 'object' && p.additionalProperties === false) {
      options.push(fc.constant({ body: { ...clone(), [k]: { ...((validBody[k] as object | undefined) ?? {}), bogus: true } }, field: `/${k}/bogus`, how: `${k} with an unknown property` }));
    }
  }
  return fc.oneof(...options);
}
