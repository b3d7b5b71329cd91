// Friendly names for the contract's types. Reads return canonical objects (every default
// filled in), so the read types have every writable property present (see Canonical).
import type { components } from '../generated/types.js';
export type { Canonical } from '../generated/types.js';

type Schemas = components['schemas'];

/** A virtual service as written (defaults may be omitted). */
export type VirtualServiceInput = Schemas['VirtualServiceInput'];
/** A virtual service as read. */
export type VirtualService = Schemas['VirtualService'];
/** A real server as written. */
export type RealServerInput = Schemas['RealServerInput'];
/** A real server as read. */
export type RealServer = Schemas['RealServer'];
/** A certificate as written. */
export type CertificateInput = Schemas['CertificateInput'];
/** A certificate as read (never its key). */
export type Certificate = Schemas['Certificate'];
/** The whole configuration. */
export type Config = Schemas['Config'];
/** A whole configuration to restore. */
export type ConfigInput = Schemas['ConfigInput'];
/** The System Overview. */
export type Overview = Schemas['Overview'];
/** The HA pair. */
export type HaPair = Schemas['HaPair'];
/** A pairing request. */
export type HaPairInput = Schemas['HaPairInput'];
/** The HA pair's live state. */
export type HaStatus = Schemas['HaStatus'];
/** An API user. */
export type User = Schemas['User'];
/** A user's role: admin, operator or read-only. */
export type Role = Schemas['Role'];
/** The directory logins' settings, as read (never the bind password). */
export type Directory = Schemas['Directory'];
/** The directory logins' settings, as written (with the write-only bind password). */
export type DirectoryInput = Schemas['DirectoryInput'];
/** An audit log entry. */
export type AuditEntry = Schemas['AuditEntry'];
/** The SNMP settings as written (secrets write-only). */
export type SnmpSettingsInput = Schemas['SnmpSettingsInput'];
/** The SNMP settings as read (no secrets). */
export type SnmpSettings = Schemas['SnmpSettings'];
