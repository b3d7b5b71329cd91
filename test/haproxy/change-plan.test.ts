// The HAProxy engine's plan (change-plan.ts) counts bind-line changes VIP by VIP, skipping a
// VIP that is the same snapshot with the same ownership and bindability: the counts must be
// those of comparing every bind line of both revisions, and a one-change revision of a
// thousand VIPs must stay a runtime-API change.
import { describe, expect, it } from 'vitest';
import { planChanges } from '../../appliance/engine/haproxy/change-plan.js';
import type { RenderSettings } from '../../appliance/engine/haproxy/config-render.js';
import type { ConfigSnapshot, VirtualServiceSnapshot } from '../../appliance/engine/types.js';
import { changesSince, replaceVips } from '../../appliance/config/snapshot-step.js';
import { seededRandom } from '../helpers/seeded-random.js';

function vip(i: number, over: Partial<Record<string, unknown>> = {}): VirtualServiceSnapshot {
  return Object.freeze({
    id: `vs-${i}`, label: `V${i}`, enabled: true, ipAddress: `127.0.1.${i % 250}`, ports: [8000 + i], protocol: 'http', certificate: null, forceHttps: false,
    persistence: { mode: 'none' }, healthCheck: { type: 'none' },
    realServers: [Object.freeze({ id: `rs-${i}`, label: `R${i}`, address: '127.0.2.1', port: 9000, weight: 100, adminState: 'online', backup: false, reEncrypt: false, maxConnections: null })],
    ...over,
  }) as unknown as VirtualServiceSnapshot;
}

function settings(over: Partial<RenderSettings> = {}): RenderSettings {
  return { adminSocket: '/x', luaFile: '/x', errorFiles: new Map(), certDir: '/c', active: true, hardStopAfter: 1, peers: { localName: 'a', localAddress: '127.0.0.1', port: 1, remote: null }, unbindable: new Map(), ...over } as RenderSettings;
}

const snap = (revision: number, vips: VirtualServiceSnapshot[]): ConfigSnapshot => ({ revision, virtualServices: vips });
const thousand = Array.from({ length: 1000 }, (_, i) => vip(i));
const base = snap(1, thousand);

describe('the HAProxy change plan', () => {
  it('makes one server weight of a thousand VIPs a runtime step, no listener changed', () => {
    const changed = vip(500, { realServers: [{ ...thousand[500]!.realServers[0]!, weight: 7 }] });
    const plan = planChanges(base, snap(2, thousand.map((v) => (v.id === 'vs-500' ? changed : v))), settings(), settings());
    expect(plan.reloadReasons).toEqual([]);
    expect(plan.listenersChanged).toBe(0);
    expect(plan.steps.map((s) => s.command)).toEqual([expect.stringMatching(/^set server \S+ weight 7$/), expect.stringMatching(/^set server \S+ state ready$/)]);
  });

  it('counts a port added to one VIP, a VIP removed and a VIP added', () => {
    const next = snap(2, [...thousand.slice(1).map((v) => (v.id === 'vs-7' ? vip(7, { ports: [8007, 9007] }) : v)), vip(2000)]);
    const plan = planChanges(base, next, settings(), settings());
    // +1 (vs-7's new port), -1 (vs-0 removed), +1 (vs-2000 added).
    expect(plan.listenersChanged).toBe(3);
    expect(plan.reloadReasons).toEqual(expect.arrayContaining(['3 listener(s) change', 'VIP V0 removed', 'VIP V2000 added']));
  });

  it('counts every bind line when the node gives the VIPs up or takes them, and none for a disabled VIP', () => {
    expect(planChanges(base, base, settings(), settings({ active: false })).listenersChanged).toBe(1000);
    expect(planChanges(base, base, settings({ active: false }), settings()).listenersChanged).toBe(1000);
    const disabled = snap(2, thousand.map((v) => (v.id === 'vs-3' ? vip(3, { enabled: false }) : v)));
    expect(planChanges(base, disabled, settings(), settings()).listenersChanged).toBe(1);
  });

  it('counts a VIP that becomes bindable or stops being so, though its snapshot is the same', () => {
    const unbindable = settings({ unbindable: new Map([['vs-9', 'address not on this host']]) });
    expect(planChanges(base, base, unbindable, settings()).listenersChanged).toBe(1);
    expect(planChanges(base, base, settings(), unbindable).listenersChanged).toBe(1);
    expect(planChanges(base, base, unbindable, unbindable).listenersChanged).toBe(0);
  });

  it('plans from a revision\'s changes (snapshot-step.ts) exactly what it plans comparing every VIP, over seeded chains', () => {
    const sorted = (plan: ReturnType<typeof planChanges>) => ({ ...plan, reloadReasons: [...plan.reloadReasons].sort(), steps: [...plan.steps].sort((a, b) => a.command.localeCompare(b.command)) });
    let runtimeOnly = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const random = seededRandom(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      let prev = snap(1, Array.from({ length: 3 + Math.floor(random() * 12) }, (_, i) => vip(i)));
      let prevSettings = settings();
      for (let r = 2; r < 10; r++) {
        const replacements = Array.from({ length: 1 + Math.floor(random() * 2) }, () => {
          const old = pick(prev.virtualServices);
          const rs = old.realServers;
          const n = Number(old.id.slice(3));
          switch (Math.floor(random() * 8)) {
            case 0: return vip(n, { ...old, realServers: rs.map((s) => ({ ...s, weight: Math.floor(random() * 256) })) });
            case 1: return vip(n, { ...old, realServers: [...rs, { ...rs[0]!, id: `rs-${n}-${r}`, address: `127.0.3.${r}` }] });
            case 2: return vip(n, { ...old, realServers: rs.slice(1) });
            case 3: return vip(n, { ...old, ports: [...old.ports, 20000 + r] });
            case 4: return vip(n, { ...old, enabled: !old.enabled });
            case 5: return vip(n, { ...old, label: `L${r}` });
            case 6: return vip(n, { ...old, realServers: rs.map((s) => ({ ...s, adminState: pick(['online', 'drain', 'halt']) })) });
            default: return vip(n, { ...old, realServers: rs.map((s) => ({ ...s, port: 9000 + r })) });
          }
        });
        const next = replaceVips(prev, r, replacements)!;
        // Bindability comes and goes for VIPs that did not change too.
        const unbindable = new Map(next.virtualServices.filter(() => random() < 0.1).map((vs) => [vs.id, 'not on this host'] as const));
        const nextSettings = settings({ unbindable });
        const at = `seed ${seed} revision ${r}`;
        const changes = changesSince(prev, next);
        expect(changes, at).not.toBeNull();
        const fromChanges = planChanges(prev, next, prevSettings, nextSettings, changes);
        expect(sorted(fromChanges), at).toEqual(sorted(planChanges(prev, next, prevSettings, nextSettings)));
        if (fromChanges.reloadReasons.length === 0 && fromChanges.steps.length > 0) runtimeOnly++;
        prev = next;
        prevSettings = nextSettings;
      }
    }
    // The chains must reach the runtime steps, not only reloads.
    expect(runtimeOnly).toBeGreaterThan(100);
  });
});
