// How one snapshot follows another when a write adds, removes and reorders no VIP: the same
// VIPs in the same order, a few of them replaced. The store makes such a snapshot from the
// previous one (snapshot.ts), and every layer below that follows snapshots (the engines, the
// engine's workers, the parts of a snapshot a layer carries) asks here which VIPs changed
// since the snapshot it followed last. A revision that changes one real server of a thousand
// VIPs is then one VIP's work in every layer, not a pass over a thousand (issue 17). A
// snapshot made any other way has no step and is followed whole, as before.
// It imports nothing: an engine worker process loads it, and snapshot.ts builds on it. It
// sees a snapshot only as far as a step needs it (snapshot.ts's ConfigSnapshot is one).

/** A VIP, as far as a step needs it. */
export interface SteppedVip {
  readonly id: string;
}

/** A snapshot, as far as a step needs it. */
export interface SteppedSnapshot<V extends SteppedVip> {
  readonly revision: number;
  readonly virtualServices: readonly V[];
}

/** One VIP of a step: its snapshot before and after. */
export interface VipChange<V extends SteppedVip> {
  readonly before: V;
  readonly after: V;
}

/** A snapshot made from `from` by replacing the VIPs of `changes`. */
export interface SnapshotStep<V extends SteppedVip> {
  readonly from: SteppedSnapshot<V>;
  readonly changes: readonly VipChange<V>[];
}

interface StoredStep {
  /** Weak: a snapshot must not hold every revision before it alive. */
  readonly from: WeakRef<SteppedSnapshot<SteppedVip>>;
  readonly changes: readonly VipChange<SteppedVip>[];
}

const steps = new WeakMap<object, StoredStep>();
/** Each VIP's position by id, shared along a chain of steps (the ids and their order stay). */
const positionsOf = new WeakMap<object, ReadonlyMap<string, number>>();

function positions(snapshot: SteppedSnapshot<SteppedVip>): ReadonlyMap<string, number> {
  let at = positionsOf.get(snapshot);
  if (!at) positionsOf.set(snapshot, (at = new Map(snapshot.virtualServices.map((vs, i) => [vs.id, i]))));
  return at;
}

/** The VIP of `id` in `snapshot` (its positions are found once per chain of steps). */
export function vipOf<V extends SteppedVip>(snapshot: SteppedSnapshot<V>, id: string): V | undefined {
  const i = positions(snapshot).get(id);
  return i === undefined ? undefined : snapshot.virtualServices[i];
}

/**
 * `from` with each VIP of `replacements` put in the place of the VIP of its id, as a frozen
 * snapshot of `revision` that records its step; null when an id is not in `from`. A
 * replacement that is the very object already there is no change.
 */
export function replaceVips<V extends SteppedVip>(from: SteppedSnapshot<V>, revision: number, replacements: Iterable<V>): SteppedSnapshot<V> | null {
  const at = positions(from);
  const virtualServices = from.virtualServices.slice();
  const changed = new Map<string, VipChange<V>>();
  for (const after of replacements) {
    const i = at.get(after.id);
    if (i === undefined) return null;
    const before = from.virtualServices[i] as V;
    virtualServices[i] = after;
    if (before === after) changed.delete(after.id);
    else changed.set(after.id, { before, after });
  }
  const next: SteppedSnapshot<V> = Object.freeze({ revision, virtualServices: Object.freeze(virtualServices) });
  steps.set(next, { from: new WeakRef(from), changes: [...changed.values()] });
  positionsOf.set(next, at);
  return next;
}

/**
 * Records `next` (built whole) as a step from `from` when both have the same VIP ids in the
 * same order: a pass here spares one in every layer below. Nothing is recorded otherwise.
 */
export function recordStep<V extends SteppedVip>(from: SteppedSnapshot<V>, next: SteppedSnapshot<V>): void {
  const a = from.virtualServices;
  const b = next.virtualServices;
  if (a.length !== b.length) return;
  const changes: VipChange<V>[] = [];
  for (let i = 0; i < b.length; i++) {
    const before = a[i] as V;
    const after = b[i] as V;
    if (before.id !== after.id) return;
    if (before !== after) changes.push({ before, after });
  }
  steps.set(next, { from: new WeakRef(from), changes });
  const at = positionsOf.get(from);
  if (at) positionsOf.set(next, at);
}

/** The step `next` was made by, while the snapshot it was made from is still alive. */
export function stepOf<V extends SteppedVip>(next: SteppedSnapshot<V>): SnapshotStep<V> | null {
  const step = steps.get(next);
  const from = step?.from.deref();
  // A step is recorded only between snapshots of the same kind of VIP.
  return step && from ? ({ from, changes: step.changes } as SnapshotStep<V>) : null;
}

/** How many steps back a layer that missed revisions (the store applies the last of a group commit) is still followed by its changes. */
const MAX_HOPS = 32;

/**
 * The VIPs that changed from `followed` to `next`, when `next` was made from it by one step
 * or a short chain of them; null: follow `next` whole.
 */
export function changesSince<V extends SteppedVip>(followed: SteppedSnapshot<V> | null | undefined, next: SteppedSnapshot<V>): readonly VipChange<V>[] | null {
  if (!followed) return null;
  let step = stepOf(next);
  if (!step) return null;
  if (step.from === followed) return step.changes;
  // Walk back, keeping each VIP's newest `after` and oldest `before`.
  const merged = new Map<string, { before: V; after: V }>();
  for (let hops = 0; step && hops < MAX_HOPS; hops++) {
    for (const c of step.changes) {
      const m = merged.get(c.after.id);
      if (m) m.before = c.before;
      else merged.set(c.after.id, { before: c.before, after: c.after });
    }
    if (step.from === followed) return [...merged.values()].filter((c) => c.before !== c.after);
    step = stepOf(step.from);
  }
  return null;
}

/**
 * A layer's part of a snapshot (`part` maps each VIP to the one the layer carries, or null
 * for one it does not), made from its part of the snapshot before: `previousPart` is
 * `part` applied to `step.from`. Null when a changed VIP enters or leaves the part (the
 * caller builds it whole).
 */
export function followPart<V extends SteppedVip>(previousPart: SteppedSnapshot<V>, step: SnapshotStep<V>, revision: number, part: (vs: V) => V | null): SteppedSnapshot<V> | null {
  const replacements: V[] = [];
  for (const { before, after } of step.changes) {
    const was = part(before);
    const is = part(after);
    if ((was === null) !== (is === null)) return null;
    if (is) replacements.push(is);
  }
  return replaceVips(previousPart, revision, replacements);
}

/**
 * A layer's part of `snapshot` (`part` maps each VIP to the one the layer carries, or null
 * for one it does not), made once per snapshot and kept in `parts`: from the part of the
 * snapshot it stepped from when that part is kept and no changed VIP enters or leaves it,
 * otherwise whole.
 */
export function partOf<V extends SteppedVip>(parts: WeakMap<object, SteppedSnapshot<V>>, snapshot: SteppedSnapshot<V>, part: (vs: V) => V | null): SteppedSnapshot<V> {
  let made = parts.get(snapshot);
  if (made) return made;
  const step = stepOf(snapshot);
  const previous = step && parts.get(step.from);
  made = (previous && step && followPart(previous, step, snapshot.revision, part)) || { revision: snapshot.revision, virtualServices: snapshot.virtualServices.flatMap((vs) => part(vs) ?? []) };
  parts.set(snapshot, made);
  return made;
}
