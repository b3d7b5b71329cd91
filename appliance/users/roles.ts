// The roles of API users, local or from the directory, and their order: the contract names
// the least role each operation needs (`x-lbappliance-role`), and the request pipeline
// compares the caller's role with it in one place (api/spec-router.ts).
import type { components } from '../../openapi/generated/types.js';

/** A user's role (the contract's Role): `admin` is the administrator. */
export type Role = components['schemas']['Role'];

/** Every role, least first. */
export const ROLES: readonly Role[] = ['read-only', 'operator', 'admin'];

/** Whether `role` may call an operation that needs `needed`. */
export function roleAtLeast(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** The highest of some roles, or null when there are none. */
export function highestRole(roles: Iterable<Role>): Role | null {
  let best: Role | null = null;
  for (const r of roles) if (best === null || ROLES.indexOf(r) > ROLES.indexOf(best)) best = r;
  return best;
}
