// The provider's settings as Pulumi delivers them. An explicit `lbappliance.Provider` sends
// its arguments; the default provider gets the stack's `lbappliance:*` config, as arguments
// and again as `variables` keyed `lbappliance:config:<name>`; the process also sees the
// stack config as PULUMI_CONFIG JSON. Config values are strings (`insecure: "true"`), so
// booleans are parsed here. The first of arguments, variables, PULUMI_CONFIG that has a
// value wins; the shared resolveSettings then falls back to the LBAPPLIANCE_* environment.
import { providerAttributes } from '../resources/provider-config.js';
import type { ObjectValue, Value } from '../resources/types.js';
import { UNKNOWN } from '../resources/types.js';
import { PROVIDER_NAME } from '../resources/registry.js';
import { propertyName } from './properties.js';

/** Turns config strings into the attribute's type where it is not a string (`"true"` -> true). */
export function coerceSettings(values: ObjectValue): ObjectValue {
  const out: ObjectValue = { ...values };
  for (const [name, attr] of Object.entries(providerAttributes)) {
    const v = out[name];
    if (attr.type.kind === 'bool' && typeof v === 'string' && /^(true|false|1|0)$/i.test(v)) out[name] = /^(true|1)$/i.test(v);
  }
  return out;
}

function fromConfigMap(map: ReadonlyMap<string, string> | Record<string, string>): ObjectValue {
  const get = (key: string) => (map instanceof Map ? map.get(key) : (map as Record<string, string>)[key]);
  const out: ObjectValue = {};
  for (const name of Object.keys(providerAttributes)) {
    const prop = propertyName(name);
    const v = get(`${PROVIDER_NAME}:config:${prop}`) ?? get(`${PROVIDER_NAME}:${prop}`);
    out[name] = v === undefined ? null : v;
  }
  return out;
}

/** The `lbappliance:*` settings in PULUMI_CONFIG (absent or unreadable: none). */
export function settingsFromPulumiConfig(env: NodeJS.ProcessEnv = process.env): ObjectValue {
  const text = env.PULUMI_CONFIG;
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const strings: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') strings[k] = v;
    return fromConfigMap(strings);
  } catch {
    return {};
  }
}

/**
 * The settings to configure with: the first known value of each from `args`, `variables`,
 * PULUMI_CONFIG; an unknown value (a provider argument not computed yet) counts as unset.
 */
export function mergeSettings(args: ObjectValue, variables: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv = process.env): { settings: ObjectValue; unknown: string[] } {
  const layers = [args, fromConfigMap(variables), settingsFromPulumiConfig(env)].map(coerceSettings);
  const settings: ObjectValue = {};
  const unknown: string[] = [];
  for (const name of Object.keys(providerAttributes)) {
    let chosen: Value = null;
    for (const layer of layers) {
      const v = layer[name] ?? null;
      if (v === UNKNOWN) {
        if (!unknown.includes(name)) unknown.push(name);
        continue;
      }
      if (v !== null) {
        chosen = v;
        break;
      }
    }
    settings[name] = chosen;
  }
  return { settings, unknown };
}
