// What the contract allows but this engine cannot carry as the embedded engine does. Each
// case is refused with LB_ENGINE_REFUSED naming the field, rather than rendered into
// something that behaves differently (the README lists them).
import { ApplianceError } from '../../errors.js';
import type { ConfigSnapshot } from '../types.js';

// Characters HAProxy's configuration language gives a meaning of its own (comments, quotes,
// escapes, variables) in an unquoted word.
const CONFIG_SPECIAL = /[#'"\\$]/;

/** The first thing in a snapshot this engine refuses, or null. */
export function refusals(snapshot: ConfigSnapshot): ApplianceError | null {
  for (const vs of snapshot.virtualServices) {
    const base = `/virtualServices/${vs.id}`;
    if (vs.persistence.mode === 'http-cookie' && CONFIG_SPECIAL.test(vs.persistence.cookieName)) {
      return new ApplianceError('LB_ENGINE_REFUSED', `the HAProxy engine cannot use a cookie name with any of # ' " \\ $ (VIP ${vs.label})`, { field: `${base}/persistence/cookieName` });
    }
    if ((vs.healthCheck.type === 'http' || vs.healthCheck.type === 'https') && CONFIG_SPECIAL.test(vs.healthCheck.path)) {
      return new ApplianceError('LB_ENGINE_REFUSED', `the HAProxy engine cannot send a health-check path with any of # ' " \\ $ (VIP ${vs.label})`, { field: `${base}/healthCheck/path` });
    }
  }
  return null;
}
