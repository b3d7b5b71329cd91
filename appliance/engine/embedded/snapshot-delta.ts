// A revision as the engine sends it to a worker process: the order of the VIP ids and only
// the VIP snapshots that differ from the ones that worker already holds. The store reuses an
// unchanged VIP's frozen snapshot, so "differs" is an identity test, and a revision that
// changes one real server of a thousand VIPs sends one VIP, not a thousand (issue 17): the
// IPC channel serialises every byte as JSON, and every VIP that arrives as a new object is
// followed again by the worker's data plane.
import { replaceVips, vipOf } from '../../config/snapshot-step.js';
import type { ConfigSnapshot, VirtualServiceSnapshot } from '../types.js';

/** A snapshot relative to what the worker holds. */
export interface SnapshotDelta {
  revision: number;
  /** Every VIP of the revision, in order; absent when they are the held ones in the held order. */
  ids?: string[];
  /** The VIPs the worker does not hold as they are now. */
  changed: VirtualServiceSnapshot[];
}

/** The delta that brings a worker holding `base` (null: nothing yet) to `next`. */
export function snapshotDelta(base: ConfigSnapshot | null, next: ConfigSnapshot): SnapshotDelta {
  const held = new Map<string, VirtualServiceSnapshot>();
  for (const vs of base?.virtualServices ?? []) held.set(vs.id, vs);
  const before = base?.virtualServices ?? [];
  const sameIds = before.length === next.virtualServices.length && next.virtualServices.every((vs, i) => vs.id === before[i]?.id);
  return {
    revision: next.revision,
    ...(sameIds && base !== null ? {} : { ids: next.virtualServices.map((vs) => vs.id) }),
    changed: next.virtualServices.filter((vs) => held.get(vs.id) !== vs),
  };
}

/** The worker's side: the VIP snapshots it holds, rebuilt into whole revisions from deltas. */
export class SnapshotHolder {
  #current: ConfigSnapshot | null = null;
  /** The ids of the VIPs the last delta added or changed, and of those it removed. */
  touched: string[] = [];

  /**
   * The whole revision; an unchanged VIP is the same object as in the revision before. A delta
   * with the held ids is a step from the held revision (snapshot-step.ts): the data plane
   * then follows the changed VIPs alone.
   */
  follow(delta: SnapshotDelta): ConfigSnapshot {
    const current = this.#current;
    if (!delta.ids && current) {
      const next = replaceVips(current, delta.revision, delta.changed);
      if (!next) {
        // The engine sends every VIP this worker does not hold; a gap is a defect, said plainly.
        const gap = delta.changed.find((vs) => !vipOf(current, vs.id));
        throw new Error(`revision ${delta.revision}: virtual service ${gap?.id} was neither sent nor held`);
      }
      this.touched = delta.changed.map((vs) => vs.id);
      this.#current = next;
      return next;
    }
    const held = new Map<string, VirtualServiceSnapshot>();
    for (const vs of current?.virtualServices ?? []) held.set(vs.id, vs);
    const changed = new Map(delta.changed.map((vs) => [vs.id, vs]));
    const next = new Map<string, VirtualServiceSnapshot>();
    for (const id of delta.ids ?? []) {
      const vs = changed.get(id) ?? held.get(id);
      if (!vs) throw new Error(`revision ${delta.revision}: virtual service ${id} was neither sent nor held`);
      next.set(id, vs);
    }
    this.touched = delta.changed.map((vs) => vs.id);
    for (const id of held.keys()) if (!next.has(id)) this.touched.push(id);
    this.#current = { revision: delta.revision, virtualServices: [...next.values()] };
    return this.#current;
  }
}
