// A snapshot made by replacing VIPs of another records that step (snapshot-step.ts), and a
// layer that followed an earlier snapshot learns exactly which VIPs changed since, over one
// step or a chain of them; anything else (another list, another snapshot) is followed whole.
import { describe, expect, it } from 'vitest';
import { changesSince, followPart, partOf, recordStep, replaceVips, stepOf, vipOf, type VipChange } from '../../appliance/config/snapshot-step.js';
import type { ConfigSnapshot, VirtualServiceSnapshot } from '../../appliance/config/snapshot.js';
import { seededRandom } from '../helpers/seeded-random.js';

const vip = (id: string, weight = 1): VirtualServiceSnapshot => Object.freeze({ id, label: id, weight }) as unknown as VirtualServiceSnapshot;
const snap = (revision: number, vips: VirtualServiceSnapshot[]): ConfigSnapshot => Object.freeze({ revision, virtualServices: Object.freeze(vips) });
const byId = (changes: readonly VipChange<VirtualServiceSnapshot>[] | null) => (changes ? [...changes].sort((a, b) => a.after.id.localeCompare(b.after.id)) : changes);

describe('a snapshot step', () => {
  const base = snap(1, ['a', 'b', 'c', 'd'].map((id) => vip(id)));

  it('replaces VIPs in place, keeps the others and the order, and records what changed', () => {
    const b2 = vip('b', 2);
    const next = replaceVips(base, 2, [b2])!;
    expect(next.revision).toBe(2);
    expect(next.virtualServices.map((v) => v.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(next.virtualServices[1]).toBe(b2);
    expect(next.virtualServices[0]).toBe(base.virtualServices[0]);
    expect(Object.isFrozen(next) && Object.isFrozen(next.virtualServices)).toBe(true);
    expect(changesSince(base, next)).toEqual([{ before: base.virtualServices[1], after: b2 }]);
    expect(vipOf(next, 'b')).toBe(b2);
    expect(base.virtualServices[1]!.id).toBe('b');
  });

  it('refuses an id it does not hold, and counts the very same object as no change', () => {
    expect(replaceVips(base, 2, [vip('x')])).toBeNull();
    const same = replaceVips(base, 2, [base.virtualServices[2]!])!;
    expect(changesSince(base, same)).toEqual([]);
    // The last replacement of an id wins; replacing back with the original is no change.
    const twice = replaceVips(base, 2, [vip('c', 5), base.virtualServices[2]!])!;
    expect(changesSince(base, twice)).toEqual([]);
    expect(twice.virtualServices[2]).toBe(base.virtualServices[2]);
  });

  it('is followed whole from any snapshot but the one it was made from', () => {
    const next = replaceVips(base, 2, [vip('a', 3)])!;
    expect(changesSince(null, next)).toBeNull();
    expect(changesSince(snap(1, [...base.virtualServices]), next)).toBeNull();
    expect(changesSince(next, base)).toBeNull();
    expect(stepOf(base)).toBeNull();
  });

  it('merges a chain of steps for a layer that missed revisions, and drops a VIP changed and changed back', () => {
    const a2 = vip('a', 2);
    const r2 = replaceVips(base, 2, [a2])!;
    const r3 = replaceVips(r2, 3, [vip('b', 2)])!;
    const r4 = replaceVips(r3, 4, [base.virtualServices[1]!, vip('a', 9)])!;
    const changes = byId(changesSince(base, r4));
    expect(changes).toEqual([{ before: base.virtualServices[0], after: r4.virtualServices[0] }]);
    // From r2, b went to 2 and back: only a changed.
    expect(changesSince(r2, r4)).toEqual([{ before: a2, after: r4.virtualServices[0] }]);
    expect(byId(changesSince(r3, r4))).toEqual(byId([
      { before: a2, after: r4.virtualServices[0]! },
      { before: r3.virtualServices[1]!, after: base.virtualServices[1]! },
    ]));
  });

  it('gives over seeded chains exactly the VIPs that differ from the snapshot followed', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const random = seededRandom(seed);
      const ids = Array.from({ length: 2 + Math.floor(random() * 20) }, (_, i) => `v${i}`);
      const chain: ConfigSnapshot[] = [snap(1, ids.map((id) => vip(id)))];
      for (let r = 2; r < 12; r++) {
        const prev = chain[chain.length - 1]!;
        const replacements = Array.from({ length: Math.floor(random() * 3) }, () => {
          const id = ids[Math.floor(random() * ids.length)]!;
          // Sometimes the object of an earlier revision comes back.
          const older = chain[Math.floor(random() * chain.length)]!;
          return random() < 0.3 ? vipOf(older, id)! : vip(id, r);
        });
        chain.push(replaceVips(prev, r, replacements)!);
      }
      for (let from = 0; from < chain.length; from++) {
        const last = chain[chain.length - 1]!;
        const expected = last.virtualServices.flatMap((vs, i) => (vs === chain[from]!.virtualServices[i] ? [] : [{ before: chain[from]!.virtualServices[i]!, after: vs }]));
        expect(byId(changesSince(chain[from], last)), `seed ${seed} from ${from}`).toEqual(byId(from === chain.length - 1 ? null : expected));
      }
    }
  });

  it('records a whole build as a step only when the ids and their order are the same', () => {
    const c2 = vip('c', 2);
    const whole = snap(2, [base.virtualServices[0]!, base.virtualServices[1]!, c2, base.virtualServices[3]!]);
    recordStep(base, whole);
    expect(changesSince(base, whole)).toEqual([{ before: base.virtualServices[2], after: c2 }]);
    const reordered = snap(3, [...base.virtualServices].reverse());
    recordStep(base, reordered);
    expect(changesSince(base, reordered)).toBeNull();
    const longer = snap(4, [...base.virtualServices, vip('e')]);
    recordStep(base, longer);
    expect(changesSince(base, longer)).toBeNull();
  });

  it('makes a layer\'s part from its part before, or says it must be built whole', () => {
    // The part: VIPs whose weight is odd, each as a copy.
    const copies = new WeakMap<VirtualServiceSnapshot, VirtualServiceSnapshot>();
    const part = (vs: VirtualServiceSnapshot) => {
      if ((vs as unknown as { weight: number }).weight % 2 === 0) return null;
      let c = copies.get(vs);
      if (!c) copies.set(vs, (c = Object.freeze({ ...vs })));
      return c;
    };
    const whole = (s: ConfigSnapshot) => snap(s.revision, s.virtualServices.flatMap((vs) => part(vs) ?? []));
    const partBefore = whole(base);
    const inside = replaceVips(base, 2, [vip('b', 3)])!;
    const followed = followPart(partBefore, stepOf(inside)!, 2, part)!;
    expect(followed).toEqual(whole(inside));
    expect(changesSince(partBefore, followed)).toEqual([{ before: partBefore.virtualServices[1], after: part(inside.virtualServices[1]!) }]);
    // A VIP leaving the part (weight 2) cannot be followed in place.
    expect(followPart(partBefore, stepOf(replaceVips(base, 2, [vip('b', 2)])!)!, 2, part)).toBeNull();
  });

  it('keeps a layer\'s part per snapshot, made from the part before along a step and whole otherwise', () => {
    const parts = new WeakMap<object, ConfigSnapshot>();
    const odd = (vs: VirtualServiceSnapshot) => ((vs as unknown as { weight: number }).weight % 2 === 1 ? vs : null);
    const first = partOf(parts, base, odd);
    expect(partOf(parts, base, odd)).toBe(first);
    expect(first.virtualServices.map((v) => v.id)).toEqual(['a', 'b', 'c', 'd']);
    const inside = replaceVips(base, 2, [vip('c', 3)])!;
    const followed = partOf(parts, inside, odd);
    expect(changesSince(first, followed)).toEqual([{ before: base.virtualServices[2], after: inside.virtualServices[2] }]);
    // A VIP leaving the part: built whole, with no step from the part before.
    const leaving = replaceVips(inside, 3, [vip('a', 2)])!;
    const whole = partOf(parts, leaving, odd);
    expect(whole.virtualServices.map((v) => v.id)).toEqual(['b', 'c', 'd']);
    expect(changesSince(followed, whole)).toBeNull();
  });
});
