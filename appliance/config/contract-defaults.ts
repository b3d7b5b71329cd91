// A configuration stored by an earlier version lacks the settings added since (a VIP's
// `forwarding`, `tls`, `fallback`, `limits`, a check's `dicom`...). Every reader of a
// StoredConfig (the rules, the overview, the snapshot builder, the engines) may rely on
// each setting being there, so a stored object is completed with the contract's own
// defaults, the same ones the API fills into a write, as it is loaded or received from
// the HA primary. Objects the contract gives a default of `{}` are completed in depth.
import { specDocument } from '../../openapi/generated/spec.js';
import type { StoredConfig } from './model.js';

type Schema = Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function lookup(ref: string): Schema {
  let node: unknown = specDocument;
  for (const key of ref.replace(/^#\//, '').split('/')) node = (node as Record<string, unknown>)[key.replace(/~1/g, '/').replace(/~0/g, '~')];
  return node as Schema;
}

function resolve(schema: Schema): Schema {
  let s = schema;
  for (let i = 0; i < 16 && typeof s.$ref === 'string'; i++) s = lookup(s.$ref);
  return s;
}

/** The properties a schema declares, through `$ref` and `allOf`. */
function propertiesOf(schema: Schema): Record<string, Schema> {
  const s = resolve(schema);
  const out: Record<string, Schema> = {};
  for (const part of (s.allOf as Schema[] | undefined) ?? []) Object.assign(out, propertiesOf(part));
  if (isObject(s.properties)) Object.assign(out, s.properties as Record<string, Schema>);
  return out;
}

/** Fills every property of `value` that `schema` gives a default and `value` lacks. */
export function fillContractDefaults(value: Record<string, unknown>, schema: Schema): void {
  for (const [name, declared] of Object.entries(propertiesOf(schema))) {
    const target = resolve(declared);
    const fallback = 'default' in declared ? declared.default : target.default;
    if (!(name in value) && fallback !== undefined) value[name] = structuredClone(fallback);
    const v = value[name];
    if (isObject(v) && Object.keys(propertiesOf(target)).length > 0) fillContractDefaults(v, target);
  }
}

const schemas = (specDocument as { components: { schemas: Record<string, Schema> } }).components.schemas;

/** Completes, in place, every virtual service and real server of `config`; returns it. */
export function withContractDefaults<T extends StoredConfig>(config: T): T {
  for (const vs of Object.values(config.virtualServices ?? {})) if (isObject(vs)) fillContractDefaults(vs as unknown as Record<string, unknown>, schemas.VirtualServiceSpec as Schema);
  for (const rs of Object.values(config.realServers ?? {})) if (isObject(rs)) fillContractDefaults(rs as unknown as Record<string, unknown>, schemas.RealServerSpec as Schema);
  return config;
}
