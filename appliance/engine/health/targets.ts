// The health check targets of a VIP's real servers, read from a snapshot: one per server,
// keyed `${virtualServiceId}/${realServerId}`. Shared by the embedded engine and the kernel
// plane, so a layer 4 VIP's servers are checked exactly as a proxy VIP's are.
import type { VirtualServiceSnapshot } from '../types.js';
import type { HealthTarget } from './health-checker.js';

/** The targets of one VIP. */
export function healthTargets(vs: VirtualServiceSnapshot): HealthTarget[] {
  const hc = vs.healthCheck;
  return vs.realServers.map((rs) => ({
    key: `${vs.id}/${rs.id}`,
    vipLabel: vs.label,
    serverLabel: rs.label,
    type: hc.type,
    address: rs.address,
    // A server without its own port is checked on the VIP's first port (as HAProxy does).
    port: hc.port ?? rs.port ?? (vs.ports[0] as number),
    path: hc.path,
    host: hc.host,
    expectStatus: hc.expectStatus,
    intervalMs: hc.interval * 1000,
    timeoutMs: hc.timeout * 1000,
    rise: hc.rise,
    fall: hc.fall,
  }));
}
