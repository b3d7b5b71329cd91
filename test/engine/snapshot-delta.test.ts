// What the engine sends its worker processes for a revision (snapshot-delta.ts): only the VIPs
// a worker does not hold, and the worker rebuilds the whole revision with every unchanged
// VIP as the very object it already follows (its data plane skips those).
import { describe, expect, it } from 'vitest';
import { snapshotDelta, SnapshotHolder } from '../../appliance/engine/embedded/snapshot-delta.js';
import type { ConfigSnapshot, VirtualServiceSnapshot } from '../../appliance/engine/types.js';

function vip(id: string, weight = 100): VirtualServiceSnapshot {
  // About the size of a real VIP snapshot (settings, health check, timeouts, servers): a few hundred bytes and more.
  return Object.freeze({ id, label: id, settings: 's'.repeat(400), realServers: [{ id: `${id}-rs`, weight }] }) as unknown as VirtualServiceSnapshot;
}

/** The delta as the IPC channel delivers it: through JSON, so nothing arrives as the sender's object. */
function overIpc<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

describe('a revision sent to a worker', () => {
  const thousand = Array.from({ length: 1000 }, (_, i) => vip(`vs-${i}`));
  const r1: ConfigSnapshot = { revision: 1, virtualServices: thousand };

  it('carries every VIP to a worker that holds nothing, and only the changed one after that', () => {
    const first = snapshotDelta(null, r1);
    expect(first.changed).toHaveLength(1000);
    const changedOne = vip('vs-500', 7);
    const r2: ConfigSnapshot = { revision: 2, virtualServices: thousand.map((v) => (v.id === 'vs-500' ? changedOne : v)) };
    const second = snapshotDelta(r1, r2);
    expect(second.changed).toEqual([changedOne]);
    // The same VIPs in the same order: no list of ids either.
    expect(second.ids).toBeUndefined();
    expect(snapshotDelta(r2, { revision: 3, virtualServices: r2.virtualServices.slice(1) }).ids).toHaveLength(999);
    expect(second.revision).toBe(2);
    // Under a tenth of the first message's size.
    expect(JSON.stringify(second).length).toBeLessThan(JSON.stringify(first).length / 10);
  });

  it('is rebuilt by the worker with the unchanged VIPs as the objects it already holds, in the revision order', () => {
    const holder = new SnapshotHolder();
    const w1 = holder.follow(overIpc(snapshotDelta(null, r1)));
    expect(w1.virtualServices.map((v) => v.id)).toEqual(r1.virtualServices.map((v) => v.id));
    const r2: ConfigSnapshot = { revision: 2, virtualServices: [vip('vs-new'), ...thousand.filter((v) => v.id !== 'vs-3').reverse().map((v) => (v.id === 'vs-9' ? vip('vs-9', 1) : v))] };
    const w2 = holder.follow(overIpc(snapshotDelta(r1, r2)));
    expect(w2.revision).toBe(2);
    expect(w2.virtualServices.map((v) => v.id)).toEqual(r2.virtualServices.map((v) => v.id));
    const before = new Map(w1.virtualServices.map((v) => [v.id, v]));
    const same = w2.virtualServices.filter((v) => before.get(v.id) === v).map((v) => v.id);
    // Every VIP but the new one and the changed one is the worker's object from revision 1.
    expect(same).toHaveLength(998);
    expect(same).not.toContain('vs-9');
    expect(w2.virtualServices.find((v) => v.id === 'vs-9')?.realServers[0]?.weight).toBe(1);
    expect(w2.virtualServices.some((v) => v.id === 'vs-3')).toBe(false);
    // What the worker's answer reports the listener state of: the added, the changed and the removed VIP.
    expect([...holder.touched].sort()).toEqual(['vs-3', 'vs-9', 'vs-new']);
  });

  it('refuses, naming the VIP, a delta that leaves out a VIP the worker does not hold', () => {
    const holder = new SnapshotHolder();
    holder.follow(snapshotDelta(null, { revision: 1, virtualServices: [vip('a')] }));
    expect(() => holder.follow({ revision: 2, ids: ['a', 'b'], changed: [] })).toThrow(/revision 2: virtual service b was neither sent nor held/);
  });

  it('keeps the held order when a delta has no ids, with the changed VIPs in their places', () => {
    const holder = new SnapshotHolder();
    const r1: ConfigSnapshot = { revision: 1, virtualServices: [vip('c'), vip('a'), vip('b')] };
    holder.follow(overIpc(snapshotDelta(null, r1)));
    const r2: ConfigSnapshot = { revision: 2, virtualServices: [vip('c'), vip('a', 5), vip('b')] };
    const w2 = holder.follow(overIpc(snapshotDelta(r1, r2)));
    expect(w2.virtualServices.map((v) => `${v.id}:${v.realServers[0]?.weight}`)).toEqual(['c:100', 'a:5', 'b:100']);
  });
});
