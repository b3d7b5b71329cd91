// The stored configuration: what a revision holds. Objects are canonical (every default
// filled in by the contract's validator), so a read gives back exactly what was stored.
import type { Canonical, components } from '../../openapi/generated/types.js';
import type { StoredSnmpSettings } from './snmp-settings.js';

type Schemas = components['schemas'];

/** A virtual service as stored: every writable property present. */
export type VirtualServiceSpec = Canonical<Schemas['VirtualServiceSpec']>;
/** A real server as stored, with the id of its virtual service. */
export type StoredRealServer = Canonical<Schemas['RealServerSpec']> & { virtualServiceId: string };
/** Generation parameters of a self-signed certificate. */
export type SelfSignedSpec = Canonical<Schemas['SelfSignedSpec']>;
/** How certificate material was given. */
export type CertificateSource = 'pem' | 'pfx' | 'selfSigned';

/** A certificate as stored: public details and a reference to its key in the keystore. */
export interface StoredCertificate {
  label: string;
  source: CertificateSource;
  selfSigned: SelfSignedSpec | null;
  chainPem: string;
  /** SHA-256 (hex) of the PKCS#8 key PEM; names the key file in the keystore. */
  keyRef: string;
  subject: string;
  commonName: string | null;
  subjectAltNames: string[];
  issuer: string;
  notBefore: string;
  notAfter: string;
  serialNumber: string;
  fingerprintSha256: string;
  keyType: string;
}

/** The whole configuration at one revision. */
export interface StoredConfig {
  virtualServices: Record<string, VirtualServiceSpec>;
  realServers: Record<string, StoredRealServer>;
  certificates: Record<string, StoredCertificate>;
  /** The SNMP settings, at key `settings` (SNMP_SETTINGS_KEY) once written; secrets included. */
  snmp: Record<string, StoredSnmpSettings>;
}

/** A committed revision: the configuration and who made it. */
export interface RevisionRecord {
  revision: number;
  createdAt: string;
  user: string;
  operation: string;
  config: StoredConfig;
}

/** An empty configuration (revision 0 of a new appliance). */
export function emptyConfig(): StoredConfig {
  return { virtualServices: {}, realServers: {}, certificates: {}, snmp: {} };
}
