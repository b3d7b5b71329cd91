// Building VIPs through the SDK, as a user's script would.
import type { ApplianceClient } from '../../../openapi/sdk/index.js';
import type { components } from '../../../openapi/generated/types.js';

type VirtualServiceInput = components['schemas']['VirtualServiceInput'];
type RealServerInput = components['schemas']['RealServerInput'];

/** A VIP and its real servers as created. */
export interface CreatedVip {
  id: string;
  servers: Record<string, string>;
}

/** Creates a VIP and its real servers; returns the ids (servers by label). */
export async function createVip(client: ApplianceClient, vip: VirtualServiceInput, servers: RealServerInput[] = []): Promise<CreatedVip> {
  const vs = await client.createVirtualService(vip);
  const ids: Record<string, string> = {};
  for (const rs of servers) ids[rs.label] = (await client.createRealServer(vs.id, rs)).id;
  return { id: vs.id, servers: ids };
}

/** The overview entry of a VIP. */
export async function overviewOf(client: ApplianceClient, vsId: string) {
  const o = await client.getOverview();
  const vs = o.virtualServices.find((v) => v.id === vsId);
  if (!vs) throw new Error(`VIP ${vsId} is not in the overview`);
  return vs;
}

/** Health of one real server in the overview. */
export async function healthOf(client: ApplianceClient, vsId: string, rsId: string): Promise<string> {
  const vs = await overviewOf(client, vsId);
  return vs.realServers.find((r) => r.id === rsId)?.health ?? 'missing';
}
