// The desired state an SDK script converges an appliance to: certificates by label, virtual
// services by label with their real servers, optionally the HA pair and the directory
// logins, and the VIP addresses
// the deployment owns. The contract's defaults fill what a script leaves out, so a value
// changed behind the script's back is seen as a difference even where the script is silent;
// they come from the SDK (the contract it ships), never from a copy kept here.
import { asReadBack, type CertificateInput, type DirectoryInput, type HaPairInput, type RealServerInput, type SnmpSettingsInput, type VirtualServiceInput } from 'lbappliance/sdk';

/** A certificate to have, by label, from PEM text (certificate, chain and private key). */
export interface DesiredCertificate {
  label: string;
  /** The certificate and chain (leaf first) followed by the private key, as PEM. */
  pem: string;
}

/** A virtual service to have, by label, and every real server it should have. */
export interface DesiredVirtualService {
  /** The VIP as the API takes it, but naming its certificate by label. */
  spec: Omit<VirtualServiceInput, 'certificateId'> & { certificate?: string };
  realServers: RealServerInput[];
}

/** What a deployment wants on the appliance. */
export interface DesiredState {
  certificates: DesiredCertificate[];
  virtualServices: DesiredVirtualService[];
  /** Pair the appliance with a secondary; left out, the script does not touch the pair. */
  haPair?: HaPairInput;
  /** The SNMP settings (secrets included); left out, the script does not touch them. */
  snmp?: SnmpSettingsInput;
  /** The directory logins; left out, the script does not touch them. */
  directory?: DirectoryInput;
}

/**
 * What a deployment owns, so it can remove what it no longer wants: every virtual service on
 * one of these addresses (and its real servers), and every certificate one of those virtual
 * services used. The VIP addresses are the deployment's own; nothing else may listen there.
 */
export interface Ownership {
  addresses: string[];
}

/** The API object types, as written. */
export type { CertificateInput, DirectoryInput, HaPairInput, RealServerInput, SnmpSettingsInput, VirtualServiceInput };

/** A virtual service body with every writable property, as the appliance reads it back (the contract's defaults filled in). */
export function canonicalVirtualService(spec: VirtualServiceInput): Record<string, unknown> {
  return asReadBack('VirtualServiceInput', spec);
}

/** A real server body with every writable property, as the appliance reads it back. */
export function canonicalRealServer(spec: RealServerInput): Record<string, unknown> {
  return asReadBack('RealServerInput', spec);
}

/**
 * The SNMP settings as the appliance reads them back: defaults filled, secrets left out (they
 * are write-only, so a changed secret alone is not seen: the script sends them with every
 * other change).
 */
export function canonicalSnmp(s: SnmpSettingsInput): Record<string, unknown> {
  return asReadBack('SnmpSettingsInput', s);
}
