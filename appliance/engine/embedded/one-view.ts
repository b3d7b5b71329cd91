// Which VIPs need one count of their connections: a VIP limit (`limits.maxConnections`), a
// real server's `maxConnections` or least-connections balancing decide on the number of
// sessions open now, which no worker process alone would know. With worker processes such
// a VIP is carried by the first worker only (it alone listens on the VIP's addresses), so
// it behaves exactly as in one process; every other VIP is spread over all the workers.
import type { ConfigSnapshot, VirtualServiceSnapshot } from '../types.js';

/** Whether a VIP's limits or balancing count its open connections. */
export function needsOneView(vs: VirtualServiceSnapshot): boolean {
  return vs.algorithm === 'leastconn' || vs.limits.maxConnections !== null || vs.realServers.some((rs) => rs.maxConnections !== null);
}

/** The part of a snapshot the worker at `index` carries. */
export function workerShare(snapshot: ConfigSnapshot, index: number): ConfigSnapshot {
  if (index === 0) return snapshot;
  return { ...snapshot, virtualServices: snapshot.virtualServices.filter((vs) => !needsOneView(vs)) };
}
