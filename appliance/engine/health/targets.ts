// What to check of each real server of a VIP, from its snapshot: one HealthTarget per server.
// Both engines and the kernel plane build their appliance-run checks from here, so a check
// means the same thing whichever engine carries the traffic (layer 4 VIPs included).
import type { VirtualServiceSnapshot } from '../types.js';
import type { HealthTarget } from './health-checker.js';
import { AGENT_DEFAULTS, BODY_MATCH_DEFAULTS, DICOM_DEFAULTS, HL7_DEFAULTS, SCRIPT_DEFAULTS, TCP_DEFAULTS } from './probe-spec.js';

/** Targets already built, per VIP snapshot: the store reuses an unchanged VIP's frozen snapshot. */
const built = new WeakMap<VirtualServiceSnapshot, readonly HealthTarget[]>();

/**
 * The health targets of every real server of `vs`. The same snapshot gives the same target
 * objects, so a revision that changes one VIP of a thousand builds the targets of one.
 */
export function healthTargets(vs: VirtualServiceSnapshot): readonly HealthTarget[] {
  let targets = built.get(vs);
  if (!targets) {
    targets = buildTargets(vs);
    built.set(vs, targets);
  }
  return targets;
}

/** The `vsId/rsId` keys of a VIP's servers (the health checker's and the feed's), built once per VIP snapshot. */
const keysOf = new WeakMap<VirtualServiceSnapshot, readonly string[]>();
export function serverKeys(vs: VirtualServiceSnapshot): readonly string[] {
  let keys = keysOf.get(vs);
  if (!keys) keysOf.set(vs, (keys = vs.realServers.map((rs) => `${vs.id}/${rs.id}`)));
  return keys;
}

function buildTargets(vs: VirtualServiceSnapshot): HealthTarget[] {
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
    // A revision stored before the setting existed checks with the contract's defaults.
    expectStatuses: hc.expectStatuses ?? [],
    bodyMatch: { ...BODY_MATCH_DEFAULTS, ...hc.bodyMatch },
    tcp: { ...TCP_DEFAULTS, ...hc.tcp },
    dicom: { ...DICOM_DEFAULTS, ...hc.dicom },
    hl7: { ...HL7_DEFAULTS, ...hc.hl7 },
    script: { ...SCRIPT_DEFAULTS, ...hc.script },
    vip: { address: vs.ipAddress, port: vs.ports[0] as number },
    agent: { ...AGENT_DEFAULTS, ...hc.agent },
  }));
}
