// The three examples' backend profiles, by name.
import { BackendError } from '../errors.js';
import { agfa } from './agfa.js';
import { insignia } from './insignia.js';
import { teraRecon } from './terarecon.js';
import type { BackendProfile, ExampleName } from './types.js';

/** Every profile, by example name. */
export const profiles: Readonly<Record<ExampleName, BackendProfile>> = { terarecon: teraRecon, agfa, insignia };

/** The profile of an example (throws BACKEND_UNKNOWN_PROFILE). */
export function profileByName(name: string): BackendProfile {
  const p = (profiles as Record<string, BackendProfile | undefined>)[name];
  if (!p) throw new BackendError('BACKEND_UNKNOWN_PROFILE', `no backend profile "${name}" (known: ${Object.keys(profiles).join(', ')})`, { name });
  return p;
}

export { agfa, AGFA_HEALTH_PORT, AGFA_VIP_ADDRESSES } from './agfa.js';
export { insignia, INSIGNIA_PORTS, INSIGNIA_VIP_ADDRESSES } from './insignia.js';
export { vipFromVendorRow, type VipPlacement } from './from-vendor.js';
export { teraRecon } from './terarecon.js';
export { relocateProfile, servicesOf } from './services.js';
export type * from './types.js';
