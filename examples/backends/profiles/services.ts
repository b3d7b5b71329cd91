// Derives the services to run from a profile: one per host address and port, merging every
// VIP that uses it, plus the health pages and health endpoints the VIPs' checks point at.
import { BackendError } from '../errors.js';
import type { BackendKind } from '../service.js';
import type { BackendProfile, HostPlan, ServicePlan } from './types.js';

function add(map: Map<string, ServicePlan>, host: HostPlan, port: number, kind: BackendKind, ref: string): void {
  const key = `${host.address}:${port}`;
  const existing = map.get(key);
  if (!existing) {
    map.set(key, { host, port, kind, serves: [ref] });
    return;
  }
  if (existing.kind !== kind) {
    throw new BackendError('BACKEND_PLAN_CONFLICT', `${key} is ${existing.kind} for ${existing.serves.join(', ')} but ${kind} for ${ref}`, { key, kinds: [existing.kind, kind] });
  }
  if (!existing.serves.includes(ref)) existing.serves.push(ref);
}

/** Every service the profile's hosts run, in host order then port order (throws BACKEND_PLAN_CONFLICT). */
export function servicesOf(profile: BackendProfile): ServicePlan[] {
  const hosts = new Map(profile.hosts.map((h) => [h.id, h]));
  const map = new Map<string, ServicePlan>();
  for (const vip of profile.vips) {
    for (const rs of vip.realServers) {
      const host = hosts.get(rs.host);
      if (!host || host.address !== rs.address) {
        throw new BackendError('BACKEND_PLAN_CONFLICT', `${vip.ref} real server ${rs.label} names host ${rs.host} at ${rs.address}, which the profile does not have`, { vip: vip.ref });
      }
      add(map, host, rs.port, rs.kind, vip.ref);
    }
  }
  // Health checks on another port than the real server's: the port of the host's health page
  // (an HTTP service of its own), or a port that already runs a service of the right protocol.
  for (const vip of profile.vips) {
    const hc = vip.healthCheck;
    if (hc.port === null || hc.type === 'none' || hc.type === 'connect') continue;
    for (const rs of vip.realServers) {
      const host = hosts.get(rs.host)!;
      if (hc.port === profile.healthPort) add(map, host, hc.port, 'health', `${vip.ref} health check`);
      else {
        const target = map.get(`${host.address}:${hc.port}`);
        const ok = target && (hc.type === 'https' ? target.kind === 'https' : target.kind === 'http' || target.kind === 'health');
        if (!ok) throw new BackendError('BACKEND_PLAN_CONFLICT', `${vip.ref} checks ${hc.type} on ${host.address}:${hc.port}, where no ${hc.type} service runs`, { vip: vip.ref });
        if (!target.serves.includes(`${vip.ref} health check`)) target.serves.push(`${vip.ref} health check`);
      }
    }
  }
  const order = new Map(profile.hosts.map((h, i) => [h.id, i]));
  return [...map.values()].sort((a, b) => order.get(a.host.id)! - order.get(b.host.id)! || a.port - b.port);
}

/** A copy of a profile with every address that starts with `from` moved to start with `to` (e.g. '127.0.40.' to '127.0.96.'), for running a plan beside another copy of itself. */
export function relocateProfile(profile: BackendProfile, from: string, to: string): BackendProfile {
  const move = (a: string) => (a.startsWith(from) ? to + a.slice(from.length) : a);
  return {
    ...profile,
    hosts: profile.hosts.map((h) => ({ ...h, address: move(h.address) })),
    vips: profile.vips.map((v) => ({ ...v, ipAddress: move(v.ipAddress), realServers: v.realServers.map((r) => ({ ...r, address: move(r.address) })) })),
  };
}
