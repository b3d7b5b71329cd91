// Deploys an example's VIPs (from its backend plan in examples/backends/profiles) through the
// SDK, as a user's script would, with fast health checks so tests see verdicts in a second.
import type { ApplianceClient } from '../../../openapi/sdk/index.js';
import type { BackendProfile } from '../../../examples/backends/index.js';

/** Ids of what was deployed: VIPs by label, and their real servers by label. */
export interface Deployed {
  vips: Record<string, { id: string; servers: Record<string, string> }>;
}

/** Health check timing for tests: one check a second, one result decides. */
export const FAST_CHECK = { interval: 1, timeout: 1, rise: 1, fall: 1 } as const;

/** Creates every VIP of a profile and its real servers. */
export async function deployProfile(client: ApplianceClient, profile: BackendProfile): Promise<Deployed> {
  const out: Deployed = { vips: {} };
  let certificateId: string | undefined;
  for (const vip of profile.vips) {
    if (vip.terminatesTls && !certificateId) {
      certificateId = (await client.createCertificate({ label: `${profile.example}-cert`, selfSigned: { commonName: `${profile.example}.test`, subjectAltNames: [vip.ipAddress] } })).id;
    }
    const hc = vip.healthCheck;
    const vs = await client.createVirtualService({
      label: vip.label,
      ipAddress: vip.ipAddress,
      ports: vip.ports,
      protocol: vip.protocol,
      persistence: { mode: vip.persistence },
      ...(vip.terminatesTls ? { certificateId } : {}),
      ...(vip.forceHttps ? { forceHttps: true, redirectCode: vip.forceHttps } : {}),
      ...(vip.timeouts ? { timeouts: vip.timeouts } : {}),
      healthCheck: hc.type === 'none' ? { type: 'none' } : { type: hc.type, port: hc.port, ...(hc.path ? { path: hc.path } : {}), ...(hc.expectStatus ? { expectStatus: hc.expectStatus } : {}), ...FAST_CHECK },
    });
    const servers: Record<string, string> = {};
    for (const rs of vip.realServers) {
      servers[rs.label] = (await client.createRealServer(vs.id, { label: rs.label, address: rs.address, port: rs.port, reEncrypt: rs.reEncrypt, backup: rs.backup })).id;
    }
    out.vips[vip.label] = { id: vs.id, servers };
  }
  return out;
}
