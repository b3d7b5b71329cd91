// What one probe of one real server is given: the server, the check's kind and that kind's
// settings (each the contract's own object), with the contract's defaults for revisions
// stored before a setting existed. Shared by the probe runner and every check kind.
import type { BodyMatchSettings } from './content-match.js';

/** The settings of a `tcp` check (the contract's TcpCheck). */
export interface TcpSettings {
  send: string | null;
  expect: string | null;
}

/** The settings of a `dicom` check (the contract's DicomCheck). */
export interface DicomSettings {
  callingAeTitle: string;
  calledAeTitle: string;
  tls: boolean;
}

/** The settings of an `hl7` check (the contract's Hl7Check). */
export interface Hl7Settings {
  message: string | null;
}

/** The settings of a `script` check (the contract's ScriptCheck). */
export interface ScriptSettings {
  /** Relative to the check scripts directory, or absolute inside it; null is refused when written. */
  path: string | null;
  args: string[];
}

/** The settings of a feedback agent (the contract's AgentCheck); `port` null has none. */
export interface AgentSettings {
  port: number | null;
  interval: number;
}

/** What a check whose stored revision predates a setting uses (the contract's defaults). */
export const DICOM_DEFAULTS: DicomSettings = { callingAeTitle: 'LBAPPLIANCE', calledAeTitle: 'ANY-SCP', tls: false };
/** The contract's defaults of Hl7Check. */
export const HL7_DEFAULTS: Hl7Settings = { message: null };
/** The contract's defaults of ScriptCheck. */
export const SCRIPT_DEFAULTS: ScriptSettings = { path: null, args: [] };
/** The contract's defaults of AgentCheck. */
export const AGENT_DEFAULTS: AgentSettings = { port: null, interval: 5 };
/** The contract's defaults of TcpCheck. */
export const TCP_DEFAULTS: TcpSettings = { send: null, expect: null };
/** The contract's defaults of BodyMatch. */
export const BODY_MATCH_DEFAULTS: BodyMatchSettings = { kind: 'none', value: '' };

/** The check kinds the appliance runs itself (the contract's HealthCheck types but `none`). */
export type CheckKindName = 'connect' | 'tcp' | 'http' | 'https' | 'dicom' | 'hl7' | 'script';

/** What to check on one real server. */
export interface ProbeSpec {
  type: CheckKindName;
  address: string;
  port: number;
  path: string;
  /** Host header; null sends the server's address. */
  host: string | null;
  expectStatus: number;
  timeoutMs: number;
  /** Statuses accepted besides none; empty accepts `expectStatus` only. */
  expectStatuses: number[];
  bodyMatch: BodyMatchSettings;
  tcp: TcpSettings;
  dicom: DicomSettings;
  hl7: Hl7Settings;
  script: ScriptSettings;
  /** The VIP and server as a `script` check's environment names them (HAProxy's external-check variables). */
  names: { vip: string; vipAddress: string; vipPort: number; server: string };
}
