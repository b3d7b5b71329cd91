// Names the Terraform adapter gives things.

/** The Terraform type name of a definition: `lbappliance_virtual_service`. */
export function terraformTypeName(def: { name: string }): string {
  return `lbappliance_${def.name}`;
}

/** The provider's description (schema and docs). */
export const PROVIDER_DESCRIPTION =
  'The lbappliance provider manages a load-balancer appliance for hospital imaging systems (virtual services, real servers, certificates, the HA pair) through its REST API.';
