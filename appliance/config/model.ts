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

/** A syslog collector as stored (issue 18). */
export type StoredSyslogCollector = Canonical<Schemas['SyslogCollectorSpec']>;
/** The e-mail alert settings as stored: the password only as a keystore reference (issue 18). */
export type StoredAlertMail = Canonical<Schemas['AlertMailSpec']> & { passwordRef: string | null };
/** The id of the one e-mail alert settings object. */
export const ALERT_MAIL_ID = 'alert-mail';

/** The whole configuration at one revision. */
export interface StoredConfig {
  virtualServices: Record<string, VirtualServiceSpec>;
  realServers: Record<string, StoredRealServer>;
  certificates: Record<string, StoredCertificate>;
  /** The SNMP settings, at key `settings` (SNMP_SETTINGS_KEY) once written; secrets included. */
  snmp: Record<string, StoredSnmpSettings>;
  syslogCollectors: Record<string, StoredSyslogCollector>;
  /** At most one entry, under ALERT_MAIL_ID (a map, so the revision log records it like the rest). */
  alertMail: Record<string, StoredAlertMail>;
}

/** The collections of a StoredConfig, each a map of objects by id. */
export const CONFIG_MAPS = ['virtualServices', 'realServers', 'certificates', 'syslogCollectors', 'alertMail', 'snmp'] as const;

/** A collection of a StoredConfig. */
export type ConfigMap = (typeof CONFIG_MAPS)[number];

/**
 * Since which format of a stored configuration each collection exists: 1 is the first (the
 * VIPs, servers and certificates every version has stored and sent), 2 added the operations
 * settings (issue 18). A configuration written or sent by a version of format N lacks the
 * collections newer than N, and only those may be filled in as empty.
 */
export const CONFIG_MAP_SINCE: Readonly<Record<ConfigMap, number>> = { virtualServices: 1, realServers: 1, certificates: 1, syslogCollectors: 2, alertMail: 2, snmp: 2 };

/**
 * `config` with every collection newer than `senderFormat` present (empty when its sender,
 * or the version that stored it, did not know it). The default is the first format: the
 * replicated and stored records say no format, so any collection after the first may be
 * absent. Collections the sender had are left as they are: a missing one is for
 * `missingMap` to report, not to fill.
 */
export function withAllMaps<T extends Partial<StoredConfig>>(config: T, senderFormat = 1): T & StoredConfig {
  for (const map of CONFIG_MAPS) if (CONFIG_MAP_SINCE[map] > senderFormat) (config as Record<string, unknown>)[map] ??= {};
  return config as T & StoredConfig;
}

/** The first collection `config` lacks or holds as something other than a map of objects by id, or null. */
export function missingMap(config: Readonly<Record<string, unknown>>): ConfigMap | null {
  const isMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  return CONFIG_MAPS.find((map) => !isMap(config[map])) ?? null;
}

/** The keystore references a configuration names: certificates' keys and stored secrets. */
export function keyRefsOf(config: Partial<StoredConfig>): string[] {
  const refs = Object.values(config.certificates ?? {}).flatMap((c) => (c ? [c.keyRef] : []));
  for (const m of Object.values(config.alertMail ?? {})) if (m?.passwordRef) refs.push(m.passwordRef);
  return refs;
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
  return { virtualServices: {}, realServers: {}, certificates: {}, syslogCollectors: {}, alertMail: {}, snmp: {} };
}
