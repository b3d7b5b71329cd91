// A configuration stored by an earlier version lacks the settings added since (a VIP's
// `forwarding`, `tls`, `fallback`, `limits`, a check's `dicom`...). Every reader of a
// StoredConfig (the rules, the overview, the snapshot builder, the engines) may rely on
// each setting being there, so a stored object is completed with the contract's own
// defaults, the same ones the API fills into a write, as it is loaded or received from
// the HA primary. Objects the contract gives a default of `{}` are completed in depth. The
// walk is the SDK's (openapi/sdk/contract-defaults.ts), so scripts see the same defaults.
import { fillContractDefaults, contractSchema } from '../../openapi/sdk/contract-defaults.js';
import type { StoredConfig } from './model.js';

export { fillContractDefaults };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const VIRTUAL_SERVICE = contractSchema('VirtualServiceSpec');
const REAL_SERVER = contractSchema('RealServerSpec');

/** Completes, in place, every virtual service and real server of `config`; returns it. */
export function withContractDefaults<T extends StoredConfig>(config: T): T {
  for (const vs of Object.values(config.virtualServices ?? {})) if (isObject(vs)) fillContractDefaults(vs as unknown as Record<string, unknown>, VIRTUAL_SERVICE);
  for (const rs of Object.values(config.realServers ?? {})) if (isObject(rs)) fillContractDefaults(rs as unknown as Record<string, unknown>, REAL_SERVER);
  return config;
}
