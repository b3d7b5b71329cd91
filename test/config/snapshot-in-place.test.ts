// A write's snapshot built in place (only the VIPs the write touched, from the previous
// snapshot and the draft's change) must be exactly the snapshot built from the whole
// configuration: the same VIPs in the same order, the unchanged ones the very objects of
// the previous snapshot, and the revision's server index the same as one built whole. Seeded
// random chains of writes: server weights, servers added, removed, moved to another VIP or
// deleted and set again, VIP settings, VIPs added and removed, a certificate added.
import { describe, expect, it } from 'vitest';
import { openDraft } from '../../appliance/config/draft.js';
import { emptyConfig, type StoredConfig, type StoredRealServer } from '../../appliance/config/model.js';
import { deriveServerIndex, serverIndex } from '../../appliance/config/server-index.js';
import { buildSnapshot, type ConfigSnapshot } from '../../appliance/config/snapshot.js';
import { changesSince } from '../../appliance/config/snapshot-step.js';
import { seededRandom as rng } from '../helpers/seeded-random.js';

type Maps = Record<string, Record<string, unknown>>;
const keyPem = async (ref: string) => `key of ${ref}`;
const vip = (n: number, extra = 0) => Object.freeze({ label: `v${n}`, certificateId: null, ports: Object.freeze([80 + extra]) });
const server = (vs: string, n: number, weight = 100) => Object.freeze({ virtualServiceId: vs, label: `s${n}`, weight });

function baseConfig(random: () => number): StoredConfig {
  const c = emptyConfig() as unknown as Maps;
  let n = 0;
  for (let v = 0; v < 3 + Math.floor(random() * 10); v++) {
    c.virtualServices![`vs-${v}`] = vip(v);
    for (let k = 0; k < Math.floor(random() * 4); k++) c.realServers![`rs-${n}`] = server(`vs-${v}`, n++);
  }
  return c as unknown as StoredConfig;
}

function mutate(draft: StoredConfig, random: () => number, step: number): void {
  const d = draft as unknown as Maps;
  const vips = Object.keys(d.virtualServices!);
  const servers = Object.keys(d.realServers!);
  const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(random() * xs.length)];
  for (let i = 0; i < 1 + Math.floor(random() * 3); i++) {
    const rsId = pick(servers);
    const rs = rsId ? (d.realServers![rsId] as StoredRealServer) : undefined;
    switch (Math.floor(random() * 10)) {
      case 0: case 1: case 2:
        if (rsId && rs) d.realServers![rsId] = server(rs.virtualServiceId, 0, Math.floor(random() * 256));
        break;
      case 3: { const vs = pick(vips); if (vs) d.realServers![`rs-new-${step}-${i}`] = server(vs, 1); break; }
      case 4: if (rsId) delete d.realServers![rsId]; break;
      case 5: { const vs = pick(vips); if (rsId && vs) d.realServers![rsId] = server(vs, 2); break; }
      case 6: if (rsId && rs) { delete d.realServers![rsId]; d.realServers![rsId] = rs; } break;
      case 7: { const vs = pick(vips); if (vs) d.virtualServices![vs] = vip(step, i + 1); break; }
      case 8:
        if (random() < 0.5) d.virtualServices![`vs-new-${step}-${i}`] = vip(1000 + step);
        else { const vs = pick(vips); if (vs && !Object.values(d.realServers!).some((r) => (r as StoredRealServer).virtualServiceId === vs)) delete d.virtualServices![vs]; }
        break;
      case 9: d.certificates![`cert-${step}`] = Object.freeze({ label: `c${step}`, chainPem: 'x', keyRef: 'k', fingerprintSha256: 'f' }); break;
    }
  }
}

function wholeIndex(config: StoredConfig): Map<string, [string, StoredRealServer][]> {
  const index = new Map<string, [string, StoredRealServer][]>();
  for (const [id, rs] of Object.entries(config.realServers)) {
    const list = index.get(rs.virtualServiceId) ?? [];
    list.push([id, rs]);
    index.set(rs.virtualServiceId, list);
  }
  return index;
}

describe('a snapshot built in place', () => {
  it('is the snapshot built whole, with the same objects reused, over 400 seeded chains of 6 writes', async () => {
    let inPlaceSteps = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const random = rng(seed);
      let config = baseConfig(random);
      serverIndex(config);
      let previous: ConfigSnapshot = await buildSnapshot(1, config, keyPem);
      for (let step = 0; step < 6; step++) {
        const draft = openDraft(config);
        mutate(draft.config, random, step);
        const { config: next, change, inOrder } = draft.close();
        // As the store does before its rules run: the index derived whenever the servers kept their order.
        if (seed % 2 === 0 && inOrder.has('realServers')) deriveServerIndex(next, config, change.realServers);
        // In place first: it derives the revision's server index, which the whole build then uses.
        const inPlace = await buildSnapshot(step + 2, next, keyPem, previous, { config, change, inOrder });
        const at = `seed ${seed} step ${step}`;
        expect(new Map(serverIndex(next)), at).toEqual(wholeIndex(next));
        const whole = await buildSnapshot(step + 2, next, keyPem, previous);
        expect(inPlace, at).toEqual(whole);
        expect(inPlace.virtualServices.map((vs) => previous.virtualServices.includes(vs)), at).toEqual(whole.virtualServices.map((vs) => previous.virtualServices.includes(vs)));
        if (inOrder.has('realServers') && inOrder.has('virtualServices') && Object.keys(change.certificates).length === 0) inPlaceSteps++;
        previous = inPlace;
        config = next;
      }
    }
    // The chains must exercise the in-place path, not only the fallback.
    expect(inPlaceSteps).toBeGreaterThan(500);
  });

  it('says which VIPs changed, whichever way it was built, exactly when the VIP list kept its ids and order', async () => {
    let steps = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const random = rng(seed);
      let config = baseConfig(random);
      let previous: ConfigSnapshot = await buildSnapshot(1, config, keyPem);
      for (let step = 0; step < 6; step++) {
        const draft = openDraft(config);
        mutate(draft.config, random, step);
        const { config: next, change, inOrder } = draft.close();
        const inPlace = await buildSnapshot(step + 2, next, keyPem, previous, { config, change, inOrder });
        const whole = await buildSnapshot(step + 2, next, keyPem, previous);
        const sameList = previous.virtualServices.map((vs) => vs.id).join() === inPlace.virtualServices.map((vs) => vs.id).join();
        for (const built of [inPlace, whole]) {
          const at = `seed ${seed} step ${step} ${built === inPlace ? 'in place' : 'whole'}`;
          const changes = changesSince(previous, built);
          if (!sameList) {
            expect(changes, at).toBeNull();
            continue;
          }
          // Every VIP that is not the very object it was, with the one it was; no other.
          const expected = built.virtualServices.flatMap((vs, i) => (vs === previous.virtualServices[i] ? [] : [{ before: previous.virtualServices[i], after: vs }]));
          expect(changes, at).not.toBeNull();
          expect([...changes!].sort((a, b) => a.after.id.localeCompare(b.after.id)), at).toEqual(expected.sort((a, b) => a.after.id.localeCompare(b.after.id)));
          for (const c of changes!) expect(built.virtualServices.includes(c.after) && previous.virtualServices.includes(c.before), at).toBe(true);
          // Not a step from any other snapshot.
          expect(changesSince(built, built), at).toBeNull();
          steps++;
        }
        previous = inPlace;
        config = next;
      }
    }
    expect(steps).toBeGreaterThan(500);
  });
});
