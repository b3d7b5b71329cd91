// The contract's defaults, for scripts that compare what they want with what the appliance
// reads back (a plan that says "no changes" must know what the appliance fills in). They
// are derived at run time from the contract document the package ships
// (openapi/generated/spec.ts, written by `npm run generate`), so a default added to the
// contract reaches every script with the next build and no script keeps a copy of its own.
// The appliance completes stored objects with the same walk (appliance/config/contract-defaults.ts).
import { specDocument } from '../generated/spec.js';
import type { components } from '../generated/types.js';

/** The name of a schema of the contract (`VirtualServiceInput`, `RealServerInput`...). */
export type ContractSchemaName = keyof components['schemas'];

/** A JSON Schema object of the contract. */
export type ContractSchema = Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function lookup(ref: string): ContractSchema {
  let node: unknown = specDocument;
  for (const key of ref.replace(/^#\//, '').split('/')) node = (node as Record<string, unknown>)[key.replace(/~1/g, '/').replace(/~0/g, '~')];
  return node as ContractSchema;
}

function resolve(schema: ContractSchema): ContractSchema {
  let s = schema;
  for (let i = 0; i < 16 && typeof s.$ref === 'string'; i++) s = lookup(s.$ref);
  return s;
}

/** The properties a schema declares, through `$ref` and `allOf`. */
function propertiesOf(schema: ContractSchema): Record<string, ContractSchema> {
  const s = resolve(schema);
  const out: Record<string, ContractSchema> = {};
  for (const part of (s.allOf as ContractSchema[] | undefined) ?? []) Object.assign(out, propertiesOf(part));
  if (isObject(s.properties)) Object.assign(out, s.properties as Record<string, ContractSchema>);
  return out;
}

/** The schema of an array's items, through `$ref` (null when `schema` is no array of objects). */
function itemsOf(schema: ContractSchema): ContractSchema | null {
  const items = resolve(schema).items;
  return isObject(items) ? (items as ContractSchema) : null;
}

/** Whether a property is write-only (a secret the appliance never reads back). */
function writeOnly(declared: ContractSchema): boolean {
  return declared.writeOnly === true || resolve(declared).writeOnly === true;
}

/** The contract's schema of that name. */
export function contractSchema(name: ContractSchemaName): ContractSchema {
  const schema = (specDocument as { components: { schemas: Record<string, ContractSchema> } }).components.schemas[name];
  if (!schema) throw new Error(`the contract has no schema ${String(name)}`);
  return schema;
}

/**
 * Fills, in place, every property of `value` that `schema` gives a default and `value`
 * lacks, in depth through objects (and, with `items`, through the objects of arrays).
 */
export function fillContractDefaults(value: Record<string, unknown>, schema: ContractSchema, options: { items?: boolean } = {}): void {
  for (const [name, declared] of Object.entries(propertiesOf(schema))) {
    const target = resolve(declared);
    const fallback = 'default' in declared ? declared.default : target.default;
    if (!(name in value) && fallback !== undefined) value[name] = structuredClone(fallback);
    const v = value[name];
    if (isObject(v) && Object.keys(propertiesOf(target)).length > 0) fillContractDefaults(v, target, options);
    const items = options.items && Array.isArray(v) ? itemsOf(target) : null;
    if (items && Object.keys(propertiesOf(items)).length > 0) for (const item of v as unknown[]) if (isObject(item)) fillContractDefaults(item, items, options);
  }
}

/** Removes, in place, every write-only property (in depth, arrays included). */
function dropWriteOnly(value: Record<string, unknown>, schema: ContractSchema): void {
  for (const [name, declared] of Object.entries(propertiesOf(schema))) {
    if (!(name in value)) continue;
    if (writeOnly(declared)) {
      delete value[name];
      continue;
    }
    const v = value[name];
    const target = resolve(declared);
    if (isObject(v)) dropWriteOnly(v, target);
    const items = Array.isArray(v) ? itemsOf(target) : null;
    if (items) for (const item of v as unknown[]) if (isObject(item)) dropWriteOnly(item, items);
  }
}

/** A copy of `value` with every default of the contract's schema `name` filled in, as the appliance stores the write. */
export function withContractDefaults<T extends object>(name: ContractSchemaName, value: T): T & Record<string, unknown> {
  const copy = structuredClone(value) as T & Record<string, unknown>;
  fillContractDefaults(copy, contractSchema(name), { items: true });
  return copy;
}

/**
 * `value` (a body of the contract's schema `name`) as the appliance reads it back: the
 * contract's defaults filled in, the write-only properties (secrets) left out. Compare it
 * with the properties of a read object it has to see a difference.
 */
export function asReadBack(name: ContractSchemaName, value: object): Record<string, unknown> {
  const copy = withContractDefaults(name, value);
  dropWriteOnly(copy, contractSchema(name));
  return copy;
}
