// Which VIPs need one count of their connections: a VIP limit (`limits.maxConnections`), a
// real server's `maxConnections` or least-connections balancing decide on the number of
// sessions open now, which no worker process alone would know. With worker processes such
// a VIP is carried by the first worker only (it alone listens on the VIP's addresses), so
// it behaves exactly as in one process; every other VIP is spread over all the workers.
// A VIP that becomes such a VIP (a change of balancing or limits) stays on the other workers
// as a disabled one: they stop listening, and their open connections finish their exchanges
// instead of being cut (a client's keep-alive connection met a reset when the VIP simply
// went from a worker's share).
import { partOf, stepOf } from '../../config/snapshot-step.js';
import type { ConfigSnapshot, VirtualServiceSnapshot } from '../types.js';

/** Whether a VIP's limits or balancing count its open connections. */
export function needsOneView(vs: VirtualServiceSnapshot): boolean {
  return vs.algorithm === 'leastconn' || vs.limits.maxConnections !== null || vs.realServers.some((rs) => rs.maxConnections !== null);
}

/** What a worker other than the first holds of a VIP. */
function shared(vs: VirtualServiceSnapshot): VirtualServiceSnapshot {
  return needsOneView(vs) && vs.enabled ? held(vs) : vs;
}

/** Each snapshot's share for the workers after the first, made from the share before when the snapshot is a step (snapshot-step.ts). */
const shares = new WeakMap<ConfigSnapshot, ConfigSnapshot>();

/** The part of a snapshot the worker at `index` carries: the VIPs that need one view stay, disabled, off the first worker. */
export function workerShare(snapshot: ConfigSnapshot, index: number): ConfigSnapshot {
  if (index === 0) return snapshot;
  return partOf(shares, snapshot, shared);
}

/** The disabled copy of a VIP snapshot, the same object for the same snapshot (the data plane follows only a VIP whose object changed). */
const copies = new WeakMap<VirtualServiceSnapshot, VirtualServiceSnapshot>();
function held(vs: VirtualServiceSnapshot): VirtualServiceSnapshot {
  let copy = copies.get(vs);
  if (!copy) copies.set(vs, (copy = Object.freeze({ ...vs, enabled: false })));
  return copy;
}

const notCarriedOf = new WeakMap<ConfigSnapshot, ReadonlySet<string>>();

/** The VIPs the worker at `index` holds without carrying them (its statistics leave them out). */
export function notCarried(snapshot: ConfigSnapshot, index: number): ReadonlySet<string> {
  if (index === 0) return new Set();
  let ids = notCarriedOf.get(snapshot);
  if (ids) return ids;
  const step = stepOf(snapshot);
  const previous = step && notCarriedOf.get(step.from);
  if (previous && step) {
    const next = new Set(previous);
    for (const { after } of step.changes) {
      if (needsOneView(after)) next.add(after.id);
      else next.delete(after.id);
    }
    ids = next;
  } else ids = new Set(snapshot.virtualServices.filter(needsOneView).map((vs) => vs.id));
  notCarriedOf.set(snapshot, ids);
  return ids;
}
