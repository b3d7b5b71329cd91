// The desired state an SDK script converges an appliance to: certificates by label, virtual
// services by label with their real servers, optionally the HA pair and the directory
// logins, and the VIP addresses
// the deployment owns. The contract's defaults fill what a script leaves out, so a value
// changed behind the script's back is seen as a difference even where the script is silent.
import type { CertificateInput, DirectoryInput, HaPairInput, RealServerInput, SnmpSettingsInput, VirtualServiceInput } from 'lbappliance/sdk';

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

// The contract's defaults (openapi/appliance.yaml; docs/resources/*.md list them too).
const VS_DEFAULTS = {
  forwarding: 'proxy',
  transparent: false,
  certificateId: null,
  algorithm: 'roundrobin',
  forceHttps: false,
  redirectCode: 301,
  forwardedFor: true,
  enabled: true,
  sendProxy: 'off',
  acceptProxy: false,
} as const;
const PERSISTENCE_DEFAULTS = { mode: 'none', cookieName: 'SERVERID', timeout: 1800, sourceIpFallback: false, ipv4PrefixLength: 32, ipv6PrefixLength: 128 } as const;
const HEALTH_CHECK_DEFAULTS = { type: 'connect', port: null, path: '/', host: null, expectStatus: 200, interval: 5, timeout: 4, rise: 2, fall: 3, expectStatuses: [] } as const;
/** The defaults of each kind's own settings object inside healthCheck. */
const CHECK_SETTINGS_DEFAULTS = {
  bodyMatch: { kind: 'none', value: '' },
  tcp: { send: null, expect: null },
  dicom: { callingAeTitle: 'LBAPPLIANCE', calledAeTitle: 'ANY-SCP', tls: false },
  hl7: { message: null },
  script: { path: null, args: [] },
  agent: { port: null, interval: 5 },
} as const;

function canonicalHealthCheck(hc: VirtualServiceInput['healthCheck']): Record<string, unknown> {
  const out: Record<string, unknown> = { ...HEALTH_CHECK_DEFAULTS, ...hc };
  for (const [name, defaults] of Object.entries(CHECK_SETTINGS_DEFAULTS)) out[name] = { ...defaults, ...(hc?.[name as keyof typeof CHECK_SETTINGS_DEFAULTS] ?? {}) };
  return out;
}
const TIMEOUT_DEFAULTS = { client: 600, server: 600, connect: 4, httpRequest: 10 } as const;
const RS_DEFAULTS = { port: null, weight: 100, reEncrypt: false, backup: false, adminState: 'online' } as const;

/** A virtual service body with every writable property, as the appliance reads it back. */
export function canonicalVirtualService(spec: VirtualServiceInput): Record<string, unknown> {
  return {
    ...VS_DEFAULTS,
    ...spec,
    persistence: { ...PERSISTENCE_DEFAULTS, ...spec.persistence },
    healthCheck: canonicalHealthCheck(spec.healthCheck),
    timeouts: { ...TIMEOUT_DEFAULTS, ...spec.timeouts },
  };
}

/** A real server body with every writable property, as the appliance reads it back. */
export function canonicalRealServer(spec: RealServerInput): Record<string, unknown> {
  return { ...RS_DEFAULTS, ...spec };
}

/**
 * The SNMP settings as the appliance reads them back: defaults filled, secrets left out (they
 * are write-only, so a changed secret alone is not seen: the script sends them with every
 * other change).
 */
export function canonicalSnmp(s: SnmpSettingsInput): Record<string, unknown> {
  return {
    enabled: s.enabled ?? false,
    listenAddress: s.listenAddress ?? '0.0.0.0',
    nodeListenAddresses: s.nodeListenAddresses ?? {},
    port: s.port ?? 161,
    contact: s.contact ?? '',
    location: s.location ?? '',
    communities: (s.communities ?? []).map((c) => ({ name: c.name })),
    users: (s.users ?? []).map((u) => ({ name: u.name, authProtocol: u.authProtocol ?? 'sha', privProtocol: u.privProtocol ?? 'aes' })),
    trapDestinations: (s.trapDestinations ?? []).map((d) => ({ name: d.name, address: d.address, port: d.port ?? 162, version: d.version, user: d.user ?? null })),
    informTimeoutMs: s.informTimeoutMs ?? 5000,
    informRetries: s.informRetries ?? 3,
  };
}
