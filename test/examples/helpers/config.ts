// The appliance's configuration as the examples compare it: GET /api/v1/config with the ids
// replaced by labels (a VIP's certificate by its label, a real server under its VIP's label),
// so four deployments of one example can be compared object for object.
import type { ApplianceClient } from '../../../openapi/sdk/index.js';
import type { BackendProfile } from '../../../examples/backends/index.js';

/** The configuration keyed by labels. */
export interface ConfigSnapshot {
  virtualServices: Record<string, Record<string, unknown>>;
  /** By `<VIP label>/<server label>`. */
  realServers: Record<string, Record<string, unknown>>;
  /** Public details that do not change between uploads of the same material. */
  certificates: Record<string, { source: unknown; fingerprintSha256: unknown; subject: unknown }>;
}

/** Exports the configuration and keys it by labels. */
export async function configSnapshot(client: ApplianceClient): Promise<ConfigSnapshot> {
  const config = await client.getConfig();
  const certLabel = (id: unknown) => (typeof id === 'string' ? (config.certificates[id]?.label ?? `?${id}`) : null);
  const vsLabel = (id: string) => config.virtualServices[id]?.label ?? `?${id}`;
  const sortKeys = <T>(o: Record<string, T>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  return {
    virtualServices: sortKeys(Object.fromEntries(Object.values(config.virtualServices).map((vs) => [vs.label, { ...vs, certificateId: certLabel(vs.certificateId) }]))),
    realServers: sortKeys(Object.fromEntries(Object.values(config.realServers).map(({ virtualServiceId, ...rs }) => [`${vsLabel(virtualServiceId)}/${rs.label}`, rs]))),
    certificates: sortKeys(Object.fromEntries(Object.values(config.certificates).map((c) => [c.label, { source: c.source, fingerprintSha256: c.fingerprintSha256, subject: c.subject }]))),
  };
}

/** What the backend plan says each VIP and real server must be, in the snapshot's terms (to match with toMatchObject). */
export function planned(profile: BackendProfile, certificateLabel?: string): Pick<ConfigSnapshot, 'virtualServices' | 'realServers'> {
  const virtualServices: ConfigSnapshot['virtualServices'] = {};
  const realServers: ConfigSnapshot['realServers'] = {};
  for (const v of profile.vips) {
    const { type, port, path, expectStatus } = v.healthCheck;
    virtualServices[v.label] = {
      ipAddress: v.ipAddress,
      ports: v.ports,
      protocol: v.protocol,
      certificateId: v.terminatesTls ? certificateLabel : null,
      persistence: { mode: v.persistence },
      healthCheck: { type, port, ...(path !== undefined ? { path } : {}), ...(expectStatus !== undefined ? { expectStatus } : {}) },
      forceHttps: v.forceHttps !== undefined,
      ...(v.forceHttps !== undefined ? { redirectCode: v.forceHttps } : {}),
      ...(v.timeouts ? { timeouts: v.timeouts } : {}),
    };
    for (const r of v.realServers) realServers[`${v.label}/${r.label}`] = { address: r.address, port: r.port, reEncrypt: r.reEncrypt, backup: r.backup };
  }
  return { virtualServices, realServers };
}
